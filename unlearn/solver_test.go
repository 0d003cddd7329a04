package unlearn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// solverCase is one (H + λI)u = g with its exact solution from a dense solve
// on an independently built Hessian.
type solverCase struct {
	name  string
	p     Problem
	g     []float64
	h     *mat.SymDense // exact H
	want  []float64
	eigLo float64 // λ_min(H + λI) > 0
	eigHi float64 // λ_max(H + λI)
}

func newSolverCase(name string, obj Objective, h *mat.SymDense, w []float64, lambda float64, g []float64) solverCase {
	eig := eigenvalues(h)
	return solverCase{
		name: name, p: Problem{Obj: obj, W: w, Lambda: lambda}, g: g, h: h,
		want:  denseSolve(h, lambda, g),
		eigLo: eig[0] + lambda, eigHi: eig[len(eig)-1] + lambda,
	}
}

func solverCases() []solverCase {
	rnd := rand.New(rand.NewPCG(21, 22))
	randVec := func(n int, s float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = s * rnd.NormFloat64()
		}
		return v
	}
	var cases []solverCase

	// Convex: logistic regression at a non-optimal point, g its gradient.
	lr := newLogReg(rnd, 300, 5, 3, 0.01)
	w := randVec(lr.Dim(), 0.3)
	g := make([]float64, lr.Dim())
	lr.Eval(context.Background(), w, nil, g)
	cases = append(cases,
		newSolverCase("logreg-convex", lr, lr.hessian(w), w, 0, g),
		newSolverCase("logreg-damped", lr, lr.hessian(w), w, 0.05, g))

	// Indefinite: spectrum in [−2, 3] with noisy per-sample Hessians; λ = 2.5
	// makes H + λI positive definite with spectrum in [0.5, 5.5].
	eig := make([]float64, 30)
	for i := range eig {
		eig[i] = -2 + 5*float64(i)/29
	}
	q := newQuad(rnd, symWithSpectrum(rnd, eig), 40, 0.3)
	cases = append(cases, newSolverCase("quad-indefinite", q, q.mean(), make([]float64, 30), 2.5, randVec(30, 1)))

	// Non-convex network at a random point; λ = 0.05 − λ_min(H).
	tn := newTanhNet(rnd, 60, 3, 5, 0)
	wt := randVec(tn.Dim(), 0.8)
	ht := denseHessian(tn, wt)
	lmin := eigenvalues(ht)[0]
	gt := make([]float64, tn.Dim())
	tn.Eval(context.Background(), wt, nil, gt)
	cases = append(cases, newSolverCase("tanhnet-indefinite", tn, ht, wt, 0.05-lmin, gt))
	return cases
}

// solverSpec is one solver configuration with its stated accuracy: the largest
// residual ρ it promises on a case.
type solverSpec struct {
	name   string
	solver Solver
	bound  func(c solverCase, st SolveStats) float64
}

// lissaBound is LiSSA's deterministic guarantee with full batches:
// ρ ≤ (1 − a/s)^(t+1)‖g‖, a = λ_min(H + λI).
func lissaBound(depth int) func(c solverCase, st SolveStats) float64 {
	return func(c solverCase, st SolveStats) float64 {
		return math.Pow(1-c.eigLo/st.Scale, float64(depth+1)) * Norm(c.g)
	}
}

