package certify

import (
	"fmt"
	"math"
)

// Start names the point from which the convex scope's Newton steps reached
// the released noise-free point (the certificate's "bound.start").
type Start string

const (
	// StartOriginal: Newton steps from the original model w* reached the
	// budget.
	StartOriginal Start = "w*"
	// StartRetrainZeros: the Newton steps from w* did not reach the budget
	// within the allowed number, so the certified parameters were retrained
	// on the retained data from zeros, a data-independent start, until the
	// bound held (the fallback of DESIGN §1 "Convex scope").
	StartRetrainZeros Start = "retrain from zeros"
)

// SolverNone is the solver name of a convex-scope bound reached without any
// Newton step (newton_steps = 0): no linear system was solved.
const SolverNone = "none"

// posteriorRoundUp is the relative factor (1 + 2⁻⁵⁰) that keeps the float64
// evaluation of (‖ĝ‖ + margin)/μ an upper bound of its exact value: the
// addition and the division each round by at most 2⁻⁵³ relative. It is the
// factor unlearn.PosteriorBound applies, so both compute the same number.
const posteriorRoundUp = 1 + 0x1p-50

// PosteriorInputs is what the convex scope's bound rests on (DESIGN §1
// "Convex scope"): the strong-convexity modulus, one float64 gradient of the
// retained objective at the released noise-free point w̃ with a bound on its
// rounding, the budget, and how w̃ was reached.
type PosteriorInputs struct {
	// Mu is μ > 0: the objective's l2 coefficient, which is the
	// strong-convexity modulus of L_r(w) = mean ℓ + (μ/2)‖w‖² when the
	// certified parameters enter the output affinely and ℓ is convex in it.
	Mu float64
	// GradNorm is ‖ĝ‖₂, ĝ = ∇L_r(w̃) computed in float64 over all retained
	// samples at the released noise-free point.
	GradNorm float64
	// Margin > 0 bounds the rounding error ‖ĝ − ∇L_r(w̃)‖₂, and MarginMethod
	// says in words how it was computed (the formula and its source).
	Margin       float64
	MarginMethod string
	// Budget is Δ_max > 0, fixed before anything data-dependent was
	// computed; σ is calibrated to it.
	Budget float64
	// C is the radius of the ball the certified parameters are constrained
	// to, or 0 for no ball. Projected says w̃ was re-projected onto the ball
	// after the last step (it needs C > 0).
	C         float64
	Projected bool
	// NewtonSteps counts the Newton steps (λ = 0) taken from Start to w̃.
	NewtonSteps int
	Start       Start
	// Solver describes the last Newton step's linear solve Hu = ĝ; its name
	// is SolverNone when NewtonSteps is 0. It is a record only: the
	// a-posteriori bound does not depend on how well the steps were solved.
	Solver Solver
}

// Posterior is the convex scope's part of the certificate's "bound": the
// a-posteriori bound and its terms. Its fields appear directly in "bound".
type Posterior struct {
	// Value is bound_posterior = (GradNorm + Margin)/μ, rounded up.
	Value float64 `json:"bound_posterior"`
	// GradNorm is ‖ĝ‖₂ at the released noise-free point.
	GradNorm float64 `json:"posterior_grad_norm"`
	// Margin bounds the float64 rounding error of ĝ; MarginMethod says how.
	Margin       float64 `json:"posterior_margin"`
	MarginMethod string  `json:"posterior_margin_method"`
	// NewtonSteps counts the Newton steps taken from Start.
	NewtonSteps int   `json:"newton_steps"`
	Start       Start `json:"start"`
}

