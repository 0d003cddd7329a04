package unlearn

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// BudgetOptions configures NewtonToBudget. Mu, Budget and Margin are
// required; the zero value of the rest is the documented default.
type BudgetOptions struct {
	// Mu is the strong-convexity modulus μ > 0 of the objective: a convex
	// data term plus (μ/2)‖w‖².
	Mu float64
	// Budget is the sensitivity budget Δ_max > 0: NewtonToBudget stops as
	// soon as the posterior bound is at most Budget.
	Budget float64
	// Margin bounds the rounding error of the objective's gradient.
	Margin MarginFunc
	// MaxSteps bounds the Newton steps. Default 8: from a point near the
	// minimiser (the original model) Newton converges quadratically and
	// needs one or two.
	MaxSteps int
	// MaxCGIter bounds the conjugate-gradient iterations of each step
	// (one Hessian-vector product each). Default 2·Dim, at least 200.
	MaxCGIter int
	// Hessian, when not nil, is the objective whose Hessian-vector
	// products the steps' solves use: the same samples and parameters as
	// the objective, in cheaper arithmetic (float32, say). The gradients
	// and the bound always come from the objective itself, so the steps'
	// accuracy, not the bound's, depends on it.
	Hessian Objective
	// Precond, when not nil, preconditions the steps' conjugate-gradient
	// solves (see CG.Precond): a fixed approximation of the inverse
	// Hessian.
	Precond func(dst, r []float64) error
	// PrecondAt, when not nil, builds a preconditioner for steps from w,
	// such as a linear head's class-block one, and replaces Precond: it is
	// built before the first step and again before any step from a point
	// more than PrecondMove·‖w_b‖ away from the point w_b it was last built
	// at. Steps from the original model barely move and keep the first; a
	// retrain from zeros rebuilds it as the steps approach the minimiser,
	// where the Hessian differs most from the one at zeros.
	PrecondAt func(ctx context.Context, w []float64) (func(dst, r []float64) error, error)
	// Progress, if not nil, is called after every bound evaluation.
	Progress func(BudgetProgress)
}

// PrecondMove is how far, relative to its norm, w moves from the point
// BudgetOptions.PrecondAt last built a preconditioner at before it is built
// again.
const PrecondMove = 0.1

// BudgetProgress is passed to BudgetOptions.Progress.
type BudgetProgress struct {
	Step      int // Newton steps taken so far
	MaxSteps  int
	Posterior Posterior // at the current point; Margin and Bound are 0 until the gradient is small enough to pass
}

// NewtonStep records one step w ← w − t·u with (H + 0·I)u = ĝ.
type NewtonStep struct {
	// Loss and GradNorm are L(w) and ‖ĝ‖₂ at the start of the step.
	Loss     float64
	GradNorm float64
	// StepNorm is ‖u‖₂ and StepSize the line search's t ∈ (0, 1].
	StepNorm float64
	StepSize float64
	// Solve reports the conjugate-gradient solve.
	Solve SolveStats
}

// BudgetResult is the outcome of NewtonToBudget.
type BudgetResult struct {
	// W is the last point.
	W []float64
	// Posterior is the bound at W; its Margin is computed whenever the
	// gradient alone was small enough for the bound to fit the budget.
	Posterior Posterior
	// Reached reports Posterior.Bound ≤ Budget.
	Reached bool
	// Steps are the Newton steps taken, in order.
	Steps []NewtonStep
	// HVPs counts Hessian-vector products.
	HVPs int
}

