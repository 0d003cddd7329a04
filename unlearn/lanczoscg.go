package unlearn

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// KrylovSpectrum is what a Krylov run started from the gradient g saw of the
// spectrum of H: the extreme Ritz values of H on the Krylov space
// K_k(H, g) = span{g, Hg, …, H^(k−1)g}, which is the space the step
// u = (H + λI)⁻¹g is sought in. Newton's default path chooses λ from them.
//
// Ritz values are Rayleigh quotients of vectors of that space (to rounding:
// the basis is reorthogonalized in full), so Lowest ≥ λ_min and Highest ≤
// λ_max; a negative Lowest proves λ_min < 0. They are by-products of a run
// that stops when the step is accurate enough, not estimates of the ends of
// the spectrum: the residual bounds say that an eigenvalue of H lies within
// LowestResidual of Lowest (HighestResidual of Highest), not that it is the
// extreme one, and K_k(H, g) may miss eigenvectors g hardly touches.
type KrylovSpectrum struct {
	// Lowest and Highest are the smallest and largest Ritz values.
	Lowest, Highest float64
	// LowestResidual and HighestResidual are the Lanczos residual bounds
	// β_k·|s_k| of their Ritz pairs (from the recurrence, not explicit).
	LowestResidual, HighestResidual float64
	// Dim is k, the dimension of the Krylov space (one HVP each).
	Dim int
	// Samples is how many samples the Hessian was taken over: all of the
	// objective's, or a random subsample when λ had to be chosen before a
	// solver that does not build a Krylov space (see NewtonOptions).
	Samples int
}

// lanczosSolution is what lanczosCG returns.
type lanczosSolution struct {
	u      []float64
	lambda float64
	stats  SolveStats
	spec   KrylovSpectrum
	// errScale is μ·f: ‖u − (H + λI)⁻¹g‖ ≤ stats.Residual/errScale when
	// λ_min(H) ≥ spec.Lowest − spec.LowestResidual; 0 when that premise
	// gives no positive bound.
	errScale float64
}

// methodLanczosCG is the SolveStats.Method of lanczosCG: conjugate gradient
// in its Lanczos form with the automatic λ.
const methodLanczosCG = "cg-lanczos"

// cgRule is the stopping rule of lanczosCG: a relative residual tol, or, if
// stepTol > 0, the step accuracy of NewtonOptions.StepTol; maxIter and
// progress as in CG.
type cgRule struct {
	tol, stepTol float64
	maxIter      int
	progress     func(SolveProgress)
}

