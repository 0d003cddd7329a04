package unlearn

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// NewtonOptions configures Newton. The zero value is the documented default:
// automatic λ, CG solver, no ball (Radius 0), M estimated only when a radius
// is given.
type NewtonOptions struct {
	// Lambda is the damping λ. A positive Lambda is used as given. If Lambda
	// is 0 and ZeroLambda is false (the default), λ is chosen automatically
	// as the smallest λ ≥ 0 with
	//
	//	λ + (λ̂_min − r_min) ≥ Margin·‖H‖,
	//
	// where λ̂_min is the Lanczos estimate, r_min its residual (an eigenvalue
	// lies within r_min of λ̂_min, so a too optimistic λ̂_min is partly
	// covered) and ‖H‖ the larger of the power-iteration estimate and
	// |λ̂_min|. In particular λ = 0 when
	// H is already safely positive definite.
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
	// Solver solves (H + λI)u = g. Default &CG{} (deterministic, stops on its
	// residual, so the bound's ρ/(λ + λ_min) term stays negligible; one
	// full-data HVP per iteration). Use &LiSSA{} when full-data HVPs are too
	// expensive.
	Solver Solver
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
	// SkipSpectral skips the estimates of ‖H‖ and λ_min, for callers whose
	// bound cannot depend on them (the certificate's trivial 2C bound). It
	// needs a positive Lambda; nothing then checks that H + λI is positive
	// definite, and the result's HessianNorm and LambdaMin are zero with an
	// empty Method.
	SkipSpectral bool
	// Power and Lanczos configure the spectral estimates of H at w (their
	// Shift is ignored: both are for H itself).
	Power, Lanczos SpectralOptions
	// Lipschitz configures the M estimate.
	Lipschitz LipschitzOptions
	// Progress, if not nil, is called at the start and the end of each stage.
	// For per-iteration progress of the solve, set the solver's own Progress.
	Progress func(NewtonProgress)
}

// Stages reported by Newton's progress callback, in order.
const (
	StageGradient  = "gradient"
	StageNorm      = "hessian-norm"
	StageLambdaMin = "lambda-min"
	StageSolve     = "solve"
	StageLipschitz = "lipschitz"
	StageDone      = "done"
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
	// HessianNorm is the power-iteration estimate of ‖H‖₂.
	HessianNorm SpectralEstimate
	// LambdaMin is the Lanczos estimate of λ_min(H).
	LambdaMin SpectralEstimate
	// M is the Hessian-Lipschitz constant: declared, estimated, or Source
	// "none" when not computed.
	M LipschitzEstimate
	// Solve reports the solver's cost and final full-data residual ρ.
	Solve SolveStats
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
	// (with ‖H‖ the larger of the power-iteration and |λ_min| estimates).
	// The update only needs λ + λ_min > 0.
	PaperCondition bool
	// HVPs is the total number of HVP calls of all stages.
	HVPs int
}

