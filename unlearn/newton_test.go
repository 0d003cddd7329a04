package unlearn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// convexSetup is the acceptance-style convex problem: L2-regularised (μ = 0.01)
// multinomial logistic regression on 2,000 synthetic samples with 20 features
// and 5 classes, 1 % of the samples forgotten, with the original and the
// retrained minimisers solved to ‖∇L‖ ≤ 1e-12.
type convexSetup struct {
	full, retained *logReg
	forgotten      *logReg   // D_u: the samples of full not in retained
	wStar          []float64 // argmin L(·, D)
	wRetrained     []float64 // argmin L(·, D_r)
}

var convexCache *convexSetup

func newConvexSetup() *convexSetup {
	if convexCache != nil {
		return convexCache
	}
	rnd := rand.New(rand.NewPCG(23, 24))
	full := newLogReg(rnd, 2000, 20, 5, 0.01)
	forget := map[int]bool{}
	for len(forget) < 20 {
		forget[rnd.IntN(2000)] = true
	}
	var keep, drop []int
	for i := 0; i < 2000; i++ {
		if !forget[i] {
			keep = append(keep, i)
		} else {
			drop = append(drop, i)
		}
	}
	retained := full.subset(keep)
	wStar := make([]float64, full.Dim())
	minimize(full, wStar, 1e-12)
	wRetrained := append([]float64(nil), wStar...)
	minimize(retained, wRetrained, 1e-12)
	convexCache = &convexSetup{full: full, retained: retained, forgotten: full.subset(drop), wStar: wStar, wRetrained: wRetrained}
	return convexCache
}

// TestNewtonConvexAcceptance: the noise-free one-step Newton update with λ = 0
// must land at least 50× closer to the retrained minimiser than the original
// optimum is, with CG and with LiSSA.
func TestNewtonConvexAcceptance(t *testing.T) {
	cs := newConvexSetup()
	before := Distance(cs.wStar, cs.wRetrained)
	// The exact Newton step, for the residual-term check below.
	h := cs.retained.hessian(cs.wStar)
	lmin := eigenvalues(h)[0]
	g := make([]float64, len(cs.wStar))
	cs.retained.Eval(context.Background(), cs.wStar, nil, g)
	exact := make([]float64, len(g))
	floats.SubTo(exact, cs.wStar, denseSolve(h, 0, g))
	for _, tc := range []struct {
		name   string
		solver Solver
	}{
		{"cg", &CG{Tol: 1e-10}},
		// Here the automatic scale is s ≈ 0.45 (twice the largest norm of 20
		// sampled batch Hessians; ‖H‖ ≈ 0.19) and λ_min ≈ 0.01, so depth
		// 500 ≫ s/λ_min ≈ 45 makes the Neumann bias e^(−500/45) ≈ 1.5e-5
		// and the error is sampling noise, variance ∝ 1/(r·B). With B = 200
		// (10 % of D_r) and r = 8 the ratio is 186–236 over seeds 0..2; the
		// paper's settings (B = 10, r = 10, t = 1000, s ≈ 0.75–1.13) reach
		// only 54–83 on this problem.
		{"lissa", &LiSSA{Depth: 500, Repetitions: 8, BatchSize: 200, Seed: 7}},
		{"dense", &Dense{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Newton(context.Background(), cs.retained, cs.wStar, NewtonOptions{ZeroLambda: true, Solver: tc.solver})
			if err != nil {
				t.Fatal(err)
			}
			after := Distance(res.W, cs.wRetrained)
			ratio := before / after
			t.Logf("‖w* − w̃*‖ = %.4g, ‖w̃ − w̃*‖ = %.4g, ratio %.1f; ρ = %.3g (rel %.2g), %d HVPs (%d sample-HVPs), scale %.3g",
				before, after, ratio, res.Solve.Residual, res.Solve.RelResidual, res.Solve.HVPs, res.Solve.SampleHVPs, res.Solve.Scale)
			if ratio < 50 {
				t.Errorf("ratio %.1f < 50", ratio)
			}
			// Whatever the solver, the computed step is within ρ/(λ + λ_min)
			// of the exact one: the certificate's residual term. 1e-12
			// absorbs the rounding of the dense reference.
			if d := Distance(res.W, exact); d > res.Solve.Residual/lmin+1e-12 {
				t.Errorf("‖w̃ − exact step‖ = %.3g > ρ/λ_min = %.3g", d, res.Solve.Residual/lmin)
			}
			if res.Lambda != 0 || res.LambdaAuto || res.PaperCondition || res.Projected || res.LambdaMin.Skipped != skipGiven {
				t.Errorf("flags: λ = %v auto %v paper %v projected %v", res.Lambda, res.LambdaAuto, res.PaperCondition, res.Projected)
			}
		})
	}
}