// PosteriorBound returns the convex scope's Bound from in:
//
//	bound_posterior = (‖ĝ‖ + margin)/μ ≥ ‖w̃ − w̃*‖₂,
//
// for the minimiser w̃* of the μ-strongly convex L_r over any convex set that
// holds w̃ (the C-ball, or all of space when C = 0). The Bound has Active =
// ActivePosterior, Lambda = 0, Budget and Sensitivity = in.Budget, and a
// Posterior; none of the full scope's terms (M, ‖H‖, λ_min, stationarity,
// theorem, residual, trivial, premise) is computed, and they stay zero.
//
// When bound_posterior > budget it returns a *BudgetError together with the
// filled Bound: the caller takes another Newton step, or falls back to
// retraining, and calls PosteriorBound again; the budget is never raised.
// Inputs outside their domain are a *ParameterError or an error naming the
// field.
func PosteriorBound(in PosteriorInputs) (Bound, error) {
	if err := in.validate(); err != nil {
		return Bound{}, err
	}
	value := (in.GradNorm + in.Margin) / in.Mu * posteriorRoundUp
	if math.IsInf(value, 0) {
		return Bound{}, &ParameterError{Name: "mu", Value: in.Mu, Reason: "too small: the posterior bound overflows float64"}
	}
	b := Bound{
		BoundInputs: BoundInputs{C: in.C, Solver: in.Solver, Projected: in.Projected, Budget: in.Budget},
		Active:      ActivePosterior,
		Sensitivity: in.Budget,
		Posterior: &Posterior{
			Value:        value,
			GradNorm:     in.GradNorm,
			Margin:       in.Margin,
			MarginMethod: in.MarginMethod,
			NewtonSteps:  in.NewtonSteps,
			Start:        in.Start,
		},
	}
	if value > in.Budget {
		return b, &BudgetError{Term: ActivePosterior, Bound: value, Budget: in.Budget}
	}
	return b, nil
}

// posteriorInputs returns the inputs a convex-scope Bound was computed from,
// with μ given (it is recorded at the certificate's top level). It is the
// inverse of PosteriorBound, used to recompute the bound.
func (b *Bound) posteriorInputs(mu float64) PosteriorInputs {
	p := b.Posterior
	if p == nil {
		p = &Posterior{}
	}
	return PosteriorInputs{
		Mu: mu, GradNorm: p.GradNorm, Margin: p.Margin, MarginMethod: p.MarginMethod,
		Budget: b.Budget, C: b.C, Projected: b.Projected,
		NewtonSteps: p.NewtonSteps, Start: p.Start, Solver: b.Solver,
	}
}

// validate checks the domain of every input.
func (in *PosteriorInputs) validate() error {
	checks := []struct {
		name string
		v    float64
		ok   bool
		why  string
	}{
		{"mu", in.Mu, in.Mu > 0, "must be finite and > 0: strong convexity needs μ > 0"},
		{"posterior_grad_norm", in.GradNorm, in.GradNorm >= 0, "must be finite and ≥ 0"},
		{"posterior_margin", in.Margin, in.Margin > 0, "must be finite and > 0: a float64 gradient has rounding error"},
		{"budget", in.Budget, in.Budget > 0, "must be finite and > 0"},
		{"C", in.C, in.C >= 0, "must be finite and ≥ 0 (0: no ball)"},
		{"newton_steps", float64(in.NewtonSteps), in.NewtonSteps >= 0, "must be ≥ 0"},
		{"solver.residual", in.Solver.Residual, in.Solver.Residual >= 0, "must be finite and ≥ 0"},
		{"solver.scale", in.Solver.Scale, in.Solver.Scale >= 0, "must be finite and ≥ 0"},
	}
	for _, c := range checks {
		if !c.ok || math.IsNaN(c.v) || math.IsInf(c.v, 0) {
			return &ParameterError{Name: c.name, Value: c.v, Reason: c.why}
		}
	}
	switch {
	case in.MarginMethod == "":
		return fmt.Errorf("certify: posterior_margin_method is empty: the certificate must say how the rounding margin was computed")
	case in.Start != StartOriginal && in.Start != StartRetrainZeros:
		return fmt.Errorf("certify: start %q: must be %q or %q", in.Start, StartOriginal, StartRetrainZeros)
	case in.Projected && in.C == 0:
		return fmt.Errorf("certify: projected is true but C = 0: there is no ball to project onto")
	case (in.NewtonSteps == 0) != (in.Solver.Name == SolverNone):
		return fmt.Errorf("certify: solver.name %q with newton_steps = %d: the name is %q exactly when no Newton step was taken", in.Solver.Name, in.NewtonSteps, SolverNone)
	case in.Solver.Name == "":
		return fmt.Errorf("certify: solver.name is empty: the certificate must say how the last Newton step was solved")
	case in.Solver.Iterations < 0 || in.Solver.Repetitions < 0 || in.Solver.Depth < 0 || in.Solver.BatchSize < 0 || in.Solver.HVPs < 0:
		return fmt.Errorf("certify: solver counts must be ≥ 0")
	}
	return nil
}
