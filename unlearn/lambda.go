package unlearn

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// autoLambda is the automatic damping of NewtonOptions.Lambda: the smallest
// λ ≥ 0 with λ + (lmin − rmin) ≥ margin·hnorm.
func autoLambda(margin, hnorm, lmin, rmin float64) float64 {
	return math.Max(0, margin*hnorm-(lmin-rmin))
}

// errFlatKrylov is returned when H vanishes on K(H, g), so that no λ can be
// chosen from its Ritz values.
var errFlatKrylov = errors.New("unlearn: H·g = 0: the Krylov space of g shows no curvature to choose λ from; set λ")

// Stopping rule of krylovLambda: the Ritz value of largest magnitude is
// converged to lambdaTopTol relative, and the residual bound of the smallest
// one is below margin·‖Ĥ‖·lambdaLowTol, so that its share of λ is at most
// half the margin's; at most lambdaMaxIter steps. λ needs no more: it is a
// margin, and the subsample moves ‖Ĥ‖ by more than 1 % anyway.
const (
	lambdaTopTol  = 0.01
	lambdaLowTol  = 0.5
	lambdaMaxIter = 30
)

// krylovLambda chooses the automatic λ of NewtonOptions.Lambda for a solver
// that needs it before it starts: it runs the Lanczos process (full
// reorthogonalization) from g on the Hessian of a random subsample of
// `samples` of obj's samples (all of them if samples < 0 or ≥ Len(); 0 means
// DefaultSpectrumSamples; the subsample is drawn from opts.Seed), until the
// lambdaTopTol/lambdaLowTol rule holds, and applies autoLambda to its Ritz
// values. It returns λ, the Ritz range and the HVPs used.
func krylovLambda(ctx context.Context, obj Objective, w, g []float64, margin float64, samples int, opts SpectralOptions) (float64, KrylovSpectrum, counter, error) {
	var c counter
	if samples == 0 {
		samples = DefaultSpectrumSamples
	}
	var idx []int // nil: all samples
	m := obj.Len()
	if samples > 0 && samples < m {
		idx = newRand(opts.Seed, streamSubsample).Perm(m)[:samples]
		m = samples
	}
	spec := KrylovSpectrum{Samples: m}
	n := len(g)
	gn := Norm(g)
	if gn == 0 || n == 0 {
		// The step is zero whatever λ is.
		return 0, spec, c, nil
	}
	op := func(dst, v []float64) error { return hvp(ctx, obj, w, idx, 0, v, dst, &c) }
	kr := &krylov{}
	q := make([]float64, n)
	floats.ScaleTo(q, 1/gn, g)
	maxIter := min(lambdaMaxIter, n)
	for k := 1; ; k++ {
		if err := ctx.Err(); err != nil {
			return 0, spec, c, err
		}
		r, b, err := kr.extend(op, q, FullReorthogonalization, nil)
		if err != nil {
			return 0, spec, c, fmt.Errorf("unlearn: λ lanczos step %d: %w", k, err)
		}
		vals, last, ok := tridiagEigen(kr.alpha, kr.beta)
		if !ok {
			return 0, spec, c, errors.New("unlearn: λ lanczos: tridiagonal eigenvalue iteration failed")
		}
		lo, hi := vals[0], vals[k-1]
		spec.Lowest, spec.Highest = lo, hi
		spec.LowestResidual, spec.HighestResidual = b*math.Abs(last[0]), b*math.Abs(last[k-1])
		spec.Dim = k
		hn, rtop := hi, spec.HighestResidual
		if -lo > hi {
			hn, rtop = -lo, spec.LowestResidual
		}
		if hn == 0 {
			return 0, spec, c, errFlatKrylov
		}
		converged := rtop <= lambdaTopTol*hn && spec.LowestResidual <= lambdaLowTol*margin*hn
		if converged || breakdown(b, hn, kr.alpha[k-1], n) || k >= maxIter {
			return autoLambda(margin, hn, lo, spec.LowestResidual), spec, c, nil
		}
		kr.beta = append(kr.beta, b)
		floats.Scale(1/b, r)
		q = r
	}
}
