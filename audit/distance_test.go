package audit

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestDistanceHandComputed(t *testing.T) {
	a := []float32{4, 6, 1}
	b := []float32{1, 2, 1}
	// (3, 4, 0): a 3-4-5 triangle, exact.
	if d := Distance(a, b); d != 5 {
		t.Errorf("Distance = %v, want 5", d)
	}
	// ‖b‖ = √6: 5/√6 to rounding.
	if r := RelativeDistance(a, b); math.Abs(r-5/math.Sqrt(6)) > 1e-15 {
		t.Errorf("RelativeDistance = %v, want %v", r, 5/math.Sqrt(6))
	}
	// A naive sum of squares overflows at 1e155; the scaled sum does not.
	big := []float64{3e200, -4e200}
	if d := Distance(big, []float64{0, 0}); math.Abs(d-5e200) > 1e186 {
		t.Errorf("Distance of huge vector = %v, want 5e200", d)
	}
	if d := Distance([]float64{math.Inf(1), math.Inf(1)}, []float64{0, 0}); !math.IsInf(d, 1) {
		t.Errorf("Distance of infinite vector = %v, want +Inf", d)
	}
	if r := RelativeDistance([]float64{0}, []float64{0}); !math.IsNaN(r) {
		t.Errorf("RelativeDistance(0, 0) = %v, want NaN", r)
	}
	if r := RelativeDistance([]float64{1}, []float64{0}); !math.IsInf(r, 1) {
		t.Errorf("RelativeDistance(1, 0) = %v, want +Inf", r)
	}
}

func TestDistanceAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	a, b := make([]float64, 1000), make([]float64, 1000)
	var ss float64
	for i := range a {
		a[i], b[i] = rng.NormFloat64(), rng.NormFloat64()
		ss += (a[i] - b[i]) * (a[i] - b[i])
	}
	// 1000 terms of order 1: relative rounding well below 1e-13.
	if d := Distance(a, b); math.Abs(d-math.Sqrt(ss)) > 1e-13*math.Sqrt(ss) {
		t.Errorf("Distance = %v, naive %v", d, math.Sqrt(ss))
	}
}
