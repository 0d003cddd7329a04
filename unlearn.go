package lethe

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
	"github.com/lethe-ml/lethe/parity"
	"github.com/lethe-ml/lethe/unlearn"
)

// UnlearnRequest asks for the certified removal of some training samples
// from a model (DESIGN.md §1, and `lethe unlearn`). Model, Data, Forget,
// Out and the privacy parameters are required; every other field's zero
// value is the documented default.
type UnlearnRequest struct {
	// Model is the ONNX file of the trained model, a constrained optimum
	// of its training objective in the ball ‖w‖ ≤ C (see Constrain).
	Model string
	// Data is the training data D the model was trained on.
	Data Data
	// Forget names the samples D_u of Data to forget.
	Forget Subset
	// Out is the ONNX file to write. It must not be an input.
	Out string
	// Cert is the certificate to write. Default: CertPath(Out).
	Cert string
	// PrevCert is Model's certificate when Model is itself the output of an
	// unlearning (its metadata then carries MetaCertificate); the new
	// certificate chains on it. Default: CertPath(Model).
	PrevCert string

	// Engine configures lethe's engine.
	Engine Engine
	// Objective is the objective the model was trained on; what it leaves
	// out comes from the model's metadata.
	Objective Objective

	// Epsilon and Delta are the (ε, δ) of the guarantee. Epsilon must be
	// > 0 unless Sigma or NoNoise is set; Delta must lie in (0, 1) unless
	// NoNoise is set.
	Epsilon, Delta float64
	// Mechanism calibrates σ: certify.Analytic (the default, any ε > 0) or
	// certify.Classic (ε < 1 only).
	Mechanism certify.Mechanism
	// Sigma, when > 0, fixes σ; the certificate then reports the ε it
	// implies (Epsilon must be 0).
	Sigma float64
	// NoNoise adds no noise: the model is NOT certified (evaluation only),
	// and no ε or δ is needed.
	NoNoise bool
	// Seed, when not nil, draws the noise from a generator seeded with it,
	// for reproducible tests. Such noise is NOT private and the model NOT
	// certified; Unlearn reports certify.SeedWarning as an EventWarning, and
	// the certificate records noise_private false.
	Seed *uint64

	// Scope chooses the certified parameters and the bound: ScopeAuto (the
	// default), ScopeFull or ScopeHead (see Scope).
	Scope Scope
	// Budget is the sensitivity budget Δ_max that σ is calibrated to, fixed
	// before anything is computed from the data (DESIGN.md §1). Default:
	// DefaultBudget in the convex scope, 2C in the full scope.
	Budget float64
	// MaxNewtonSteps bounds the convex scope's Newton steps from the
	// original model before it falls back to retraining the certified
	// parameters from zeros. Default DefaultMaxNewtonSteps.
	MaxNewtonSteps int

	// Lambda is the damping λ of the Newton step (H + λI)u = g. nil chooses
	// the smallest λ that keeps H + λI safely positive definite (see
	// unlearn.NewtonOptions); a value, 0 included, is used exactly. λ = 0
	// suits strongly convex objectives.
	Lambda *float64
	// LambdaMargin is the margin of the automatic λ relative to ‖H‖.
	// Default 0.01.
	LambdaMargin float64
	// Solver solves (H + λI)u = g. Default nil: unlearn's conjugate
	// gradient (deterministic, full-data Hessian-vector products) with λ
	// chosen from its own Krylov space and a 1 % accurate step (see
	// unlearn.NewtonOptions); a *unlearn.CG with Tol set stops at that
	// relative residual instead. An *unlearn.LiSSA with Workers 0
	// runs Engine.Threads repetitions at a time. The solver is not
	// modified.
	Solver unlearn.Solver
	// HessianLipschitz declares the Hessian-Lipschitz constant M. 0
	// estimates M, when it can change Δ, with the Lipschitz options; the
	// certificate states an estimate as an assumption.
	HessianLipschitz float64
	// Lipschitz configures the estimate of M.
	Lipschitz unlearn.LipschitzOptions
	// Spectral configures the Lanczos estimates of ‖H‖ and λ_min.
	Spectral unlearn.SpectralOptions
	// EstimateSpectrum estimates ‖H‖ and λ_min even when they cannot
	// change Δ (the theorem's premise fails and λ is given).
	EstimateSpectrum bool
	// NoProject does not re-project w̃ onto the ball, which drops the
	// trivial 2C bound.
	NoProject bool
	// GradTol is the ‖∇L(w*, D)‖ below which w* counts as a stationary
	// point. Default certify.DefaultGradTol.
	GradTol float64

	// Probe is the parity probe batch. Default {Seed: 1, Size: 8}.
	Probe *Probe
	// SignKey, when not nil, signs the certificate.
	SignKey ed25519.PrivateKey

	// KeepNoiseFree returns the noise-free parameters w̃ in
	// UnlearnResult.NoiseFree, for evaluation (the demo compares them
	// with the released model). Never store or publish them: whoever holds
	// w̃ can subtract the noise from the released model and learn what the
	// certificate says is protected.
	KeepNoiseFree bool

	// Progress, when not nil, receives progress events.
	Progress func(Event)
}

