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
// and reports every disagreement, joined. What it recomputes depends on the
// scope:
//
//   - full scope: bound_theorem, bound_residual, bound_trivial, the
//     stationarity flags, paper_condition, active_bound and sensitivity are
//     recomputed by ComputeBound from C, M, λ, λ_min, ‖H‖, ρ, projected, the
//     stationarity measurements and the budget (*MismatchError); with a
//     budget, sensitivity must be the budget and a certified run's computed
//     bound must fit under it (*BudgetError);
//   - convex scope: bound_posterior = (posterior_grad_norm +
//     posterior_margin)/μ with μ = l2 (rounded up as PosteriorBound does),
//     active_bound "posterior" and sensitivity = budget are recomputed by
//     PosteriorBound (*MismatchError), and a certified run needs
//     bound_posterior ≤ budget (*BudgetError). posterior_grad_norm itself
//     cannot be re-checked: it was computed at the noise-free point, which is
//     never stored (see TakenOnTrust);
//
// and in both:
//
//   - σ: when noise was added, Sigma(mechanism, sensitivity, ε, δ) must not
//     exceed the recorded σ by more than CheckRelTol relative (*SigmaError);
//     a classic mechanism with ε ≥ 1 is a *ClassicRangeError;
//   - certified = true needs noise_private = true, σ > 0 and a positive
//     sensitivity (*MismatchError).
//
// It does not check structure (Validate does; run it first), hashes,
// signatures, parity, the convexity proof or the frozen-parameter digest.
func CheckSigma(c *Certificate) error {
	var errs []error
	if c.Scope == ScopeConvex {
		errs = checkPosterior(c)
	} else {
		errs = checkTheorem(c)
	}
	mismatch := func(field, recorded, recomputed string) {
		errs = append(errs, &MismatchError{Field: field, Recorded: recorded, Recomputed: recomputed})
	}
	rec := c.Bound
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

// checkTheorem recomputes a full-scope bound.
func checkTheorem(c *Certificate) []error {
	var errs []error
	mismatch := func(field, recorded, recomputed string) {
		errs = append(errs, &MismatchError{Field: field, Recorded: recorded, Recomputed: recomputed})
	}
	rec := c.Bound
	b, err := ComputeBound(rec.BoundInputs)
	var premise *PremiseError
	var budget *BudgetError
	switch {
	case errors.As(err, &premise), errors.As(err, &budget):
		if c.Certified {
			errs = append(errs, err)
		}
	case err != nil:
		return append(errs, err)
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
	return errs
}

// checkPosterior recomputes a convex-scope bound.
func checkPosterior(c *Certificate) []error {
	var errs []error
	rec := c.Bound
	b, err := PosteriorBound(rec.posteriorInputs(c.L2))
	var budget *BudgetError
	switch {
	case errors.As(err, &budget):
		if c.Certified {
			errs = append(errs, err)
		}
	case err != nil:
		return append(errs, err)
	}
	recorded := 0.0
	if rec.Posterior != nil {
		recorded = rec.Posterior.Value
	}
	for _, f := range []struct {
		field                string
		recorded, recomputed float64
	}{
		{"bound_posterior", recorded, b.Posterior.Value},
		{"sensitivity", rec.Sensitivity, b.Sensitivity},
	} {
		if !approxEqual(f.recorded, f.recomputed, CheckRelTol) {
			errs = append(errs, &MismatchError{Field: "bound." + f.field, Recorded: fmtFloat(f.recorded), Recomputed: fmtFloat(f.recomputed)})
		}
	}
	if rec.Active != b.Active {
		errs = append(errs, &MismatchError{Field: "bound.active_bound", Recorded: string(rec.Active), Recomputed: string(b.Active)})
	}
	return errs
}

// TakenOnTrust returns, in plain words, the recorded numbers that CheckSigma
// uses but cannot re-derive from the certificate and the released model, so
// that `lethe verify` can say what it checked and what it took on trust.
// In the convex scope that is the gradient norm and its rounding margin at
// the noise-free point (never stored); in the full scope, the measurements
// of the unlearning run on the training data (C, M, λ_min, ‖H‖, ρ, the
// stationarity measurements and the re-projection).
func TakenOnTrust(c *Certificate) []string {
	b := &c.Bound
	if c.Scope == ScopeConvex {
		out := []string{"posterior_grad_norm = ‖∇L_r(w̃)‖ and posterior_margin were computed at the released noise-free point w̃ on the retained data; " +
			"w̃ is never stored (it would reveal the noise), so bound_posterior = (‖ĝ‖ + margin)/μ was recomputed from them, but ‖ĝ‖ itself is taken on trust."}
		if p := b.Posterior; p != nil {
			out = append(out, fmt.Sprintf("That w̃ was reached by %d Newton step(s) from %s is taken on trust; the bound does not depend on how it was reached.", p.NewtonSteps, p.Start))
		}
		return out
	}
	out := []string{"C, M, λ, λ_min, ‖H‖, the solver residual ρ and the stationarity measurements were measured by the unlearning run on the training data; " +
		"the bound was recomputed from them, but they are taken on trust."}
	if b.Projected {
		out = append(out, "That the output was re-projected onto the ball ‖w‖ ≤ C before noise is taken on trust: the noise-free output is never stored.")
	}
	return out
}

// approxEqual reports |a − b| ≤ tol·max(|a|, |b|).
func approxEqual(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}

// fmtFloat formats x exactly (shortest round-trip form).
func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
