package certify

import (
	"errors"
	"fmt"
	"math"
)

// Mechanism names a Gaussian mechanism: the rule that turns an ℓ2
// sensitivity Δ and a privacy target (ε, δ) into a noise scale σ.
type Mechanism string

const (
	// Analytic is the analytic Gaussian mechanism of Balle & Wang (ICML 2018):
	// the smallest σ with Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ) ≤ δ.
	// It is valid for every ε > 0 and never needs more noise than Classic.
	Analytic Mechanism = "analytic"
	// Classic is σ = (Δ/ε)·√(2 ln(1.25/δ)) (Dwork & Roth 2014, Theorem A.1),
	// proven only for ε < 1.
	Classic Mechanism = "classic"
)

// DefaultMechanism is the mechanism lethe uses unless told otherwise.
const DefaultMechanism = Analytic

// SigmaTolerance is the relative width of the bisection bracket at which the
// analytic calibration stops. Sigma returns the upper end of the bracket, the
// side on which the condition holds, so the result is rounded up.
const SigmaTolerance = 1e-12

// DeltaMargin is the relative safety margin applied to δ when the analytic
// condition is evaluated in float64: Sigma solves δ(σ) ≤ δ·(1 − DeltaMargin).
// It absorbs the rounding error of the float64 evaluation of δ(σ), which the
// tests measure against an arbitrary-precision reference to be below 1e-13
// relative for ε ∈ [1e-6, 1e3] and δ ∈ [1e-30, 0.5]. Its cost is negligible:
// σ grows by 1e-12/|d ln δ/d ln σ| relative, well under 1e-12 for small δ.
const DeltaMargin = 1e-12

// ParseMechanism returns the Mechanism named s ("analytic" or "classic").
func ParseMechanism(s string) (Mechanism, error) {
	switch m := Mechanism(s); m {
	case Analytic, Classic:
		return m, nil
	}
	return "", fmt.Errorf("certify: unknown mechanism %q (want %q or %q)", s, Analytic, Classic)
}

// ClassicRangeError reports that the classic Gaussian mechanism was asked
// for, or would imply, ε ≥ 1, where its proof does not hold. The analytic
// mechanism covers every ε > 0.
type ClassicRangeError struct {
	Epsilon float64
}

// Error implements the error interface.
func (e *ClassicRangeError) Error() string {
	return fmt.Sprintf("certify: the classic Gaussian mechanism is proven only for ε < 1, got ε = %g; use the analytic mechanism", e.Epsilon)
}

// Sigma returns the noise standard deviation σ that mechanism m needs for
// (ε, δ) with ℓ2 sensitivity Δ. It fails with a *ParameterError when
// Δ ≤ 0, ε ≤ 0 or δ ∉ (0, 1), and with a *ClassicRangeError for the classic
// mechanism when ε ≥ 1.
func Sigma(m Mechanism, sensitivity, epsilon, delta float64) (float64, error) {
	switch m {
	case Analytic:
		return AnalyticSigma(sensitivity, epsilon, delta)
	case Classic:
		return ClassicSigma(sensitivity, epsilon, delta)
	}
	_, err := ParseMechanism(string(m))
	return 0, err
}

// ClassicSigma returns σ = (Δ/ε)·√(2 ln(1.25/δ)), refusing ε ≥ 1 with a
// *ClassicRangeError.
func ClassicSigma(sensitivity, epsilon, delta float64) (float64, error) {
	if err := checkMechanismArgs(sensitivity, epsilon, delta); err != nil {
		return 0, err
	}
	if epsilon >= 1 {
		return 0, &ClassicRangeError{Epsilon: epsilon}
	}
	return sensitivity / epsilon * math.Sqrt(2*math.Log(1.25/delta)), nil
}

// AnalyticSigma returns the smallest σ (rounded up by at most
// SigmaTolerance relative) with
//
//	Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ) ≤ δ·(1 − DeltaMargin),
//
// found by bisection on that exact condition (Balle & Wang 2018).
func AnalyticSigma(sensitivity, epsilon, delta float64) (float64, error) {
	if err := checkMechanismArgs(sensitivity, epsilon, delta); err != nil {
		return 0, err
	}
	// σ scales with Δ, so solve for unit sensitivity: the condition depends on
	// σ and Δ only through s = Δ/σ.
	target := math.Log(delta) + math.Log1p(-DeltaMargin)
	holds := func(sigma1 float64) bool { return logAnalyticDelta(1/sigma1, epsilon) <= target }
	sigma1, err := bisectUp(holds, 1, false)
	if err != nil {
		return 0, fmt.Errorf("certify: analytic σ for ε = %g, δ = %g: %w", epsilon, delta, err)
	}
	return sensitivity * sigma1, nil
}

// AnalyticDelta returns the δ that Gaussian noise of standard deviation σ
// achieves for ε and ℓ2 sensitivity Δ under the analytic mechanism:
// Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ). ε = 0 is allowed here.
func AnalyticDelta(sigma, sensitivity, epsilon float64) (float64, error) {
	if err := positive("sigma", sigma); err != nil {
		return 0, err
	}
	if err := positive("sensitivity", sensitivity); err != nil {
		return 0, err
	}
	if !(epsilon >= 0) || math.IsInf(epsilon, 1) {
		return 0, &ParameterError{Name: "epsilon", Value: epsilon, Reason: "must be finite and ≥ 0"}
	}
	return math.Exp(logAnalyticDelta(sensitivity/sigma, epsilon)), nil
}