// lanczosCG solves (H + λI)u = g with the automatic λ of NewtonOptions.Lambda
// chosen from the Krylov space of the solve itself. It runs the Lanczos
// process on H from q_1 = g/‖g‖ with full reorthogonalization; after k steps
// (T_k tridiagonal, Q_k the basis)
//
//	u_k(λ) = ‖g‖·Q_k(T_k + λI)⁻¹e_1,  ‖(H + λI)u_k − g‖ = β_k·|e_kᵀ(T_k + λI)⁻¹e_1|·‖g‖
//
// is exactly the k-th conjugate gradient iterate for (H + λI)u = g, for any
// λ, so λ can be re-chosen from the Ritz values of T_k at every step without
// restarting and without an HVP of its own: the λ in use is always the one
// the latest Ritz values give, which keeps T_k + λI positive definite (CG's
// negative curvature cannot occur). The iteration stops when the recurrence
// residual meets the rule; the residual is then measured from the full-data
// products the run made (krylov.productsResidual: no further HVP), and if
// rounding made the two disagree the process continues. The basis (up to
// maxIter vectors of Dim()) is kept in memory.
//
// The step rule bounds the step's error by ρ/(μ·f) with
// μ = λ + λ̂_min − r_min, the premise's lower bound on λ_min(H + λI), and
// f ≥ 1 the Gauss–Radau factor of T_k with its node at μ (radauFactor),
// which costs no HVP; f = 1 is the plain residual bound ρ/μ.
//
// It returns the iterate, the λ it solved for, the stats (Residual measured,
// not the recurrence's), the Ritz range and μ·f, with a *NotConvergedError
// (the iterate is still returned) when it stops short of the rule.
func lanczosCG(ctx context.Context, p Problem, g []float64, margin float64, rule cgRule) (lanczosSolution, error) {
	tol, maxIter := (&CG{Tol: rule.tol, MaxIter: rule.maxIter}).defaults()
	n := len(g)
	sol := lanczosSolution{stats: SolveStats{Method: methodLanczosCG, Repetitions: 1}}
	st, spec := &sol.stats, &sol.spec
	spec.Samples = p.Obj.Len()
	var c counter
	gn := Norm(g)
	if gn == 0 {
		sol.u = make([]float64, n)
		return sol, finishStats(ctx, st, p, sol.u, g, &c)
	}
	// target is the residual the rule asks for, given ‖u‖ and the bound's
	// denominator μ·f at the current λ and Ritz range.
	target := func(un float64) float64 {
		if rule.stepTol > 0 {
			return rule.stepTol * sol.errScale * un
		}
		return tol * gn
	}
	maxIter = min(maxIter, n)
	op := hessianOp(ctx, p.Obj, p.W, 0, &c)
	kr := &krylov{}
	q := make([]float64, n)
	floats.ScaleTo(q, 1/gn, g)
	// After a true residual missed the target, the next check waits until
	// the recurrence residual is below checkBelow; lastTrue is that miss.
	checkBelow, lastTrue := math.Inf(1), math.Inf(1)
	for k := 1; ; k++ {
		if err := ctx.Err(); err != nil {
			return lanczosSolution{}, err
		}
		r, b, err := kr.extend(op, q, FullReorthogonalization, nil)
		if err != nil {
			return lanczosSolution{}, fmt.Errorf("unlearn: cg iteration %d: %w", k, err)
		}
		st.Iterations = k
		vals, last, ok := tridiagEigen(kr.alpha, kr.beta)
		if !ok {
			return lanczosSolution{}, errors.New("unlearn: cg: tridiagonal eigenvalue iteration failed")
		}
		lo, hi := vals[0], vals[k-1]
		spec.Lowest, spec.Highest = lo, hi
		spec.LowestResidual, spec.HighestResidual = b*math.Abs(last[0]), b*math.Abs(last[k-1])
		spec.Dim = k
		p.Lambda = autoLambda(margin, math.Max(hi, -lo), lo, spec.LowestResidual)
		sol.lambda = p.Lambda
		y := make([]float64, k)
		if !tridiagSolve(kr.alpha, kr.beta, p.Lambda, gn, y) {
			return lanczosSolution{}, errFlatKrylov
		}
		mu := math.Max(0, p.Lambda+lo-spec.LowestResidual)
		f, _ := radauFactor(kr.alpha, kr.beta, p.Lambda, mu, b)
		sol.errScale = mu * f
		est := b * math.Abs(y[k-1])
		if rule.progress != nil {
			rule.progress(SolveProgress{Method: "cg", Iter: k, MaxIter: maxIter, Repetition: 1, Repetitions: 1, RelResidual: est / gn})
		}
		invariant := breakdown(b, math.Max(math.Abs(lo), math.Abs(hi)), kr.alpha[k-1], n)
		if (est <= target(Norm(y)) && est <= checkBelow) || invariant || k >= maxIter {
			u := kr.combine(y)
			sol.u = u
			setResidual(st, kr.productsResidual(y, r, p.Lambda, u, g), g, &c)
			want := target(Norm(u))
			if st.Residual <= want {
				return sol, nil
			}
			// The recurrence residual drifted below the true one, by rounding
			// in the HVPs. Going on lowers the true residual only if it has
			// not reached the rounding floor: check again once the recurrence
			// residual has dropped tenfold, and give up when the true one did
			// not at least halve since the last check.
			stalled := st.Residual > lastTrue/2
			if invariant || k >= maxIter || stalled {
				return sol, &NotConvergedError{Method: "cg", Iter: k, Residual: st.Residual, Target: want}
			}
			lastTrue, checkBelow = st.Residual, est/10
		}
		kr.beta = append(kr.beta, b)
		floats.Scale(1/b, r)
		q = r
	}
}