// Probe is the parity probe: a batch of random inputs, regenerable from its
// seed and shape, on which onnxruntime must reproduce lethe's outputs before
// a model is released.
type Probe struct {
	// Seed seeds the probe's values.
	Seed uint64
	// Size is the number of samples. Default 8.
	Size int
}

// defaultProbe is the probe when UnlearnRequest.Probe is nil.
var defaultProbe = Probe{Seed: 1, Size: 8}

// UnlearnResult is what Unlearn did. Its JSON encoding is the output of
// `lethe unlearn --json` (schemas/unlearn.schema.json).
type UnlearnResult struct {
	// Model, Out and CertPath are the files read and written.
	Model    string `json:"model"`
	Out      string `json:"out"`
	CertPath string `json:"certificate"`
	// Certified and Status are the certificate's: whether the output is
	// certified (ε, δ)-unlearned, and why not when it is not.
	Certified bool   `json:"certified"`
	Status    string `json:"status"`
	// N counts the training samples, NForget the forgotten ones.
	N       int `json:"n"`
	NForget int `json:"n_forget"`
	// Scope is the scope the request resolved to ("full" or "convex") and
	// ScopeReason says why, in one sentence. CertifiedParameters counts the
	// certified parameters (scalars).
	Scope               string `json:"scope"`
	ScopeReason         string `json:"scope_reason"`
	CertifiedParameters int    `json:"certified_parameters"`
	// Epsilon, Delta, Mechanism and Sigma are the noise's; Sensitivity is
	// the Δ that σ is calibrated to (the budget, fixed in advance) and
	// ActiveBound the term that proves the budget holds.
	Epsilon     float64 `json:"epsilon"`
	Delta       float64 `json:"delta"`
	Mechanism   string  `json:"mechanism"`
	Sigma       float64 `json:"sigma"`
	Sensitivity float64 `json:"sensitivity"`
	ActiveBound string  `json:"active_bound"`
	// Budget is Δ_max, the sensitivity budget.
	Budget float64 `json:"budget"`
	// PosteriorBound, NewtonSteps and Start are the convex scope's: the
	// a-posteriori bound at the noise-free point, the Newton steps taken
	// and where they started ("w*", or "retrain from zeros" when the steps
	// from w* did not reach the budget). FeatureEngine says what computed
	// the certified part's inputs ("native" or "onnxruntime").
	PosteriorBound float64 `json:"bound_posterior,omitempty"`
	NewtonSteps    int     `json:"newton_steps,omitempty"`
	Start          string  `json:"start,omitempty"`
	FeatureEngine  string  `json:"feature_engine,omitempty"`
	// Lambda is the damping λ of the Newton step.
	Lambda float64 `json:"lambda"`
	// SpectrumEstimated is false when ‖H‖ and λ_min were skipped because
	// they cannot change Δ; LambdaMin and HessianNorm are then 0, not
	// estimates.
	SpectrumEstimated bool    `json:"spectrum_estimated"`
	LambdaMin         float64 `json:"lambda_min"`
	HessianNorm       float64 `json:"hessian_norm"`
	// Residual is the solve's full-data residual ρ, StepNorm ‖u‖.
	Residual float64 `json:"residual"`
	StepNorm float64 `json:"step_norm"`
	// ParityMaxAbs is onnxruntime's largest absolute difference from
	// lethe's engine on the probe.
	ParityMaxAbs float64 `json:"parity_max_abs_diff"`
	// HVPs counts the full-data Hessian-vector products of the update.
	HVPs int `json:"hvps"`
	// UpdateSeconds is the certified update's time (without loading and
	// release), Seconds the whole call's.
	UpdateSeconds float64 `json:"update_seconds"`
	Seconds       float64 `json:"seconds"`
	// Stages times the update's steps, in order.
	Stages []Stage `json:"stages"`

	// Certificate is the certificate written to CertPath.
	Certificate *certify.Certificate `json:"-"`
	// Released are the released parameters w′ = w̃ + Y in lethe's
	// parameter order (DESIGN.md §2, with Engine.Freeze; in the convex
	// scope every such parameter, the frozen ones unchanged), before Out
	// rounds them to the model's types.
	Released []float64 `json:"-"`
	// NoiseFree are the noise-free parameters w̃, only with
	// UnlearnRequest.KeepNoiseFree. Never store or publish them (see
	// KeepNoiseFree).
	NoiseFree []float64 `json:"-"`

	certified [][2]int // the certified coordinates of Released, as [start, end) ranges
}

