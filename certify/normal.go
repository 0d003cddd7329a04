package certify

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/integrate/quad"
)

// This file holds the standard normal CDF Φ in the forms the analytic
// Gaussian mechanism needs: log Φ(x) for every real x, the scaled
// complementary error function erfcx(z) = exp(z²)·erfc(z), and the difference
// erfcx(u) − erfcx(u+h) without cancellation. With them e^ε·Φ(b) is evaluated
// without forming e^ε (see logAnalyticDelta).

// erfcxSwitch is where erfcx changes from exp(z²)·erfc(z) to the continued
// fraction. Below it exp(z²) ≤ e⁴ costs at most a few ulps; above it the
// continued fraction converges in fewer than 150 terms. normal_test.go checks
// both sides against an arbitrary-precision reference.
const erfcxSwitch = 2

// erfcx returns exp(z²)·erfc(z) for z ≥ 0.
func erfcx(z float64) float64 {
	switch {
	case math.IsNaN(z):
		return math.NaN()
	case math.IsInf(z, 1):
		return 0
	case z < erfcxSwitch:
		return math.Exp(z*z) * math.Erfc(z)
	}
	return 1 / (math.SqrtPi * (z + erfcTail(z)))
}

// erfcTail returns the tail T(z) of Laplace's continued fraction
//
//	erfcx(z) = (1/√π) · 1/(z + T(z)),  T(z) = (1/2)/(z + (2/2)/(z + (3/2)/(z + …))),
//
// evaluated with the modified Lentz algorithm. It converges for z > 0, fast
// for z ≥ erfcxSwitch.
func erfcTail(z float64) float64 {
	const (
		tiny    = 1e-300
		eps     = 1e-17
		maxIter = 10000
	)
	f := tiny
	c := f
	d := 0.0
	for n := 1; n <= maxIter; n++ {
		a := float64(n) / 2
		d = z + a*d
		if d == 0 {
			d = tiny
		}
		c = z + a/c
		if c == 0 {
			c = tiny
		}
		d = 1 / d
		h := c * d
		f *= h
		if math.Abs(h-1) < eps {
			break
		}
	}
	return f
}

// erfcxSlope returns −erfcx′(t) = 2/√π − 2t·erfcx(t) for t ≥ 0. For
// t ≥ erfcxSwitch it uses the continued fraction, in which the difference is
// (2/√π)·T/(t + T) and nothing cancels.
func erfcxSlope(t float64) float64 {
	if t < erfcxSwitch {
		return 2/math.SqrtPi - 2*t*erfcx(t)
	}
	tail := erfcTail(t)
	return 2 / math.SqrtPi * tail / (t + tail)
}

// glNodes holds the Gauss–Legendre rule on [−1, 1] used by erfcxDiff.
var glNodes = sync.OnceValues(func() (x, w []float64) {
	const n = 16
	x, w = make([]float64, n), make([]float64, n)
	quad.Legendre{}.FixedLocations(x, w, -1, 1)
	return x, w
})

// erfcxDiff returns erfcx(u) − erfcx(u+h) for u ≥ 0, h > 0. When h ≤ u the
// two values agree in their leading digits, so the difference is computed as
// ∫_u^{u+h} −erfcx′(t) dt with a 16-point Gauss–Legendre rule (−erfcx′ is
// smooth and varies by at most a factor 4 on the interval, so the rule is
// exact to rounding); otherwise the direct difference loses at most a bit.
func erfcxDiff(u, h float64) float64 {
	if !(h <= u) {
		return erfcx(u) - erfcx(u+h)
	}
	x, w := glNodes()
	mid, half := u+h/2, h/2
	sum := 0.0
	for i := range x {
		sum += w[i] * erfcxSlope(mid+half*x[i])
	}
	return half * sum
}

// logPhi returns log Φ(x), the logarithm of the standard normal CDF, without
// underflow: for x < 0 it is −x²/2 + log(erfcx(−x/√2)/2).
func logPhi(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return math.NaN()
	case x >= 0:
		return math.Log1p(-0.5 * math.Erfc(x/math.Sqrt2))
	case math.IsInf(x, -1):
		return math.Inf(-1)
	}
	z := -x / math.Sqrt2
	if z < erfcxSwitch {
		return math.Log(0.5 * math.Erfc(z))
	}
	return math.Log(0.5*erfcx(z)) - z*z
}

// phi returns Φ(x) = erfc(−x/√2)/2, the standard normal CDF.
func phi(x float64) float64 {
	return 0.5 * math.Erfc(-x/math.Sqrt2)
}
