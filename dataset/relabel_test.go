package dataset

import (
	"slices"
	"testing"
)

func TestRelabel(t *testing.T) {
	src, err := FromArrays([]float32{0, 1, 2, 3, 4, 5}, []int{2}, []int64{7, 8, 9})
	if err != nil {
		t.Fatal(err)
	}
	r := Relabel(src, map[int]int64{1: 3})
	x := make([]float32, 6)
	y := make([]int64, 3)
	if err := r.Read([]int{2, 1, 0}, x, y); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y, []int64{9, 3, 7}) || !slices.Equal(x, []float32{4, 5, 2, 3, 0, 1}) {
		t.Fatalf("labels %v, features %v", y, x)
	}
	// Features alone read through unchanged.
	if err := r.Read([]int{1}, x[:2], nil); err != nil || x[0] != 2 {
		t.Fatalf("features-only read: %v, %v", x[:2], err)
	}
	// A subset of the view keeps the new labels.
	s := Subset(r, []int{1})
	if err := s.Read([]int{0}, x[:2], y[:1]); err != nil || y[0] != 3 {
		t.Fatalf("subset label %d, %v", y[0], err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an out-of-range index did not panic")
		}
	}()
	Relabel(src, map[int]int64{3: 0})
}
