package ort

import (
	"fmt"
	"math"
	"slices"

	"github.com/lethe-ml/lethe/onnxio"
)

// Diff summarises the element-wise difference of two equally long vectors a
// and b. For each position:
//
//   - equal values (including equal infinities) and two NaNs differ by 0;
//   - exactly one NaN counts in NaNMismatch and differs by +Inf, as does an
//     infinity against anything else;
//   - otherwise the absolute difference is |a−b| and the relative difference
//     |a−b| / max(|a|, |b|), which lies in [0, 2] and is symmetric.
//
// MaxAbs and MaxRel are the largest of these (0 for empty vectors); ArgMaxAbs
// is the first position of MaxAbs (-1 for empty vectors).
type Diff struct {
	N           int
	MaxAbs      float64
	MaxRel      float64
	ArgMaxAbs   int
	NaNMismatch int
}

// Compare returns the Diff of a and b. It panics if their lengths differ.
func Compare(a, b []float64) Diff {
	if len(a) != len(b) {
		panic(fmt.Sprintf("ort: Compare of vectors of lengths %d and %d", len(a), len(b)))
	}
	d := Diff{N: len(a), ArgMaxAbs: -1}
	for i := range a {
		x, y := a[i], b[i]
		var abs, rel float64
		switch {
		case x == y || (math.IsNaN(x) && math.IsNaN(y)):
		case math.IsNaN(x) || math.IsNaN(y):
			d.NaNMismatch++
			abs, rel = math.Inf(1), math.Inf(1)
		case math.IsInf(x, 0) || math.IsInf(y, 0):
			abs, rel = math.Inf(1), math.Inf(1)
		default:
			abs = math.Abs(x - y)
			rel = abs / math.Max(math.Abs(x), math.Abs(y))
		}
		if abs > d.MaxAbs || d.ArgMaxAbs < 0 {
			d.MaxAbs, d.ArgMaxAbs = abs, i
		}
		d.MaxRel = math.Max(d.MaxRel, rel)
	}
	return d
}

// CompareTensors returns the Diff of two real-valued tensors of the same
// dims (their element types may differ). Mismatched dims or non-numeric
// tensors are an error.
func CompareTensors(a, b *onnxio.Tensor) (Diff, error) {
	if !slices.Equal(a.Dims, b.Dims) {
		return Diff{}, fmt.Errorf("ort: compare %q and %q: dims %v and %v differ", a.Name, b.Name, a.Dims, b.Dims)
	}
	x, err := a.Float64s()
	if err != nil {
		return Diff{}, fmt.Errorf("ort: compare: %w", err)
	}
	y, err := b.Float64s()
	if err != nil {
		return Diff{}, fmt.Errorf("ort: compare: %w", err)
	}
	return Compare(x, y), nil
}