// Renoised returns NoiseFree plus fresh private Gaussian noise of standard
// deviation sigma on the certified coordinates (every one in the full
// scope, the certified parameters' in the convex scope): the release the
// same update would have made with another σ, for privacy–utility curves.
// It needs UnlearnRequest.KeepNoiseFree. The result is for evaluation: it
// comes with no certificate.
func (r *UnlearnResult) Renoised(sigma float64) ([]float64, error) {
	if r.NoiseFree == nil {
		return nil, badField("KeepNoiseFree", "Renoised needs the noise-free parameters")
	}
	n, err := certify.NewPrivateNoise()
	if err != nil {
		return nil, fmt.Errorf("lethe: %w", err)
	}
	w := slices.Clone(r.NoiseFree)
	for _, c := range r.certified {
		if err := n.Add(w[c[0]:c[1]], sigma); err != nil {
			return nil, fmt.Errorf("lethe: %w", err)
		}
	}
	return w, nil
}

// Stage is how long one step of the certified update took.
type Stage struct {
	// Stage names the step (an unlearn.Stage constant), Seconds its duration.
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
}

// Validate reports the first field of the request that Unlearn would
// refuse, as an *InputError, without reading any input: missing required
// fields, values out of range, contradictory privacy settings, and outputs
// that would overwrite an input or whose folder does not exist. Unlearn
// calls it first.
func (r *UnlearnRequest) Validate() error {
	switch {
	case r.Model == "":
		return badField("Model", "no model given")
	case r.Forget.IsZero():
		return badField("Forget", "no samples to forget given")
	case r.Out == "":
		return badField("Out", "no output given")
	}
	if err := r.Data.validate("Data"); err != nil {
		return err
	}
	if err := r.Engine.validate("Engine"); err != nil {
		return err
	}
	if err := r.Objective.validate(); err != nil {
		return err
	}
	mech := r.Mechanism
	if mech == "" {
		mech = certify.DefaultMechanism
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case mech != certify.Analytic && mech != certify.Classic:
		return badField("Mechanism", "%q: want analytic or classic", mech)
	case !r.NoNoise && !(r.Delta > 0 && r.Delta < 1):
		return badField("Delta", "δ = %g: want a value in (0, 1), e.g. 1e-5", r.Delta)
	case r.NoNoise && r.Sigma != 0:
		return badField("Sigma", "NoNoise and Sigma exclude each other")
	case r.Sigma < 0 || !finite(r.Sigma):
		return badField("Sigma", "σ = %g: want σ > 0", r.Sigma)
	case !r.NoNoise && r.Sigma == 0 && !(r.Epsilon > 0 && finite(r.Epsilon)):
		return badField("Epsilon", "ε = %g: want ε > 0 (or give Sigma, or NoNoise)", r.Epsilon)
	case r.Sigma > 0 && r.Epsilon != 0:
		return badField("Epsilon", "give Epsilon or Sigma, not both: with Sigma the certificate derives ε")
	case mech == certify.Classic && r.Sigma == 0 && !r.NoNoise && r.Epsilon >= 1:
		return badField("Epsilon", "the classic Gaussian mechanism is proven only for ε < 1 (got %g); use the analytic one", r.Epsilon)
	case r.Lambda != nil && !(*r.Lambda >= 0 && finite(*r.Lambda)):
		return badField("Lambda", "λ = %g: want λ ≥ 0", *r.Lambda)
	case r.LambdaMargin < 0 || !finite(r.LambdaMargin):
		return badField("LambdaMargin", "%g: want ≥ 0", r.LambdaMargin)
	case r.HessianLipschitz < 0 || !finite(r.HessianLipschitz):
		return badField("HessianLipschitz", "M = %g: want M ≥ 0", r.HessianLipschitz)
	case r.GradTol < 0 || !finite(r.GradTol):
		return badField("GradTol", "%g: want > 0 (or 0 for the default)", r.GradTol)
	case !validScope(r.Scope):
		return badField("Scope", "%q: want auto, full or head", r.Scope)
	case r.Budget < 0 || !finite(r.Budget):
		return badField("Budget", "Δ_max = %g: want Δ_max > 0 (or 0 for the default)", r.Budget)
	case r.MaxNewtonSteps < 0:
		return badField("MaxNewtonSteps", "%d: want ≥ 1 (or 0 for the default)", r.MaxNewtonSteps)
	case r.Probe != nil && r.Probe.Size < 0:
		return badField("Probe.Size", "%d: want ≥ 1 (or 0 for the default)", r.Probe.Size)
	}
	cert := r.certPath()
	if cert == r.Out {
		return badField("Cert", "the certificate path %s equals the output model", cert)
	}
	inputs := append([]string{r.Model, r.Forget.File, r.PrevCert}, r.Data.files()...)
	if err := CheckOutput(r.Out, inputs...); err != nil {
		return err
	}
	if err := CheckOutput(cert, inputs...); err != nil {
		return &InputError{Field: "Cert", Err: err.(*InputError).Err}
	}
	return nil
}