// nonConvexPoint is the tests' non-convex case: a small tanh network on 80
// samples at a random point where its Hessian h (dense) has negative
// eigenvalues.
func nonConvexPoint() (*tanhNet, []float64, *mat.SymDense) {
	rnd := rand.New(rand.NewPCG(25, 26))
	tn := newTanhNet(rnd, 80, 3, 6, 0)
	w := make([]float64, tn.Dim())
	for i := range w {
		w[i] = 0.8 * rnd.NormFloat64()
	}
	return tn, w, denseHessian(tn, w)
}

// TestNewtonMatchesDenseStep: with SpectrumFull on the non-convex network,
// w̃ equals w − (H + λI)⁻¹g computed densely, λ is chosen automatically with
// λ + λ_min > 0, and the estimates match the dense spectrum.
func TestNewtonMatchesDenseStep(t *testing.T) {
	tn, w, h := nonConvexPoint()
	eig := eigenvalues(h)
	if eig[0] >= 0 {
		t.Fatalf("test point should be non-convex, λ_min = %v", eig[0])
	}
	res, err := Newton(context.Background(), tn, w, NewtonOptions{
		Spectrum: SpectrumFull,
		Solver:   &CG{Tol: 1e-12, MaxIter: 2000},
		Lanczos:  SpectralOptions{Tol: 1e-12},
	})
	if err != nil {
		t.Fatal(err)
	}
	hn := math.Max(-eig[0], eig[len(eig)-1])
	// Lanczos runs Dim() = 31 steps at most here: exact to rounding, at
	// both ends of the spectrum.
	if math.Abs(res.LambdaMin.Value-eig[0]) > 1e-10 {
		t.Errorf("λ_min estimate %v, want %v", res.LambdaMin.Value, eig[0])
	}
	if math.Abs(res.HessianNorm.Value-hn) > 1e-10*hn {
		t.Errorf("‖H‖ estimate %v, want %v (%+v)", res.HessianNorm.Value, hn, res.HessianNorm)
	}
	// Automatic λ: λ + λ̂_min − r = 0.01·‖H‖.
	wantLambda := 0.01*hn - eig[0]
	if !res.LambdaAuto || math.Abs(res.Lambda-wantLambda) > 1e-8*hn {
		t.Errorf("λ = %v (auto %v), want %v", res.Lambda, res.LambdaAuto, wantLambda)
	}
	g := make([]float64, len(w))
	tn.Eval(context.Background(), w, nil, g)
	want := make([]float64, len(w))
	floats.SubTo(want, w, denseSolve(h, res.Lambda, g))
	// CG to 1e-12 relative residual on cond(H + λI) ≈ 200: ≲ 1e-9 relative.
	if d := Distance(res.W, want); d > 1e-9*Norm(want) {
		t.Errorf("‖w̃ − dense step‖ = %v", d)
	}
	if res.GradNorm != Norm(g) || math.Abs(res.StepNorm-Distance(w, want)) > 1e-9*res.StepNorm {
		t.Errorf("gradient norm %v (want %v), step norm %v (want %v)", res.GradNorm, Norm(g), res.StepNorm, Distance(w, want))
	}
	if res.M.Source != "none" || res.PaperCondition || res.Projected {
		t.Errorf("M %+v, paper %v, projected %v", res.M, res.PaperCondition, res.Projected)
	}
	// One Lanczos run for both ends: its steps plus the two explicit Ritz
	// residuals, counted once.
	if res.HVPs != res.LambdaMin.HVPs+res.Solve.HVPs || res.LambdaMin.HVPs != res.LambdaMin.Iterations+2 || res.HessianNorm.HVPs != 0 {
		t.Errorf("HVPs %d (λ_min %+v, ‖H‖ %+v, solve %d)", res.HVPs, res.LambdaMin, res.HessianNorm, res.Solve.HVPs)
	}
	if res.SampleHVPs != res.HVPs*tn.Len() {
		t.Errorf("sample-HVPs %d, want %d", res.SampleHVPs, res.HVPs*tn.Len())
	}
	if res.HessianNorm.Skipped != "" || res.LambdaMin.Skipped != "" || res.Krylov.Dim != 0 {
		t.Errorf("full spectrum reported as skipped: %+v %+v %+v", res.HessianNorm, res.LambdaMin, res.Krylov)
	}
}

