package lethe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/unlearn"
)

// update is everything the certified update needs once the request is
// checked and the files are open.
type update struct {
	ws               *workspace
	forget           *dataset.ForgetSet
	obj              objective
	eval             autodiff.EvalOptions
	gradTol          float64
	budget           float64 // Δ_max: 2C unless the request gives one
	zeroByProof      bool    // λ = 0 because the objective is proven strongly convex
	newton           unlearn.NewtonOptions
	estimateSpectrum bool // estimate ‖H‖ and λ_min even when they cannot change Δ
	noise            noiseRequest
}

// noiseRequest says how σ is chosen and where the noise comes from.
type noiseRequest struct {
	mechanism certify.Mechanism
	epsilon   float64 // requested ε (ignored with a fixed σ)
	delta     float64
	sigma     float64 // > 0: fixed-σ mode, ε derived from it
	none      bool
	seed      *uint64 // deterministic, not private
}

// updated is the result of the certified update, before anything is
// written.
type updated struct {
	w0        []float64 // the input parameters w*
	clean     []float64 // w̃, re-projected unless disabled
	released  []float64 // w̃ + Y
	diagnosis unlearn.Diagnosis
	newton    *unlearn.NewtonResult
	bound     certify.Bound
	premise   error // *certify.PremiseError when no bound is rigorous
	over      error // *certify.BudgetError when the computed bound exceeds the budget
	noise     noiseDrawn
	elapsed   time.Duration
	stages    []Stage // in order
}

// noiseDrawn is what was added and what it certifies.
type noiseDrawn struct {
	epsilon   float64
	sigma     float64
	mode      certify.SigmaMode
	source    string
	private   bool
	seed      *uint64
	certified bool
	status    string
}

// stageNames are the certified update's stages in progress messages.
var stageNames = map[string]string{
	unlearn.StageGradient:  "gradient on D_r",
	unlearn.StageSpectrum:  "‖H‖ and λ_min by Lanczos",
	unlearn.StageLambda:    "choosing λ on a subsample",
	unlearn.StageSolve:     "solving (H + λI)u = g",
	unlearn.StageLipschitz: "estimating the Hessian-Lipschitz constant M",
}