func solverSpecs() []solverSpec {
	const cgTol = 1e-10
	return []solverSpec{
		{"cg", &CG{Tol: cgTol, MaxIter: 1000}, func(c solverCase, _ SolveStats) float64 { return cgTol * Norm(c.g) }},
		// Cholesky is backward stable: the residual is O(ε·‖A‖·‖u‖); 1e-12
		// leaves room for the P-term sums.
		{"dense", &Dense{}, func(c solverCase, _ SolveStats) float64 { return 1e-12 * c.eigHi * Norm(c.want) }},
		// Full batches (BatchSize ≥ Len): the deterministic Neumann bound.
		// The Neumann bias decays below rounding on the well-conditioned
		// cases, where the floor is the dense solver's O(ε·‖A‖·‖u‖).
		{"lissa-full", &LiSSA{Depth: 2000, Repetitions: 1, BatchSize: 1 << 30}, func(c solverCase, st SolveStats) float64 {
			return lissaBound(2000)(c, st) + 1e-12*c.eigHi*Norm(c.want)
		}},
		// Mini-batches: the Neumann bias plus zero-mean sampling noise. In
		// the eigendirection of A with eigenvalue a_i the residual noise has
		// variance ≈ a_i·σ²/(2s), σ² ≈ Var(H_B)‖u*‖²/(r·B): it is largest
		// for ill-conditioned problems (large ‖u*‖). With r = 8, B = 16 and
		// the automatic scale from 20 sampled batches, the worst relative
		// residual over seeds 0..19 is 12.7 % (tanhnet-indefinite), 11.1 %
		// for logreg-convex (cond ≈ 175) and 0.3 % for the well-conditioned
		// quadratic; the tolerance 0.25·‖g‖ is that worst case with a
		// factor 2.
		{"lissa-minibatch", &LiSSA{Depth: 2000, Repetitions: 8, BatchSize: 16, Seed: 1}, func(c solverCase, st SolveStats) float64 {
			return lissaBound(2000)(c, st) + 0.25*Norm(c.g)
		}},
	}
}

// TestSolvers is the shared conformance suite run against every Solver.
func TestSolvers(t *testing.T) {
	for _, spec := range solverSpecs() {
		for _, c := range solverCases() {
			t.Run(spec.name+"/"+c.name, func(t *testing.T) {
				u, st, err := spec.solver.Solve(context.Background(), c.p, c.g)
				if err != nil {
					t.Fatal(err)
				}
				n := len(c.g)
				if len(u) != n {
					t.Fatalf("len(u) = %d, want %d", len(u), n)
				}
				// The reported residual must be the true full-data one. The
				// exact residual is computed with the dense matrix; the two
				// differ by rounding in H·u, O(ε·‖H + λI‖·‖u‖·P).
				var au mat.VecDense
				au.MulVec(c.h, mat.NewVecDense(n, u))
				r := au.RawVector().Data
				floats.AddScaled(r, c.p.Lambda, u)
				floats.Sub(r, c.g)
				rho := Norm(r)
				roundoff := 1e-13 * float64(n) * c.eigHi * Norm(u)
				if math.Abs(st.Residual-rho) > roundoff {
					t.Errorf("reported residual %.6g, true %.6g", st.Residual, rho)
				}
				// ‖u − u*‖ ≤ ρ/λ_min(H + λI): the inequality the certificate's
				// residual term rests on.
				errNorm := Distance(u, c.want)
				if errNorm > (rho+roundoff)/c.eigLo*(1+1e-9) {
					t.Errorf("‖u − u*‖ = %.3g exceeds ρ/σ_min = %.3g", errNorm, rho/c.eigLo)
				}
				bound := spec.bound(c, st)
				t.Logf("ρ = %.3g (bound %.3g), ‖u − u*‖/‖u*‖ = %.3g, %d iterations, %d HVPs, scale %.3g",
					st.Residual, bound, errNorm/Norm(c.want), st.Iterations, st.HVPs, st.Scale)
				if st.Residual > bound {
					t.Errorf("residual %.3g above the solver's stated tolerance %.3g", st.Residual, bound)
				}
				if st.Method == "" || st.HVPs == 0 || st.SampleHVPs < st.HVPs || st.Repetitions < 1 {
					t.Errorf("incomplete stats %+v", st)
				}
				if gn := Norm(c.g); math.Abs(st.RelResidual-st.Residual/gn) > 1e-15*st.RelResidual {
					t.Errorf("RelResidual %v, want %v", st.RelResidual, st.Residual/gn)
				}
			})
		}
	}
}

// TestSolversCancel: every solver stops on a cancelled context.
func TestSolversCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := solverCases()[0]
	for _, spec := range solverSpecs() {
		if _, _, err := spec.solver.Solve(ctx, c.p, c.g); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", spec.name, err)
		}
	}
}