// EpsilonForSigma returns the ε that noise of standard deviation σ certifies
// for sensitivity Δ and δ under mechanism m: the fixed-noise (--sigma) mode.
//
// For Analytic it is the smallest ε > 0 with AnalyticDelta(σ, Δ, ε) ≤
// δ·(1 − DeltaMargin), rounded up (bisection to 1e-12 relative, never below
// 1e-15), so that Sigma(Analytic, Δ, ε, δ) ≤ σ.
//
// For Classic it is ε = (Δ/σ)·√(2 ln(1.25/δ)). When that is ≥ 1 the classic
// proof does not apply: EpsilonForSigma returns that ε together with a
// *ClassicRangeError, and the caller must switch to Analytic (and record
// "analytic" as the mechanism) rather than report the classic ε. lethe does
// not fall back silently, because the certificate must name the mechanism
// whose proof it relies on.
func EpsilonForSigma(m Mechanism, sigma, sensitivity, delta float64) (float64, error) {
	if err := positive("sigma", sigma); err != nil {
		return 0, err
	}
	if err := positive("sensitivity", sensitivity); err != nil {
		return 0, err
	}
	if err := checkDelta(delta); err != nil {
		return 0, err
	}
	switch m {
	case Classic:
		eps := sensitivity / sigma * math.Sqrt(2*math.Log(1.25/delta))
		if eps >= 1 {
			return eps, &ClassicRangeError{Epsilon: eps}
		}
		return eps, nil
	case Analytic:
		s := sensitivity / sigma
		target := math.Log(delta) + math.Log1p(-DeltaMargin)
		holds := func(eps float64) bool { return logAnalyticDelta(s, eps) <= target }
		eps, err := bisectUp(holds, 1, true)
		if err != nil {
			return 0, fmt.Errorf("certify: analytic ε for σ = %g, Δ = %g, δ = %g: %w", sigma, sensitivity, delta, err)
		}
		return eps, nil
	}
	_, err := ParseMechanism(string(m))
	return 0, err
}

// errNoBracket reports that bisectUp found no point where the condition holds.
var errNoBracket = errors.New("no value satisfies the condition within the float64 range")

// bisectUp returns, for a condition holds(x) that is monotone (false below a
// threshold x* > 0, true above it), a value x ≥ x* within SigmaTolerance
// relative of x*. It starts from x0 and doubles or halves to bracket x*.
// When floorZero is set, x* may be 0: the search stops at 1e-15 and returns it.
func bisectUp(holds func(float64) bool, x0 float64, floorZero bool) (float64, error) {
	const (
		maxSteps = 2200 // enough to walk the whole float64 exponent range
		floor    = 1e-15
	)
	hi := x0
	for i := 0; !holds(hi); i++ {
		if i == maxSteps || math.IsInf(hi, 1) {
			return 0, errNoBracket
		}
		hi *= 2
	}
	lo := hi / 2
	for i := 0; holds(lo); i++ {
		if floorZero && lo < floor {
			return floor, nil
		}
		if i == maxSteps || lo == 0 {
			return 0, errNoBracket
		}
		hi = lo
		lo /= 2
	}
	for hi-lo > SigmaTolerance*hi {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if holds(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// logAnalyticDelta returns log δ(s, ε) for s = Δ/σ > 0 and ε ≥ 0, where
//
//	δ = Φ(a) − e^ε·Φ(b),  a = s/2 − ε/s,  b = −s/2 − ε/s.
//
// Because b² − a² = 2ε exactly, e^ε·Φ(b) = ½·e^(−a²/2)·erfcx(−b/√2) for
// b < 0, so e^ε is never formed and nothing overflows for large ε. When
// a < 0 both terms share the factor ½·e^(−u²) with u = −a/√2, and
//
//	δ = ½·e^(−u²)·(erfcx(u) − erfcx(v)),  v = −b/√2 = u + s/√2,
//
// and erfcx(u) − erfcx(v) is computed without cancellation (erfcxDiff), which
// keeps full relative precision, also for small ε and where δ underflows.
func logAnalyticDelta(s, eps float64) float64 {
	a := s/2 - eps/s
	if a >= 0 {
		// Φ(a) ≥ ½: no underflow; e^ε·Φ(b) < Φ(a) is a bounded correction.
		v := (s/2 + eps/s) / math.Sqrt2 // −b/√2
		t := 0.5 * math.Exp(-a*a/2) * erfcx(v)
		return math.Log(phi(a) - t)
	}
	u := -a / math.Sqrt2
	diff := erfcxDiff(u, s/math.Sqrt2) // v − u = (a − b)/√2 = s/√2 exactly
	if !(diff > 0) {
		// erfcx is strictly decreasing, so diff > 0 in exact arithmetic; it
		// can round to 0 only when δ is far below any float64 target. δ ≤ Φ(a)
		// always holds, so fall back to that upper bound.
		return logPhi(a)
	}
	return math.Log(0.5) - u*u + math.Log(diff)
}

// checkMechanismArgs validates Δ > 0, ε > 0 and δ ∈ (0, 1), all finite.
func checkMechanismArgs(sensitivity, epsilon, delta float64) error {
	if err := positive("sensitivity", sensitivity); err != nil {
		return err
	}
	if err := positive("epsilon", epsilon); err != nil {
		return err
	}
	return checkDelta(delta)
}

// checkDelta validates δ ∈ (0, 1).
func checkDelta(delta float64) error {
	if !(delta > 0 && delta < 1) {
		return &ParameterError{Name: "delta", Value: delta, Reason: "must be in (0, 1)"}
	}
	return nil
}

// positive validates that x is finite and > 0.
func positive(name string, x float64) error {
	if !(x > 0) || math.IsInf(x, 1) {
		return &ParameterError{Name: name, Value: x, Reason: "must be finite and > 0"}
	}
	return nil
}