// certifiedUpdate runs DESIGN.md §1: diagnose w* on D, take the Newton step
// on D_r, bound the sensitivity and draw the noise. It writes nothing;
// progress goes to st.
func certifiedUpdate(ctx context.Context, u *update, st *step) (*updated, error) {
	start := time.Now()
	ws := u.ws
	w0, err := ws.params()
	if err != nil {
		return nil, err
	}
	C := u.obj.radius
	if n := unlearn.Norm(w0); n > C*(1+1e-6) {
		return nil, badField("Objective.Radius", "the model's parameters have norm %.6g, outside the ball of radius C = %g: it is not a constrained optimum; run `lethe constrain` first", n, C)
	}
	data := checked{ws.data}
	retained := &autodiff.Objective{Program: ws.prog, Data: data, L2: u.obj.l2, Options: u.eval,
		Index: retainedIndices(ws.data.Len(), u.forget.Indices)}
	forgotten := &autodiff.Objective{Program: ws.prog, Data: data, L2: u.obj.l2, Options: u.eval, Index: u.forget.Indices}
	out := &updated{w0: w0}
	opts := u.newton
	opts.Radius = C
	// ∇L(w*, D) for the stationarity check is the sample-weighted mean of
	// the gradients on D_r (which the Newton step needs anyway) and on D_u:
	// one pass over D rather than two.
	st.info(stageNames[unlearn.StageGradient])
	t0 := time.Now()
	opts.Gradient = make([]float64, len(w0))
	if opts.Loss, err = retained.Eval(ctx, w0, nil, opts.Gradient); err != nil {
		return nil, wrapf("unlearn", classify("Data", err))
	}
	out.stages = append(out.stages, Stage{unlearn.StageGradient, time.Since(t0).Seconds()})
	st.info("checking stationarity on D")
	t0 = time.Now()
	gu := make([]float64, len(w0))
	lu, err := forgotten.Eval(ctx, w0, nil, gu)
	if err != nil {
		return nil, wrapf("unlearn", classify("Data", err))
	}
	nr, nu := float64(retained.Len()), float64(forgotten.Len())
	gd := make([]float64, len(w0))
	for i := range gd {
		gd[i] = (nr*opts.Gradient[i] + nu*gu[i]) / (nr + nu)
	}
	out.diagnosis = unlearn.DiagnoseGradient(w0, (nr*opts.Loss+nu*lu)/(nr+nu), gd, C)
	out.stages = append(out.stages, Stage{"stationarity", time.Since(t0).Seconds()})
	// M is estimated after the step, and only if it can change Δ. ‖H‖ and
	// λ_min are estimated (SpectrumFull) only where the bound can use them:
	// when the theorem's premise holds or the output is not re-projected
	// (otherwise Δ = 2C whatever they are), or when the request asks for
	// the diagnostics. The default path computes only what the step needs.
	opts.SkipM = true
	stat := certify.Stationarity{GradNorm: out.diagnosis.GradNorm, GradTol: u.gradTol, WNorm: out.diagnosis.Norm}
	if u.estimateSpectrum || opts.NoProject || certify.PremiseHolds(stat, C) {
		opts.Spectrum = unlearn.SpectrumFull
	} else {
		st.info("the premise fails, so Δ = 2C whatever ‖H‖ and λ_min are: they are not estimated (EstimateSpectrum, --estimate-spectrum on the command line, keeps them)")
	}
	var stageStart time.Time
	opts.Progress = func(p unlearn.NewtonProgress) {
		switch {
		case p.Stage == unlearn.StageDone:
		case !p.Done:
			stageStart = time.Now()
			st.info(stageNames[p.Stage])
		default:
			out.stages = append(out.stages, Stage{p.Stage, time.Since(stageStart).Seconds()})
		}
	}
	res, err := unlearn.Newton(ctx, retained, w0, opts)
	var notConverged *unlearn.NotConvergedError
	var indefinite *unlearn.IndefiniteError
	switch {
	case errors.As(err, &indefinite):
		return nil, badField("Lambda", "%v (choose λ > %.4g)", err, -indefinite.LambdaMin)
	case errors.As(err, &notConverged):
		st.info(fmt.Sprintf("warning: %v; the certificate's residual term accounts for it", err))
	case err != nil:
		return nil, wrapf("unlearn", classify("Data", err))
	}
	if u.zeroByProof {
		res.LambdaAuto = true // chosen by the convexity proof, not given
	}
	out.newton = res
	out.clean = res.W
	in := boundInputs(u, out.diagnosis, res)
	if in.MSource == certify.MEstimated {
		if needed, _ := certify.NeedsM(in); needed {
			st.info(stageNames[unlearn.StageLipschitz])
			t := time.Now()
			m, err := unlearn.EstimateHessianLipschitz(ctx, retained, w0, C, u.newton.Lipschitz)
			if err != nil {
				return nil, wrapf("unlearn", classify("Data", err))
			}
			out.stages = append(out.stages, Stage{unlearn.StageLipschitz, time.Since(t).Seconds()})
			in.M, in.MMethod, in.MSamples = m.Value, m.Method, m.Pairs
		} else {
			in.MSource = certify.MUnneeded
		}
	}
	in.Budget = u.budget
	out.bound, err = certify.ComputeBound(in)
	var premise *certify.PremiseError
	var over *certify.BudgetError
	switch {
	case errors.As(err, &premise):
		out.premise = err
	case errors.As(err, &over):
		out.over = err
		st.info(fmt.Sprintf("warning: %v", err))
	case err != nil:
		return nil, wrapf("unlearn", err)
	}
	if out.noise, err = drawNoise(u.noise, out.bound, out.premise != nil); err != nil {
		return nil, err
	}
	if out.over != nil && out.noise.certified {
		out.noise.certified, out.noise.status = false, certify.StatusOverBudget
	}
	if out.released, err = noisy(res.W, out.noise.sigma, u.noise.seed); err != nil {
		return nil, err
	}
	out.elapsed = time.Since(start)
	return out, nil
}

