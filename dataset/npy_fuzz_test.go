package dataset_test

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// FuzzNPY feeds arbitrary bytes to the .npy readers: Open (features,
// checked at open and checked lazily on Read), OpenArrays with the bytes as
// labels, and ReadNPY for every element type. Whatever one reader accepts
// must agree with the others, and ReadNPY's results must survive a
// WriteNPY round trip bit for bit. Refusals must name the file.
func FuzzNPY(f *testing.F) {
	f.Add(rawNPY("<f4", false, "(2, 3)", le(float32(1), float32(-0.5), float32(3), float32(0), float32(1e-40), float32(7))))
	f.Add(rawNPY("<f8", false, "(2,)", le(0.25, -3.0)))
	f.Add(rawNPY(">f8", false, "(1, 2)", []byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0}))
	f.Add(rawNPY("|u1", false, "(3, 1, 2)", []byte{0, 1, 2, 253, 254, 255}))
	f.Add(rawNPY("<f4", true, "(1, 3)", le(float32(1), float32(2), float32(3))))
	f.Add(rawNPY("<i8", false, "(3,)", le(int64(2), int64(0), int64(1))))
	f.Add(rawNPY("<u2", false, "(2, 1)", le(uint16(4), uint16(9))))
	f.Add(rawNPY("<f4", false, "(2,)", le(float32(math.NaN()), float32(1))))
	f.Add(rawNPY("<f8", false, "(1,)", le(1e300)))
	f.Add(rawNPY("<i8", false, "()", le(int64(-42))))
	f.Add(rawNPY("<f4", false, "(0, 3)", nil))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'descr': '<f4'}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzFile(t, "a.npy", data)
		lazyOpts := fuzzOptions
		lazyOpts.ScanAtOpen = false
		scanned, err := dataset.Open(p, fuzzOptions)
		lazy, lazyErr := dataset.Open(p, lazyOpts)
		var nf *dataset.NonFiniteError
		switch {
		case err == nil:
			defer dataset.Close(scanned)
			if lazyErr != nil {
				t.Fatalf("opens with ScanAtOpen but not without: %v", lazyErr)
			}
			defer dataset.Close(lazy)
			if dataset.HasLabels(scanned) {
				t.Fatal("a lone .npy file has labels")
			}
			x, _ := checkSource(t, scanned)
			lx, _ := checkSource(t, lazy)
			checkSame(t, "lazy and scanned", scanned, lazy, x, lx, nil, nil)
			// Every feature array is also a float64 array whose values,
			// rounded to float32, are the features.
			v, shape, err := dataset.ReadNPYLimit[float64](p, fuzzMaxBytes)
			if err != nil {
				t.Fatalf("Open accepts the file but ReadNPY[float64] does not: %v", err)
			}
			if !slices.Equal(shape, append([]int{scanned.Len()}, scanned.SampleShape()...)) || len(v) != len(x) {
				t.Fatalf("ReadNPY shape %v (%d values), Open %d samples of %v", shape, len(v), scanned.Len(), scanned.SampleShape())
			}
			for i := range v {
				if math.Float32bits(float32(v[i])) != math.Float32bits(x[i]) {
					t.Fatalf("element %d: ReadNPY %v, Open %v", i, v[i], x[i])
				}
			}
		case errors.As(err, &nf):
			// The lazy source opens, and reading everything meets the
			// same feature first.
			if lazyErr != nil {
				t.Fatalf("non-finite feature at open (%v) but the lazy open fails: %v", err, lazyErr)
			}
			defer dataset.Close(lazy)
			size := 1
			for _, d := range lazy.SampleShape() {
				size *= d
			}
			idx := make([]int, lazy.Len())
			for i := range idx {
				idx[i] = i
			}
			var lnf *dataset.NonFiniteError
			if rerr := lazy.Read(idx, make([]float32, len(idx)*size), nil); !errors.As(rerr, &lnf) || lnf.File != nf.File || lnf.Sample != nf.Sample ||
				lnf.Element != nf.Element || math.Float64bits(lnf.Value) != math.Float64bits(nf.Value) {
				t.Fatalf("at open: %v; reading lazily: %v", err, rerr)
			}
		default:
			checkRefusal(t, err, p)
			if lazyErr == nil {
				dataset.Close(lazy)
				t.Fatalf("opens lazily but not with ScanAtOpen: %v", err)
			}
		}
		roundTripNPY[float32](t, p)
		roundTripNPY[float64](t, p)
		if v, shape := roundTripNPY[int64](t, p); v != nil {
			checkAsLabels(t, p, v, shape)
		}
	})
}

// roundTripNPY reads p with ReadNPY[T]; when it succeeds, checks the
// element count, writes the values with WriteNPY and checks they read back
// bit for bit, and returns them.
func roundTripNPY[T float32 | float64 | int64](t *testing.T, p string) ([]T, []int) {
	t.Helper()
	v, shape, err := dataset.ReadNPYLimit[T](p, fuzzMaxBytes)
	if err != nil {
		checkRefusal(t, err, p)
		return nil, nil
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			t.Fatalf("shape %v", shape)
		}
		n *= d
	}
	if len(v) != n {
		t.Fatalf("%d values for shape %v", len(v), shape)
	}
	q := filepath.Join(filepath.Dir(p), "b.npy")
	if err := dataset.WriteNPY(q, v, shape); err != nil {
		t.Fatalf("WriteNPY of what ReadNPY returned: %v", err)
	}
	w, wshape, err := dataset.ReadNPY[T](q)
	if err != nil || !slices.Equal(wshape, shape) || len(w) != len(v) {
		t.Fatalf("rereading: %v, shape %v, want %v", err, wshape, shape)
	}
	for i := range v {
		if !sameBits(v[i], w[i]) {
			t.Fatalf("element %d: %v, reread as %v", i, v[i], w[i])
		}
	}
	return v, shape
}

// sameBits compares two values bit for bit (NaNs included).
func sameBits[T float32 | float64 | int64](a, b T) bool {
	switch a := any(a).(type) {
	case float32:
		return math.Float32bits(a) == math.Float32bits(any(b).(float32))
	case float64:
		return math.Float64bits(a) == math.Float64bits(any(b).(float64))
	}
	return a == b
}

// checkAsLabels opens p, whose elements ReadNPY read as the integers v of
// shape, as the labels of a feature array with as many rows: it must open
// exactly when the shape is a label vector and every value is ≥ 0, and then
// hold the labels v.
func checkAsLabels(t *testing.T, p string, v []int64, shape []int) {
	t.Helper()
	if len(shape) == 0 || shape[0] < 1 || shape[0] > 1<<12 {
		return
	}
	rows := shape[0]
	xp := filepath.Join(filepath.Dir(p), "x.npy")
	if err := dataset.WriteNPY(xp, make([]float32, rows), []int{rows, 1}); err != nil {
		t.Fatal(err)
	}
	src, err := dataset.OpenArrays(xp, p, fuzzOptions)
	vector := len(shape) == 1 || (len(shape) == 2 && shape[1] == 1)
	valid := vector && !slices.ContainsFunc(v, func(l int64) bool { return l < 0 })
	if err != nil {
		if valid {
			t.Fatalf("integer labels %v of shape %v refused: %v", v, shape, err)
		}
		checkRefusal(t, err, p)
		return
	}
	defer dataset.Close(src)
	if !valid {
		t.Fatalf("labels %v of shape %v accepted", v, shape)
	}
	if _, y := checkSource(t, src); !slices.Equal(y, v) {
		t.Fatalf("labels %v, ReadNPY %v", y, v)
	}
}
