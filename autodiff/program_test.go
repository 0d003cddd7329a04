package autodiff

import (
	"math"
	"testing"
)

// TestSameBits: parameters match when their bit patterns do, so a NaN
// matches itself and −0 does not match +0, and lengths must agree.
func TestSameBits(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		a, b []float64
		want bool
	}{
		{nil, nil, true},
		{[]float64{}, nil, true},
		{[]float64{1, 2}, []float64{1, 2}, true},
		{[]float64{1, 2}, []float64{1, 3}, false},
		{[]float64{1, 2}, []float64{1}, false},
		{[]float64{nan}, []float64{nan}, true},
		{[]float64{math.Copysign(0, -1)}, []float64{0}, false},
	} {
		if got := sameBits(c.a, c.b); got != c.want {
			t.Errorf("sameBits(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
