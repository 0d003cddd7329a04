package unlearn

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// SpectrumMode selects which spectral estimates Newton computes.
type SpectrumMode int

const (
	// SpectrumAuto, the default, computes only what can change the step.
	// With the automatic λ and conjugate gradient, λ is chosen from the Ritz
	// values of the solve's own Krylov space (see NewtonOptions.Lambda), so
	// the spectrum costs no HVP of its own; with another solver, from a
	// short Lanczos run on a random subsample of SpectrumSamples samples;
	// with a given λ, nothing is estimated. ‖H‖ and λ_min are reported as
	// skipped, with the reason, and what was seen of the spectrum is in
	// NewtonResult.Krylov.
	SpectrumAuto SpectrumMode = iota
	// SpectrumFull estimates ‖H‖ and λ_min on all samples before the solve
	// with one Lanczos run from a random start (LanczosExtremes with the
	// Lanczos options), for diagnostics that need them, such as the
	// certificate's theorem bound. The automatic λ then uses these
	// estimates, and a λ with λ + λ̂_min ≤ 0 is refused.
	SpectrumFull
)

func (m SpectrumMode) String() string {
	switch m {
	case SpectrumAuto:
		return "auto"
	case SpectrumFull:
		return "full"
	}
	return fmt.Sprintf("SpectrumMode(%d)", int(m))
}

// Defaults of NewtonOptions.
const (
	// DefaultStepTol is the default NewtonOptions.StepTol.
	DefaultStepTol = 0.01
	// DefaultSpectrumSamples is the default NewtonOptions.SpectrumSamples.
	DefaultSpectrumSamples = 1024
)

