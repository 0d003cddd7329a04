package certify

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// CheckRelTol is the relative tolerance of CheckSigma. Recomputing a bound
// term or σ from the recorded inputs repeats the same float64 arithmetic, so
// it agrees to a few ulps on any platform (fused multiply-add on arm64 and
// the bisection's 1e-12 stopping width are the only sources of difference);
// 1e-9 is far above those and far below anything that matters for privacy.
const CheckRelTol = 1e-9

// MismatchError reports a recorded certificate value that disagrees with the
// value recomputed from the certificate's own inputs. Field is the JSON path.
type MismatchError struct {
	Field      string
	Recorded   string
	Recomputed string
}

// Error implements the error interface.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("certify: %s: recorded %s, recomputed %s", e.Field, e.Recorded, e.Recomputed)
}

// SigmaError reports that the recorded σ is smaller than the σ the recorded
// mechanism needs for the recorded sensitivity, ε and δ: the noise is too
// weak for the claimed guarantee.
type SigmaError struct {
	Mechanism   Mechanism
	Sensitivity float64
	Epsilon     float64
	Delta       float64
	Recorded    float64
	Required    float64
}

// Error implements the error interface.
func (e *SigmaError) Error() string {
	return fmt.Sprintf("certify: sigma %g is smaller than the %g that the %s mechanism needs for Δ = %g, ε = %g, δ = %g",
		e.Recorded, e.Required, e.Mechanism, e.Sensitivity, e.Epsilon, e.Delta)
}

// CheckSigma recomputes the guarantee from the certificate's recorded inputs
// and reports every disagreement, joined:
//
//   - the bound: bound_theorem, bound_residual, bound_trivial, the stationarity
//     flags, paper_condition, active_bound and sensitivity are recomputed by
//     ComputeBound from C, M, λ, λ_min, ‖H‖, ρ, projected and the
//     stationarity measurements (*MismatchError);
//   - σ: when noise was added, Sigma(mechanism, sensitivity, ε, δ) must not
//     exceed the recorded σ by more than CheckRelTol relative (*SigmaError);
//     a classic mechanism with ε ≥ 1 is a *ClassicRangeError;
//   - certified = true needs noise_private = true, σ > 0 and a positive
//     sensitivity (*MismatchError).
//
// It does not check hashes, signatures or parity.
func CheckSigma(c *Certificate) error {
	var errs []error
	mismatch := func(field, recorded, recomputed string) {
		errs = append(errs, &MismatchError{Field: field, Recorded: recorded, Recomputed: recomputed})
	}
	rec := c.Bound
	b, err := ComputeBound(rec.BoundInputs)
	var premise *PremiseError
	switch {
	case errors.As(err, &premise):
		if c.Certified {
			errs = append(errs, err)
		}
	case err != nil:
		return errors.Join(append(errs, err)...)
	}
	num := func(field string, recorded, recomputed float64) {
		if !approxEqual(recorded, recomputed, CheckRelTol) {
			mismatch("bound."+field, fmtFloat(recorded), fmtFloat(recomputed))
		}
	}
	flag := func(field string, recorded, recomputed bool) {
		if recorded != recomputed {
			mismatch("bound."+field, strconv.FormatBool(recorded), strconv.FormatBool(recomputed))
		}
	}
	num("bound_theorem", rec.Theorem, b.Theorem)
	num("bound_residual", rec.Residual, b.Residual)
	num("bound_trivial", rec.Trivial, b.Trivial)
	num("sensitivity", rec.Sensitivity, b.Sensitivity)
	flag("paper_condition", rec.PaperCondition, b.PaperCondition)
	flag("ball_active", rec.BallActive, b.BallActive)
	flag("gradient_small", rec.GradientSmall, b.GradientSmall)
	flag("premise_holds", rec.PremiseHolds, b.PremiseHolds)
	if rec.Active != b.Active {
		mismatch("bound.active_bound", string(rec.Active), string(b.Active))
	}
	// The recomputed tolerances are the recorded ones unless those were 0.
	num("stationarity.grad_tol", rec.Stationarity.GradTol, b.Stationarity.GradTol)
	num("stationarity.ball_tol", rec.Stationarity.BallTol, b.Stationarity.BallTol)

	if c.Certified {
		if !c.NoisePrivate {
			mismatch("certified", "true", "false (noise_private is false)")
		}
		if !(c.Sigma > 0) {
			mismatch("certified", "true", "false (sigma is 0)")
		}
		if !(rec.Sensitivity > 0) {
			mismatch("certified", "true", "false (no rigorous sensitivity bound)")
		}
	}
	if c.Sigma > 0 && rec.Sensitivity > 0 {
		req, err := Sigma(c.Mechanism, rec.Sensitivity, c.Epsilon, c.Delta)
		switch {
		case err != nil:
			errs = append(errs, err)
		case c.Sigma < req*(1-CheckRelTol):
			errs = append(errs, &SigmaError{Mechanism: c.Mechanism, Sensitivity: rec.Sensitivity,
				Epsilon: c.Epsilon, Delta: c.Delta, Recorded: c.Sigma, Required: req})
		}
	}
	return errors.Join(errs...)
}

// approxEqual reports |a − b| ≤ tol·max(|a|, |b|).
func approxEqual(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}

// fmtFloat formats x exactly (shortest round-trip form).
func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