// TestNewtonRefusesIndefinite: λ with λ + λ_min ≤ 0 is refused with a typed
// error naming both.
func TestNewtonRefusesIndefinite(t *testing.T) {
	rnd := rand.New(rand.NewPCG(27, 28))
	q := newQuad(rnd, symWithSpectrum(rnd, []float64{-2, -1, 0.5, 1, 3}), 4, 0.1)
	w := make([]float64, 5)
	for _, opts := range []NewtonOptions{{Lambda: 1.5, Spectrum: SpectrumFull}, {ZeroLambda: true, Spectrum: SpectrumFull}} {
		res, err := Newton(context.Background(), q, w, opts)
		var ie *IndefiniteError
		if !errors.As(err, &ie) || res != nil {
			t.Fatalf("opts %+v: err = %v, want *IndefiniteError", opts, err)
		}
		// Lanczos is exact on 5 dimensions.
		if ie.Lambda != opts.Lambda || math.Abs(ie.LambdaMin+2) > 1e-12 {
			t.Errorf("%+v", ie)
		}
	}
	// The default path estimates nothing for a given λ; conjugate gradient
	// meets the negative curvature (λ + λ_min = −0.5 or −2, and g has
	// components along the eigenvectors of −2 and −1) and says so.
	for _, opts := range []NewtonOptions{{Lambda: 1.5}, {ZeroLambda: true}} {
		res, err := Newton(context.Background(), q, w, opts)
		var nc *NegativeCurvatureError
		if !errors.As(err, &nc) || res != nil {
			t.Fatalf("opts %+v: err = %v, want *NegativeCurvatureError", opts, err)
		}
		// The curvature is a Rayleigh quotient of H + λI: in [−2 + λ, 0].
		if nc.Lambda != opts.Lambda || nc.Curvature > 0 || nc.Curvature < -2+opts.Lambda-1e-12 {
			t.Errorf("%+v", nc)
		}
	}
	// λ = 2.5 is accepted and λ = 3.5 > ‖H‖ = 3 meets the paper's condition.
	for _, tc := range []struct {
		lambda float64
		paper  bool
	}{{2.5, false}, {3.5, true}} {
		res, err := Newton(context.Background(), q, w, NewtonOptions{Lambda: tc.lambda, Spectrum: SpectrumFull})
		if err != nil {
			t.Fatal(err)
		}
		if res.PaperCondition != tc.paper || res.LambdaAuto {
			t.Errorf("λ = %v: paper condition %v, want %v", tc.lambda, res.PaperCondition, tc.paper)
		}
	}
}