// TestSolversZeroRHS: g = 0 gives u = 0 with zero residual.
func TestSolversZeroRHS(t *testing.T) {
	c := solverCases()[0]
	zero := make([]float64, len(c.g))
	for _, spec := range solverSpecs() {
		u, st, err := spec.solver.Solve(context.Background(), c.p, zero)
		if err != nil || Norm(u) != 0 || st.Residual != 0 {
			t.Errorf("%s: u = %v, residual %v, err %v", spec.name, Norm(u), st.Residual, err)
		}
	}
}

// TestCGNotConverged: stopping early returns the iterate, its honest residual
// and a *NotConvergedError.
func TestCGNotConverged(t *testing.T) {
	c := solverCases()[0]
	u, st, err := (&CG{Tol: 1e-12, MaxIter: 3}).Solve(context.Background(), c.p, c.g)
	var nc *NotConvergedError
	if !errors.As(err, &nc) {
		t.Fatalf("err = %v, want *NotConvergedError", err)
	}
	if u == nil || nc.Iter != 3 || st.Iterations != 3 || nc.Residual != st.Residual || nc.Residual <= nc.Target {
		t.Errorf("u = %v, error %+v, stats %+v", u != nil, nc, st)
	}
	if !strings.Contains(err.Error(), "did not converge") {
		t.Errorf("message %q", err)
	}
	// The honest residual is what it says.
	rho, _ := Residual(context.Background(), c.p, u, c.g)
	if rho != st.Residual {
		t.Errorf("residual %v, stats say %v", rho, st.Residual)
	}
}

// TestCGNegativeCurvature: CG on an indefinite H + λI reports it.
func TestCGNegativeCurvature(t *testing.T) {
	c := solverCases()[2] // quad-indefinite with λ = 2.5
	p := c.p
	p.Lambda = 0
	_, _, err := (&CG{}).Solve(context.Background(), p, c.g)
	var nce *NegativeCurvatureError
	if !errors.As(err, &nce) {
		t.Fatalf("err = %v, want *NegativeCurvatureError", err)
	}
	// The curvature is a Rayleigh quotient of H: between λ_min = −2 and 0.
	if nce.Curvature > 0 || nce.Curvature < -2-1e-12 {
		t.Errorf("curvature %v", nce.Curvature)
	}
}

// TestDenseIndefinite: the dense solver names λ and the exact λ_min.
func TestDenseIndefinite(t *testing.T) {
	c := solverCases()[2]
	p := c.p
	p.Lambda = 1
	_, _, err := (&Dense{}).Solve(context.Background(), p, c.g)
	var ie *IndefiniteError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want *IndefiniteError", err)
	}
	// The mean Hessian's λ_min is −2 by construction; the built matrix
	// carries rounding of the averaged per-sample matrices.
	if ie.Lambda != 1 || math.Abs(ie.LambdaMin+2) > 1e-12 {
		t.Errorf("%+v", ie)
	}
}

// TestLiSSADivergence: a scale below ‖H + λI‖/2 makes I − A/s have
// eigenvalues below −1; with NoRestart LiSSA must stop with a
// *DivergedError suggesting a larger scale.
func TestLiSSADivergence(t *testing.T) {
	c := solverCases()[2] // ‖H + λI‖ = 5.5
	_, _, err := (&LiSSA{Scale: 2, Depth: 1000, Repetitions: 1, BatchSize: 1 << 30, NoRestart: true}).Solve(context.Background(), c.p, c.g)
	var de *DivergedError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DivergedError", err)
	}
	if de.Scale != 2 || !strings.Contains(err.Error(), "larger scale") {
		t.Errorf("%+v: %q", de, err)
	}
	// |1 − 5.5/2| = 1.75: ‖v_i‖ passes 1000·(i+1)·‖g‖ after ~20 steps.
	if de.Iter > 40 {
		t.Errorf("divergence detected only at step %d", de.Iter)
	}
}