// NewtonOptions configures Newton. The zero value is the documented default:
// automatic λ chosen from the solve's Krylov space, conjugate gradient to a
// 1 % accurate step, no ball (Radius 0), M estimated only when a radius is
// given.
type NewtonOptions struct {
	// Lambda is the damping λ. A positive Lambda is used as given. If Lambda
	// is 0 and ZeroLambda is false (the default), λ is chosen automatically
	// as the smallest λ ≥ 0 with
	//
	//	λ + (λ̂_min − r_min) ≥ Margin·‖Ĥ‖,
	//
	// where λ̂_min is a Lanczos estimate of λ_min, r_min its residual bound
	// (an eigenvalue lies within r_min of λ̂_min, so a too optimistic λ̂_min
	// is partly covered) and ‖Ĥ‖ the larger of the estimates of λ_max and
	// |λ_min|. In particular λ = 0 when H is already safely positive
	// definite. Where the estimates come from depends on Spectrum:
	//
	//   - SpectrumAuto with conjugate gradient: the smallest and largest Ritz
	//     values of H on the solve's Krylov space K_k(H, g) and the residual
	//     bound of the smallest, re-read at every iteration (NewtonResult.Krylov).
	//     H + λI is then positive definite on that space, which is all the
	//     step u ∈ K_k(H, g) depends on, and λ costs no HVP; the largest Ritz
	//     value converges within a few iterations, the smallest only as far
	//     as the solve goes, which the −r_min term covers.
	//   - SpectrumAuto with another solver: the same from a Lanczos run from g
	//     on a random subsample of SpectrumSamples samples, stopped when the
	//     largest Ritz value has converged to 1 % and r_min ≤ Margin·‖Ĥ‖/2.
	//   - SpectrumFull: the estimates of LanczosExtremes on all samples.
	//
	// Why the smallest safe λ: the step error w̃ − w̃* = (H + λI)⁻¹(λ(w* − w̃*) + R)
	// grows with λ, and the theorem bound Δ_thm = 2C(MC + λ)/(λ + λ_min) has
	// d/dλ ∝ λ_min − MC. When λ_min ≤ MC (typical for networks), Δ_thm ≥ 2C for
	// every λ, so the certified Δ is the trivial 2C regardless and a small λ
	// only buys a more accurate step; when λ_min > MC (strongly convex, small
	// M), Δ_thm is smallest at λ = 0. Both cases favour the smallest λ that
	// keeps the solve well posed. Margin trades the other way: a larger margin
	// makes H + λI better conditioned (faster solves, smaller ρ/(λ + λ_min),
	// more robust to an error in λ̂_min) at the cost of a more biased step.
	Lambda float64
	// ZeroLambda requests λ = 0 exactly (for strongly convex objectives);
	// Lambda must then be 0.
	ZeroLambda bool
	// Margin is the relative margin of the automatic λ (see Lambda). Default
	// 0.01, i.e. cond(H + λI) ≲ 100: CG then needs ~10 iterations per digit,
	// LiSSA with the automatic scale a depth of ~500 per digit.
	Margin float64
	// Spectrum selects the spectral estimates (default SpectrumAuto: only
	// what can change the step).
	Spectrum SpectrumMode
	// Solver solves (H + λI)u = g. If nil (the default), Newton uses
	// conjugate gradient: with SpectrumAuto and the automatic λ in its
	// Lanczos form, which chooses λ as it goes and stops at StepTol; with a
	// given λ or SpectrumFull as &CG{} (relative residual 1e-6). A *CG given
	// here takes the same paths with its MaxIter and Progress; its Tol, if
	// set, replaces the StepTol rule of the Lanczos form. Use &LiSSA{} when
	// full-data HVPs are too expensive.
	Solver Solver
	// StepTol is the relative accuracy of the step at which the default
	// solve (SpectrumAuto, automatic λ, Solver nil or a *CG without Tol)
	// stops:
	//
	//	ρ ≤ StepTol·μ·f·‖u‖,  ρ = ‖(H + λI)u − g‖,  μ = λ + λ̂_min − r_min,
	//
	// which gives ‖u − (H + λI)⁻¹g‖ ≤ ρ/(μ·f) ≤ StepTol·‖u‖ whenever
	// λ_min ≥ λ̂_min − r_min (the Krylov space's view of the bottom of the
	// spectrum, the same premise the automatic λ rests on). f ≥ 1 is the
	// Gauss–Radau factor of the Lanczos tridiagonal with its node at μ: the
	// error's (H + λI)-norm is at most ρ/(√μ·f), sharper than the residual's
	// ρ/√μ by what the Krylov space has seen of the spectrum; it costs no
	// HVP and saved one of 9 HVPs on the Fashion-MNIST CNN and one of 18 on
	// the MNIST MLP. The certificate's residual term ρ/(λ + λ_min) is then
	// at most StepTol·f·‖u‖ under the same premise. NewtonResult's
	// RelStepError reports the value reached. Default 0.01: a 1 % error in
	// the step is far below what the step's own approximations (damping,
	// the Taylor remainder) leave, and below what the noise of the release
	// adds; on the MNIST MLP it costs ~17 HVPs where a relative residual of
	// 1e-6 costs ~46. The certificate's residual term ρ/(λ + λ_min) does not
	// depend on it when Δ is the trivial 2C.
	StepTol float64
	// SpectrumSamples is the size of the random subsample of the objective's
	// samples on which the automatic λ is chosen when the solver is not
	// conjugate gradient (SpectrumAuto only). Default 1024 (all samples if
	// there are fewer): on the MNIST MLP the largest Ritz value of such a
	// subsample was within 25 % of ‖H‖ in four draws, which moves λ by as
	// much, and the run cost ~12 of its HVPs, 0.2 full-data HVPs. Negative
	// means all samples.
	SpectrumSamples int
	// Radius is C, the radius of the parameter ball. 0 means no ball: no
	// re-projection and no M estimate.
	Radius float64
	// NoProject turns off the re-projection of w̃ onto the C-ball (on by
	// default when Radius > 0). Projection never increases the distance to
	// w̃*, which lies in the ball.
	NoProject bool
	// M is a declared Hessian-Lipschitz constant. If M is 0, M is estimated by
	// EstimateHessianLipschitz with the Lipschitz options when Radius > 0 and
	// SkipM is false; otherwise NewtonResult.M has Source "none".
	M float64
	// SkipM skips the M estimate (e.g. when the caller has its own).
	SkipM bool
	// SkipSpectral skips every spectral estimate whatever Spectrum says. It
	// needs a positive Lambda; nothing then checks that H + λI is positive
	// definite beyond what the solver detects (CG's negative curvature).
	// With SpectrumAuto a positive Lambda already estimates nothing.
	SkipSpectral bool
	// Power is not used any more: ‖H‖ comes from the same Lanczos run as
	// λ_min (both ends of one Krylov space).
	//
	// Deprecated: set Lanczos.
	Power SpectralOptions
	// Lanczos configures the spectral estimates of SpectrumFull (its Shift is
	// ignored: they are for H itself) and seeds the subsample of
	// SpectrumSamples.
	Lanczos SpectralOptions
	// Lipschitz configures the M estimate.
	Lipschitz LipschitzOptions
	// Progress, if not nil, is called at the start and the end of each stage.
	// For per-iteration progress of the solve, set the solver's own Progress.
	Progress func(NewtonProgress)
	// Gradient, when not nil, is ∇L_r(w) already computed by the caller
	// (with Loss, L_r(w)), e.g. together with the gradient on the forget
	// set that gives ∇L(w, D) for Diagnose; Newton then does not compute it
	// again. It must be the retained objective's gradient at w.
	Gradient []float64
	Loss     float64
}

