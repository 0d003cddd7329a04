package unlearn

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Dense solves (H + λI)u = g exactly: it builds H column by column with P
// full-data HVPs (H·e_j), symmetrizes it, and solves with a Cholesky
// factorization. It costs P HVPs and about 3P² floats of memory at its peak,
// so it is meant for small
// parameter sets (e.g. only the last layer trainable). If H + λI is not
// positive definite it returns an *IndefiniteError carrying λ and the exact
// λ_min of the built Hessian.
type Dense struct {
	// MaxDim is the largest P accepted. Default 2048 (32 MiB per P×P matrix).
	MaxDim int
}

// Solve implements Solver.
func (s *Dense) Solve(ctx context.Context, p Problem, g []float64) ([]float64, SolveStats, error) {
	checkLen(p.W, p.Obj)
	checkLen(g, p.Obj)
	maxDim := s.MaxDim
	if maxDim <= 0 {
		maxDim = 2048
	}
	n := len(g)
	st := SolveStats{Method: "dense", Repetitions: 1}
	if n > maxDim {
		return nil, st, fmt.Errorf("unlearn: dense solve: %d parameters exceed MaxDim %d; use CG or LiSSA", n, maxDim)
	}
	if n == 0 {
		return []float64{}, st, nil
	}
	var c counter
	// cols holds H·e_j in column j; HVPs are symmetric only up to rounding,
	// so A = (H + Hᵀ)/2 + λI.
	cols := make([]float64, n*n)
	e := make([]float64, n)
	for j := 0; j < n; j++ {
		if err := ctx.Err(); err != nil {
			return nil, st, err
		}
		e[j] = 1
		if err := hvp(ctx, p.Obj, p.W, nil, 0, e, cols[j*n:(j+1)*n], &c); err != nil {
			return nil, st, fmt.Errorf("unlearn: dense solve column %d: %w", j, err)
		}
		e[j] = 0
		st.Iterations++
	}
	a := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := (cols[j*n+i] + cols[i*n+j]) / 2
			if i == j {
				v += p.Lambda
			}
			a.SetSym(i, j, v)
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(a) {
		var es mat.EigenSym
		lmin := math.NaN()
		if es.Factorize(a, false) {
			lmin = es.Values(nil)[0] - p.Lambda
		}
		st.HVPs, st.SampleHVPs = c.calls, c.samples
		return nil, st, &IndefiniteError{Lambda: p.Lambda, LambdaMin: lmin}
	}
	var uv mat.VecDense
	if err := chol.SolveVecTo(&uv, mat.NewVecDense(n, append([]float64(nil), g...))); err != nil {
		// mat.Condition: the solve went through but is ill-conditioned. Keep
		// the result; the measured residual says how good it is.
		if _, ok := err.(mat.Condition); !ok {
			return nil, st, fmt.Errorf("unlearn: dense solve: %w", err)
		}
	}
	u := make([]float64, n)
	copy(u, uv.RawVector().Data)
	if err := finishStats(ctx, &st, p, u, g, &c); err != nil {
		return u, st, err
	}
	return u, st, nil
}
