package certify

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"math"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite certify/testdata/*.golden.json from the fixtures")

// goldenKey is a fixed Ed25519 key; Ed25519 signatures are deterministic, so
// signed goldens are reproducible.
func goldenKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("lethe certify golden key (tests only)"))
	return ed25519.NewKeyFromSeed(seed[:])
}

// hexOf returns the SHA-256 of s in hex, standing in for a file hash.
func hexOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func u64(v uint64) *uint64 { return &v }

// probeLogits are fixed float32 "native outputs" for the fixtures.
var probeLogits = []float32{
	-2.3125, 0.5, 1.75, -0.125, 3.0625, -1.5, 0.25, 2.125, -0.75, 1,
	0.0625, -3.25, 1.5, 0.875, -0.5, 2.75, -1.125, 0.375, -2, 1.25,
}

// fixture returns one of the golden certificates by name, built only through
// the package's API from fixed inputs.
func fixture(t testing.TB, name string) *Certificate {
	t.Helper()
	c := &Certificate{
		Schema:  SchemaVersion,
		Tool:    Tool{Name: "lethe", Version: "0.1.0-test"},
		Input:   FileRef{Path: "models/mnist_mlp.onnx", SHA256: hexOf("input model")},
		Output:  FileRef{Path: "out/mnist_mlp.unlearned.onnx", SHA256: hexOf("output model")},
		Epsilon: 1, Delta: 1e-5, Mechanism: Analytic,
		L2: 5e-4, Loss: "xent",
		Parity: Parity{
			OnnxruntimeVersion: "1.30.0",
			Probe:              Probe{Source: ProbeRandom, Seed: u64(7), Shape: []int64{2, 784}},
			NativeOutputs:      []ParityOutput{{Name: "logits", Shape: []int64{2, 10}, Values: probeLogits}},
			MaxAbsDiff:         3.0517578125e-6, MaxRelDiff: 2.2e-6,
			Tolerance: Tolerance{Abs: 1e-4, Rel: 1e-3, Slack: 8},
			Pass:      true,
		},
		Cumulative: Cumulative{Requests: 1, NForget: 1000},
		StartedAt:  "2025-03-01T12:00:00Z",
		CreatedAt:  "2025-03-01T12:03:17Z",
	}
	c.Forget = Forget{Digest: DigestIndices(seq(0, 1000)), Kind: ForgetIndices, N: 60000, NForget: 1000}
	var in BoundInputs
	var post *PosteriorInputs
	sign := false
	switch name {
	case "certified":
		// The paper's MNIST MLP regime: Δ_thm ≥ 2C, so the trivial bound is active.
		in = BoundInputs{
			C: 5, M: 0.8, MSource: MEstimated, MMethod: "Hessian differences at random points in the ball", MSamples: 8,
			Lambda: 12, LambdaAuto: true,
			HessianNorm: 9.7, HessianNormMethod: "power iteration", HessianNormIterations: 60, HessianNormResidual: 3e-5,
			LambdaMin: -0.31, LambdaMinMethod: "Lanczos", LambdaMinIterations: 40, LambdaMinResidual: 1e-4,
			Solver:       Solver{Name: "lissa", Iterations: 1000, Repetitions: 1, Depth: 1000, BatchSize: 128, Scale: 25, Residual: 0.02, HVPs: 1001},
			Projected:    true,
			Stationarity: Stationarity{GradNorm: 4e-4, WNorm: 4.2},
		}
		c.PreviousCertificate = DigestPrefix + hexOf("previous certificate")
		c.Cumulative = Cumulative{Requests: 2, NForget: 1500}
		sign = true
	case "no_noise":
		// A convex last-layer model: the theorem bound is active and the output
		// was not re-projected.
		in = BoundInputs{
			C: 20, M: 0.05, MSource: MDeclared, MMethod: "declared by the user",
			Lambda:      0.01,
			HessianNorm: 3.2, HessianNormMethod: "power iteration", HessianNormIterations: 30, HessianNormResidual: 1e-6,
			LambdaMin: 0.02, LambdaMinMethod: "Lanczos", LambdaMinIterations: 25, LambdaMinResidual: 1e-7,
			Solver:       Solver{Name: "cg", Iterations: 37, Residual: 1e-6, HVPs: 38},
			Stationarity: Stationarity{GradNorm: 2e-6, WNorm: 11.5},
		}
		c.Parity.Probe = Probe{Source: ProbeData, Shape: []int64{2, 784}, Indices: []int64{3, 14159}}
		c.Forget = Forget{Digest: DigestPrefix + hexOf("forget.npz"), Kind: ForgetSamples, N: 60000, NForget: 10}
		c.Cumulative = Cumulative{Requests: 1, NForget: 10}
	case "seeded_fixed_sigma":
		// The ball is active (premise fails), the output re-projected: Δ = 2C.
		in = BoundInputs{
			C: 3, M: 2, MSource: MDeclared, MMethod: "declared by the user",
			Lambda:    4,
			LambdaMin: -1.5, LambdaMinMethod: "Lanczos", LambdaMinIterations: 40, LambdaMinResidual: 2e-3,
			Solver:       Solver{Name: "cg", Iterations: 50, Residual: 0.3, HVPs: 51},
			Projected:    true,
			Stationarity: Stationarity{GradNorm: 0.2, WNorm: 3},
		}
	case "budget_full", "no_noise_unset":
		// The paper's MNIST MLP regime with the data-independent budget 2C:
		// σ is calibrated to 2C = 10 whatever the data, and the re-projected
		// output's trivial bound proves it holds.
		in = BoundInputs{
			C: 5, M: 0.8, MSource: MEstimated, MMethod: "Hessian differences at random points in the ball", MSamples: 8,
			Lambda: 12, LambdaAuto: true,
			HessianNorm: 9.7, HessianNormMethod: "power iteration", HessianNormIterations: 60, HessianNormResidual: 3e-5,
			LambdaMin: -0.31, LambdaMinMethod: "Lanczos", LambdaMinIterations: 40, LambdaMinResidual: 1e-4,
			Solver:       Solver{Name: "lissa", Iterations: 1000, Repetitions: 1, Depth: 1000, BatchSize: 128, Scale: 25, Residual: 0.02, HVPs: 1001},
			Projected:    true,
			Stationarity: Stationarity{GradNorm: 4e-4, WNorm: 4.2},
			Budget:       10,
		}
		c.Scope = ScopeFull
		if name == "no_noise_unset" {
			c.Epsilon, c.Delta = 0, 0 // --no-noise: no guarantee requested
		}
	case "convex_head":
		// The MNIST MLP's last layer over a frozen backbone: one Newton step
		// from w* brings the posterior bound under the budget.
		convexScope(c, []string{"layers.4.weight", "layers.4.bias"}, 330,
			[]string{"layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"}, []int{25088, 32, 1024, 32},
			[]string{"Gemm"}, "/layers/layers.3/Relu_output_0", FeaturesNative, "float64")
		post = &PosteriorInputs{
			Mu: c.L2, GradNorm: 4.1e-6, Margin: 3.2e-11, MarginMethod: testMarginMethod,
			Budget: 0.005, NewtonSteps: 1, Start: StartOriginal,
			Solver: Solver{Name: "cg", Iterations: 41, Residual: 2.1e-9, HVPs: 41},
		}
		sign = true
	case "convex_linear_retrain":
		// A whole multinomial logistic regression in a ball: the Newton steps
		// from w* did not reach the budget, so it was retrained from zeros.
		c.Input.Path, c.Output.Path = "models/mnist_logreg.onnx", "out/mnist_logreg.unlearned.onnx"
		c.Parity.NativeOutputs[0].Name = "logits"
		c.Loss = "xent"
		convexScope(c, []string{"linear.weight", "linear.bias"}, 7850, []string{}, nil,
			[]string{"Gemm"}, "x", FeaturesNative, "float32")
		post = &PosteriorInputs{
			Mu: c.L2, GradNorm: 1.7e-7, Margin: 4.4e-12, MarginMethod: testMarginMethod,
			Budget: 0.001, C: 10, Projected: true, NewtonSteps: 9, Start: StartRetrainZeros,
			Solver: Solver{Name: "cg", Iterations: 120, Residual: 3e-10, HVPs: 120},
		}
		c.Epsilon, c.Mechanism = 0.5, Classic
	default:
		t.Fatalf("no fixture %q", name)
	}
	var b Bound
	var err error
	if post != nil {
		b, err = PosteriorBound(*post)
	} else {
		b, err = ComputeBound(in)
	}
	if err != nil {
		t.Fatal(err)
	}
	c.Bound = b
	switch name {
	case "certified", "budget_full", "convex_head", "convex_linear_retrain":
		c.Sigma, err = Sigma(c.Mechanism, b.Sensitivity, c.Epsilon, c.Delta)
		c.SigmaMode, c.NoisePrivate, c.NoiseSource = SigmaCalibrated, true, NoiseSourcePrivate
		c.Certified, c.Status = true, StatusCertified
	case "no_noise", "no_noise_unset":
		c.SigmaMode, c.NoiseSource = SigmaNone, NoiseSourceNone
		c.Status = StatusNoNoise
	case "seeded_fixed_sigma":
		c.Sigma = 40
		c.Mechanism = Classic
		c.Epsilon, err = EpsilonForSigma(Classic, c.Sigma, b.Sensitivity, c.Delta)
		c.SigmaMode, c.NoiseSource, c.NoiseSeed = SigmaFixed, NoiseSourceSeeded, u64(42)
		c.Status = StatusSeeded
	}
	if err != nil {
		t.Fatal(err)
	}
	c.Assumptions = Assumptions(c)
	if sign {
		if err := c.Sign(goldenKey()); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

var fixtureNames = []string{"certified", "no_noise", "seeded_fixed_sigma", "budget_full", "no_noise_unset", "convex_head", "convex_linear_retrain"}

// testMarginMethod stands for the pipeline's description of its rounding margin.
const testMarginMethod = "γ_{N+1000}·(F·‖(1/N)Σ_i |J_i|ᵀ·1‖₂ + μ‖w̃‖₂), γ_k = k·u/(1 − k·u), u = 2⁻⁵³ (Higham §3.1)"

// convexScope fills the convex-scope fields of c: certified and frozen
// parameters (the frozen values are a fixed pattern, digested), the
// strong-convexity proof and the features. μ is c.L2 = 1e-3.
func convexScope(c *Certificate, certified []string, count int, frozen []string, sizes []int, ops []string, tensor, engine, precision string) {
	c.Scope = ScopeConvex
	c.L2 = 1e-3
	values := make([][]float64, len(frozen))
	total := 0
	for i, n := range sizes {
		values[i] = make([]float64, n)
		for j := range values[i] {
			values[i][j] = float64(float32(math.Sin(float64(i*100003+j)) / 8)) // float32 weights, widened
		}
		total += n
	}
	c.CertifiedParameters = &CertifiedParameters{Names: certified, Count: count}
	c.FrozenParameters = &FrozenParameters{Names: frozen, Count: total, Digest: DigestParameters(frozen, values)}
	c.StrongConvexity = &StrongConvexity{
		Mu: c.L2, Loss: c.Loss, Ops: ops,
		Statement: "every path from " + strings.Join(certified, ", ") + " to logits is affine (node " + ops[0] + " only) with no other certified parameter as a factor; xent is convex in the logits; so L_r is μ-strongly convex",
	}
	c.Features = &Features{Tensor: tensor, Engine: engine, Precision: precision}
}

// seq returns lo, lo+1, ..., hi−1.
func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}
