package dataset_test

import (
	"errors"
	"math"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// TestNormalizeOverflowIsNonFinite checks that features that are finite as
// stored but that the normalisation makes ±Inf are refused like stored
// NaNs: at open with ScanAtOpen (and for data held in memory, always), and
// by Read otherwise, naming the file, the sample, the feature and the
// normalisation; uint8 features too, which need no finiteness check
// without normalisation.
func TestNormalizeOverflowIsNonFinite(t *testing.T) {
	dir := t.TempDir()
	// Sample 1, feature 2 is 1e30: (1e30 − 0)/1e-10 overflows float32.
	x := rawNPY("<f4", false, "(3, 3)", le(float32(0), float32(1), float32(2), float32(3), float32(4), float32(1e30), float32(6), float32(7), float32(8)))
	npy := writeFile(t, dir, "x.npy", x)
	tiny := &dataset.Normalization{Mean: 0, Std: 1e-10}
	check := func(t *testing.T, err error, file string, sample, element int) {
		t.Helper()
		var nf *dataset.NonFiniteError
		if !errors.As(err, &nf) || nf.Sample != sample || nf.Element != element || nf.Normalized == nil {
			t.Fatalf("got %v, want a *NonFiniteError for feature %d of sample %d after normalisation", err, element, sample)
		}
		wantErr(t, err, file, "normalisation", "+Inf")
	}
	_, err := dataset.Open(npy, dataset.Options{Normalize: tiny, ScanAtOpen: true})
	check(t, err, npy, 1, 2)

	lazy := mustOpen(t, npy, dataset.Options{Normalize: tiny})
	buf := make([]float32, 3)
	if err := lazy.Read([]int{0}, buf, nil); err != nil {
		t.Fatalf("sample 0 normalises to finite values: %v", err)
	}
	check(t, lazy.Read([]int{1}, buf, nil), npy, 1, 2)

	// A normalisation that keeps every value finite is accepted.
	ok := mustOpen(t, npy, dataset.Options{Normalize: &dataset.Normalization{Mean: 1, Std: 2}, ScanAtOpen: true})
	got, _ := readAll(t, ok)
	if got[5] != (float32(1e30)-1)/2 {
		t.Errorf("normalised feature %v", got[5])
	}

	// uint8 images scaled to [0, 1]: (1 − 0)/1e-45 overflows float32 (the
	// std is the smallest subnormal float32), 0 does not.
	images := writeFile(t, dir, "t-images-idx3-ubyte", idxFile(0x08, []int{2, 1, 2}, []byte{0, 0, 0, 255}))
	_, err = dataset.Open(images, dataset.Options{Normalize: &dataset.Normalization{Mean: 0, Std: math.SmallestNonzeroFloat32}})
	check(t, err, images, 1, 1)

	// CSV rows are checked after normalisation as they are parsed.
	csv := writeFile(t, dir, "d.csv", []byte("a,b,label\n1,2,0\n3,1e30,1\n"))
	_, err = dataset.Open(csv, dataset.Options{Normalize: tiny})
	check(t, err, csv, 1, 1)
}