// Stages reported by Newton's progress callback, in order.
const (
	StageGradient = "gradient"
	// StageSpectrum is the Lanczos run of SpectrumFull (‖H‖ and λ_min).
	StageSpectrum = "spectrum"
	// StageLambda is the subsample Lanczos run that chooses λ before a
	// solver other than conjugate gradient.
	StageLambda    = "lambda"
	StageSolve     = "solve"
	StageLipschitz = "lipschitz"
	StageDone      = "done"
)

// Stages Newton no longer reports.
//
// Deprecated: ‖H‖ and λ_min come from one Lanczos run, StageSpectrum.
const (
	StageNorm      = "hessian-norm"
	StageLambdaMin = "lambda-min"
)

// NewtonProgress is passed to NewtonOptions.Progress.
type NewtonProgress struct {
	Stage string
	Done  bool
}

// NewtonResult carries the updated parameters and everything the certificate
// needs about how they were obtained.
type NewtonResult struct {
	// W is w̃ = w − (H + λI)⁻¹g, projected onto the C-ball if Projected.
	W []float64
	// Lambda is λ; LambdaAuto reports whether it was chosen automatically.
	Lambda     float64
	LambdaAuto bool
	// HessianNorm is the Lanczos estimate of ‖H‖₂ (SpectrumFull), or has
	// Skipped set.
	HessianNorm SpectralEstimate
	// LambdaMin is the Lanczos estimate of λ_min(H) (SpectrumFull), or has
	// Skipped set.
	LambdaMin SpectralEstimate
	// Krylov is what the automatic λ of SpectrumAuto was chosen from (Dim
	// 0 when there was none).
	Krylov KrylovSpectrum
	// LambdaRestarts counts the solves that proved H + λI indefinite for
	// an automatic λ chosen on a subsample (an *IndefiniteError with the
	// exact λ_min, or conjugate gradient's negative curvature, a Rayleigh
	// quotient bounding λ_min from above) and were restarted with λ raised
	// by the rule to that evidence; at most three. Their HVPs are counted.
	LambdaRestarts int
	// M is the Hessian-Lipschitz constant: declared, estimated, or Source
	// "none" when not computed.
	M LipschitzEstimate
	// Solve reports the solver's cost and final full-data residual ρ.
	Solve SolveStats
	// RelStepError is ρ/(μ·f·‖u‖) with μ = λ + Krylov.Lowest −
	// Krylov.LowestResidual and f the Gauss–Radau factor (see StepTol), a
	// bound on ‖u − (H + λI)⁻¹g‖/‖u‖ under the premise of StepTol, for the
	// default solve; 0 when not computed.
	RelStepError float64
	// Loss is L(w, D_r) and GradNorm ‖∇L(w, D_r)‖₂ at the input w.
	Loss     float64
	GradNorm float64
	// StepNorm is ‖u‖₂ = ‖(H + λI)⁻¹g‖₂ (the computed u).
	StepNorm float64
	// NormBeforeProjection is ‖w − u‖₂; Norm is ‖W‖₂.
	NormBeforeProjection float64
	Norm                 float64
	// Radius is C (0 if none); Projected reports whether W was scaled back
	// onto the ball.
	Radius    float64
	Projected bool
	// PaperCondition reports whether the paper's condition λ > ‖H‖₂ holds
	// (with ‖H‖ the larger of the estimates of λ_max and |λ_min|); false
	// when ‖H‖ was not estimated. The update only needs λ + λ_min > 0.
	PaperCondition bool
	// HVPs is the total number of HVP calls of all stages, whatever their
	// batch; SampleHVPs counts per-sample HVPs (a full-data HVP counts the
	// objective's Len()), which makes subsample and mini-batch work
	// comparable with full-data HVPs.
	HVPs       int
	SampleHVPs int
}

