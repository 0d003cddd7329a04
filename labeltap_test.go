package lethe

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// countingSource counts the samples read with their labels.
type countingSource struct {
	dataset.Source
	labelled atomic.Int64
}

func (c *countingSource) Read(idx []int, x []float32, y []int64) error {
	if y != nil {
		c.labelled.Add(int64(len(idx)))
	}
	return c.Source.Read(idx, x, y)
}

// TestLabelTap: reading every sample's features once through the tap, in
// concurrent batches as the engines do, collects every label without a
// second pass; a partial read falls back to reading the labels again; a
// data set without labels has none.
func TestLabelTap(t *testing.T) {
	const n, size = 1000, 3
	x := make([]float32, n*size)
	y := make([]int64, n)
	for i := range y {
		y[i] = int64(i*7) % 10
	}
	src, err := dataset.FromArrays(x, []int{size}, y)
	if err != nil {
		t.Fatal(err)
	}
	for _, whole := range []bool{true, false} {
		c := &countingSource{Source: src}
		tap := newLabelTap(c)
		batches := dataset.Batches(n, 64, nil)
		if !whole {
			batches = batches[1:]
		}
		var wg sync.WaitGroup
		for _, b := range batches {
			wg.Go(func() {
				if err := tap.Read(b, make([]float32, len(b)*size), nil); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		got, err := tap.labels()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, y) {
			t.Errorf("whole read %v: labels differ", whole)
		}
		want := int64(n)
		if !whole {
			want = 2*n - 64 // the first pass, then every label again
		}
		if c.labelled.Load() != want {
			t.Errorf("whole read %v: %d labels read, want %d", whole, c.labelled.Load(), want)
		}
	}
	unlabelled, err := dataset.FromArrays(x, []int{size}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tap := newLabelTap(unlabelled)
	if err := tap.Read([]int{0, 1}, make([]float32, 2*size), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := tap.labels(); got != nil || err != nil || tap.HasLabels() {
		t.Errorf("without labels: %v, %v, HasLabels %v", got, err, tap.HasLabels())
	}
}
