package dataset

import (
	"fmt"
	"maps"
)

// Relabel returns the view of src whose sample i has label labels[i] where
// labels has an entry for i, and src's label otherwise; features are src's.
// It is how a data set with deliberately wrong labels (canaries that measure
// memorisation) is built from a public one. Relabel keeps its own copy of
// labels and panics if an index is out of range or src has no labels.
func Relabel(src Source, labels map[int]int64) Source {
	if !HasLabels(src) {
		panic("dataset: Relabel: the source has no labels")
	}
	for i := range labels {
		if i < 0 || i >= src.Len() {
			panic(fmt.Sprintf("dataset: Relabel: index %d out of range [0, %d)", i, src.Len()))
		}
	}
	return &relabel{src: src, labels: maps.Clone(labels)}
}

type relabel struct {
	src    Source
	labels map[int]int64
}

func (r *relabel) Len() int           { return r.src.Len() }
func (r *relabel) SampleShape() []int { return r.src.SampleShape() }

// Read implements Source.
func (r *relabel) Read(idx []int, x []float32, y []int64) error {
	if err := r.src.Read(idx, x, y); err != nil {
		return err
	}
	if y != nil {
		for k, i := range idx {
			if l, ok := r.labels[i]; ok {
				y[k] = l
			}
		}
	}
	return nil
}

// NumClasses is the class count of the viewed source: relabelling within the
// model's classes does not change it.
func (r *relabel) NumClasses() (int, error) { return NumClasses(r.src) }

func (r *relabel) openOptions() Options { return optionsOf(r.src) }