// TestNewtonProjectionAndM: with a radius the step is projected back onto the
// ball (or not, if disabled) and M is declared or estimated.
func TestNewtonProjectionAndM(t *testing.T) {
	cs := newConvexSetup()
	// Projection needs a step that leaves the ball. In this setup removing
	// the forget samples shrinks the norm (‖w*‖ ≈ 4.9637 > ‖w̃‖ ≈ 4.9611), so
	// the step used is the reverse one: from the retrained minimiser, a
	// Newton step on the full data set, which moves outward towards w*. The
	// ball's boundary is put halfway between the start and the step's end.
	obj, start := cs.full, cs.wRetrained
	base, err := Newton(context.Background(), obj, start, NewtonOptions{ZeroLambda: true, SkipM: true})
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := Norm(start), base.NormBeforeProjection
	if !(hi > lo) {
		t.Fatalf("the step from ‖w‖ = %v ends at ‖w‖ = %v: it does not leave a ball between them, so projection is not tested", lo, hi)
	}
	radius := (lo + hi) / 2
	w := slices.Clone(start) // inside the ball: ‖w‖ = lo < radius
	res, err := Newton(context.Background(), obj, w, NewtonOptions{ZeroLambda: true, Radius: radius, M: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	// Project guarantees ‖w̃‖ ≤ C and lands on the sphere up to a few ulps of
	// shrinking (1e-12 relative is far above those, far below the step).
	if !res.Projected || res.Norm > radius || res.Norm < radius*(1-1e-12) || res.NormBeforeProjection != hi {
		t.Errorf("projected %v, ‖w̃‖ = %v (before projection %v, unconstrained %v), C = %v", res.Projected, res.Norm, res.NormBeforeProjection, hi, radius)
	}
	if res.M.Source != "declared" || res.M.Value != 0.5 {
		t.Errorf("M %+v", res.M)
	}
	res2, err := Newton(context.Background(), obj, w, NewtonOptions{ZeroLambda: true, Radius: radius, NoProject: true,
		Lipschitz: LipschitzOptions{Pairs: 2, MaxIter: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Projected || res2.M.Source != "estimated" || res2.M.Pairs != 2 || !(res2.M.Value > 0) {
		t.Errorf("projected %v, M %+v", res2.Projected, res2.M)
	}
	if res2.Norm != res2.NormBeforeProjection {
		t.Errorf("norm changed without projection")
	}
}

// TestNewtonNotConverged: a solver that stops early still yields a step, with
// the *NotConvergedError alongside.
func TestNewtonNotConverged(t *testing.T) {
	cs := newConvexSetup()
	var stages []string
	res, err := Newton(context.Background(), cs.retained, cs.wStar, NewtonOptions{
		ZeroLambda: true, Solver: &CG{MaxIter: 2},
		Progress: func(p NewtonProgress) {
			if !p.Done {
				stages = append(stages, p.Stage)
			}
		},
	})
	var nc *NotConvergedError
	if !errors.As(err, &nc) || res == nil || res.W == nil {
		t.Fatalf("res %v, err %v", res != nil, err)
	}
	if res.Solve.Residual != nc.Residual || res.Solve.Iterations != 2 {
		t.Errorf("stats %+v vs error %+v", res.Solve, nc)
	}
	// λ is given: the default path estimates nothing before the solve.
	if want := []string{StageGradient, StageSolve}; !slices.Equal(stages, want) {
		t.Errorf("stages %v, want %v", stages, want)
	}
	// The same with the full spectrum, and with the automatic λ of the
	// default path (λ from the solve's own Krylov space, a given CG's
	// MaxIter honoured).
	for _, tc := range []struct {
		opts NewtonOptions
		want []string
	}{
		{NewtonOptions{ZeroLambda: true, Spectrum: SpectrumFull}, []string{StageGradient, StageSpectrum, StageSolve}},
		{NewtonOptions{}, []string{StageGradient, StageSolve}},
	} {
		stages = nil
		opts := tc.opts
		opts.Solver = &CG{MaxIter: 2, Tol: 1e-12}
		opts.Progress = func(p NewtonProgress) {
			if !p.Done {
				stages = append(stages, p.Stage)
			}
		}
		res, err := Newton(context.Background(), cs.retained, cs.wStar, opts)
		if !errors.As(err, &nc) || res == nil || res.W == nil || res.Solve.Iterations != 2 || res.Solve.Residual != nc.Residual {
			t.Errorf("%v: res %v, err %v", tc.want, res != nil, err)
		}
		if !slices.Equal(stages, tc.want) {
			t.Errorf("stages %v, want %v", stages, tc.want)
		}
	}
}

// TestNewtonDoesNotModifyW: Newton leaves its input alone.
func TestNewtonDoesNotModifyW(t *testing.T) {
	cs := newConvexSetup()
	w := append([]float64(nil), cs.wStar...)
	if _, err := Newton(context.Background(), cs.retained, w, NewtonOptions{Radius: 0.5, SkipM: true}); err != nil {
		t.Fatal(err)
	}
	if !floats.Equal(w, cs.wStar) {
		t.Error("w was modified")
	}
}

// TestDiagnose: interior optimum vs a point on the sphere.
func TestDiagnose(t *testing.T) {
	cs := newConvexSetup()
	ctx := context.Background()
	n := Norm(cs.wStar)
	d, err := Diagnose(ctx, cs.full, cs.wStar, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	// minimize stopped at ‖∇L‖ ≤ 1e-12.
	if d.Active || d.GradNorm > 1e-12 || math.Abs(d.Norm-n) > 0 {
		t.Errorf("interior optimum: %+v", d)
	}
	// The constrained optimum on a small ball: train projected to convergence
	// and check the KKT signs: tangential gradient ≈ 0, radial ≤ 0.
	w := append([]float64(nil), cs.wStar...)
	radius := n / 2
	if _, err := Train(ctx, cs.full, w, TrainOptions{Optimizer: SGD, LearningRate: 0.5, BatchSize: 1 << 30, Epochs: 300, Radius: radius}); err != nil {
		t.Fatal(err)
	}
	d, err = Diagnose(ctx, cs.full, w, radius)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("constrained: %+v", d)
	// Projected gradient descent converges linearly; after 300 steps the
	// tangential part is orders of magnitude below the radial part.
	if !d.Active || d.RadialGrad >= 0 || d.TangentialGradNorm > 1e-3*math.Abs(d.RadialGrad) {
		t.Errorf("constrained optimum: %+v", d)
	}
	if math.Abs(math.Hypot(d.RadialGrad, d.TangentialGradNorm)-d.GradNorm) > 1e-12*d.GradNorm {
		t.Errorf("radial and tangential parts do not add up: %+v", d)
	}
}

func TestNewtonSkipSpectral(t *testing.T) {
	rnd := rand.New(rand.NewPCG(31, 32))
	lr := newLogReg(rnd, 200, 4, 3, 0.01)
	w := make([]float64, lr.Dim())
	for i := range w {
		w[i] = 0.3 * rnd.NormFloat64()
	}
	opts := NewtonOptions{Lambda: 0.05, Solver: &CG{Tol: 1e-12, MaxIter: 500}, SkipM: true, Spectrum: SpectrumFull}
	full, err := Newton(context.Background(), lr, w, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.SkipSpectral = true
	skipped, err := Newton(context.Background(), lr, w, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The same deterministic CG solve: only the estimates differ.
	if d := Distance(full.W, skipped.W); d > 1e-12 {
		t.Errorf("skipping the estimates changed the step by %g", d)
	}
	if skipped.LambdaMin.Method != "" || skipped.HessianNorm.Method != "" || skipped.Lambda != 0.05 ||
		skipped.LambdaMin.Skipped == "" || skipped.HessianNorm.Skipped == "" {
		t.Errorf("skipped estimates recorded: %+v %+v λ=%g", skipped.LambdaMin, skipped.HessianNorm, skipped.Lambda)
	}
	// The default path with a given λ skips them too, with its reason, and
	// takes the same step.
	opts.SkipSpectral, opts.Spectrum = false, SpectrumAuto
	auto, err := Newton(context.Background(), lr, w, opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := Distance(full.W, auto.W); d > 1e-12 || auto.HVPs != skipped.HVPs || auto.LambdaMin.Skipped != skipGiven || auto.HessianNorm.Skipped != skipGiven {
		t.Errorf("default path with a given λ: step moved by %g, %d HVPs, %+v %+v", d, auto.HVPs, auto.LambdaMin, auto.HessianNorm)
	}
	opts.SkipSpectral = true
	if skipped.HVPs >= full.HVPs {
		t.Errorf("skipping used %d HVPs, not fewer than %d", skipped.HVPs, full.HVPs)
	}
	opts.Lambda = 0
	if _, err := Newton(context.Background(), lr, w, opts); err == nil {
		t.Error("SkipSpectral without a positive λ was accepted")
	}
}

// TestNewtonAutoLambda: the default path on the non-convex network chooses λ
// from the Ritz values of its own Krylov space by the documented rule,
// estimates nothing else, and returns w − (H + λI)⁻¹g to the promised step
// accuracy for that λ.
func TestNewtonAutoLambda(t *testing.T) {
	tn, w, h := nonConvexPoint()
	eig := eigenvalues(h)
	g := make([]float64, len(w))
	tn.Eval(context.Background(), w, nil, g)
	for _, stepTol := range []float64{0, 1e-6} {
		var stages []string
		res, err := Newton(context.Background(), tn, w, NewtonOptions{StepTol: stepTol, Progress: func(p NewtonProgress) {
			if !p.Done {
				stages = append(stages, p.Stage)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		k := res.Krylov
		t.Logf("StepTol %g: λ = %.4g, Ritz [%.4g ± %.2g, %.4g] of [%.4g, %.4g], %d HVPs, ρ/‖g‖ = %.2g, step error ≤ %.2g",
			stepTol, res.Lambda, k.Lowest, k.LowestResidual, k.Highest, eig[0], eig[len(eig)-1], res.HVPs, res.Solve.RelResidual, res.RelStepError)
		if want := autoLambda(0.01, math.Max(k.Highest, -k.Lowest), k.Lowest, k.LowestResidual); !res.LambdaAuto || res.Lambda != want {
			t.Errorf("λ = %v (auto %v), rule gives %v", res.Lambda, res.LambdaAuto, want)
		}
		if k.Dim != res.Solve.Iterations || k.Samples != tn.Len() || res.Solve.Method != methodLanczosCG {
			t.Errorf("Krylov %+v, solve %+v", k, res.Solve)
		}
		if res.HessianNorm.Skipped != skipAuto || res.LambdaMin.Skipped != skipAuto || res.HessianNorm.Method != "" || res.PaperCondition {
			t.Errorf("estimates not reported as skipped: %+v %+v", res.HessianNorm, res.LambdaMin)
		}
		if !slices.Equal(stages, []string{StageGradient, StageSolve}) {
			t.Errorf("stages %v", stages)
		}
		if res.HVPs != res.Solve.HVPs || res.SampleHVPs != res.HVPs*tn.Len() {
			t.Errorf("HVPs %d, sample-HVPs %d, solve %+v", res.HVPs, res.SampleHVPs, res.Solve)
		}
		tol := stepTol
		if tol == 0 {
			tol = DefaultStepTol
		}
		if res.RelStepError > tol {
			t.Errorf("step error bound %v above StepTol %v", res.RelStepError, tol)
		}
		// The step's accuracy, measured against the dense solve at the same λ
		// where H + λI is positive definite (it is here: the Krylov space of
		// g reaches the bottom of this 31-dimensional spectrum).
		if !(res.Lambda+eig[0] > 0) {
			t.Fatalf("λ + λ_min = %v", res.Lambda+eig[0])
		}
		u := make([]float64, len(w))
		floats.SubTo(u, w, res.W)
		exact := denseSolve(h, res.Lambda, g)
		if d := Distance(u, exact); d > res.Solve.Residual/(res.Lambda+eig[0])*(1+1e-9)+1e-12 || d > tol*Norm(u) {
			t.Errorf("‖u − (H + λI)⁻¹g‖ = %.3g, ρ/(λ + λ_min) = %.3g, StepTol·‖u‖ = %.3g", d, res.Solve.Residual/(res.Lambda+eig[0]), tol*Norm(u))
		}
	}
}

// TestNewtonAutoLambdaOtherSolvers: a solver that needs λ before it starts
// gets it from a Lanczos run on a random subsample of SpectrumSamples
// samples (all of them when negative), raised when the solver proves it too
// small.
func TestNewtonAutoLambdaOtherSolvers(t *testing.T) {
	tn, w, h := nonConvexPoint()
	lmin := eigenvalues(h)[0]
	g := make([]float64, len(w))
	tn.Eval(context.Background(), w, nil, g)
	for _, tc := range []struct {
		samples, want int
		solver        Solver
	}{
		{30, 30, &Dense{}},
		{-1, 80, &Dense{}},
		{0, 80, &LiSSA{Depth: 3000, Repetitions: 1, BatchSize: 1 << 30}}, // the default 2048 > 80
	} {
		var stages []string
		res, err := Newton(context.Background(), tn, w, NewtonOptions{Solver: tc.solver, SpectrumSamples: tc.samples, Progress: func(p NewtonProgress) {
			if !p.Done {
				stages = append(stages, p.Stage)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		k := res.Krylov
		t.Logf("%d samples, %s: λ = %.4g, Ritz [%.4g ± %.2g, %.4g ± %.2g], λ_min %.4g, %d HVPs, %d sample-HVPs",
			tc.samples, res.Solve.Method, res.Lambda, k.Lowest, k.LowestResidual, k.Highest, k.HighestResidual, lmin, res.HVPs, res.SampleHVPs)
		if k.Samples != tc.want {
			t.Errorf("samples %d, want %d", k.Samples, tc.want)
		}
		// The run's stopping rule: converged top, small bottom residual, or
		// the iteration cap (Dim() = 31 steps at most here).
		top := math.Max(k.Highest, -k.Lowest)
		if !(k.HighestResidual <= lambdaTopTol*top && k.LowestResidual <= lambdaLowTol*0.01*top) && k.Dim < min(lambdaMaxIter, tn.Dim()) {
			t.Errorf("stopped early: %+v", k)
		}
		// A subsample can see less negative curvature than all samples:
		// then the dense solve proves H + λI indefinite, and λ is raised to
		// the rule applied to the exact λ_min, with the wasted HVPs counted.
		wantLambda := autoLambda(0.01, math.Max(k.Highest, -k.Lowest), k.Lowest, k.LowestResidual)
		if wantLambda+lmin <= 0 {
			wantLambda = autoLambda(0.01, math.Max(k.Highest, -lmin), lmin, 0)
			if _, ok := tc.solver.(*Dense); !ok || res.LambdaRestarts != 1 {
				t.Errorf("λ = %v from the subsample is indefinite; %d restarts", res.Lambda, res.LambdaRestarts)
			}
		}
		if math.Abs(res.Lambda-wantLambda) > 1e-12*wantLambda {
			t.Errorf("λ = %v, want %v", res.Lambda, wantLambda)
		}
		// A failed dense solve costs its P = Dim() columns.
		if want := k.Dim*k.Samples + res.Solve.SampleHVPs + res.LambdaRestarts*tn.Dim()*tn.Len(); res.SampleHVPs != want {
			t.Errorf("sample-HVPs %d, want %d", res.SampleHVPs, want)
		}
		wantStages := []string{StageGradient, StageLambda, StageSolve}
		for range res.LambdaRestarts {
			wantStages = append(wantStages, StageSolve)
		}
		if !slices.Equal(stages, wantStages) {
			t.Errorf("stages %v, want %v", stages, wantStages)
		}
		if res.Lambda+lmin > 0 {
			u := make([]float64, len(w))
			floats.SubTo(u, w, res.W)
			if d := Distance(u, denseSolve(h, res.Lambda, g)); d > res.Solve.Residual/(res.Lambda+lmin)*(1+1e-9)+1e-12 {
				t.Errorf("step off by %v", d)
			}
		}
	}
}

// TestNewtonCancel: every path of Newton stops on a cancelled context.
func TestNewtonCancel(t *testing.T) {
	cs := newConvexSetup()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, opts := range []NewtonOptions{{}, {Spectrum: SpectrumFull}, {Lambda: 0.1}, {Solver: &LiSSA{}}} {
		if _, err := Newton(ctx, cs.retained, cs.wStar, opts); !errors.Is(err, context.Canceled) {
			t.Errorf("%v/%T: err = %v, want context.Canceled", opts.Spectrum, opts.Solver, err)
		}
	}
}

// TestNewtonAutoLambdaGivenCG: a *CG given to the default path keeps its
// MaxIter and Progress and, when it sets Tol, stops on that relative
// residual instead of StepTol.
func TestNewtonAutoLambdaGivenCG(t *testing.T) {
	cs := newConvexSetup()
	calls := 0
	progress := func(SolveProgress) { calls++ }
	res, err := Newton(context.Background(), cs.retained, cs.wStar, NewtonOptions{Solver: &CG{Tol: 1e-10, Progress: progress}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Solve.Method != methodLanczosCG || res.Solve.RelResidual > 1e-10 || calls != res.Solve.Iterations {
		t.Errorf("Tol 1e-10: %+v, %d progress calls", res.Solve, calls)
	}
	loose, err := Newton(context.Background(), cs.retained, cs.wStar, NewtonOptions{Solver: &CG{MaxIter: 500}})
	if err != nil {
		t.Fatal(err)
	}
	if loose.RelStepError > DefaultStepTol || loose.Solve.Iterations >= res.Solve.Iterations {
		t.Errorf("no Tol: step error %v after %d iterations (Tol 1e-10: %d)", loose.RelStepError, loose.Solve.Iterations, res.Solve.Iterations)
	}
}

// TestDiagnoseGradient: the diagnosis from the sample-weighted mean of the
// gradients on D_r and D_u (what lethe computes, one pass over D) agrees
// with the diagnosis from the gradient on D itself, and Newton given the
// retained gradient takes the same step as Newton computing it.
func TestDiagnoseGradient(t *testing.T) {
	cs := newConvexSetup()
	ctx := context.Background()
	w := make([]float64, len(cs.wStar))
	for i := range w {
		w[i] = cs.wStar[i] + 0.01*float64(i%7-3) // away from the optimum: a gradient to compare
	}
	want, err := Diagnose(ctx, cs.full, w, 5)
	if err != nil {
		t.Fatal(err)
	}
	gr, gu := make([]float64, len(w)), make([]float64, len(w))
	lr, err := cs.retained.Eval(ctx, w, nil, gr)
	if err != nil {
		t.Fatal(err)
	}
	lu, err := cs.forgotten.Eval(ctx, w, nil, gu)
	if err != nil {
		t.Fatal(err)
	}
	nr, nu := float64(cs.retained.Len()), float64(cs.forgotten.Len())
	g := make([]float64, len(w))
	for i := range g {
		g[i] = (nr*gr[i] + nu*gu[i]) / (nr + nu)
	}
	got := DiagnoseGradient(w, (nr*lr+nu*lu)/(nr+nu), g, 5)
	// Means of the same 2,000 terms summed in two groups: float64 rounding.
	if math.Abs(got.GradNorm-want.GradNorm) > 1e-12*want.GradNorm || math.Abs(got.Loss-want.Loss) > 1e-12*want.Loss ||
		math.Abs(got.RadialGrad-want.RadialGrad) > 1e-12*want.GradNorm || got.Active != want.Active {
		t.Errorf("from the split gradients %+v, from D %+v", got, want)
	}
	a, err := Newton(ctx, cs.retained, w, NewtonOptions{ZeroLambda: true, SkipM: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Newton(ctx, cs.retained, w, NewtonOptions{ZeroLambda: true, SkipM: true, Gradient: gr, Loss: lr})
	if err != nil {
		t.Fatal(err)
	}
	if !floats.Equal(a.W, b.W) || a.GradNorm != b.GradNorm || a.Loss != b.Loss {
		t.Errorf("Newton with the gradient given differs: ‖Δw‖ = %g", Distance(a.W, b.W))
	}
}
