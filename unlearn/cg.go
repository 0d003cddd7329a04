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
		return u, st, finishStats(&st, p, u, g, &c)
	}
	r := append([]float64(nil), g...)
	d := append([]float64(nil), g...)
	ad := make([]float64, n)
	rr := floats.Dot(r, r)
	converged := false
	for k := 1; k <= maxIter; k++ {
		if err := ctx.Err(); err != nil {
			return nil, st, err
		}
		if err := hvp(p.Obj, p.W, nil, p.Lambda, d, ad, &c); err != nil {
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
		alpha := rr / dad
		floats.AddScaled(u, alpha, d)
		floats.AddScaled(r, -alpha, ad)
		rrNew := floats.Dot(r, r)
		if s.Progress != nil {
			s.Progress(SolveProgress{Method: "cg", Iter: k, MaxIter: maxIter, Repetition: 1, Repetitions: 1,
				RelResidual: math.Sqrt(rrNew) / gn})
		}
		if math.Sqrt(rrNew) <= target {
			// Check the true residual g − (H + λI)u.
			if err := hvp(p.Obj, p.W, nil, p.Lambda, u, ad, &c); err != nil {
				return nil, st, fmt.Errorf("unlearn: cg residual: %w", err)
			}
			floats.SubTo(r, g, ad)
			rrNew = floats.Dot(r, r)
			if math.Sqrt(rrNew) <= target {
				converged = true
				break
			}
			// Residual replacement: restart the recurrence from the true residual.
			copy(d, r)
			rr = rrNew
			continue
		}
		beta := rrNew / rr
		floats.AddScaledTo(d, r, beta, d)
		rr = rrNew
	}
	if err := finishStats(&st, p, u, g, &c); err != nil {
		return u, st, err
	}
	if !converged && !(st.Residual <= target) {
		return u, st, &NotConvergedError{Method: "cg", Iter: st.Iterations, Residual: st.Residual, Target: target}
	}
	return u, st, nil
}