// Reasons recorded in SpectralEstimate.Skipped.
const (
	skipAuto = "not estimated: the default path (SpectrumAuto) computes only what can change the step; " +
		"λ was chosen from the Ritz values in Krylov (use SpectrumFull to estimate it)"
	skipGiven = "not estimated: λ was given and the default path (SpectrumAuto) computes only what can change the step " +
		"(use SpectrumFull to estimate it)"
	skipRequested = "not estimated: SkipSpectral was set"
)

// Newton performs the certified unlearning update of DESIGN.md §1 at w on the
// retained objective (all of its samples are D_r):
//
//	g = ∇L(w, D_r), H = ∇²L(w, D_r), w̃ = w − (H + λI)⁻¹g,
//
// then projects w̃ onto the C-ball (unless disabled). It chooses or checks λ
// and estimates the spectrum as NewtonOptions.Spectrum says, solves with the
// configured Solver, and records or estimates M. With SpectrumFull it
// refuses any λ with λ + λ̂_min ≤ 0 with an *IndefiniteError; otherwise a
// conjugate gradient solve that meets non-positive curvature (possible only
// with a given λ) fails with a *NegativeCurvatureError. w is not modified.
//
// If the solver stops without reaching its tolerance (*NotConvergedError),
// Newton still completes the step and returns the result together with that
// error: the result's Solve.Residual is honest and the certificate's residual
// term accounts for it. Any other error returns a nil result.
func Newton(ctx context.Context, retained Objective, w []float64, opts NewtonOptions) (*NewtonResult, error) {
	checkLen(w, retained)
	if opts.Lambda < 0 || math.IsNaN(opts.Lambda) {
		panic("unlearn: negative λ")
	}
	if opts.ZeroLambda && opts.Lambda != 0 {
		panic("unlearn: ZeroLambda with non-zero Lambda")
	}
	if opts.Radius < 0 || math.IsNaN(opts.Radius) {
		panic(errRadius)
	}
	if opts.StepTol < 0 || math.IsNaN(opts.StepTol) {
		panic("unlearn: negative StepTol")
	}
	margin := opts.Margin
	if margin <= 0 {
		margin = 0.01
	}
	stage := func(s string, done bool) {
		if opts.Progress != nil {
			opts.Progress(NewtonProgress{Stage: s, Done: done})
		}
	}
	n := len(w)
	res := &NewtonResult{Radius: opts.Radius}

	g, loss := opts.Gradient, opts.Loss
	if g == nil {
		stage(StageGradient, false)
		g = make([]float64, n)
		var err error
		if loss, err = retained.Eval(ctx, w, nil, g); err != nil {
			return nil, fmt.Errorf("unlearn: newton gradient: %w", err)
		}
		stage(StageGradient, true)
	} else if len(g) != n {
		panic("unlearn: NewtonOptions.Gradient has the wrong length")
	}
	res.Loss, res.GradNorm = loss, Norm(g)
	if !isFinite(loss) || !isFinite(res.GradNorm) {
		return nil, fmt.Errorf("unlearn: newton: non-finite loss %g or gradient norm %g at w", loss, res.GradNorm)
	}

	given := opts.Lambda > 0 || opts.ZeroLambda
	switch {
	case opts.SkipSpectral:
		if !(opts.Lambda > 0) {
			return nil, fmt.Errorf("unlearn: newton: skipping the spectral estimates needs a positive λ, got %g", opts.Lambda)
		}
		res.Lambda = opts.Lambda
		res.HessianNorm.Skipped, res.LambdaMin.Skipped = skipRequested, skipRequested
		return solveStep(ctx, retained, w, g, 0, opts.fixedSolver(), opts, res, stage)

	case opts.Spectrum == SpectrumFull:
		stage(StageSpectrum, false)
		lo := opts.Lanczos
		lo.Shift = 0
		var err error
		res.LambdaMin, res.HessianNorm, err = LanczosExtremes(ctx, retained, w, lo)
		res.HVPs += res.LambdaMin.HVPs
		res.SampleHVPs += res.LambdaMin.HVPs * retained.Len()
		if err != nil {
			return nil, fmt.Errorf("unlearn: newton: %w", err)
		}
		stage(StageSpectrum, true)
		lmin := res.LambdaMin.Value
		hnorm := math.Max(res.HessianNorm.Value, math.Abs(lmin))
		switch {
		case opts.Lambda > 0:
			res.Lambda = opts.Lambda
		case opts.ZeroLambda:
			res.Lambda = 0
		default:
			res.LambdaAuto = true
			res.Lambda = autoLambda(margin, hnorm, lmin, res.LambdaMin.Residual)
		}
		if !(res.Lambda+lmin > 0) {
			return nil, &IndefiniteError{Lambda: res.Lambda, LambdaMin: lmin}
		}
		res.PaperCondition = res.Lambda > hnorm
		return solveStep(ctx, retained, w, g, hnorm, opts.fixedSolver(), opts, res, stage)

	case opts.Spectrum != SpectrumAuto:
		panic("unlearn: unknown spectrum mode")

	case given:
		res.Lambda = opts.Lambda
		res.HessianNorm.Skipped, res.LambdaMin.Skipped = skipGiven, skipGiven
		return solveStep(ctx, retained, w, g, 0, opts.fixedSolver(), opts, res, stage)
	}

	// SpectrumAuto with the automatic λ.
	res.LambdaAuto = true
	res.HessianNorm.Skipped, res.LambdaMin.Skipped = skipAuto, skipAuto
	cg, isCG := opts.Solver.(*CG)
	if opts.Solver == nil || isCG {
		rule := cgRule{stepTol: opts.StepTol}
		if isCG {
			rule.tol, rule.maxIter, rule.progress = cg.Tol, cg.MaxIter, cg.Progress
			if cg.Tol > 0 {
				rule.stepTol = 0
			}
		}
		if rule.tol == 0 && rule.stepTol == 0 {
			rule.stepTol = DefaultStepTol
		}
		stage(StageSolve, false)
		sol, err := lanczosCG(ctx, Problem{Obj: retained, W: w}, g, margin, rule)
		res.Solve, res.Krylov, res.Lambda = sol.stats, sol.spec, sol.lambda
		res.HVPs += sol.stats.HVPs
		res.SampleHVPs += sol.stats.SampleHVPs
		var notConverged *NotConvergedError
		if err != nil && !errors.As(err, &notConverged) {
			return nil, fmt.Errorf("unlearn: newton solve: %w", err)
		}
		if un := Norm(sol.u); sol.errScale > 0 && un > 0 {
			res.RelStepError = sol.stats.Residual / (sol.errScale * un)
		}
		stage(StageSolve, true)
		return finishStep(ctx, retained, w, sol.u, opts, res, stage, err)
	}
	stage(StageLambda, false)
	lambda, spec, c, err := krylovLambda(ctx, retained, w, g, margin, opts.SpectrumSamples, opts.Lanczos)
	res.Krylov, res.Lambda = spec, lambda
	res.HVPs += c.calls
	res.SampleHVPs += c.samples
	if err != nil {
		return nil, fmt.Errorf("unlearn: newton: %w", err)
	}
	stage(StageLambda, true)
	// The subsample's view of the bottom of the spectrum may be too
	// optimistic. A solver that proves H + λI indefinite gives the evidence
	// to raise λ by: the exact λ_min of a built Hessian, or a Rayleigh
	// quotient below −λ.
	hnorm := math.Max(spec.Highest, -spec.Lowest)
	for {
		out, err := solveStep(ctx, retained, w, g, 0, opts.Solver, opts, res, stage)
		var ie *IndefiniteError
		var nc *NegativeCurvatureError
		lmin := math.NaN()
		switch {
		case errors.As(err, &ie):
			lmin = ie.LambdaMin
		case errors.As(err, &nc):
			lmin = nc.Curvature - nc.Lambda
		}
		if math.IsNaN(lmin) || res.LambdaRestarts == maxLambdaRestarts {
			return out, err
		}
		res.LambdaRestarts++
		hnorm = math.Max(hnorm, -lmin)
		res.Lambda = math.Max(res.Lambda, autoLambda(margin, hnorm, lmin, 0))
	}
}

