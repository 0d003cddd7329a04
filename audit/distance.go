package audit

import (
	"fmt"
	"math"
)

// Distance returns the Euclidean distance ‖a − b‖₂ between two parameter
// vectors (e.g. the unlearned and the retrained model's, flattened in the
// same order). It accumulates a scaled sum of squares, as BLAS nrm2 does, so
// it neither overflows nor underflows for representable results. It panics
// when the lengths differ.
func Distance[F Float](a, b []F) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("audit: dimension mismatch: vectors of length %d and %d", len(a), len(b)))
	}
	return norm2(len(a), func(i int) float64 { return float64(a[i]) - float64(b[i]) })
}

// RelativeDistance returns ‖a − b‖₂ / ‖b‖₂, the distance as a fraction of
// the size of the reference b. It is +Inf when b is zero and a is not, and
// NaN when both are zero. It panics when the lengths differ.
func RelativeDistance[F Float](a, b []F) float64 {
	d := Distance(a, b)
	nb := norm2(len(b), func(i int) float64 { return float64(b[i]) })
	if nb == 0 && d == 0 {
		return math.NaN()
	}
	return d / nb
}

// norm2 returns the Euclidean norm of the n values v(0..n−1) as
// scale·√ssq with scale the largest magnitude seen so far.
func norm2(n int, v func(int) float64) float64 {
	scale, ssq := 0.0, 1.0
	for i := range n {
		x := math.Abs(v(i))
		switch {
		case math.IsNaN(x):
			return math.NaN()
		case math.IsInf(x, 1):
			return x
		case x == 0:
		case x > scale:
			ssq = 1 + ssq*(scale/x)*(scale/x)
			scale = x
		default:
			ssq += (x / scale) * (x / scale)
		}
	}
	return scale * math.Sqrt(ssq)
}