// Newton performs the certified unlearning update of DESIGN.md §1 at w on the
// retained objective (all of its samples are D_r):
//
//	g = ∇L(w, D_r), H = ∇²L(w, D_r), w̃ = w − (H + λI)⁻¹g,
//
// then projects w̃ onto the C-ball (unless disabled). It estimates ‖H‖ (power
// iteration) and λ_min (Lanczos), chooses or checks λ, refuses any λ with
// λ + λ_min ≤ 0 with an *IndefiniteError, solves with the configured Solver,
// and records or estimates M. w is not modified.
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
	margin := opts.Margin
	if margin <= 0 {
		margin = 0.01
	}
	solver := opts.Solver
	if solver == nil {
		solver = &CG{}
	}
	stage := func(s string, done bool) {
		if opts.Progress != nil {
			opts.Progress(NewtonProgress{Stage: s, Done: done})
		}
	}
	n := len(w)
	res := &NewtonResult{Radius: opts.Radius}

	stage(StageGradient, false)
	g := make([]float64, n)
	loss, err := retained.Eval(w, nil, g)
	if err != nil {
		return nil, fmt.Errorf("unlearn: newton gradient: %w", err)
	}
	res.Loss, res.GradNorm = loss, Norm(g)
	if !isFinite(loss) || !isFinite(res.GradNorm) {
		return nil, fmt.Errorf("unlearn: newton: non-finite loss %g or gradient norm %g at w", loss, res.GradNorm)
	}
	stage(StageGradient, true)

	if opts.SkipSpectral {
		if !(opts.Lambda > 0) {
			return nil, fmt.Errorf("unlearn: newton: skipping the spectral estimates needs a positive λ, got %g", opts.Lambda)
		}
		res.Lambda = opts.Lambda
		return solveStep(ctx, retained, w, g, 0, solver, opts, res, stage)
	}
	stage(StageNorm, false)
	po := opts.Power
	po.Shift = 0
	res.HessianNorm, err = PowerIteration(ctx, retained, w, po)
	res.HVPs += res.HessianNorm.HVPs
	if err != nil {
		return nil, fmt.Errorf("unlearn: newton: %w", err)
	}
	stage(StageNorm, true)

	stage(StageLambdaMin, false)
	lo := opts.Lanczos
	lo.Shift = 0
	res.LambdaMin, err = Lanczos(ctx, retained, w, lo)
	res.HVPs += res.LambdaMin.HVPs
	if err != nil {
		return nil, fmt.Errorf("unlearn: newton: %w", err)
	}
	stage(StageLambdaMin, true)

	lmin := res.LambdaMin.Value
	hnorm := math.Max(res.HessianNorm.Value, math.Abs(lmin))
	switch {
	case opts.Lambda > 0:
		res.Lambda = opts.Lambda
	case opts.ZeroLambda:
		res.Lambda = 0
	default:
		res.LambdaAuto = true
		res.Lambda = math.Max(0, margin*hnorm-(lmin-res.LambdaMin.Residual))
	}
	if !(res.Lambda+lmin > 0) {
		return nil, &IndefiniteError{Lambda: res.Lambda, LambdaMin: lmin}
	}
	res.PaperCondition = res.Lambda > hnorm

	return solveStep(ctx, retained, w, g, hnorm, solver, opts, res, stage)
}

// solveStep solves (H + λI)u = g with res.Lambda, forms w̃ = w − u (projected
// unless disabled) and records or estimates M.
func solveStep(ctx context.Context, retained Objective, w, g []float64, hnorm float64, solver Solver, opts NewtonOptions,
	res *NewtonResult, stage func(string, bool)) (*NewtonResult, error) {
	n := len(w)
	stage(StageSolve, false)
	u, st, err := solver.Solve(ctx, Problem{Obj: retained, W: w, Lambda: res.Lambda, HessianNorm: hnorm}, g)
	res.Solve = st
	res.HVPs += st.HVPs
	var notConverged *NotConvergedError
	if err != nil && !errors.As(err, &notConverged) {
		return nil, fmt.Errorf("unlearn: newton solve: %w", err)
	}
	solveErr := err
	stage(StageSolve, true)

	res.StepNorm = Norm(u)
	res.W = make([]float64, n)
	floats.SubTo(res.W, w, u)
	res.NormBeforeProjection = Norm(res.W)
	if opts.Radius > 0 && !opts.NoProject {
		res.Projected = Project(res.W, opts.Radius)
	}
	res.Norm = Norm(res.W)

	switch {
	case opts.M > 0:
		res.M = DeclaredLipschitz(opts.M)
	case opts.Radius > 0 && !opts.SkipM && !math.IsInf(opts.Radius, 1):
		stage(StageLipschitz, false)
		res.M, err = EstimateHessianLipschitz(ctx, retained, w, opts.Radius, opts.Lipschitz)
		res.HVPs += res.M.HVPs
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
	loss, err := full.Eval(w, nil, g)
	if err != nil {
		return Diagnosis{}, fmt.Errorf("unlearn: diagnose: %w", err)
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
	return d, nil
}
