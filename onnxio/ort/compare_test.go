package ort_test

import (
	"math"
	"testing"

	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

func TestCompare(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, tc := range []struct {
		name string
		a, b []float64
		want ort.Diff
	}{
		{"empty", nil, nil, ort.Diff{ArgMaxAbs: -1}},
		{"equal", []float64{1, -2, 0}, []float64{1, -2, 0}, ort.Diff{N: 3}},
		{"abs and rel", []float64{1, 10}, []float64{1.5, 10.5}, ort.Diff{N: 2, MaxAbs: 0.5, MaxRel: 0.5 / 1.5}},
		{"first of equal maxima", []float64{0, 1, 2}, []float64{1, 2, 2}, ort.Diff{N: 3, MaxAbs: 1, MaxRel: 1}},
		{"opposite signs", []float64{1}, []float64{-1}, ort.Diff{N: 1, MaxAbs: 2, MaxRel: 2}},
		{"both NaN", []float64{nan}, []float64{nan}, ort.Diff{N: 1}},
		{"one NaN", []float64{1, nan}, []float64{1, 2}, ort.Diff{N: 2, MaxAbs: inf, MaxRel: inf, ArgMaxAbs: 1, NaNMismatch: 1}},
		{"equal infinities", []float64{inf, -inf}, []float64{inf, -inf}, ort.Diff{N: 2}},
		{"infinity against finite", []float64{inf}, []float64{1}, ort.Diff{N: 1, MaxAbs: inf, MaxRel: inf}},
	} {
		got := ort.Compare(tc.a, tc.b)
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
		if rev := ort.Compare(tc.b, tc.a); rev != got {
			t.Errorf("%s: not symmetric: %+v vs %+v", tc.name, rev, got)
		}
	}
}

func TestComparePanicsOnLengths(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Compare of different lengths did not panic")
		}
	}()
	ort.Compare([]float64{1}, nil)
}

func TestCompareTensors(t *testing.T) {
	a := &onnxio.Tensor{Type: onnxio.Float, Dims: []int64{2}, Float32: []float32{1, 2}}
	b := &onnxio.Tensor{Type: onnxio.Double, Dims: []int64{2}, Float64: []float64{1, 2.5}}
	if d, err := ort.CompareTensors(a, b); err != nil || d.MaxAbs != 0.5 || d.ArgMaxAbs != 1 {
		t.Errorf("got %+v, %v", d, err)
	}
	c := &onnxio.Tensor{Type: onnxio.Float, Dims: []int64{1, 2}, Float32: []float32{1, 2}}
	if _, err := ort.CompareTensors(a, c); err == nil {
		t.Error("tensors of different dims compared")
	}
	s := &onnxio.Tensor{Type: onnxio.String, Dims: []int64{2}, Strings: [][]byte{{'a'}, {'b'}}}
	if _, err := ort.CompareTensors(a, s); err == nil {
		t.Error("a string tensor compared")
	}
}
