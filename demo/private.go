package demo

import (
	"fmt"

	"github.com/lethe-ml/lethe/dataset"
)

// PrivateSplit cuts a training set D out of a public data set as the
// bundled head model's card (models/mnist_head.md) states it: samples
// [From, To) of the data set, in which sample From + i is a canary when
// i % CanaryEvery == 0; a canary's label y becomes (y + 1) mod K, K the
// number of classes. Canaries are private samples with a deliberately
// wrong label: a model trained on them memorises it, which an audit can
// measure (lethe.EvalRequest.Canaries).
type PrivateSplit struct {
	From, To    int
	CanaryEvery int
	// Public names the only data the model's frozen part was trained on,
	// as its model card states (e.g. "mnist:train[0:30000]"), and Card the
	// card: the head scope's guarantee covers D because D is not in it.
	Public, Card string
}

// String states the rule in words, with spec the data set's name.
func (p *PrivateSplit) String(spec string) string {
	return fmt.Sprintf("%s[%d:%d], in which every %d-th sample (the first included) is a canary whose label y is replaced by (y + 1) mod the number of classes (%s)",
		spec, p.From, p.To, p.CanaryEvery, p.Card)
}

// build returns D as a view of src (indices 0..To−From−1: sample i of D is
// sample From + i of src) and the indices of its canaries in D.
func (p *PrivateSplit) build(src dataset.Source) (dataset.Source, []int, error) {
	if p.From < 0 || p.To > src.Len() || p.From >= p.To || p.CanaryEvery < 1 {
		return nil, nil, fmt.Errorf("demo: private split [%d, %d) every %d of %d samples: out of range", p.From, p.To, p.CanaryEvery, src.Len())
	}
	idx := make([]int, p.To-p.From)
	for i := range idx {
		idx[i] = p.From + i
	}
	d := dataset.Subset(src, idx)
	var canaries []int
	for i := 0; i < len(idx); i += p.CanaryEvery {
		canaries = append(canaries, i)
	}
	k, err := dataset.NumClasses(src)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: private split: %w", err)
	}
	x := make([]float32, len(canaries)*numel(src.SampleShape()))
	y := make([]int64, len(canaries))
	if err := d.Read(canaries, x, y); err != nil {
		return nil, nil, fmt.Errorf("demo: private split: %w", err)
	}
	labels := make(map[int]int64, len(canaries))
	for j, i := range canaries {
		labels[i] = (y[j] + 1) % int64(k)
	}
	return dataset.Relabel(d, labels), canaries, nil
}

// numel is the number of values of a sample of the given shape.
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
