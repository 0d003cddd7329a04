package dataset_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

func TestBatches(t *testing.T) {
	b := dataset.Batches(7, 3, nil)
	if len(b) != 3 || !slices.Equal(b[0], []int{0, 1, 2}) || !slices.Equal(b[2], []int{6}) {
		t.Errorf("sequential batches %v", b)
	}
	if b := dataset.Batches(0, 3, nil); len(b) != 0 {
		t.Errorf("Batches(0, 3) = %v", b)
	}
	shuffled := dataset.Batches(100, 16, rand.New(rand.NewPCG(7, 7)))
	var all []int
	for _, bb := range shuffled {
		all = append(all, bb...)
	}
	if sorted := slices.Sorted(slices.Values(all)); !slices.Equal(sorted, dataset.Batches(100, 100, nil)[0]) {
		t.Error("shuffled batches do not cover every index exactly once")
	}
	if slices.IsSorted(all) {
		t.Error("shuffled batches are in order")
	}
	again := dataset.Batches(100, 16, rand.New(rand.NewPCG(7, 7)))
	if !slices.EqualFunc(shuffled, again, slices.Equal) {
		t.Error("the same seed gave different batches")
	}
	defer func() {
		if recover() == nil {
			t.Error("Batches with size 0 did not panic")
		}
	}()
	dataset.Batches(5, 0, nil)
}

func TestForEachBatch(t *testing.T) {
	src := seq(t, 103)
	batches := dataset.Batches(src.Len(), 10, rand.New(rand.NewPCG(3, 4)))
	seen := make([]bool, src.Len())
	calls := 0
	err := dataset.ForEachBatch(src, batches, func(idx []int, x []float32, y []int64) error {
		if !slices.Equal(idx, batches[calls]) {
			t.Fatalf("call %d got batch %v, want %v", calls, idx, batches[calls])
		}
		calls++
		for k, i := range idx {
			if x[2*k] != float32(i) || x[2*k+1] != float32(-i) || y[k] != int64(i%3) {
				t.Fatalf("sample %d read as %v %d", i, x[2*k:2*k+2], y[k])
			}
			seen[i] = true
		}
		return nil
	})
	if err != nil || calls != len(batches) || slices.Contains(seen, false) {
		t.Fatalf("err %v, %d calls for %d batches", err, calls, len(batches))
	}

	stop := errors.New("stop")
	calls = 0
	err = dataset.ForEachBatch(src, batches, func([]int, []float32, []int64) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("stopping: err %v after %d calls, want stop after 3", err, calls)
	}

	// A Read error ends the loop before fn sees that batch.
	bad := [][]int{{0}, {1000}, {2}}
	calls = 0
	err = dataset.ForEachBatch(src, bad, func([]int, []float32, []int64) error { calls++; return nil })
	wantErr(t, err, "sample index 1000 out of range")
	if calls != 1 {
		t.Errorf("fn called %d times, want 1", calls)
	}

	// Sources without labels get y == nil.
	unl, _ := dataset.FromArrays(make([]float32, 4), []int{2}, nil)
	err = dataset.ForEachBatch(unl, dataset.Batches(2, 1, nil), func(_ []int, _ []float32, y []int64) error {
		if y != nil {
			t.Error("y is not nil for a source without labels")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
