package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio/ort"
	"github.com/lethe-ml/lethe/unlearn"
)

// unlearnOptions are the inputs of `lethe unlearn`.
type unlearnOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags
	data   dataFlags

	Model    string
	Forget   string
	Out      string
	Cert     string
	PrevCert string

	Epsilon   float64
	Delta     float64
	Mechanism string
	Sigma     float64
	NoNoise   bool
	Seed      int64 // < 0: private noise
	SignKey   string

	Radius           float64
	Lambda           float64
	LambdaMargin     float64
	Solver           string
	CGTol            float64
	CGMaxIter        int
	LiSSADepth       int
	LiSSARepetitions int
	LiSSABatch       int
	LiSSAScale       float64
	HessianLipschitz float64
	LipschitzPairs   int
	SpectralIters    int
	SpectralTol      float64
	EstimateSpectrum bool
	NoProject        bool
	GradTol          float64
	ProbeSeed        uint64
	ProbeSize        int

	l2Set, lossSet bool
}

func newUnlearnCmd(streams *ioStreams, global *globalOptions, runF func(*unlearnOptions) error) *cobra.Command {
	o := &unlearnOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "unlearn MODEL --data F --forget SPEC --epsilon E --delta D -o OUT",
		Short: "Remove training samples with a certified Newton update",
		Long: `unlearn removes the influence of the --forget samples of the training data
--data from MODEL, a constrained optimum of the training loss in the ball
‖w‖ ≤ C (see lethe constrain), and writes OUT plus OUT's certificate
(OUT with .cert.json in place of .onnx):

  1. w̃ = w* − (H + λI)⁻¹ ∇L(w*, D_r), on the retained data D_r, with λ chosen
     so that H + λI is positive definite (or --lambda), solved by conjugate
     gradient (default) or LiSSA, then re-projected onto the ball;
  2. the sensitivity Δ = min(Δ_thm + ρ/(λ + λ_min), 2C) with every term
     measured, and the theorem's premise (an interior stationary point) tested;
  3. w' = w̃ + N(0, σ²I) with σ calibrated to (ε, δ) by the analytic Gaussian
     mechanism (default) or the classic one (ε < 1 only), from a
     cryptographically seeded generator;
  4. onnxruntime parity of OUT against lethe's engine on a probe batch, then OUT
     and the certificate (atomically; nothing is written if a step fails).

The certificate states every assumption and estimate the guarantee rests on;
check it later with lethe verify. A model that lethe unlearned before is
unlearned again by chaining: its certificate (found beside it or given with
--prev-cert) is recorded as the previous one.

--sigma fixes σ and reports the ε it implies; --no-noise skips the noise (the
model is then NOT certified, for evaluation only); --seed makes the noise
reproducible for tests (NOT private, NOT certified).`,
		Example: `  lethe unlearn mlp.onnx --data mnist:train --forget forget.txt --epsilon 1 --delta 1e-5 -o mlp-unlearned.onnx
  lethe unlearn mlp.onnx --data train.npz --forget forget.npy --epsilon 0.5 --delta 1e-6 \
      --solver lissa --radius 20 --l2 1e-4 --sign-key lethe.key -o out.onnx`,
		Args: exactArgs(1, "one MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			o.l2Set, o.lossSet = cmd.Flags().Changed("l2"), cmd.Flags().Changed("loss")
			if err := o.Validate(cmd.Flags().Changed("epsilon")); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runUnlearn(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.engine.register(f)
	o.data.register(f)
	f.StringVar(&o.Forget, "forget", "", "samples to forget: a text file of indices, an .npy of indices, or an .npz with the samples (required)")
	f.StringVarP(&o.Out, "out", "o", "", "output model (required); the certificate goes beside it")
	f.StringVar(&o.Cert, "cert", "", "certificate path (default: OUT with .cert.json in place of .onnx)")
	f.StringVar(&o.PrevCert, "prev-cert", "", "certificate of MODEL when MODEL is itself an unlearned model (default: beside MODEL)")
	f.Float64Var(&o.Epsilon, "epsilon", 0, "ε of the (ε, δ) guarantee (required unless --sigma or --no-noise)")
	f.Float64Var(&o.Delta, "delta", 0, "δ of the (ε, δ) guarantee, in (0, 1) (required)")
	f.StringVar(&o.Mechanism, "mechanism", "analytic", "Gaussian mechanism: analytic (any ε > 0) or classic (ε < 1)")
	f.Float64Var(&o.Sigma, "sigma", 0, "fixed noise σ; the certificate reports the ε it implies")
	f.BoolVar(&o.NoNoise, "no-noise", false, "add no noise (evaluation only: the certificate says NOT certified)")
	f.Int64Var(&o.Seed, "seed", -1, "seed the noise (tests only: NOT private, NOT certified)")
	f.StringVar(&o.SignKey, "sign-key", "", "Ed25519 private key (PEM) to sign the certificate with (see lethe keygen)")
	f.Float64Var(&o.Radius, "radius", 0, "ball radius C (default: the model's lethe.radius metadata from lethe constrain)")
	f.Float64Var(&o.Lambda, "lambda", 0, "damping λ (default: the smallest λ keeping H + λI safely positive definite)")
	f.Float64Var(&o.LambdaMargin, "lambda-margin", 0.01, "margin of the automatic λ, relative to ‖H‖")
	f.StringVar(&o.Solver, "solver", "cg", "inverse-HVP solver: cg (deterministic, full data) or lissa (stochastic)")
	f.Float64Var(&o.CGTol, "cg-tol", 1e-6, "conjugate gradient: relative residual to reach")
	f.IntVar(&o.CGMaxIter, "cg-max-iter", 200, "conjugate gradient: maximum iterations")
	f.IntVar(&o.LiSSADepth, "lissa-depth", 1000, "LiSSA: recursion depth t")
	f.IntVar(&o.LiSSARepetitions, "lissa-repetitions", 10, "LiSSA: independent repetitions r, run --threads at a time")
	f.IntVar(&o.LiSSABatch, "lissa-batch", 10, "LiSSA: mini-batch size")
	f.Float64Var(&o.LiSSAScale, "lissa-scale", 0, "LiSSA: scale s ≥ ‖H + λI‖ (default: 2(‖H‖ + λ) from power iteration)")
	f.Float64Var(&o.HessianLipschitz, "hessian-lipschitz", 0, "declared Hessian-Lipschitz constant M (default: estimated, and stated as an estimate)")
	f.IntVar(&o.LipschitzPairs, "lipschitz-pairs", 8, "pairs of points for the M estimate")
	f.IntVar(&o.SpectralIters, "spectral-iters", 100, "maximum iterations (full-data HVPs) of the ‖H‖ and λ_min estimates")
	f.Float64Var(&o.SpectralTol, "spectral-tol", 1e-6, "relative residual at which the ‖H‖ and λ_min estimates stop")
	f.BoolVar(&o.EstimateSpectrum, "estimate-spectrum", false, "estimate ‖H‖ and λ_min even when they cannot change Δ (premise failed, --lambda given)")
	f.BoolVar(&o.NoProject, "no-project", false, "do not re-project w̃ onto the ball (drops the 2C bound)")
	f.Float64Var(&o.GradTol, "grad-tol", certify.DefaultGradTol, "‖∇L(w*, D)‖ below which w* counts as a stationary point")
	f.Uint64Var(&o.ProbeSeed, "probe-seed", 1, "seed of the parity probe batch")
	f.IntVar(&o.ProbeSize, "probe-size", 8, "samples in the parity probe batch")
	return cmd
}

// Validate checks the flags before any work.
func (o *unlearnOptions) Validate(epsilonSet bool) error {
	if err := o.engine.validate("unlearn"); err != nil {
		return err
	}
	if err := o.data.validate("unlearn"); err != nil {
		return err
	}
	mech, err := certify.ParseMechanism(o.Mechanism)
	switch {
	case o.Forget == "":
		return usageErrorf("unlearn: --forget is required")
	case o.Out == "":
		return usageErrorf("unlearn: -o/--out is required")
	case err != nil:
		return usageErrorf("unlearn: --mechanism %q: want analytic or classic", o.Mechanism)
	case !(o.Delta > 0 && o.Delta < 1):
		return usageErrorf("unlearn: --delta %g: want a value in (0, 1), e.g. 1e-5", o.Delta)
	case o.NoNoise && o.Sigma != 0:
		return usageErrorf("unlearn: --no-noise and --sigma exclude each other")
	case o.Sigma < 0 || math.IsNaN(o.Sigma):
		return usageErrorf("unlearn: --sigma %g: want σ > 0", o.Sigma)
	case o.Sigma == 0 && !o.NoNoise && !(o.Epsilon > 0):
		return usageErrorf("unlearn: --epsilon is required and must be > 0 (or give --sigma)")
	case epsilonSet && o.Sigma > 0:
		return usageErrorf("unlearn: give --epsilon or --sigma, not both: with --sigma the certificate derives ε")
	case mech == certify.Classic && o.Sigma == 0 && o.Epsilon >= 1:
		return usageErrorf("unlearn: the classic Gaussian mechanism is proven only for ε < 1 (got --epsilon %g); use --mechanism analytic", o.Epsilon)
	case o.Radius < 0:
		return usageErrorf("unlearn: --radius %g: want C > 0", o.Radius)
	case o.Lambda < 0:
		return usageErrorf("unlearn: --lambda %g: want λ ≥ 0", o.Lambda)
	case o.Solver != "cg" && o.Solver != "lissa":
		return usageErrorf("unlearn: --solver %q: want cg or lissa", o.Solver)
	case o.CGTol <= 0 || o.CGMaxIter < 1:
		return usageErrorf("unlearn: --cg-tol must be > 0 and --cg-max-iter ≥ 1")
	case o.LiSSADepth < 1 || o.LiSSARepetitions < 1 || o.LiSSABatch < 1 || o.LiSSAScale < 0:
		return usageErrorf("unlearn: --lissa-depth, --lissa-repetitions and --lissa-batch must be ≥ 1, --lissa-scale ≥ 0")
	case o.HessianLipschitz < 0 || o.LipschitzPairs < 1:
		return usageErrorf("unlearn: --hessian-lipschitz must be ≥ 0 and --lipschitz-pairs ≥ 1")
	case o.SpectralIters < 1 || !(o.SpectralTol > 0):
		return usageErrorf("unlearn: --spectral-iters must be ≥ 1 and --spectral-tol > 0")
	case o.GradTol <= 0:
		return usageErrorf("unlearn: --grad-tol %g: want > 0", o.GradTol)
	case o.ProbeSize < 1:
		return usageErrorf("unlearn: --probe-size %d: want ≥ 1", o.ProbeSize)
	}
	if o.Cert == "" {
		o.Cert = certPathFor(o.Out)
	}
	if o.Cert == o.Out {
		return usageErrorf("unlearn: the certificate path %s equals the output model", o.Cert)
	}
	inputs := append([]string{o.Model, o.Forget, o.SignKey, o.PrevCert}, o.data.paths()...)
	if err := checkOutput(o.Out, inputs...); err != nil {
		return err
	}
	return checkOutput(o.Cert, inputs...)
}

// unlearnSummary is the --json output of unlearn.
type unlearnSummary struct {
	Model       string  `json:"model"`
	Out         string  `json:"out"`
	Certificate string  `json:"certificate"`
	Certified   bool    `json:"certified"`
	Status      string  `json:"status"`
	N           int     `json:"n"`
	NForget     int     `json:"n_forget"`
	Epsilon     float64 `json:"epsilon"`
	Delta       float64 `json:"delta"`
	Mechanism   string  `json:"mechanism"`
	Sigma       float64 `json:"sigma"`
	Sensitivity float64 `json:"sensitivity"`
	ActiveBound string  `json:"active_bound"`
	Lambda      float64 `json:"lambda"`
	// SpectrumEstimated is false when ‖H‖ and λ_min were skipped because they
	// cannot change Δ; LambdaMin and HessianNorm are then 0, not estimates.
	SpectrumEstimated bool        `json:"spectrum_estimated"`
	LambdaMin         float64     `json:"lambda_min"`
	HessianNorm       float64     `json:"hessian_norm"`
	Residual          float64     `json:"residual"`
	StepNorm          float64     `json:"step_norm"`
	ParityMaxAbs      float64     `json:"parity_max_abs_diff"`
	Seconds           float64     `json:"seconds"`
	Stages            []stageTime `json:"stages"`
}

func runUnlearn(ctx context.Context, o *unlearnOptions) error {
	started := time.Now()
	ws, err := loadWorkspace(o.Model, &o.engine, &o.data, o.Out)
	if err != nil {
		return err
	}
	defer ws.close()
	if err := trainingDefaults("unlearn", o.Model, ws, &o.Radius, &o.engine, o.l2Set, o.lossSet); err != nil {
		return err
	}
	var key ed25519.PrivateKey
	if o.SignKey != "" {
		if key, err = certify.LoadPrivateKey(o.SignKey); err != nil {
			return badInput(err)
		}
	}
	prev, err := previousCertificate(ws.model, o.Model, o.PrevCert)
	if err != nil {
		return err
	}
	forget, err := dataset.ParseForget(o.Forget, ws.data)
	if err != nil {
		return badInput(err)
	}
	if err := ort.Init(); err != nil {
		return failed(fmt.Errorf("unlearn: the parity check needs onnxruntime: %w", err))
	}
	if o.Seed >= 0 {
		fmt.Fprintln(o.io.Err, "lethe: "+certify.SeedWarning)
	}
	req := o.request(ws, forget)
	p := o.global.progress(o.io, "certified update", 0)
	out, err := certifiedUpdate(ctx, req, func(stage string) { o.global.logf(o.io, "  %s", stage) })
	if err != nil {
		return err
	}
	p.done(fmt.Sprintf("step ‖u‖ = %.4g, residual ρ = %.3g", out.newton.StepNorm, out.newton.Solve.Residual))
	cert, err := o.certificate(ws, forget, req, out, prev, started)
	if err != nil {
		return err
	}
	res, err := release(&releaseRequest{
		model: ws.model, params: ws.prog.Params(), weights: out.released, sample: ws.data.SampleShape(),
		metadata: map[string]string{metaRadius: formatFloat(req.radius), metaL2: formatFloat(req.l2), metaLoss: o.engine.Loss},
		outPath:  o.Out, certPath: o.Cert, cert: cert,
		probe: probeSpec{seed: o.ProbeSeed, n: o.ProbeSize}, signKey: key,
	})
	if err != nil {
		return err
	}
	s := unlearnSummary{
		Model: o.Model, Out: o.Out, Certificate: o.Cert, Certified: cert.Certified, Status: cert.Status,
		N: ws.data.Len(), NForget: len(forget.Indices),
		Epsilon: cert.Epsilon, Delta: cert.Delta, Mechanism: string(cert.Mechanism), Sigma: cert.Sigma,
		Sensitivity: cert.Bound.Sensitivity, ActiveBound: string(cert.Bound.Active),
		Lambda: out.newton.Lambda, SpectrumEstimated: cert.Bound.LambdaMinMethod != certify.LambdaMinUnneeded,
		LambdaMin: out.newton.LambdaMin.Value, HessianNorm: out.newton.HessianNorm.Value,
		Residual: out.newton.Solve.Residual, StepNorm: out.newton.StepNorm, ParityMaxAbs: res.MaxAbs,
		Seconds: time.Since(started).Seconds(), Stages: out.stages,
	}
	if o.global.JSON {
		return o.io.writeJSON(s)
	}
	printUnlearnSummary(o.io, s, cert)
	return nil
}

// request turns the flags into an update request.
func (o *unlearnOptions) request(ws *workspace, forget *dataset.ForgetSet) *updateRequest {
	mech, _ := certify.ParseMechanism(o.Mechanism)
	var solver unlearn.Solver = &unlearn.CG{Tol: o.CGTol, MaxIter: o.CGMaxIter}
	if o.Solver == "lissa" {
		solver = &unlearn.LiSSA{Depth: o.LiSSADepth, Repetitions: o.LiSSARepetitions, BatchSize: o.LiSSABatch, Scale: o.LiSSAScale,
			Seed: uint64(time.Now().UnixNano()), Workers: ws.eval.Threads}
	}
	req := &updateRequest{
		ws: ws, forget: forget, radius: o.Radius, l2: o.engine.L2, gradTol: o.GradTol, estimateSpectrum: o.EstimateSpectrum,
		newton: unlearn.NewtonOptions{
			Lambda: o.Lambda, Margin: o.LambdaMargin, Solver: solver, NoProject: o.NoProject,
			M: o.HessianLipschitz, Lipschitz: unlearn.LipschitzOptions{Pairs: o.LipschitzPairs},
			Power:   unlearn.SpectralOptions{MaxIter: o.SpectralIters, Tol: o.SpectralTol},
			Lanczos: unlearn.SpectralOptions{MaxIter: o.SpectralIters, Tol: o.SpectralTol},
		},
		noise: noiseRequest{mechanism: mech, epsilon: o.Epsilon, delta: o.Delta, sigma: o.Sigma, none: o.NoNoise},
	}
	if o.Seed >= 0 {
		s := uint64(o.Seed)
		req.noise.seed = &s
	}
	return req
}

// certificate fills everything but the output file, parity and assumptions.
func (o *unlearnOptions) certificate(ws *workspace, forget *dataset.ForgetSet, req *updateRequest, out *updateOutcome, prev *certify.Certificate, started time.Time) (*certify.Certificate, error) {
	inSHA, err := certify.FileSHA256(o.Model)
	if err != nil {
		return nil, badInput(err)
	}
	// Indices get certify's canonical digest, so an auditor can recompute it
	// from the index list alone; samples keep the dataset's digest, which
	// also covers the samples' bytes.
	kind, digest := certify.ForgetIndices, certify.DigestIndices(forget.Indices)
	if forget.Kind == dataset.KindSamples {
		kind, digest = certify.ForgetSamples, forget.Digest
	}
	c := &certify.Certificate{
		Schema:       certify.SchemaVersion,
		Tool:         certify.Tool{Name: "lethe", Version: version},
		Input:        certify.FileRef{Path: o.Model, SHA256: inSHA},
		Forget:       certify.Forget{Digest: digest, Kind: kind, N: ws.data.Len(), NForget: len(forget.Indices)},
		Epsilon:      out.noise.epsilon,
		Delta:        o.Delta,
		Mechanism:    req.noise.mechanism,
		Sigma:        out.noise.sigma,
		SigmaMode:    out.noise.mode,
		NoisePrivate: out.noise.private,
		NoiseSource:  out.noise.source,
		NoiseSeed:    out.noise.seed,
		Certified:    out.noise.certified,
		Status:       out.noise.status,
		Bound:        out.bound,
		L2:           req.l2,
		Loss:         o.engine.Loss,
		Cumulative:   certify.Cumulative{Requests: 1, NForget: len(forget.Indices)},
		StartedAt:    certify.Timestamp(started),
	}
	if prev != nil {
		d, err := prev.Digest()
		if err != nil {
			return nil, badInput(err)
		}
		c.PreviousCertificate = d
		c.Cumulative = certify.Cumulative{Requests: prev.Cumulative.Requests + 1, NForget: prev.Cumulative.NForget + len(forget.Indices)}
	}
	return c, nil
}

func printUnlearnSummary(s *ioStreams, u unlearnSummary, c *certify.Certificate) {
	w := s.Out
	fmt.Fprintf(w, "%s → %s\n", u.Model, u.Out)
	fmt.Fprintf(w, "  status       %s\n", u.Status)
	fmt.Fprintf(w, "  forgotten    %d of %d samples\n", u.NForget, u.N)
	fmt.Fprintf(w, "  guarantee    (ε, δ) = (%.4g, %.3g), %s Gaussian mechanism, σ = %.6g\n", u.Epsilon, u.Delta, u.Mechanism, u.Sigma)
	fmt.Fprintf(w, "  sensitivity  Δ = %.6g (%s bound; Δ_thm %.4g + ρ-term %.3g, trivial 2C = %.4g)\n",
		u.Sensitivity, u.ActiveBound, c.Bound.Theorem, c.Bound.Residual, c.Bound.Trivial)
	fmt.Fprintf(w, "  premise      %s\n", c.Bound.Premise)
	spectrum := fmt.Sprintf("λ_min ≈ %.4g, ‖H‖ ≈ %.4g", u.LambdaMin, u.HessianNorm)
	if !u.SpectrumEstimated {
		spectrum = "λ_min and ‖H‖ " + certify.LambdaMinUnneeded
	}
	fmt.Fprintf(w, "  Newton step  λ = %.4g, %s, ‖u‖ = %.4g, ρ = %.3g\n", u.Lambda, spectrum, u.StepNorm, u.Residual)
	fmt.Fprintf(w, "  parity       onnxruntime %s agrees within tolerance: max |Δ| = %.3g, max relative %.3g\n",
		c.Parity.OnnxruntimeVersion, u.ParityMaxAbs, c.Parity.MaxRelDiff)
	fmt.Fprintf(w, "  certificate  %s\n", u.Certificate)
	fmt.Fprintf(w, "  time         %.2fs\n", u.Seconds)
}