// certPath is the certificate to write.
func (r *UnlearnRequest) certPath() string {
	if r.Cert != "" {
		return r.Cert
	}
	return CertPath(r.Out)
}

// Unlearn removes the influence of the Forget samples of Data from Model
// with the certified Newton update of DESIGN.md §1, and writes Out and its
// certificate:
//
//  1. w̃ = w* − (H + λI)⁻¹ ∇L(w*, D_r), on the retained data D_r, re-projected
//     onto the ball ‖w‖ ≤ C;
//  2. the sensitivity Δ = min(Δ_thm + ρ/(λ + λ_min), 2C) with every term
//     measured, and the theorem's premise tested;
//  3. w′ = w̃ + N(0, σ²I), σ calibrated to (ε, δ), from a cryptographically
//     seeded generator;
//  4. onnxruntime must reproduce lethe's outputs on Out on a probe batch;
//     then Out and the certificate are written atomically. Nothing is
//     written if any step fails.
//
// Errors are *InputError for bad input, *CheckError when onnxruntime
// disagrees with lethe's engine, and other errors for failures such as a
// missing onnxruntime library.
func Unlearn(ctx context.Context, req UnlearnRequest) (*UnlearnResult, error) {
	started := time.Now()
	if err := req.Validate(); err != nil {
		return nil, err
	}
	rep := newReporter(req.Progress)
	m, obj, plan, err := planScope(req.Model, req.Objective, req.Scope, req.Engine.Freeze, req.Out, req.certPath())
	if err != nil {
		return nil, err
	}
	rep.info(plan.reason)
	if plan.convex {
		if err := req.fullScopeOnly(); err != nil {
			return nil, err
		}
		return req.unlearnConvex(ctx, rep, m, obj, plan, started)
	}
	if err := obj.requireRadius(req.Model); err != nil {
		return nil, err
	}
	prog, err := compileModel(m, req.Model, req.Engine)
	if err != nil {
		return nil, err
	}
	ws, err := withData(m, prog, req.Model, req.Data, "Data")
	if err != nil {
		return nil, err
	}
	defer ws.close()
	if err := ws.checkData("Data", obj.loss); err != nil {
		return nil, err
	}
	prev, forget, err := req.prepare(rep, ws)
	if err != nil {
		return nil, err
	}
	u := req.update(ws, forget, obj)
	if req.Lambda == nil && plan.stronglyConvex {
		u.newton.ZeroLambda, u.zeroByProof = true, true
	}
	st := rep.start("certified update", 0)
	if u.newton.Solver == nil && req.Progress != nil {
		u.newton.Solver = &unlearn.CG{} // the default solve, with progress
	}
	if cg, ok := u.newton.Solver.(*unlearn.CG); ok && cg.Progress == nil && req.Progress != nil {
		cg.Progress = func(p unlearn.SolveProgress) {
			st.progress(p.Iter, fmt.Sprintf("conjugate gradient iteration %d (relative residual %.2g)", p.Iter, p.RelResidual))
		}
	}
	out, err := certifiedUpdate(ctx, u, st)
	if err != nil {
		return nil, err
	}
	st.done(fmt.Sprintf("step ‖u‖ = %.4g, residual ρ = %.3g", out.newton.StepNorm, out.newton.Solve.Residual))
	cert, err := req.certificate(ws, forget, u.noise.mechanism, out.noise, out.bound, obj, prev, started)
	if err != nil {
		return nil, err
	}
	cert.Scope = certify.ScopeFull
	res, err := req.release(rep, &releaseRequest{
		model: ws.model, params: ws.prog.Params(), weights: out.released, sample: ws.data.SampleShape(), obj: obj, cert: cert,
	})
	if err != nil {
		return nil, err
	}
	r := req.result(ws, forget, cert, plan, res, started)
	r.CertifiedParameters = len(out.released)
	r.Lambda, r.SpectrumEstimated = out.newton.Lambda, cert.Bound.LambdaMinMethod != certify.LambdaMinUnneeded
	r.LambdaMin, r.HessianNorm = out.newton.LambdaMin.Value, out.newton.HessianNorm.Value
	r.Residual, r.StepNorm, r.HVPs = out.newton.Solve.Residual, out.newton.StepNorm, out.newton.HVPs
	r.UpdateSeconds, r.Stages, r.Released = out.elapsed.Seconds(), out.stages, out.released
	r.certified = [][2]int{{0, len(out.released)}}
	if req.KeepNoiseFree {
		r.NoiseFree = out.clean
	}
	return r, nil
}

