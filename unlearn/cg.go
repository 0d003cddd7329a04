package unlearn

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// CG solves (H + λI)u = g by the conjugate gradient method with full-data HVPs.
// It is deterministic and stops on a relative residual tolerance, which it
// checks against the true residual (not only CG's recursively updated one,
// which drifts in floating point); when they disagree it restarts from the
// current iterate with the true residual.
//
// H + λI must be positive definite. CG detects the opposite when it meets a
// direction of non-positive curvature and returns a *NegativeCurvatureError.
// If MaxIter is reached first it returns the iterate, its stats and a
// *NotConvergedError. On cancellation it returns a nil u and the context's
// error.
type CG struct {
	// Tol is the relative residual ‖(H + λI)u − g‖₂/‖g‖₂ to reach. Default
	// 1e-6: the certificate pays ρ/(λ + λ_min), and at 1e-6·‖g‖ that term is
	// negligible next to Δ_thm in every setting we have seen.
	Tol float64
	// MaxIter bounds the iterations (one full-data HVP each). Default 200.
	MaxIter int
	// Progress, if not nil, is called after every iteration.
	Progress func(SolveProgress)
	// Precond, if not nil, makes this preconditioned CG: it writes M⁻¹r
	// into dst for a fixed symmetric positive definite M ≈ H + λI (dst and
	// r never alias). The stopping rule stays on the unpreconditioned
	// residual. The Lanczos form of Newton's default solve does not use it.
	Precond func(dst, r []float64) error
}

// defaults returns Tol and MaxIter with their defaults filled in.
func (s *CG) defaults() (tol float64, maxIter int) {
	tol, maxIter = s.Tol, s.MaxIter
	if tol <= 0 {
		tol = 1e-6
	}
	if maxIter <= 0 {
		maxIter = 200
	}
	return tol, maxIter
}

// Solve implements Solver.
func (s *CG) Solve(ctx context.Context, p Problem, g []float64) ([]float64, SolveStats, error) {
	checkLen(p.W, p.Obj)
	checkLen(g, p.Obj)
	tol, maxIter := s.defaults()
	n := len(g)
	st := SolveStats{Method: "cg", Repetitions: 1}
	var c counter
	u := make([]float64, n)
	gn := Norm(g)
	target := tol * gn
	if gn == 0 {
		return u, st, finishStats(ctx, &st, p, u, g, &c)
	}
	r := append([]float64(nil), g...)
	z := r // M⁻¹r: r itself without a preconditioner
	if s.Precond != nil {
		st.Method = "pcg"
		z = make([]float64, n)
	}
	precond := func() error {
		if s.Precond == nil {
			return nil
		}
		return s.Precond(z, r)
	}
	if err := precond(); err != nil {
		return nil, st, fmt.Errorf("unlearn: cg preconditioner: %w", err)
	}
	d := append([]float64(nil), z...)
	ad := make([]float64, n)
	rz := floats.Dot(r, z)
	converged := false
	for k := 1; k <= maxIter; k++ {
		if err := ctx.Err(); err != nil {
			return nil, st, err
		}
		if err := hvp(ctx, p.Obj, p.W, nil, p.Lambda, d, ad, &c); err != nil {
			return nil, st, fmt.Errorf("unlearn: cg iteration %d: %w", k, err)
		}
		st.Iterations = k
		dad := floats.Dot(d, ad)
		if !(dad > 0) {
			curv := dad / floats.Dot(d, d)
			if math.IsNaN(dad) {
				return nil, st, fmt.Errorf("unlearn: cg iteration %d: non-finite Hessian-vector product", k)
			}
			return nil, st, &NegativeCurvatureError{Iter: k, Curvature: curv, Lambda: p.Lambda}
		}
		alpha := rz / dad
		floats.AddScaled(u, alpha, d)
		floats.AddScaled(r, -alpha, ad)
		rn := Norm(r)
		if s.Progress != nil {
			s.Progress(SolveProgress{Method: st.Method, Iter: k, MaxIter: maxIter, Repetition: 1, Repetitions: 1,
				RelResidual: rn / gn})
		}
		if rn <= target {
			// Check the true residual g − (H + λI)u.
			if err := hvp(ctx, p.Obj, p.W, nil, p.Lambda, u, ad, &c); err != nil {
				return nil, st, fmt.Errorf("unlearn: cg residual: %w", err)
			}
			floats.SubTo(r, g, ad)
			if Norm(r) <= target {
				converged = true
				break
			}
			// Residual replacement: restart the recurrence from the true residual.
			if err := precond(); err != nil {
				return nil, st, fmt.Errorf("unlearn: cg preconditioner: %w", err)
			}
			copy(d, z)
			rz = floats.Dot(r, z)
			continue
		}
		if err := precond(); err != nil {
			return nil, st, fmt.Errorf("unlearn: cg preconditioner: %w", err)
		}
		rzNew := floats.Dot(r, z)
		floats.AddScaledTo(d, z, rzNew/rz, d)
		rz = rzNew
	}
	if err := finishStats(ctx, &st, p, u, g, &c); err != nil {
		return u, st, err
	}
	if !converged && !(st.Residual <= target) {
		return u, st, &NotConvergedError{Method: "cg", Iter: st.Iterations, Residual: st.Residual, Target: target}
	}
	return u, st, nil
}
