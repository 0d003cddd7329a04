package main

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

// updateRequest is everything the certified update needs once flags are
// parsed and files are open. `lethe unlearn` and `lethe demo` both build one.
type updateRequest struct {
	ws      *workspace
	forget  *dataset.ForgetSet
	radius  float64
	l2      float64
	gradTol float64
	newton  unlearn.NewtonOptions
	// estimateSpectrum estimates ‖H‖ and λ_min even when they cannot change Δ.
	estimateSpectrum bool
	noise            noiseRequest
}

// noiseRequest says how σ is chosen and where the noise comes from.
type noiseRequest struct {
	mechanism certify.Mechanism
	epsilon   float64 // requested ε (ignored with a fixed σ)
	delta     float64
	sigma     float64 // > 0: fixed-σ mode, ε derived from it
	none      bool    // --no-noise
	seed      *uint64 // --seed: deterministic, not private
}

// updateOutcome is the result of the certified update, before anything is
// written.
type updateOutcome struct {
	w0        []float64 // the input parameters w*
	clean     []float64 // w̃, re-projected unless disabled
	released  []float64 // w̃ + Y
	diagnosis unlearn.Diagnosis
	newton    *unlearn.NewtonResult
	bound     certify.Bound
	premise   error // *certify.PremiseError when no bound is rigorous
	noise     noiseOutcome
	elapsed   time.Duration
	stages    []stageTime // in order
}

// stageTime is how long one step of the update took.
type stageTime struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
}

// noiseOutcome is what was added and what it certifies.
type noiseOutcome struct {
	epsilon   float64
	sigma     float64
	mode      certify.SigmaMode
	source    string
	private   bool
	seed      *uint64
	certified bool
	status    string
}

// retainedIndices returns 0..n−1 without the sorted indices drop.
func retainedIndices(n int, drop []int) []int {
	out := make([]int, 0, n-len(drop))
	j := 0
	for i := 0; i < n; i++ {
		if j < len(drop) && drop[j] == i {
			j++
			continue
		}
		out = append(out, i)
	}
	return out
}

// certifiedUpdate runs DESIGN.md §1: diagnose w* on D, take the Newton step
// on D_r, bound the sensitivity and draw the noise. It writes nothing.
func certifiedUpdate(ctx context.Context, req *updateRequest, report func(stage string)) (*updateOutcome, error) {
	start := time.Now()
	ws := req.ws
	w0, err := ws.model.ParamVector(ws.prog.Params())
	if err != nil {
		return nil, badInput(err)
	}
	if n := unlearn.Norm(w0); n > req.radius*(1+1e-6) {
		return nil, badInput(fmt.Errorf("the model's parameters have norm %.6g, outside the ball of radius C = %g: it is not a constrained optimum; run `lethe constrain` first", n, req.radius))
	}
	full := &autodiff.Objective{Program: ws.prog, Data: ws.data, L2: req.l2, Options: ws.eval}
	retained := &autodiff.Objective{Program: ws.prog, Data: ws.data, L2: req.l2, Options: ws.eval,
		Index: retainedIndices(ws.data.Len(), req.forget.Indices)}
	out := &updateOutcome{w0: w0}
	report("checking stationarity on D")
	t0 := time.Now()
	if out.diagnosis, err = unlearn.Diagnose(ctx, full, w0, req.radius); err != nil {
		return nil, failed(err)
	}
	out.stages = append(out.stages, stageTime{"stationarity", time.Since(t0).Seconds()})
	opts := req.newton
	opts.Radius = req.radius
	// M is estimated after the step, and only if it can change Δ. So are
	// ‖H‖ and λ_min when the premise already fails and λ is given: the
	// certified Δ is then 2C whatever they are.
	opts.SkipM = true
	st := certify.Stationarity{GradNorm: out.diagnosis.GradNorm, GradTol: req.gradTol, WNorm: out.diagnosis.Norm}
	opts.SkipSpectral = !req.estimateSpectrum && !opts.NoProject && opts.Lambda > 0 && !certify.PremiseHolds(st, req.radius)
	if opts.SkipSpectral {
		report("the premise fails, so Δ = 2C: skipping the ‖H‖ and λ_min estimates (--estimate-spectrum keeps them)")
	}
	var stageStart time.Time
	opts.Progress = func(p unlearn.NewtonProgress) {
		switch {
		case p.Stage == unlearn.StageDone:
		case !p.Done:
			stageStart = time.Now()
			report(newtonStageNames[p.Stage])
		default:
			out.stages = append(out.stages, stageTime{p.Stage, time.Since(stageStart).Seconds()})
		}
	}
	res, err := unlearn.Newton(ctx, retained, w0, opts)
	var notConverged *unlearn.NotConvergedError
	var indefinite *unlearn.IndefiniteError
	switch {
	case errors.As(err, &indefinite):
		return nil, usageErrorf("unlearn: %v (choose --lambda > %.4g)", err, -indefinite.LambdaMin)
	case errors.As(err, &notConverged):
		report(fmt.Sprintf("warning: %v; the certificate's residual term accounts for it", err))
	case err != nil:
		return nil, failed(err)
	}
	out.newton = res
	out.clean = res.W
	in := boundInputs(req, out.diagnosis, res)
	if in.MSource == certify.MEstimated {
		if needed, _ := certify.NeedsM(in); needed {
			report(newtonStageNames[unlearn.StageLipschitz])
			t := time.Now()
			m, err := unlearn.EstimateHessianLipschitz(ctx, retained, w0, req.radius, req.newton.Lipschitz)
			if err != nil {
				return nil, failed(err)
			}
			out.stages = append(out.stages, stageTime{unlearn.StageLipschitz, time.Since(t).Seconds()})
			in.M, in.MMethod, in.MSamples = m.Value, m.Method, m.Pairs
		} else {
			in.MSource = certify.MUnneeded
		}
	}
	out.bound, err = certify.ComputeBound(in)
	var premise *certify.PremiseError
	switch {
	case errors.As(err, &premise):
		out.premise = err
	case err != nil:
		return nil, failed(err)
	}
	if out.noise, err = drawNoise(req.noise, out.bound, out.premise != nil); err != nil {
		return nil, err
	}
	out.released = slices.Clone(res.W)
	if out.noise.sigma > 0 {
		n, err := newNoise(req.noise.seed)
		if err != nil {
			return nil, failed(err)
		}
		if err := n.Add(out.released, out.noise.sigma); err != nil {
			return nil, failed(err)
		}
	}
	out.elapsed = time.Since(start)
	return out, nil
}