// fullScopeOnly refuses, in a request that resolved to the convex scope,
// the options of the full scope's damped Newton step, which the convex
// scope's undamped steps to the budget would ignore.
func (r *UnlearnRequest) fullScopeOnly() error {
	_, lissa := r.Solver.(*unlearn.LiSSA)
	for _, o := range []struct {
		field string
		set   bool
	}{
		{"Lambda", r.Lambda != nil}, {"Solver", lissa}, {"NoProject", r.NoProject},
		{"EstimateSpectrum", r.EstimateSpectrum}, {"HessianLipschitz", r.HessianLipschitz != 0},
	} {
		if o.set {
			return badField(o.field, "applies to the full scope only; %s resolved to the convex scope (give Scope full to use it)", r.Model)
		}
	}
	return nil
}

// prepare reads what both scopes need before the update: the previous
// certificate of a chained request, the forget set, onnxruntime for the
// parity check, and the seeded-noise warning.
func (r *UnlearnRequest) prepare(rep *reporter, ws *workspace) (*certify.Certificate, *dataset.ForgetSet, error) {
	prev, err := previousCertificate(ws.model, r.Model, r.PrevCert)
	if err != nil {
		return nil, nil, err
	}
	forget, err := r.Forget.resolve("Forget", ws.data)
	if err != nil {
		return nil, nil, err
	}
	if err := ort.Init(); err != nil {
		return nil, nil, fmt.Errorf("lethe: unlearn: the parity check needs onnxruntime: %w", err)
	}
	if r.Seed != nil {
		rep.warn(certify.SeedWarning)
	}
	return prev, forget, nil
}