// TestLiSSARestart: after a divergence LiSSA starts over with a scale four
// times larger, counts the wasted work, and gives up after three restarts.
func TestLiSSARestart(t *testing.T) {
	c := solverCases()[2] // ‖H + λI‖ = 5.5, λ_min(H + λI) = 0.5
	u, st, err := (&LiSSA{Scale: 2, Depth: 1000, Repetitions: 1, BatchSize: 1 << 30}).Solve(context.Background(), c.p, c.g)
	if err != nil {
		t.Fatal(err)
	}
	// s = 8 ≥ 5.5: the deterministic recursion converges, to the Neumann
	// bound (1 − 0.5/8)^1001 ≈ 1e-28 relative plus the dense rounding floor.
	if st.Restarts != 1 || st.Scale != 8 {
		t.Errorf("restarts %d, scale %v; want 1 and 8", st.Restarts, st.Scale)
	}
	if bound := lissaBound(1000)(c, st) + 1e-12*c.eigHi*Norm(c.want); st.Residual > bound {
		t.Errorf("residual %.3g above %.3g", st.Residual, bound)
	}
	if d := Distance(u, c.want); d > st.Residual/c.eigLo*(1+1e-9)+1e-12 {
		t.Errorf("‖u − u*‖ = %.3g", d)
	}
	// The diverged attempt's HVPs are counted: more than one run's t + 1.
	if st.HVPs <= 1000+1 || st.SampleHVPs != st.HVPs*c.p.Obj.Len() {
		t.Errorf("HVPs %d, sample-HVPs %d", st.HVPs, st.SampleHVPs)
	}
	// 1e-4·4³ is still far below 5.5/2: three restarts, then the error.
	_, st, err = (&LiSSA{Scale: 1e-4, Depth: 1000, Repetitions: 1, BatchSize: 1 << 30}).Solve(context.Background(), c.p, c.g)
	var de *DivergedError
	if !errors.As(err, &de) || st.Restarts != 3 || de.Scale != 1e-4*64 || st.Scale != de.Scale {
		t.Errorf("err %v, restarts %d, scale %v", err, st.Restarts, st.Scale)
	}
}

// TestLiSSAAutoScale: the automatic scale is Safety·max(‖H_B + λI‖ over
// ScaleBatches sampled mini-batches, ‖H‖ + λ when given).
func TestLiSSAAutoScale(t *testing.T) {
	c := solverCases()[2] // 40 samples, ‖H‖ = 3, λ = 2.5
	q := c.p.Obj.(*quad)
	// Full batches and a given ‖H‖: 2(‖H‖ + λ) without an HVP of its own.
	p := c.p
	p.HessianNorm = 3
	_, st, err := (&LiSSA{Depth: 10, Repetitions: 1, BatchSize: 1 << 30}).Solve(context.Background(), p, c.g)
	if err != nil {
		t.Fatal(err)
	}
	if st.Scale != 2*(3+2.5) || st.HVPs != 10+1 {
		t.Errorf("scale %v (want 11), HVPs %d (want 11)", st.Scale, st.HVPs)
	}
	// Full batches without ‖H‖: power iteration on H + λI, whose norm is
	// 5.5 (spectrum [0.5, 5.5]); converged to ~1e-10 relative.
	_, st, err = (&LiSSA{Depth: 10, Repetitions: 1, BatchSize: 1 << 30, Safety: 3, Power: SpectralOptions{MaxIter: 1000, Tol: 1e-10}}).Solve(context.Background(), c.p, c.g)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(st.Scale-3*5.5) > 1e-8 {
		t.Errorf("scale %v, want %v", st.Scale, 3*5.5)
	}
	// Mini-batches: the largest exact ‖H_B + λI‖ over the sampled batches,
	// which are drawn from the seed's scale stream.
	const seed, batches, bs = 3, 7, 5
	l := &LiSSA{Depth: 10, Repetitions: 1, BatchSize: bs, ScaleBatches: batches, Seed: seed, Power: SpectralOptions{MaxIter: 5000, Tol: 1e-12}}
	_, st, err = l.Solve(context.Background(), c.p, c.g)
	if err != nil {
		t.Fatal(err)
	}
	rnd := newRand(seed, streamLissaScale)
	top := 0.0
	for j := 0; j < batches; j++ {
		hb := mat.NewSymDense(q.p, nil)
		for _, i := range rnd.Perm(q.Len())[:bs] {
			hb.AddSym(hb, q.a[i])
		}
		hb.ScaleSym(1.0/bs, hb)
		eig := eigenvalues(hb)
		top = math.Max(top, math.Max(math.Abs(eig[0]+c.p.Lambda), math.Abs(eig[len(eig)-1]+c.p.Lambda)))
	}
	t.Logf("scale %.6g, 2·max ‖H_B + λI‖ = %.6g (full ‖H + λI‖ = 5.5), %d HVPs", st.Scale, 2*top, st.HVPs)
	// Power iteration approaches each norm from below; with 5000 steps to a
	// 1e-12 residual it is within 1e-6 of it here (eigenvalue gaps ≳ 1e-2).
	if st.Scale > 2*top*(1+1e-12) || st.Scale < 2*top*(1-1e-6) {
		t.Errorf("scale %v, want 2·%v", st.Scale, top)
	}
	if st.Scale <= 2*5.5 {
		t.Errorf("the mini-batch norms (%v) should exceed the full one", top)
	}
	// A given ‖H‖ larger than every batch norm is the floor.
	p.HessianNorm = 100
	if _, st, err = l.Solve(context.Background(), p, c.g); err != nil || st.Scale != 2*(100+2.5) {
		t.Errorf("scale %v, err %v; want %v", st.Scale, err, 2*(100+2.5))
	}
}