var newtonStageNames = map[string]string{
	unlearn.StageGradient:  "gradient on D_r",
	unlearn.StageNorm:      "‖H‖ by power iteration",
	unlearn.StageLambdaMin: "λ_min by Lanczos",
	unlearn.StageSolve:     "solving (H + λI)u = g",
	unlearn.StageLipschitz: "estimating the Hessian-Lipschitz constant M",
}

func newNoise(seed *uint64) (*certify.Noise, error) {
	if seed != nil {
		return certify.NewSeededNoise(*seed), nil
	}
	return certify.NewPrivateNoise()
}

// boundInputs collects what the certificate's bound rests on.
func boundInputs(req *updateRequest, d unlearn.Diagnosis, r *unlearn.NewtonResult) certify.BoundInputs {
	in := certify.BoundInputs{
		C:                     req.radius,
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
		Projected:    !req.newton.NoProject && req.radius > 0,
		Stationarity: certify.Stationarity{GradNorm: d.GradNorm, GradTol: req.gradTol, WNorm: d.Norm},
	}
	if in.LambdaMinMethod == "" {
		in.LambdaMinMethod = certify.LambdaMinUnneeded
	}
	in.MSource = certify.MEstimated
	if req.newton.M > 0 {
		in.MSource, in.M, in.MMethod = certify.MDeclared, req.newton.M, "declared with --hessian-lipschitz"
	}
	if l, ok := req.newton.Solver.(*unlearn.LiSSA); ok {
		in.Solver.Depth, in.Solver.BatchSize = l.Depth, l.BatchSize
	}
	return in
}

// drawNoise chooses σ and says what it certifies.
func drawNoise(req noiseRequest, b certify.Bound, premiseFails bool) (noiseOutcome, error) {
	out := noiseOutcome{epsilon: req.epsilon, source: certify.NoiseSourcePrivate, private: true}
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
			return out, usageErrorf("unlearn: --sigma %g: %v", req.sigma, err)
		}
		out.epsilon, out.sigma, out.mode = eps, req.sigma, certify.SigmaFixed
		out.status = certify.StatusCertifiedFixedSigma
	default:
		s, err := certify.Sigma(req.mechanism, b.Sensitivity, req.epsilon, req.delta)
		if err != nil {
			return out, usageErrorf("unlearn: %v", err)
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
