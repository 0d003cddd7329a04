package dataset_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// seq is a source whose sample i has features [i, -i] and label i % 3.
func seq(t *testing.T, n int) dataset.Source {
	t.Helper()
	x := make([]float32, 2*n)
	y := make([]int64, n)
	for i := range n {
		x[2*i], x[2*i+1], y[i] = float32(i), float32(-i), int64(i%3)
	}
	src, err := dataset.FromArrays(x, []int{2}, y)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// firstFeatures reads the first feature of every sample of src: for views
// of seq, the original index of each sample.
func firstFeatures(t *testing.T, src dataset.Source) []int {
	t.Helper()
	x, y := readAll(t, src)
	out := make([]int, src.Len())
	for i := range out {
		out[i] = int(x[2*i])
		if y[i] != int64(out[i]%3) {
			t.Fatalf("sample %d: label %d does not belong to features of %d", i, y[i], out[i])
		}
	}
	return out
}

func TestSubset(t *testing.T) {
	src := seq(t, 10)
	sub := dataset.Subset(src, []int{7, 2, 2, 9})
	if got := firstFeatures(t, sub); !slices.Equal(got, []int{7, 2, 2, 9}) {
		t.Errorf("Subset reads %v", got)
	}
	if got := firstFeatures(t, dataset.Subset(sub, []int{3, 0})); !slices.Equal(got, []int{9, 7}) {
		t.Errorf("Subset of Subset reads %v", got)
	}
	if k, _ := dataset.NumClasses(dataset.Subset(src, []int{0})); k != 3 {
		t.Errorf("NumClasses of a one-sample subset is %d, want the parent's 3", k)
	}
	wantErr(t, sub.Read([]int{4}, make([]float32, 2), nil), "sample index 4 out of range [0, 4)")
	defer func() {
		if r := recover(); r == nil {
			t.Error("Subset with an out-of-range index did not panic")
		}
	}()
	dataset.Subset(src, []int{10})
}

// TestWithout compares the retained view with a direct filter, for random
// removal sets of every density.
func TestWithout(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 10, 257} {
		src := seq(t, n)
		for range 20 {
			remove := make([]int, rng.IntN(n))
			for i := range remove {
				remove[i] = rng.IntN(n) // repeats allowed
			}
			var want []int
			for i := range n {
				if !slices.Contains(remove, i) {
					want = append(want, i)
				}
			}
			w := dataset.Without(src, remove)
			if w.Len() != len(want) {
				t.Fatalf("n=%d: Len %d, want %d", n, w.Len(), len(want))
			}
			if len(want) == 0 {
				continue
			}
			if got := firstFeatures(t, w); !slices.Equal(got, want) {
				t.Fatalf("n=%d remove %v: got %v, want %v", n, remove, got, want)
			}
		}
	}
	w := dataset.Without(seq(t, 5), []int{1})
	wantErr(t, w.Read([]int{4}, make([]float32, 2), nil), "sample index 4 out of range [0, 4)")
	defer func() {
		if r := recover(); r == nil {
			t.Error("Without with a negative index did not panic")
		}
	}()
	dataset.Without(seq(t, 5), []int{-1})
}

func TestReshape(t *testing.T) {
	src, err := dataset.FromArrays(make([]float32, 2*784), []int{784}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := dataset.Reshape(src, []int{1, 28, 28})
	if err != nil || !slices.Equal(r.SampleShape(), []int{1, 28, 28}) || r.Len() != 2 {
		t.Fatalf("Reshape: %v %v", r, err)
	}
	if r, err = dataset.Reshape(r, []int{-1, 14}); err != nil || !slices.Equal(r.SampleShape(), []int{56, 14}) {
		t.Errorf("Reshape with -1: %v, %v", r.SampleShape(), err)
	}
	if dataset.HasLabels(r) {
		t.Error("a reshaped unlabelled source has labels")
	}
	if err := r.Read([]int{1}, make([]float32, 784), make([]int64, 1)); !errors.Is(err, dataset.ErrNoLabels) {
		t.Errorf("Read with y: %v, want ErrNoLabels", err)
	}
	_, err = dataset.Reshape(src, []int{3, 32, 32})
	var se *dataset.ShapeError
	if !errors.As(err, &se) || !slices.Equal(se.Have, []int{784}) || !slices.Equal(se.Want, []int{3, 32, 32}) {
		t.Fatalf("got %v, want a ShapeError", err)
	}
	wantErr(t, err, "sample shape [784] (784 elements) does not match [3 32 32] (3072 elements)")
	_, err = dataset.Reshape(src, []int{-1, 5})
	wantErr(t, err, "does not match [-1 5]")
	_, err = dataset.Reshape(src, []int{-1, -1})
	wantErr(t, err, "bad dimension -1")
}

// plain implements only Source, so NumClasses and HasLabels use their
// fallbacks.
type plain struct{ y []int64 }

func (p plain) Len() int           { return len(p.y) }
func (p plain) SampleShape() []int { return []int{1} }
func (p plain) Read(idx []int, x []float32, y []int64) error {
	for k, i := range idx {
		x[k] = 0
		if y != nil {
			y[k] = p.y[i]
		}
	}
	return nil
}

func TestNumClassesFallback(t *testing.T) {
	src := plain{y: []int64{0, 4, 2}}
	if !dataset.HasLabels(src) {
		t.Error("a Source without HasLabels is taken to have no labels")
	}
	if k, err := dataset.NumClasses(src); k != 5 || err != nil {
		t.Errorf("NumClasses = %d, %v; want 5", k, err)
	}
}

// TestRows checks that in-memory sources, also reshaped, serve runs of
// samples in place, and that other sources and views that reorder samples
// do not.
func TestRows(t *testing.T) {
	src := seq(t, 10)
	reshaped, err := dataset.Reshape(src, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]dataset.Source{"FromArrays": src, "Reshape": reshaped} {
		x, y, ok := dataset.Rows(s, 3, 4)
		if !ok || !slices.Equal(x, []float32{3, -3, 4, -4, 5, -5, 6, -6}) || !slices.Equal(y, []int64{0, 1, 2, 0}) {
			t.Errorf("%s: Rows(3, 4) = %v, %v, %v", name, x, y, ok)
		}
		for _, r := range [][2]int{{-1, 2}, {9, 2}, {0, -1}} {
			if _, _, ok := dataset.Rows(s, r[0], r[1]); ok {
				t.Errorf("%s: Rows(%d, %d) of 10 samples served", name, r[0], r[1])
			}
		}
	}
	x, y, ok := dataset.Rows(src, 0, 0)
	if !ok || len(x) != 0 || len(y) != 0 {
		t.Errorf("Rows(0, 0) = %v, %v, %v; want empty", x, y, ok)
	}
	unlabelled, err := dataset.FromArrays(make([]float32, 6), []int{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if x, y, ok := dataset.Rows(unlabelled, 1, 2); !ok || len(x) != 4 || y != nil {
		t.Errorf("unlabelled: Rows(1, 2) = %v, %v, %v; want 4 features and no labels", x, y, ok)
	}
	for name, s := range map[string]dataset.Source{
		"Subset":  dataset.Subset(src, []int{1, 2, 3}),
		"Without": dataset.Without(src, []int{0}),
		"plain":   plain{y: []int64{0, 1}},
	} {
		if _, _, ok := dataset.Rows(s, 0, 2); ok {
			t.Errorf("%s: served in place", name)
		}
	}
}