// probe is the parity probe, defaults applied.
func (r *UnlearnRequest) probe() Probe {
	p := defaultProbe
	if r.Probe != nil {
		p = *r.Probe
		if p.Size == 0 {
			p.Size = defaultProbe.Size
		}
	}
	return p
}

// release runs the parity check and writes Out and the certificate.
func (r *UnlearnRequest) release(rep *reporter, rr *releaseRequest) (*parity.Result, error) {
	rr.outPath, rr.certPath, rr.probe, rr.signKey = r.Out, r.certPath(), r.probe(), r.SignKey
	st := rep.start("parity check and release of "+r.Out, 0)
	res, err := release(rr)
	if err != nil {
		return nil, err
	}
	st.done(rr.cert.Status)
	return res, nil
}

// result fills what both scopes report.
func (r *UnlearnRequest) result(ws *workspace, forget *dataset.ForgetSet, cert *certify.Certificate, plan *scopePlan, res *parity.Result, started time.Time) *UnlearnResult {
	return &UnlearnResult{
		Model: r.Model, Out: r.Out, CertPath: r.certPath(), Certified: cert.Certified, Status: cert.Status,
		Scope: string(cert.Scope), ScopeReason: plan.reason,
		N: ws.data.Len(), NForget: len(forget.Indices),
		Epsilon: cert.Epsilon, Delta: cert.Delta, Mechanism: string(cert.Mechanism), Sigma: cert.Sigma,
		Sensitivity: cert.Bound.Sensitivity, ActiveBound: string(cert.Bound.Active), Budget: cert.Bound.Budget,
		ParityMaxAbs: res.MaxAbs, Seconds: time.Since(started).Seconds(), Certificate: cert,
	}
}

// unlearnConvex is Unlearn in the convex scope (DESIGN.md §1): σ from the
// budget first, then the features, the Newton steps to the budget on the
// certified parameters, and the release.
func (r *UnlearnRequest) unlearnConvex(ctx context.Context, rep *reporter, m *onnxio.Model, obj objective, plan *scopePlan, started time.Time) (*UnlearnResult, error) {
	ws, err := withData(m, nil, r.Model, r.Data, "Data")
	if err != nil {
		return nil, err
	}
	defer ws.close()
	if err := requireLabels(ws.data, ws.name, "Data"); err != nil {
		return nil, err
	}
	prev, forget, err := r.prepare(rep, ws)
	if err != nil {
		return nil, err
	}
	budget := r.Budget
	if budget == 0 {
		budget = DefaultBudget
	}
	// σ depends on (ε, δ) and the budget alone: it is settled before any
	// number is computed from the data.
	noiseReq := r.noiseRequest()
	noise, err := drawNoise(noiseReq, certify.Bound{Sensitivity: budget}, false)
	if err != nil {
		return nil, err
	}
	feats, h, err := convexInputs(ctx, rep, m, r.Model, ws, plan, r.Engine, obj.loss)
	if err != nil {
		return nil, err
	}
	maxSteps := r.MaxNewtonSteps
	if maxSteps == 0 {
		maxSteps = DefaultMaxNewtonSteps
	}
	job := &convexJob{model: m, path: r.Model, plan: plan, feats: feats, head: h, forget: forget, obj: obj,
		eval: r.Engine.evalOptions(obj.loss), budget: budget, maxSteps: maxSteps, noise: noise, seed: r.Seed}
	st := rep.start("certified update (convex scope)", maxSteps)
	out, err := convexUpdate(ctx, job, st)
	if err != nil {
		return nil, err
	}
	st.done(fmt.Sprintf("%d Newton step(s) from %s, bound %.3g ≤ budget %.3g", out.steps, out.start, out.bound.Posterior.Value, budget))
	cert, err := r.certificate(ws, forget, noiseReq.mechanism, noise, out.bound, obj, prev, started)
	if err != nil {
		return nil, err
	}
	r.convexFields(cert, plan, feats, out, obj)
	rr := &releaseRequest{model: m, params: out.certified, weights: out.released, sample: ws.data.SampleShape(), obj: obj, cert: cert}
	if feats.engine == certify.FeaturesOnnxruntime {
		rr.split = &split{cut: feats.tensor, output: plan.proof.Output}
	}
	res, err := r.release(rep, rr)
	if err != nil {
		return nil, err
	}
	result := r.result(ws, forget, cert, plan, res, started)
	result.CertifiedParameters = len(out.w0)
	result.PosteriorBound, result.NewtonSteps, result.Start = out.bound.Posterior.Value, out.steps, string(out.start)
	result.FeatureEngine, result.Residual, result.StepNorm = feats.engine, out.bound.Solver.Residual, unlearn.Distance(out.clean, out.w0)
	result.HVPs, result.UpdateSeconds, result.Stages = out.hvps, out.elapsed.Seconds(), out.stages
	if result.Released, result.certified, err = fullVector(m, r.Engine.Freeze, out.certified, out.released); err != nil {
		return nil, err
	}
	if r.KeepNoiseFree {
		if result.NoiseFree, _, err = fullVector(m, r.Engine.Freeze, out.certified, out.clean); err != nil {
			return nil, err
		}
	}
	return result, nil
}

