package dataset

import (
	"fmt"
	"slices"
	"sort"
)

// Subset returns the view of src whose sample i is sample idx[i] of src.
// Indices may repeat and come in any order; Subset keeps its own copy of
// idx. It panics if an index is out of range: callers validate user input
// first, as ParseForget does.
func Subset(src Source, idx []int) Source {
	n := src.Len()
	for _, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("dataset: Subset: index %d out of range [0, %d)", i, n))
		}
	}
	if s, ok := src.(*subset); ok { // compose rather than stack
		out := make([]int, len(idx))
		for k, i := range idx {
			out[k] = s.idx[i]
		}
		return &subset{src: s.src, idx: out}
	}
	return &subset{src: src, idx: slices.Clone(idx)}
}

type subset struct {
	src Source
	idx []int
}

func (s *subset) Len() int           { return len(s.idx) }
func (s *subset) SampleShape() []int { return s.src.SampleShape() }

// Read implements Source.
func (s *subset) Read(idx []int, x []float32, y []int64) error {
	mapped := make([]int, len(idx))
	for k, i := range idx {
		if i < 0 || i >= len(s.idx) {
			return fmt.Errorf("dataset: subset: Read: sample index %d out of range [0, %d)", i, len(s.idx))
		}
		mapped[k] = s.idx[i]
	}
	return s.src.Read(mapped, x, y)
}

// HasLabels reports whether the viewed source has labels.
func (s *subset) HasLabels() bool { return HasLabels(s.src) }

// NumClasses is the class count of the viewed source.
func (s *subset) NumClasses() (int, error) { return NumClasses(s.src) }

func (s *subset) openOptions() Options { return optionsOf(s.src) }

// Without returns the view of src without the samples remove: the retained
// set D_r = D \ D_u, in the order of src. remove may be in any order and
// hold repeats; Without keeps its own sorted copy (memory proportional to
// len(remove), not to src.Len()). It panics if an index is out of range.
func Without(src Source, remove []int) Source {
	n := src.Len()
	r := slices.Clone(remove)
	slices.Sort(r)
	r = slices.Compact(r)
	if len(r) > 0 && (r[0] < 0 || r[len(r)-1] >= n) {
		bad := r[0]
		if bad >= 0 {
			bad = r[len(r)-1]
		}
		panic(fmt.Sprintf("dataset: Without: index %d out of range [0, %d)", bad, n))
	}
	return &without{src: src, removed: r, n: n - len(r)}
}

type without struct {
	src     Source
	removed []int // sorted, unique
	n       int
}

func (w *without) Len() int           { return w.n }
func (w *without) SampleShape() []int { return w.src.SampleShape() }

// original maps position r of the view to its index in src. With removed
// sorted, removed[k] − k is the number of retained samples before
// removed[k], a non-decreasing sequence: the index is r plus the number of
// removed samples with removed[k] − k ≤ r.
func (w *without) original(r int) int {
	k := sort.Search(len(w.removed), func(k int) bool { return w.removed[k]-k > r })
	return r + k
}

// Read implements Source.
func (w *without) Read(idx []int, x []float32, y []int64) error {
	mapped := make([]int, len(idx))
	for k, i := range idx {
		if i < 0 || i >= w.n {
			return fmt.Errorf("dataset: retained set: Read: sample index %d out of range [0, %d)", i, w.n)
		}
		mapped[k] = w.original(i)
	}
	return w.src.Read(mapped, x, y)
}

// HasLabels reports whether the viewed source has labels.
func (w *without) HasLabels() bool { return HasLabels(w.src) }

// NumClasses is the class count of the viewed source.
func (w *without) NumClasses() (int, error) { return NumClasses(w.src) }

func (w *without) openOptions() Options { return optionsOf(w.src) }
