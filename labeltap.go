package lethe

import (
	"sync/atomic"

	"github.com/lethe-ml/lethe/dataset"
)

// labelTap is a data set that keeps the labels of the samples read through
// it, so that the pass computing the features also collects the labels
// instead of a second pass over the data reading both again.
type labelTap struct {
	dataset.Source
	y    []int64      // y[i]: sample i's label, once read
	read atomic.Int64 // samples read
}

func newLabelTap(src dataset.Source) *labelTap {
	t := &labelTap{Source: src}
	if dataset.HasLabels(src) {
		t.y = make([]int64, src.Len())
	}
	return t
}

// Read reads the features asked for, and the labels with them.
func (t *labelTap) Read(idx []int, x []float32, y []int64) error {
	if t.y == nil {
		return t.Source.Read(idx, x, y)
	}
	if y == nil {
		y = make([]int64, len(idx))
	}
	if err := t.Source.Read(idx, x, y); err != nil {
		return err
	}
	for i, j := range idx {
		t.y[j] = y[i]
	}
	t.read.Add(int64(len(idx)))
	return nil
}

// HasLabels reports whether the data set has labels.
func (t *labelTap) HasLabels() bool { return t.y != nil }

// labels returns every sample's label (nil without labels): those kept
// when each sample was read once, otherwise read again.
func (t *labelTap) labels() ([]int64, error) {
	if t.y == nil || t.read.Load() == int64(len(t.y)) {
		return t.y, nil
	}
	n := t.Len()
	y := make([]int64, 0, n)
	err := dataset.ForEachBatch(t.Source, dataset.Batches(n, 4096, nil), func(_ []int, _ []float32, lab []int64) error {
		y = append(y, lab...)
		return nil
	})
	return y, err
}