// noisy returns w + N(0, σ²I) (a copy of w when σ is 0), the noise seeded
// (tests only) or private.
func noisy(w []float64, sigma float64, seed *uint64) ([]float64, error) {
	out := slices.Clone(w)
	if sigma == 0 {
		return out, nil
	}
	n, err := newNoise(seed)
	if err == nil {
		err = n.Add(out, sigma)
	}
	if err != nil {
		return nil, wrapf("unlearn", err)
	}
	return out, nil
}

// newNoise returns the noise generator: seeded (tests only) or private.
func newNoise(seed *uint64) (*certify.Noise, error) {
	if seed != nil {
		return certify.NewSeededNoise(*seed), nil
	}
	return certify.NewPrivateNoise()
}

// boundInputs collects what the certificate's bound rests on.
func boundInputs(u *update, d unlearn.Diagnosis, r *unlearn.NewtonResult) certify.BoundInputs {
	in := certify.BoundInputs{
		C:                     u.obj.radius,
		Lambda:                r.Lambda,
		LambdaAuto:            r.LambdaAuto,
		HessianNorm:           r.HessianNorm.Value,
		HessianNormMethod:     r.HessianNorm.Method,
		HessianNormIterations: r.HessianNorm.Iterations,
		HessianNormResidual:   r.HessianNorm.Residual,
		LambdaMin:             r.LambdaMin.Value,
		LambdaMinMethod:       r.LambdaMin.Method,
		LambdaMinIterations:   r.LambdaMin.Iterations,
		LambdaMinResidual:     r.LambdaMin.Residual,
		Solver: certify.Solver{
			Name:        r.Solve.Method,
			Iterations:  r.Solve.Iterations,
			Repetitions: r.Solve.Repetitions,
			Scale:       r.Solve.Scale,
			Residual:    r.Solve.Residual,
			HVPs:        r.Solve.HVPs,
		},
		Projected:    !u.newton.NoProject && u.obj.radius > 0,
		Stationarity: certify.Stationarity{GradNorm: d.GradNorm, GradTol: u.gradTol, WNorm: d.Norm},
	}
	if in.LambdaMinMethod == "" {
		in.LambdaMinMethod = certify.LambdaMinUnneeded
	}
	in.MSource = certify.MEstimated
	if u.newton.M > 0 {
		in.MSource, in.M, in.MMethod = certify.MDeclared, u.newton.M, "declared by the user"
	}
	if l, ok := u.newton.Solver.(*unlearn.LiSSA); ok {
		in.Solver.Depth, in.Solver.BatchSize = l.Depth, l.BatchSize
	}
	return in
}

// drawNoise chooses σ and says what it certifies.
func drawNoise(req noiseRequest, b certify.Bound, premiseFails bool) (noiseDrawn, error) {
	out := noiseDrawn{epsilon: req.epsilon, source: certify.NoiseSourcePrivate, private: true}
	switch {
	case req.none:
		out.mode, out.source, out.private = certify.SigmaNone, certify.NoiseSourceNone, false
		out.status = certify.StatusNoNoise
		return out, nil
	case premiseFails:
		// No rigorous Δ: noise cannot be calibrated to anything.
		out.mode, out.source, out.private = certify.SigmaNone, certify.NoiseSourceNone, false
		out.status = certify.StatusPremiseFails
		return out, nil
	case req.sigma > 0:
		eps, err := certify.EpsilonForSigma(req.mechanism, req.sigma, b.Sensitivity, req.delta)
		if err != nil {
			return out, badField("Sigma", "σ = %g: %v", req.sigma, err)
		}
		out.epsilon, out.sigma, out.mode = eps, req.sigma, certify.SigmaFixed
		out.status = certify.StatusCertifiedFixedSigma
	default:
		s, err := certify.Sigma(req.mechanism, b.Sensitivity, req.epsilon, req.delta)
		if err != nil {
			return out, badField("Epsilon", "%v", err)
		}
		out.sigma, out.mode, out.status = s, certify.SigmaCalibrated, certify.StatusCertified
	}
	out.certified = true
	if req.seed != nil {
		seed := *req.seed
		out.seed, out.source, out.private, out.certified = &seed, certify.NoiseSourceSeeded, false, false
		out.status = certify.StatusSeeded
	}
	return out, nil
}