// maxLambdaRestarts bounds NewtonResult.LambdaRestarts.
const maxLambdaRestarts = 3

// fixedSolver is the solver for a λ fixed before the solve: the configured
// one, or conjugate gradient with its defaults.
func (o NewtonOptions) fixedSolver() Solver {
	if o.Solver == nil {
		return &CG{}
	}
	return o.Solver
}

// solveStep solves (H + λI)u = g with res.Lambda and finishes the step.
func solveStep(ctx context.Context, retained Objective, w, g []float64, hnorm float64, solver Solver, opts NewtonOptions,
	res *NewtonResult, stage func(string, bool)) (*NewtonResult, error) {
	stage(StageSolve, false)
	u, st, err := solver.Solve(ctx, Problem{Obj: retained, W: w, Lambda: res.Lambda, HessianNorm: hnorm}, g)
	res.Solve = st
	res.HVPs += st.HVPs
	res.SampleHVPs += st.SampleHVPs
	var notConverged *NotConvergedError
	if err != nil && !errors.As(err, &notConverged) {
		return nil, fmt.Errorf("unlearn: newton solve: %w", err)
	}
	stage(StageSolve, true)
	return finishStep(ctx, retained, w, u, opts, res, stage, err)
}

// finishStep forms w̃ = w − u (projected unless disabled), records or
// estimates M, and returns the result with solveErr (nil or a
// *NotConvergedError).
func finishStep(ctx context.Context, retained Objective, w, u []float64, opts NewtonOptions,
	res *NewtonResult, stage func(string, bool), solveErr error) (*NewtonResult, error) {
	res.StepNorm = Norm(u)
	res.W = make([]float64, len(w))
	floats.SubTo(res.W, w, u)
	res.NormBeforeProjection = Norm(res.W)
	if opts.Radius > 0 && !opts.NoProject {
		res.Projected = Project(res.W, opts.Radius)
	}
	res.Norm = Norm(res.W)

	var err error
	switch {
	case opts.M > 0:
		res.M = DeclaredLipschitz(opts.M)
	case opts.Radius > 0 && !opts.SkipM && !math.IsInf(opts.Radius, 1):
		stage(StageLipschitz, false)
		res.M, err = EstimateHessianLipschitz(ctx, retained, w, opts.Radius, opts.Lipschitz)
		res.HVPs += res.M.HVPs
		res.SampleHVPs += res.M.HVPs * retained.Len()
		if err != nil {
			return nil, fmt.Errorf("unlearn: newton: %w", err)
		}
		stage(StageLipschitz, true)
	default:
		res.M = LipschitzEstimate{Source: "none", Note: "not computed", Method: "none"}
	}
	stage(StageDone, true)
	return res, solveErr
}

