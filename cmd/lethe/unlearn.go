package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/certify"
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

	Scope            string
	Budget           float64
	MaxNewtonSteps   int
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

	l2Set, lossSet, epsilonSet, lambdaSet bool
}

func newUnlearnCmd(streams *ioStreams, global *globalOptions, runF func(*unlearnOptions) error) *cobra.Command {
	o := &unlearnOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "unlearn MODEL --data F --forget SPEC --epsilon E --delta D -o OUT",
		Short: "Remove training samples with a certified Newton update",
		Long: `unlearn removes the influence of the --forget samples of the training data
--data from MODEL and writes OUT plus OUT's certificate (OUT with .cert.json in
place of .onnx). The noise is calibrated to (ε, δ) and a sensitivity budget
Δ_max fixed before any number is computed from the data; what is computed from
the data only proves that the budget holds.

--scope chooses what is certified (default auto):

  head    the last affine layer, everything else frozen; the backbone's
          features are computed once (by onnxruntime where lethe's engine
          lacks one of its operators). The retained objective is μ-strongly
          convex in the head (--l2 μ > 0): Newton steps (λ = 0) from MODEL
          until the a-posteriori bound ‖w̃ − w̃*‖ ≤ (‖∇L_r(w̃)‖ + rounding
          margin)/μ is at most --budget (default 1e-4), else retraining the
          head from zeros until it is. σ is small: the model keeps its
          accuracy. The guarantee is relative to retraining the head with the
          backbone fixed; it covers the forget set only if the backbone never
          saw it.
  full    every trainable parameter of MODEL, a constrained optimum in the
          ball ‖w‖ ≤ C (see lethe constrain): w̃ = w* − (H + λI)⁻¹ ∇L(w*, D_r),
          λ keeping H + λI positive definite (or --lambda, 0 included), by
          conjugate gradient or LiSSA, re-projected onto the ball; the budget
          is 2C (the trivial bound). On deep networks that noise makes the
          model useless, and the summary says so.
  auto    the convex scope (as head, for every parameter after --freeze)
          when the convexity pass proves it, else full; the summary says why.

Then onnxruntime must reproduce lethe's outputs on OUT on a probe batch, and
OUT and the certificate are written atomically (nothing is written if a step
fails). The certificate states every assumption and estimate the guarantee
rests on; check it later with lethe verify. A model that lethe unlearned before
is unlearned again by chaining: its certificate (found beside it or given with
--prev-cert) is recorded as the previous one.

--sigma fixes σ and reports the ε it implies; --no-noise skips the noise (the
model is then NOT certified, for evaluation only; no --epsilon or --delta is
needed); --seed makes the noise reproducible for tests (NOT private, NOT
certified).`,
		Example: `  lethe unlearn models/mnist_head.onnx --data private.npz --forget forget.txt --epsilon 1 --delta 1e-5 -o head-unlearned.onnx
  lethe unlearn mlp.onnx --data mnist:train --forget forget.txt --scope head --epsilon 1 --delta 1e-5 -o out.onnx
  lethe unlearn mlp.onnx --data mnist:train --forget forget.txt --scope full --epsilon 1 --delta 1e-5 -o mlp-unlearned.onnx
  lethe unlearn mlp.onnx --data train.npz --forget forget.npy --epsilon 0.5 --delta 1e-6 \
      --solver lissa --radius 20 --l2 1e-4 --sign-key lethe.key -o out.onnx`,
		Args: exactArgs(1, "one MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			changed := cmd.Flags().Changed
			o.l2Set, o.lossSet, o.epsilonSet, o.lambdaSet = changed("l2"), changed("loss"), changed("epsilon"), changed("lambda")
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return o.Run(cmd.Context())
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
	f.Float64Var(&o.Delta, "delta", 0, "δ of the (ε, δ) guarantee, in (0, 1) (required unless --no-noise)")
	f.StringVar(&o.Mechanism, "mechanism", "analytic", "Gaussian mechanism: analytic (any ε > 0) or classic (ε < 1)")
	f.Float64Var(&o.Sigma, "sigma", 0, "fixed noise σ; the certificate reports the ε it implies")
	f.BoolVar(&o.NoNoise, "no-noise", false, "add no noise (evaluation only: the certificate says NOT certified)")
	f.Int64Var(&o.Seed, "seed", -1, "seed the noise (tests only: NOT private, NOT certified)")
	f.StringVar(&o.SignKey, "sign-key", "", "Ed25519 private key (PEM) to sign the certificate with (see lethe keygen)")
	f.StringVar(&o.Scope, "scope", "auto", "what is certified: auto, convex-proven parameters or else full; head (the last affine layer); full (every parameter)")
	f.Float64Var(&o.Budget, "budget", 0, "sensitivity budget Δ_max that σ is calibrated to (default: 1e-4 in the convex scope, 2C in the full scope)")
	f.IntVar(&o.MaxNewtonSteps, "max-newton-steps", lethe.DefaultMaxNewtonSteps, "convex scope: Newton steps from MODEL before retraining the certified parameters from zeros")
	f.Float64Var(&o.Radius, "radius", 0, "ball radius C of the full scope (default: the model's lethe.radius metadata from lethe constrain)")
	f.Float64Var(&o.Lambda, "lambda", 0, "damping λ ≥ 0, used exactly (0 too); default: the smallest λ keeping H + λI safely positive definite")
	f.Float64Var(&o.LambdaMargin, "lambda-margin", 0.01, "margin of the automatic λ, relative to ‖H‖")
	f.StringVar(&o.Solver, "solver", "cg", "inverse-HVP solver: cg (deterministic, full data) or lissa (stochastic)")
	f.Float64Var(&o.CGTol, "cg-tol", 0, "conjugate gradient: relative residual to reach (default: a 1% accurate step)")
	f.IntVar(&o.CGMaxIter, "cg-max-iter", 200, "conjugate gradient: maximum iterations")
	f.IntVar(&o.LiSSADepth, "lissa-depth", 1000, "LiSSA: recursion depth t")
	f.IntVar(&o.LiSSARepetitions, "lissa-repetitions", 10, "LiSSA: independent repetitions r, run --threads at a time")
	f.IntVar(&o.LiSSABatch, "lissa-batch", 10, "LiSSA: mini-batch size")
	f.Float64Var(&o.LiSSAScale, "lissa-scale", 0, "LiSSA: scale s ≥ ‖H_B + λI‖ (default: twice the largest of sampled mini-batch norms, raised on divergence)")
	f.Float64Var(&o.HessianLipschitz, "hessian-lipschitz", 0, "declared Hessian-Lipschitz constant M (default: estimated, and stated as an estimate)")
	f.IntVar(&o.LipschitzPairs, "lipschitz-pairs", 8, "pairs of points for the M estimate")
	f.IntVar(&o.SpectralIters, "spectral-iters", 100, "maximum Lanczos iterations (full-data HVPs) of the ‖H‖ and λ_min estimates")
	f.Float64Var(&o.SpectralTol, "spectral-tol", 1e-6, "relative residual at which the ‖H‖ and λ_min estimates stop")
	f.BoolVar(&o.EstimateSpectrum, "estimate-spectrum", false, "estimate ‖H‖ and λ_min (Lanczos on all of D_r) even when they cannot change Δ")
	f.BoolVar(&o.NoProject, "no-project", false, "do not re-project w̃ onto the ball (drops the 2C bound)")
	f.Float64Var(&o.GradTol, "grad-tol", certify.DefaultGradTol, "‖∇L(w*, D)‖ below which w* counts as a stationary point")
	f.Uint64Var(&o.ProbeSeed, "probe-seed", 1, "seed of the parity probe batch")
	f.IntVar(&o.ProbeSize, "probe-size", 8, "samples in the parity probe batch")
	return cmd
}

// Validate checks the flags before any work: those the library's request
// does not carry here, the rest with lethe.UnlearnRequest.Validate.
func (o *unlearnOptions) Validate() error {
	if err := o.engine.validate("unlearn"); err != nil {
		return err
	}
	if err := o.data.validate("unlearn"); err != nil {
		return err
	}
	switch {
	case o.Forget == "":
		return usageErrorf("unlearn: --forget is required")
	case o.Out == "":
		return usageErrorf("unlearn: -o/--out is required")
	case o.epsilonSet && o.Sigma > 0:
		return usageErrorf("unlearn: give --epsilon or --sigma, not both: with --sigma the certificate derives ε")
	case o.Solver != "cg" && o.Solver != "lissa":
		return usageErrorf("unlearn: --solver %q: want cg or lissa", o.Solver)
	case o.CGTol < 0 || o.CGMaxIter < 1:
		return usageErrorf("unlearn: --cg-tol must be ≥ 0 and --cg-max-iter ≥ 1")
	case o.LiSSADepth < 1 || o.LiSSARepetitions < 1 || o.LiSSABatch < 1 || o.LiSSAScale < 0:
		return usageErrorf("unlearn: --lissa-depth, --lissa-repetitions and --lissa-batch must be ≥ 1, --lissa-scale ≥ 0")
	case o.LipschitzPairs < 1:
		return usageErrorf("unlearn: --lipschitz-pairs must be ≥ 1")
	case o.SpectralIters < 1 || !(o.SpectralTol > 0):
		return usageErrorf("unlearn: --spectral-iters must be ≥ 1 and --spectral-tol > 0")
	case o.GradTol <= 0:
		return usageErrorf("unlearn: --grad-tol %g: want > 0", o.GradTol)
	case o.ProbeSize < 1:
		return usageErrorf("unlearn: --probe-size %d: want ≥ 1", o.ProbeSize)
	}
	if o.Cert == "" {
		o.Cert = lethe.CertPath(o.Out)
	}
	req := o.request()
	if err := req.Validate(); err != nil {
		return flagError("unlearn", err)
	}
	if err := checkOutput(o.Out, o.SignKey); err != nil {
		return err
	}
	return checkOutput(o.Cert, o.SignKey)
}

// request turns the flags into the library's request.
func (o *unlearnOptions) request() lethe.UnlearnRequest {
	var solver unlearn.Solver = &unlearn.CG{Tol: o.CGTol, MaxIter: o.CGMaxIter}
	if o.Solver == "lissa" {
		solver = &unlearn.LiSSA{Depth: o.LiSSADepth, Repetitions: o.LiSSARepetitions, BatchSize: o.LiSSABatch, Scale: o.LiSSAScale,
			Seed: uint64(time.Now().UnixNano())}
	}
	spectral := unlearn.SpectralOptions{MaxIter: o.SpectralIters, Tol: o.SpectralTol}
	r := lethe.UnlearnRequest{
		Model: o.Model, Data: o.data.data(""), Forget: lethe.Subset{File: o.Forget}, Out: o.Out, Cert: o.Cert, PrevCert: o.PrevCert,
		Engine: o.engine.engine(), Objective: o.engine.objective(o.Radius, o.l2Set, o.lossSet),
		Scope: lethe.Scope(o.Scope), Budget: o.Budget, MaxNewtonSteps: o.MaxNewtonSteps,
		Epsilon: o.Epsilon, Delta: o.Delta, Mechanism: certify.Mechanism(o.Mechanism), Sigma: o.Sigma, NoNoise: o.NoNoise,
		LambdaMargin: o.LambdaMargin, Solver: solver, HessianLipschitz: o.HessianLipschitz,
		Lipschitz: unlearn.LipschitzOptions{Pairs: o.LipschitzPairs}, Spectral: spectral,
		EstimateSpectrum: o.EstimateSpectrum, NoProject: o.NoProject, GradTol: o.GradTol,
		Probe: &lethe.Probe{Seed: o.ProbeSeed, Size: o.ProbeSize}, Progress: o.global.progress(o.io, ""),
	}
	if o.Sigma > 0 {
		r.Epsilon = 0 // derived from σ
	}
	if o.lambdaSet {
		r.Lambda = new(o.Lambda)
	}
	if o.Seed >= 0 {
		r.Seed = new(uint64(o.Seed))
	}
	return r
}

// Run unlearns and prints the summary.
func (o *unlearnOptions) Run(ctx context.Context) error {
	req := o.request()
	if o.SignKey != "" {
		key, err := certify.LoadPrivateKey(o.SignKey)
		if err != nil {
			return badInput(err)
		}
		req.SignKey = ed25519.PrivateKey(key)
	}
	res, err := lethe.Unlearn(ctx, req)
	if err != nil {
		return err
	}
	if o.global.JSON {
		return o.io.writeJSON(res)
	}
	printUnlearn(o.io, res)
	return nil
}

func printUnlearn(s *ioStreams, u *lethe.UnlearnResult) {
	w, c := s.Out, u.Certificate
	fmt.Fprintf(w, "%s → %s\n", u.Model, u.Out)
	fmt.Fprintf(w, "  status       %s\n", u.Status)
	fmt.Fprintf(w, "  scope        %s\n", u.ScopeReason)
	fmt.Fprintf(w, "  forgotten    %d of %d samples (%d parameters certified)\n", u.NForget, u.N, u.CertifiedParameters)
	if u.Sigma > 0 {
		fmt.Fprintf(w, "  guarantee    (ε, δ) = (%.4g, %.3g), %s Gaussian mechanism, σ = %.6g\n", u.Epsilon, u.Delta, u.Mechanism, u.Sigma)
	} else {
		fmt.Fprintf(w, "  guarantee    none: no noise was added\n")
	}
	if u.Scope == string(certify.ScopeConvex) {
		fmt.Fprintf(w, "  sensitivity  Δ = budget %.4g, fixed in advance; a-posteriori bound %.4g (‖ĝ‖ %.3g + margin %.3g, μ = %g)\n",
			u.Sensitivity, u.PosteriorBound, c.Bound.Posterior.GradNorm, c.Bound.Posterior.Margin, c.L2)
		fmt.Fprintf(w, "  Newton       %d step(s) from %s, λ = 0, ‖w̃ − w*‖ = %.4g; features by %s (%s)\n",
			u.NewtonSteps, u.Start, u.StepNorm, u.FeatureEngine, c.Features.Tensor)
	} else {
		fmt.Fprintf(w, "  sensitivity  Δ = budget %.6g, proven by the %s bound (Δ_thm %.4g + ρ-term %.3g, trivial 2C = %.4g)\n",
			u.Sensitivity, u.ActiveBound, c.Bound.Theorem, c.Bound.Residual, c.Bound.Trivial)
		fmt.Fprintf(w, "  premise      %s\n", c.Bound.Premise)
		spectrum := fmt.Sprintf("λ_min ≈ %.4g, ‖H‖ ≈ %.4g", u.LambdaMin, u.HessianNorm)
		if !u.SpectrumEstimated {
			spectrum = "λ_min and ‖H‖ " + certify.LambdaMinUnneeded
		}
		fmt.Fprintf(w, "  Newton step  λ = %.4g, %s, ‖u‖ = %.4g, ρ = %.3g\n", u.Lambda, spectrum, u.StepNorm, u.Residual)
	}
	fmt.Fprintf(w, "  parity       onnxruntime %s agrees within tolerance: max |Δ| = %.3g, max relative %.3g\n",
		c.Parity.OnnxruntimeVersion, u.ParityMaxAbs, c.Parity.MaxRelDiff)
	fmt.Fprintf(w, "  certificate  %s\n", u.CertPath)
	fmt.Fprintf(w, "  time         %.2fs\n", u.Seconds)
}
