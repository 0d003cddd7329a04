package unlearn

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// Panic messages for misuse (wrong lengths, impossible options). Data-dependent
// failures are returned as errors instead.
const (
	errDim    = "unlearn: dimension mismatch"
	errRadius = "unlearn: radius must be positive"
)

// Norm returns the Euclidean norm ‖w‖₂, computed without intermediate overflow.
func Norm(w []float64) float64 {
	return floats.Norm(w, 2)
}

// Distance returns ‖a − b‖₂. It panics if the lengths differ.
func Distance(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(errDim)
	}
	return floats.Distance(a, b, 2)
}

// Project projects w onto the ball {‖w‖₂ ≤ radius} in place: when ‖w‖ > radius,
// w ← w·radius/‖w‖. It reports whether w was scaled. After a projection,
// Norm(w) ≤ radius holds exactly in floating point (the scaled vector is nudged
// down by a few ulps if rounding left it just outside). A w containing NaN is
// left alone and reported as not scaled.
//
// Project panics if radius is not positive; an infinite radius never scales.
func Project(w []float64, radius float64) bool {
	if !(radius > 0) {
		panic(errRadius)
	}
	n := Norm(w)
	if !(n > radius) {
		return false
	}
	floats.Scale(radius/n, w)
	// Rounding in radius/n and in the products can leave ‖w‖ a few ulps above
	// radius; shrink by one ulp of 1 until it is inside (at most a few rounds).
	const shrink = 1 - 0x1p-52
	for i := 0; i < 8 && Norm(w) > radius; i++ {
		floats.Scale(shrink, w)
	}
	return true
}

// isFinite reports whether every element of x is finite.
func isFinite(x float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0)
}

func checkLen(w []float64, obj Objective) {
	if len(w) != obj.Dim() {
		panic(errDim)
	}
}
