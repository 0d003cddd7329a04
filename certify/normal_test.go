package certify

import (
	"math"
	"math/big"
	"testing"
)

// refErfcx returns exp(z²)·erfc(z) in big precision.
func refErfcx(z float64) *big.Float {
	prec := refPrecFor(z)
	Z := new(big.Float).SetPrec(prec).SetFloat64(z)
	e := refErfc(Z, prec)
	return e.Mul(e, refExp(new(big.Float).SetPrec(prec).Mul(Z, Z), prec))
}

func TestErfcxAgainstReference(t *testing.T) {
	// 4e-16 relative: a few ulps. Below the switch exp(z²)·erfc(z) rounds
	// twice; above it Lentz's method accumulates about one ulp per
	// significant term. Both sides of erfcxSwitch are included.
	const tol = 4e-16 * 4
	for _, z := range []float64{0, 0.1, 0.5, 1, 1.9, 1.999, 2, 2.001, 2.5, 3, 5, 10, 20, 27, 40} {
		if err := refRelErr(erfcx(z), refErfcx(z)); err > tol {
			t.Errorf("erfcx(%g) relative error %.3g > %.3g", z, err, tol)
		}
	}
}

func TestErfcxDiffAgainstReference(t *testing.T) {
	// erfcx(u) − erfcx(u+h) for h ≪ u is where a direct difference cancels:
	// with h/u = 1e-8 it would lose 8 digits. 1e-14 relative is what the
	// Gauss–Legendre path keeps (a few ulps of the integrand, summed 16 times).
	const tol = 1e-14
	for _, c := range []struct{ u, h float64 }{
		{0.5, 1e-9}, {1, 1e-3}, {1.5, 1}, {3, 1e-8}, {3, 3}, {8, 1e-6}, {25, 1e-10}, {30, 0.2},
	} {
		v := c.u + c.h
		h := v - c.u // exact (Sterbenz): the reference sees the same interval
		want := new(big.Float).Sub(refErfcx(c.u), refErfcx(v))
		if err := refRelErr(erfcxDiff(c.u, h), want); err > tol {
			t.Errorf("erfcxDiff(%g, %g) relative error %.3g > %.3g", c.u, c.h, err, tol)
		}
	}
}

func TestLogPhiAgainstReference(t *testing.T) {
	// log Φ enters log δ additively, so its error is judged relative to
	// max(1, |log Φ|): 1e-14 is a few ulps of the −x²/2 term (up to 800 here)
	// plus the log of a correctly rounded erfc or erfcx.
	for _, x := range []float64{-40, -20, -8, -3, -2.83, -1, -1e-3, 0, 1e-3, 1, 3, 8} {
		prec := refPrecFor(math.Abs(x)/math.Sqrt2) + 64
		want := refLog(refPhi(new(big.Float).SetPrec(prec).SetFloat64(x), prec))
		got := logPhi(x)
		if d := math.Abs(got - want); d > 1e-14*math.Max(1, math.Abs(got)) {
			t.Errorf("logPhi(%g) = %.17g, want %.17g", x, got, want)
		}
	}
	if !math.IsInf(logPhi(math.Inf(-1)), -1) || logPhi(math.Inf(1)) != 0 || !math.IsNaN(logPhi(math.NaN())) {
		t.Errorf("logPhi at ±Inf/NaN: %g %g %g", logPhi(math.Inf(-1)), logPhi(math.Inf(1)), logPhi(math.NaN()))
	}
}
