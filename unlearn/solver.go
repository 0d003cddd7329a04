package unlearn

import (
	"context"
	"fmt"

	"gonum.org/v1/gonum/floats"
)

// Problem is the linear system (H + λI)u = g with H = ∇²L(W, S) the Hessian of
// Obj on all of its samples (the retained set D_r in the Newton step).
type Problem struct {
	Obj    Objective
	W      []float64
	Lambda float64
	// HessianNorm is an optional estimate of ‖H‖₂ (0 = unknown). LiSSA's
	// automatic scale is at least twice ‖H‖ + |λ| when it is given.
	HessianNorm float64
}

// SolveStats reports the cost and the accuracy of a solve.
type SolveStats struct {
	// Method is "cg", "lissa", "dense", or "cg-lanczos" for the conjugate
	// gradient solve of Newton's default path (its Lanczos form, which
	// chooses λ as it goes).
	Method string
	// Iterations is the number of CG iterations, the LiSSA depth t of each
	// repetition, or the number of HVPs used to build the dense Hessian.
	Iterations int
	// Repetitions is the number of independent LiSSA runs averaged (1 otherwise).
	Repetitions int
	// HVPs counts Hessian-vector product calls of any batch size, including
	// those for the final residual and, for LiSSA, the automatic scale.
	HVPs int
	// SampleHVPs counts per-sample HVPs (a full-data HVP counts Len()): the
	// cost measure that makes mini-batch and full-data methods comparable.
	SampleHVPs int
	// Scale is the LiSSA scale s (0 for other methods), the final one if
	// LiSSA restarted.
	Scale float64
	// Restarts is the number of times LiSSA started over with a scale four
	// times larger after a divergence (0 for other methods).
	Restarts int
	// Residual is ρ = ‖(H + λI)u − g‖₂, measured with full-data HVPs.
	Residual float64
	// RelResidual is ρ/‖g‖ (0 when g = 0).
	RelResidual float64
}

// Solver solves (H + λI)u = g using Hessian-vector products. Every
// implementation returns a freshly allocated u and stats whose Residual is
// measured on the full data, also when it returns a *NotConvergedError
// (the iterate is then still returned).
type Solver interface {
	Solve(ctx context.Context, p Problem, g []float64) (u []float64, st SolveStats, err error)
}

// SolveProgress is passed to solver progress callbacks.
type SolveProgress struct {
	Method      string
	Iter        int // iteration within the current repetition, from 1
	MaxIter     int
	Repetition  int // from 1 (LiSSA), 1 otherwise
	Repetitions int
	// RelResidual is CG's recursively updated relative residual (NaN for
	// LiSSA, whose progress is not measured on the full data).
	RelResidual float64
}

// Residual returns ρ = ‖(H + λI)u − g‖₂ for the problem p, using one full-data
// HVP. It panics if the lengths of u, g and p.W differ from p.Obj.Dim().
func Residual(ctx context.Context, p Problem, u, g []float64) (float64, error) {
	r, err := residual(ctx, p, u, g, nil)
	return r, err
}

func residual(ctx context.Context, p Problem, u, g []float64, c *counter) (float64, error) {
	checkLen(p.W, p.Obj)
	checkLen(u, p.Obj)
	checkLen(g, p.Obj)
	au := make([]float64, len(u))
	if err := hvp(ctx, p.Obj, p.W, nil, p.Lambda, u, au, c); err != nil {
		return 0, fmt.Errorf("unlearn: residual: %w", err)
	}
	floats.Sub(au, g)
	return Norm(au), nil
}

// finishStats measures ρ with one full-data HVP and fills the residual fields.
func finishStats(ctx context.Context, st *SolveStats, p Problem, u, g []float64, c *counter) error {
	rho, err := residual(ctx, p, u, g, c)
	if err != nil {
		return err
	}
	setResidual(st, rho, g, c)
	return nil
}

// setResidual fills the residual fields from a measured ρ.
func setResidual(st *SolveStats, rho float64, g []float64, c *counter) {
	st.Residual = rho
	if gn := Norm(g); gn > 0 {
		st.RelResidual = rho / gn
	}
	st.HVPs, st.SampleHVPs = c.calls, c.samples
}

var (
	_ Solver = (*CG)(nil)
	_ Solver = (*LiSSA)(nil)
	_ Solver = (*Dense)(nil)
)