// TestLanczosCG: the default path's solve picks λ from the Ritz values of
// its Krylov space by the documented rule, keeps H + λI positive definite on
// that space, reports the true residual, and is conjugate gradient for the
// final λ: the same iterate as CG after as many iterations.
func TestLanczosCG(t *testing.T) {
	const margin = 0.01
	for _, c := range solverCases() {
		eig := eigenvalues(c.h)
		lmin, lmax := eig[0], eig[len(eig)-1]
		for _, rule := range []cgRule{{tol: 1e-10, maxIter: 1000}, {stepTol: 1e-2}} {
			t.Run(fmt.Sprintf("%s/tol=%g/step=%g", c.name, rule.tol, rule.stepTol), func(t *testing.T) {
				p := c.p
				p.Lambda = -1 // ignored: λ is chosen
				sol, err := lanczosCG(context.Background(), p, c.g, margin, rule)
				if err != nil {
					t.Fatal(err)
				}
				u, lambda, st, spec := sol.u, sol.lambda, sol.stats, sol.spec
				t.Logf("λ = %.4g (λ_min %.4g), Ritz [%.4g ± %.2g, %.4g ± %.2g] of [%.4g, %.4g], %d iterations, %d HVPs, ρ/‖g‖ = %.2g",
					lambda, lmin, spec.Lowest, spec.LowestResidual, spec.Highest, spec.HighestResidual, lmin, lmax, st.Iterations, st.HVPs, st.RelResidual)
				if want := autoLambda(margin, math.Max(spec.Highest, -spec.Lowest), spec.Lowest, spec.LowestResidual); lambda != want {
					t.Errorf("λ = %v, rule gives %v", lambda, want)
				}
				// Ritz values are Rayleigh quotients: inside the spectrum
				// (to rounding, 1e-12 for spectra of size ~1–10).
				if spec.Lowest < lmin-1e-12 || spec.Highest > lmax+1e-12 || !(lambda+spec.Lowest > 0) {
					t.Errorf("Ritz range [%v, %v] outside [%v, %v] or not positive with λ", spec.Lowest, spec.Highest, lmin, lmax)
				}
				// One HVP per iteration: the residual comes from their products.
				if spec.Dim != st.Iterations || st.HVPs != st.Iterations || spec.Samples != c.p.Obj.Len() || st.Method != methodLanczosCG {
					t.Errorf("spec %+v, stats %+v", spec, st)
				}
				// The reported residual is the true one (dense), up to rounding.
				n := len(u)
				var hu mat.VecDense
				hu.MulVec(c.h, mat.NewVecDense(n, u))
				r := hu.RawVector().Data
				floats.AddScaled(r, lambda, u)
				floats.Sub(r, c.g)
				if math.Abs(Norm(r)-st.Residual) > 1e-13*float64(n)*(lmax+lambda)*Norm(u) {
					t.Errorf("reported residual %v, true %v", st.Residual, Norm(r))
				}
				if rule.stepTol > 0 {
					// errScale is μ·f: at least the residual bound's μ.
					mu := lambda + spec.Lowest - spec.LowestResidual
					if st.Residual > rule.stepTol*sol.errScale*Norm(u) || !(sol.errScale >= mu) {
						t.Errorf("ρ = %v above StepTol·μ·f·‖u‖ = %v, or μ·f = %v below μ = %v", st.Residual, rule.stepTol*sol.errScale*Norm(u), sol.errScale, mu)
					}
					// The promised accuracy, when its premise holds.
					if lambda+lmin > 0 && lmin >= spec.Lowest-spec.LowestResidual {
						d := Distance(u, denseSolve(c.h, lambda, c.g))
						t.Logf("‖u − u*‖ = %.3g ≤ ρ/(μ·f) = %.3g (ρ/μ = %.3g)", d, st.Residual/sol.errScale, st.Residual/mu)
						if d > rule.stepTol*Norm(u) || d > st.Residual/sol.errScale {
							t.Errorf("‖u − u*‖ = %v above StepTol·‖u‖ = %v or ρ/(μ·f) = %v", d, rule.stepTol*Norm(u), st.Residual/sol.errScale)
						}
					}
				} else if st.Residual > rule.tol*Norm(c.g) {
					t.Errorf("residual %v above %v", st.Residual, rule.tol*Norm(c.g))
				}
				// Conjugate gradient for the final λ: the same iterate after
				// as many iterations, in exact arithmetic. Plain CG loses
				// orthogonality once Ritz values converge, which delays it;
				// before that (the early stop of the step rule, cond ≲ 300
				// here) the two agree to ~1e-8 relative.
				pc := c.p
				pc.Lambda = lambda
				if rule.stepTol > 0 && lambda+lmin > 0 {
					ucg, _, _ := (&CG{Tol: 1e-300, MaxIter: st.Iterations}).Solve(context.Background(), pc, c.g)
					if d := Distance(u, ucg); d > 1e-7*Norm(u) {
						t.Errorf("CG's iterate %d differs by %v (‖u‖ = %v)", st.Iterations, d, Norm(u))
					}
				}
			})
		}
	}
}

