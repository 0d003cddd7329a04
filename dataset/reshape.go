package dataset

import (
	"fmt"
	"slices"
)

// Reshape returns a view of src whose samples have shape sampleShape, e.g. a
// model's input shape without the batch axis; the data are unchanged
// (row-major). One dimension may be -1: it is inferred. The element counts
// must match, otherwise the error is a *ShapeError naming both shapes.
func Reshape(src Source, sampleShape []int) (Source, error) {
	have := src.SampleShape()
	want := slices.Clone(sampleShape)
	infer, known := -1, 1
	for i, d := range want {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 1:
			return nil, fmt.Errorf("dataset: Reshape: bad dimension %d in %v", d, sampleShape)
		default:
			known *= d
		}
	}
	n := numElems(have)
	if infer >= 0 {
		if n%known != 0 {
			return nil, &ShapeError{Have: have, Want: slices.Clone(sampleShape)}
		}
		want[infer] = n / known
	}
	if numElems(want) != n {
		return nil, &ShapeError{Have: have, Want: slices.Clone(sampleShape)}
	}
	if r, ok := src.(*reshaped); ok {
		src = r.Source
	}
	return &reshaped{Source: src, shape: want}, nil
}

// reshaped passes everything but SampleShape through to the source it views.
type reshaped struct {
	Source
	shape []int
}

func (r *reshaped) SampleShape() []int { return slices.Clone(r.shape) }

// HasLabels reports whether the viewed source has labels.
func (r *reshaped) HasLabels() bool { return HasLabels(r.Source) }

// NumClasses is the class count of the viewed source.
func (r *reshaped) NumClasses() (int, error) { return NumClasses(r.Source) }

// Rows serves the viewed source's samples in place when it does (see Source).
func (r *reshaped) Rows(first, n int) ([]float32, []int64, bool) {
	return Rows(r.Source, first, n)
}

func (r *reshaped) openOptions() Options { return optionsOf(r.Source) }