// fullVector returns m's trainable parameters (DESIGN.md §2 with the Freeze
// patterns freeze) with the certified ones ps replaced by w, the vector an
// Evaluator of the model measures, and the ranges the certified ones occupy.
func fullVector(m *onnxio.Model, freeze []string, ps []onnxio.Param, w []float64) ([]float64, [][2]int, error) {
	all, err := m.Params(onnxio.ParamOptions{Freeze: freeze})
	if err != nil {
		return nil, nil, badInput("Engine.Freeze", err)
	}
	full, err := m.ParamVector(all)
	if err != nil {
		return nil, nil, badInput("Model", err)
	}
	var ranges [][2]int
	for _, p := range ps {
		for _, q := range all {
			if q.Name == p.Name {
				copy(full[q.Offset:q.Offset+q.Size], w[p.Offset:p.Offset+p.Size])
				ranges = append(ranges, [2]int{q.Offset, q.Offset + q.Size})
			}
		}
	}
	return full, ranges, nil
}

// update turns the request into the certified update's inputs.
func (r *UnlearnRequest) update(ws *workspace, forget *dataset.ForgetSet, obj objective) *update {
	mech := r.Mechanism
	if mech == "" {
		mech = certify.DefaultMechanism
	}
	eval := r.Engine.evalOptions(obj.loss)
	opts := unlearn.NewtonOptions{
		Margin: r.LambdaMargin, NoProject: r.NoProject, M: r.HessianLipschitz,
		Lipschitz: r.Lipschitz, Lanczos: r.Spectral,
	}
	switch {
	case r.Lambda == nil:
	case *r.Lambda == 0:
		opts.ZeroLambda = true
	default:
		opts.Lambda = *r.Lambda
	}
	switch s := r.Solver.(type) {
	case nil: // unlearn's default: conjugate gradient to a 1 % accurate step
	case *unlearn.CG:
		c := *s
		opts.Solver = &c
	case *unlearn.LiSSA:
		l := *s
		if l.Workers == 0 {
			l.Workers = eval.Threads
		}
		opts.Solver = &l
	default:
		opts.Solver = s
	}
	gradTol := r.GradTol
	if gradTol == 0 {
		gradTol = certify.DefaultGradTol
	}
	budget := r.Budget
	if budget == 0 {
		budget = 2 * obj.radius // the trivial bound: data-independent
	}
	return &update{
		ws: ws, forget: forget, obj: obj, eval: eval, gradTol: gradTol, budget: budget, newton: opts,
		estimateSpectrum: r.EstimateSpectrum,
		noise:            r.noiseRequest(),
	}
}

// noiseRequest says how σ is chosen and where the noise comes from.
func (r *UnlearnRequest) noiseRequest() noiseRequest {
	mech := r.Mechanism
	if mech == "" {
		mech = certify.DefaultMechanism
	}
	return noiseRequest{mechanism: mech, epsilon: r.Epsilon, delta: r.Delta, sigma: r.Sigma, none: r.NoNoise, seed: r.Seed}
}