// TestLiSSADeterministic: equal seeds give identical answers.
func TestLiSSADeterministic(t *testing.T) {
	c := solverCases()[2]
	s := &LiSSA{Depth: 50, Repetitions: 2, BatchSize: 4, Seed: 9}
	a, _, _ := s.Solve(context.Background(), c.p, c.g)
	b, _, _ := s.Solve(context.Background(), c.p, c.g)
	if !floats.Equal(a, b) {
		t.Error("same seed, different results")
	}
}

// TestCGHonestConvergence: on a problem so ill-conditioned (cond 1e8) that
// CG's recursive residual drifts below the attainable true residual
// (≈ ε·cond·‖g‖ ≈ 1e-8·‖g‖ > the target 1e-10·‖g‖), CG must not claim
// convergence: either the true residual meets the target, or it returns a
// *NotConvergedError.
func TestCGHonestConvergence(t *testing.T) {
	rnd := rand.New(rand.NewPCG(41, 42))
	eig := make([]float64, 40)
	for i := range eig {
		eig[i] = math.Pow(10, -8+8*float64(i)/39)
	}
	obj := singleQuad(symWithSpectrum(rnd, eig))
	g := make([]float64, 40)
	for i := range g {
		g[i] = rnd.NormFloat64()
	}
	p := Problem{Obj: obj, W: make([]float64, 40)}
	const tol = 1e-10
	_, st, err := (&CG{Tol: tol, MaxIter: 2000}).Solve(context.Background(), p, g)
	var nc *NotConvergedError
	t.Logf("err %v, residual %.3g, target %.3g, %d iterations, %d HVPs", err, st.Residual, tol*Norm(g), st.Iterations, st.HVPs)
	// The case must exercise the drift: at least one true-residual check
	// beyond the final one.
	if st.HVPs < st.Iterations+2 {
		t.Errorf("recursive residual never reached the target (%d HVPs, %d iterations)", st.HVPs, st.Iterations)
	}
	switch {
	case errors.As(err, &nc):
	case err != nil:
		t.Fatal(err)
	case st.Residual > tol*Norm(g):
		t.Errorf("claimed convergence with residual %.3g > target %.3g", st.Residual, tol*Norm(g))
	}
}

