package certify

import (
	"math"
	"math/big"
)

// This file is an independent, arbitrary-precision evaluation of the analytic
// Gaussian condition, used only as a test oracle. It shares no code with
// normal.go: Φ comes from the Maclaurin series of erf (not math.Erfc, not a
// continued fraction), e^ε from its Taylor series, π from Machin's formula,
// and the working precision grows with the argument so that the series'
// cancellation (terms up to e^(z²) for a result near e^(−z²)) is absorbed.

// refPrecFor returns the working precision in bits for erfc(z) by the erf
// series: the largest term is about e^(z²) and the result about e^(−z²), so
// 2z²·log₂e bits cancel; 192 more leave well over 100 correct bits.
func refPrecFor(z float64) uint {
	return uint(192 + 2*z*z*math.Log2E)
}

// refPi returns π to prec bits by Machin's formula π = 16·atan(1/5) − 4·atan(1/239).
func refPi(prec uint) *big.Float {
	atanInv := func(n int64) *big.Float {
		// atan(1/n) = Σ (−1)^k / ((2k+1)·n^(2k+1))
		sum := new(big.Float).SetPrec(prec)
		pow := new(big.Float).SetPrec(prec).Quo(big.NewFloat(1).SetPrec(prec), new(big.Float).SetPrec(prec).SetInt64(n))
		n2 := new(big.Float).SetPrec(prec).SetInt64(n * n)
		eps := new(big.Float).SetMantExp(big.NewFloat(1), -int(prec)-8)
		for k := int64(0); ; k++ {
			term := new(big.Float).SetPrec(prec).Quo(pow, new(big.Float).SetPrec(prec).SetInt64(2*k+1))
			if k%2 == 0 {
				sum.Add(sum, term)
			} else {
				sum.Sub(sum, term)
			}
			if term.Cmp(eps) < 0 {
				return sum
			}
			pow.Quo(pow, n2)
		}
	}
	a := atanInv(5)
	a.Mul(a, big.NewFloat(16))
	b := atanInv(239)
	b.Mul(b, big.NewFloat(4))
	return a.Sub(a, b)
}

// refErfc returns erfc(z) = 1 − (2/√π)·Σ (−1)^n z^(2n+1)/(n!(2n+1)) to prec bits.
func refErfc(z *big.Float, prec uint) *big.Float {
	z2 := new(big.Float).SetPrec(prec).Mul(z, z)
	pow := new(big.Float).SetPrec(prec).Set(z) // z^(2n+1)/n!
	sum := new(big.Float).SetPrec(prec)
	eps := new(big.Float).SetMantExp(big.NewFloat(1), -int(prec)-8)
	zf, _ := z2.Float64()
	for n := int64(0); ; n++ {
		term := new(big.Float).SetPrec(prec).Quo(pow, new(big.Float).SetPrec(prec).SetInt64(2*n+1))
		if n%2 == 0 {
			sum.Add(sum, term)
		} else {
			sum.Sub(sum, term)
		}
		if float64(n) > zf && new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
		pow.Mul(pow, z2)
		pow.Quo(pow, new(big.Float).SetPrec(prec).SetInt64(n+1))
	}
	sqrtPi := new(big.Float).SetPrec(prec).Sqrt(refPi(prec))
	sum.Mul(sum, big.NewFloat(2))
	sum.Quo(sum, sqrtPi)
	return new(big.Float).SetPrec(prec).Sub(big.NewFloat(1).SetPrec(prec), sum)
}

// refExp returns e^x to prec bits: Taylor series of e^(x/2^k), squared k times.
func refExp(x *big.Float, prec uint) *big.Float {
	k := 0
	r := new(big.Float).SetPrec(prec).Set(x)
	for new(big.Float).Abs(r).Cmp(big.NewFloat(0.5)) > 0 {
		r.Quo(r, big.NewFloat(2))
		k++
	}
	work := prec + uint(k) + 16
	sum := big.NewFloat(1).SetPrec(work)
	term := big.NewFloat(1).SetPrec(work)
	eps := new(big.Float).SetMantExp(big.NewFloat(1), -int(work)-8)
	for n := int64(1); ; n++ {
		term.Mul(term, r)
		term.Quo(term, new(big.Float).SetPrec(work).SetInt64(n))
		sum.Add(sum, term)
		if new(big.Float).Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	for ; k > 0; k-- {
		sum.Mul(sum, sum)
	}
	return sum
}

// refPhi returns Φ(x) = erfc(−x/√2)/2 to prec bits.
func refPhi(x *big.Float, prec uint) *big.Float {
	sqrt2 := new(big.Float).SetPrec(prec).Sqrt(big.NewFloat(2).SetPrec(prec))
	z := new(big.Float).SetPrec(prec).Quo(x, sqrt2)
	z.Neg(z)
	r := refErfc(z, prec)
	return r.Quo(r, big.NewFloat(2))
}

// refAnalyticDelta returns Φ(a) − e^ε·Φ(b) with a = s/2 − ε/s, b = −s/2 − ε/s,
// evaluated from the exact float64 values of s and ε in big precision.
func refAnalyticDelta(s, eps float64) *big.Float {
	zmax := (s/2 + eps/s) / math.Sqrt2
	prec := refPrecFor(zmax)
	S := new(big.Float).SetPrec(prec).SetFloat64(s)
	E := new(big.Float).SetPrec(prec).SetFloat64(eps)
	half := new(big.Float).SetPrec(prec).Quo(S, big.NewFloat(2))
	ratio := new(big.Float).SetPrec(prec).Quo(E, S)
	a := new(big.Float).SetPrec(prec).Sub(half, ratio)
	b := new(big.Float).SetPrec(prec).Neg(half)
	b.Sub(b, ratio)
	t := refPhi(b, prec)
	t.Mul(t, refExp(E, prec))
	d := refPhi(a, prec)
	return d.Sub(d, t)
}

// refRelErr returns |got − want|/|want| with want in big precision.
func refRelErr(got float64, want *big.Float) float64 {
	g := new(big.Float).SetPrec(want.Prec()).SetFloat64(got)
	g.Sub(g, want)
	g.Quo(g, want)
	f, _ := g.Float64()
	return math.Abs(f)
}

// refLog returns log x for x > 0 in float64, from x = m·2^e with m ∈ [0.5, 1),
// so that values far below the float64 range still have a logarithm.
func refLog(x *big.Float) float64 {
	m := new(big.Float)
	e := x.MantExp(m)
	mf, _ := m.Float64()
	return math.Log(mf) + float64(e)*math.Ln2
}