// NewtonToBudget takes undamped Newton steps (λ = 0: the objective is
// μ-strongly convex, so H ⪰ μI) with a backtracking line search from w0,
// until the a-posteriori bound ‖w − w̃*‖ ≤ (‖ĝ‖ + margin)/μ is at most the
// budget, or MaxSteps steps were taken (Reached is then false; that is not
// an error). Each step solves Hu = ĝ by conjugate gradient to the accuracy
// the budget needs: the next gradient is about the solve's residual. w0 is
// not modified.
//
// NewtonToBudget serves both halves of the convex scope's release rule
// (DESIGN.md §1): steps from the original model, and when those do not reach
// the budget, retraining from a data-independent start (such as zeros) with
// more steps; the line search makes the iteration globally convergent.
func NewtonToBudget(ctx context.Context, obj Objective, w0 []float64, opts BudgetOptions) (*BudgetResult, error) {
	checkLen(w0, obj)
	switch {
	case !(opts.Mu > 0) || math.IsInf(opts.Mu, 0):
		panic("unlearn: NewtonToBudget needs a finite μ > 0")
	case !(opts.Budget > 0) || math.IsInf(opts.Budget, 0):
		panic("unlearn: NewtonToBudget needs a finite budget > 0")
	case opts.Margin == nil:
		panic("unlearn: NewtonToBudget needs a rounding margin")
	}
	maxSteps := opts.MaxSteps
	if maxSteps <= 0 {
		maxSteps = 8
	}
	maxCG := opts.MaxCGIter
	if maxCG <= 0 {
		maxCG = max(200, 2*obj.Dim())
	}
	hess := opts.Hessian
	if hess == nil {
		hess = obj
	}
	if hess.Dim() != obj.Dim() || hess.Len() != obj.Len() {
		panic("unlearn: NewtonToBudget's Hessian objective differs in dimension or samples")
	}
	n := len(w0)
	w := append([]float64(nil), w0...)
	g := make([]float64, n)
	trial := make([]float64, n)
	res := &BudgetResult{}
	var forcing, prevGrad float64
	var builtAt []float64 // where opts.PrecondAt last built the preconditioner
	for step := 0; ; step++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		loss, err := obj.Eval(ctx, w, nil, g)
		if err != nil {
			return nil, fmt.Errorf("unlearn: newton step %d: gradient: %w", step+1, err)
		}
		gn := Norm(g)
		if !isFinite(loss) || !isFinite(gn) {
			return nil, fmt.Errorf("unlearn: newton step %d: non-finite loss %g or gradient norm %g", step+1, loss, gn)
		}
		res.Posterior = Posterior{GradNorm: gn, Mu: opts.Mu}
		// The margin costs a gradient; it is only worth computing when
		// the gradient alone leaves room under the budget.
		if gn/opts.Mu <= opts.Budget {
			if res.Posterior, err = posteriorFrom(ctx, w, gn, opts.Mu, opts.Margin); err != nil {
				return nil, err
			}
			res.Reached = res.Posterior.Bound <= opts.Budget
		}
		if opts.Progress != nil {
			opts.Progress(BudgetProgress{Step: step, MaxSteps: maxSteps, Posterior: res.Posterior})
		}
		if res.Reached || step == maxSteps {
			res.W = w
			return res, nil
		}
		forcing = forcingTerm(step, gn, prevGrad, forcing)
		prevGrad = gn
		if opts.PrecondAt != nil && (builtAt == nil || Distance(w, builtAt) > PrecondMove*Norm(builtAt)) {
			if opts.Precond, err = opts.PrecondAt(ctx, w); err != nil {
				return nil, fmt.Errorf("unlearn: newton step %d: preconditioner: %w", step+1, err)
			}
			builtAt = append(builtAt[:0], w...)
		}
		st, err := newtonStep(ctx, obj, hess, w, g, loss, trial, opts, maxCG, forcing)
		res.HVPs += st.Solve.HVPs
		if err != nil {
			return nil, fmt.Errorf("unlearn: newton step %d: %w", step+1, err)
		}
		res.Steps = append(res.Steps, st)
	}
}

// newtonStep solves Hu = g, with H the Hessian of hess, and moves w to
// w − t·u, with t from a backtracking (Armijo) line search on obj. trial is
// scratch.
func newtonStep(ctx context.Context, obj, hess Objective, w, g []float64, loss float64, trial []float64, opts BudgetOptions, maxCG int, forcing float64) (NewtonStep, error) {
	gn := Norm(g)
	st := NewtonStep{Loss: loss, GradNorm: gn}
	// The solve stops at the relative residual the step can use: the
	// forcing term while the quadratic remainder dominates, and never
	// below what the budget needs (near the minimiser the next gradient is
	// about the solve's residual; a quarter of μ·budget leaves room for the
	// remainder and the margin).
	tol := max(forcing, 0.25*opts.Mu*opts.Budget/gn)
	tol = min(max(tol, 1e-12), 0.5)
	cg := &CG{Tol: tol, MaxIter: maxCG, Precond: opts.Precond}
	u, solve, err := cg.Solve(ctx, Problem{Obj: hess, W: w}, g)
	st.Solve = solve
	var notConverged *NotConvergedError
	if err != nil && !errors.As(err, &notConverged) {
		return st, err // an inexact solve is still a descent direction; anything else is not
	}
	st.StepNorm = Norm(u)
	slope := floats.Dot(g, u) // > 0: H is positive definite
	if !(slope > 0) {
		return st, fmt.Errorf("the Newton direction is not a descent direction (⟨ĝ, u⟩ = %g)", slope)
	}
	// Armijo: accept t when L(w − t·u) ≤ L(w) − 1e-4·t·⟨ĝ, u⟩. Differences
	// below the loss's own rounding (relative 1e-13) count as no increase.
	noise := 1e-13 * math.Abs(loss)
	for t := 1.0; t >= 0x1p-30; t /= 2 {
		floats.AddScaledTo(trial, w, -t, u)
		l, err := obj.Eval(ctx, trial, nil, nil)
		if err != nil {
			return st, fmt.Errorf("line search: %w", err)
		}
		if l <= loss-1e-4*t*slope || (isFinite(l) && l-loss <= noise && t == 1) {
			copy(w, trial)
			st.StepSize = t
			return st, nil
		}
	}
	return st, fmt.Errorf("the line search found no decrease along the Newton direction (‖u‖ = %.3g); the objective may not be convex", st.StepNorm)
}

// forcingTerm is the relative accuracy of a Newton step's solve, by
// Eisenstat and Walker's second choice (SIAM J. Sci. Comput. 17, 1996):
// η_k = 0.9·(‖g_k‖/‖g_{k−1}‖)², safeguarded by 0.9·η_{k−1}² when that is
// above 0.1, starting at 0.1 (0.5 far from the minimiser, ‖g‖ > 0.1). Loose
// solves while the quadratic remainder dominates the next gradient, tight
// ones once it does not: the steps converge superlinearly for far fewer
// Hessian-vector products than exact solves.
func forcingTerm(step int, gn, prevGrad, prev float64) float64 {
	if step == 0 || prevGrad == 0 {
		if gn > 0.1 {
			return 0.5
		}
		return 0.1
	}
	eta := 0.9 * (gn / prevGrad) * (gn / prevGrad)
	if s := 0.9 * prev * prev; s > 0.1 {
		eta = max(eta, s)
	}
	return min(eta, 0.5)
}