// ActiveTol is the relative tolerance of Diagnosis.Active: the ball constraint
// counts as active when ‖w‖ ≥ (1 − ActiveTol)·C. Projected training leaves an
// active constraint at ‖w‖ = C to rounding, so 1e-3 only needs to absorb the
// last optimizer steps moving slightly inwards.
const ActiveTol = 1e-3

// Diagnosis describes how stationary w is for the full objective, which decides
// whether the theorem's interior-stationarity assumption is plausible (DESIGN.md
// §1, "Where the theorem stops").
type Diagnosis struct {
	// Loss is L(w, D) and GradNorm ‖∇L(w, D)‖₂.
	Loss     float64
	GradNorm float64
	// RadialGrad is ⟨∇L, w⟩/‖w‖ and TangentialGradNorm the norm of the rest
	// of the gradient. At a constrained optimum on the sphere, the tangential
	// part vanishes and RadialGrad ≤ 0 (∇L = −νw, ν ≥ 0).
	RadialGrad         float64
	TangentialGradNorm float64
	// Norm is ‖w‖₂ and Radius is C (0 = no ball).
	Norm   float64
	Radius float64
	// Active reports whether the ball constraint is active,
	// ‖w‖ ≥ (1 − ActiveTol)·C. Then only the trivial 2C bound is rigorous.
	Active bool
}