// TestLiSSAWorkersDoNotChangeTheResult runs the same seeded LiSSA with one
// and with three workers: every repetition draws from its own stream, so only
// the order of the final sum may differ.
func TestLiSSAWorkersDoNotChangeTheResult(t *testing.T) {
	c := solverCases()[1] // logreg-damped; its HVP is safe for concurrent use
	solve := func(workers int) ([]float64, SolveStats) {
		l := &LiSSA{Depth: 200, Repetitions: 5, BatchSize: 20, Seed: 9, Workers: workers}
		u, st, err := l.Solve(context.Background(), c.p, c.g)
		if err != nil {
			t.Fatal(err)
		}
		return u, st
	}
	one, st1 := solve(1)
	three, st3 := solve(3)
	if d := Distance(one, three); d > 1e-12*Norm(one) {
		t.Errorf("one worker and three differ by %g (‖u‖ = %g)", d, Norm(one))
	}
	if st1.HVPs != st3.HVPs || st1.SampleHVPs != st3.SampleHVPs {
		t.Errorf("work counted differently: %+v vs %+v", st1, st3)
	}
}

// TestPCG runs the preconditioned CG on every solver case: with a Jacobi
// preconditioner it reaches the same residual as CG, and with the exact
// inverse of H + λI as preconditioner it converges in one iteration (which
// fails if the preconditioner is applied in the wrong place).
func TestPCG(t *testing.T) {
	for _, c := range solverCases() {
		n := len(c.g)
		var chol mat.Cholesky
		shifted := mat.NewSymDense(n, nil)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				v := c.h.At(i, j)
				if i == j {
					v += c.p.Lambda
				}
				shifted.SetSym(i, j, v)
			}
		}
		if !chol.Factorize(shifted) {
			t.Fatalf("%s: H + λI is not positive definite", c.name)
		}
		jacobi := func(dst, r []float64) error {
			for i := range r {
				dst[i] = r[i] / shifted.At(i, i)
			}
			return nil
		}
		exact := func(dst, r []float64) error {
			return chol.SolveVecTo(mat.NewVecDense(n, dst), mat.NewVecDense(n, r))
		}
		const tol = 1e-10
		for _, p := range []struct {
			name    string
			precond func(dst, r []float64) error
			maxIter int
		}{{"jacobi", jacobi, 1000}, {"exact", exact, 2}} {
			u, st, err := (&CG{Tol: tol, MaxIter: p.maxIter, Precond: p.precond}).Solve(context.Background(), c.p, c.g)
			if err != nil {
				t.Fatalf("%s/%s: %v", c.name, p.name, err)
			}
			// The exact preconditioner solves in one step up to rounding;
			// the iterate then agrees with the dense solve to ~1e-12.
			if st.Method != "pcg" || st.Residual > tol*Norm(c.g) || Distance(u, c.want) > 1e-8*Norm(c.want) {
				t.Errorf("%s/%s: %d iterations, residual %.3g, error %.3g", c.name, p.name, st.Iterations, st.Residual, Distance(u, c.want))
			}
			if p.name == "exact" && st.Iterations > 1 {
				t.Errorf("%s: the exact preconditioner took %d iterations", c.name, st.Iterations)
			}
		}
	}
}