// Diagnose evaluates the full objective at w and reports the gradient norm and
// whether the ball constraint of the given radius (0 = none) is active.
func Diagnose(ctx context.Context, full Objective, w []float64, radius float64) (Diagnosis, error) {
	checkLen(w, full)
	if radius < 0 || math.IsNaN(radius) {
		panic(errRadius)
	}
	if err := ctx.Err(); err != nil {
		return Diagnosis{}, err
	}
	g := make([]float64, len(w))
	loss, err := full.Eval(ctx, w, nil, g)
	if err != nil {
		return Diagnosis{}, fmt.Errorf("unlearn: diagnose: %w", err)
	}
	return DiagnoseGradient(w, loss, g, radius), nil
}

// DiagnoseGradient is Diagnose from the loss L(w, D) and its gradient g,
// computed by the caller (e.g. as the sample-weighted mean of the gradients
// on the retained and the forget sets).
func DiagnoseGradient(w []float64, loss float64, g []float64, radius float64) Diagnosis {
	if len(g) != len(w) {
		panic("unlearn: DiagnoseGradient: gradient and parameters differ in length")
	}
	if radius < 0 || math.IsNaN(radius) {
		panic(errRadius)
	}
	d := Diagnosis{Loss: loss, GradNorm: Norm(g), Norm: Norm(w), Radius: radius}
	if d.Norm > 0 {
		d.RadialGrad = floats.Dot(g, w) / d.Norm
		t := make([]float64, len(g))
		floats.AddScaledTo(t, g, -d.RadialGrad/d.Norm, w)
		d.TangentialGradNorm = Norm(t)
	} else {
		d.TangentialGradNorm = d.GradNorm
	}
	d.Active = radius > 0 && d.Norm >= (1-ActiveTol)*radius
	return d
}
