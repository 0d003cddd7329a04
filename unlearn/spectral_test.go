package unlearn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// TestTridiagEigen checks the O(n²) QL eigensolver (values and the last
// components of the eigenvectors) against mat.EigenSym.
func TestTridiagEigen(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 3, 10, 57} {
		alpha := make([]float64, n)
		beta := make([]float64, n-1)
		a := mat.NewSymDense(n, nil)
		for i := range alpha {
			alpha[i] = rnd.NormFloat64()
			a.SetSym(i, i, alpha[i])
		}
		for i := range beta {
			beta[i] = rnd.NormFloat64()
			if i == 3 {
				beta[i] = 0 // a split block
			}
			a.SetSym(i, i+1, beta[i])
		}
		vals, last, ok := tridiagEigen(alpha, beta)
		if !ok {
			t.Fatalf("n=%d: no convergence", n)
		}
		var es mat.EigenSym
		es.Factorize(a, true)
		want := es.Values(nil)
		var vec mat.Dense
		es.VectorsTo(&vec)
		for i := range want {
			// Both are backward stable: eigenvalue errors are O(ε‖T‖) with
			// ‖T‖ ≈ 3 here.
			if math.Abs(vals[i]-want[i]) > 1e-12 {
				t.Errorf("n=%d: eigenvalue %d = %v, want %v", n, i, vals[i], want[i])
			}
			// Eigenvector components are accurate to O(ε‖T‖/gap); random
			// spectra of this size have gaps ≳ 1e-3.
			if math.Abs(math.Abs(last[i])-math.Abs(vec.At(n-1, i))) > 1e-9 {
				t.Errorf("n=%d: |last component| %d = %v, want %v", n, i, math.Abs(last[i]), math.Abs(vec.At(n-1, i)))
			}
		}
	}
}

type spectralCase struct {
	name string
	a    *mat.SymDense
}

func spectralCases() []spectralCase {
	rnd := rand.New(rand.NewPCG(9, 10))
	spread := func(n int, lo, hi float64) []float64 {
		e := make([]float64, n)
		for i := range e {
			e[i] = lo + (hi-lo)*rnd.Float64()
		}
		return e
	}
	psd := spread(40, 1e-3, 1)
	psd[0], psd[1] = 1e-4, 2 // tiny λ_min, separated top
	negTop := spread(40, -1, 1.5)
	negTop[0] = -4 // dominant eigenvalue negative
	return []spectralCase{
		{"goe-60", goe(rnd, 60)},
		{"goe-200", goe(rnd, 200)},
		{"psd-40", symWithSpectrum(rnd, psd)},
		{"negative-dominant-40", symWithSpectrum(rnd, negTop)},
	}
}

// singleQuad wraps a symmetric matrix as a one-sample quadratic objective.
func singleQuad(a *mat.SymDense) *quad {
	n := a.SymmetricDim()
	return &quad{a: []*mat.SymDense{a}, b: [][]float64{make([]float64, n)}, p: n}
}

// TestPowerIteration compares ‖H‖ and the signed dominant eigenvalue with a
// dense eigendecomposition.
func TestPowerIteration(t *testing.T) {
	for _, tc := range spectralCases() {
		t.Run(tc.name, func(t *testing.T) {
			obj := singleQuad(tc.a)
			w := make([]float64, obj.p)
			eig := eigenvalues(tc.a)
			lo, hi := eig[0], eig[len(eig)-1]
			norm, dom := math.Max(-lo, hi), hi
			if -lo > hi {
				dom = lo
			}
			est, err := PowerIteration(context.Background(), obj, w, SpectralOptions{MaxIter: 3000, Tol: 1e-9, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			relErr := math.Abs(est.Value-norm) / norm
			t.Logf("‖H‖ = %.10g, estimate %.10g (rel. error %.2g), θ = %.6g, %d iterations, residual %.2g, converged %v",
				norm, est.Value, relErr, est.Eigenvalue, est.Iterations, est.Residual, est.Converged)
			// Value = ‖Hv‖ ≤ ‖H‖ always (up to rounding).
			if est.Value > norm*(1+1e-12) {
				t.Errorf("estimate %v exceeds ‖H‖ = %v", est.Value, norm)
			}
			if est.Converged {
				// At convergence the residual r bounds the eigenvalue error of
				// θ by r (Bauer–Fike), and ‖Hv‖ ≥ |θ|.
				if math.Abs(est.Eigenvalue-dom) > est.Residual*(1+1e-9)+1e-12 {
					t.Errorf("θ = %v, want %v ± %v", est.Eigenvalue, dom, est.Residual)
				}
				// ‖Hv‖² − θ² = r², so the norm is accurate to r²/‖H‖ (+ the
				// quadratic eigenvector error): 1e-9 relative is generous.
				if relErr > 1e-9 {
					t.Errorf("rel. error %v", relErr)
				}
			} else if relErr > 1e-3 {
				// Without an eigenvalue gap the Rayleigh quotient stalls, but
				// ‖Hv‖ still converges (slowly) to ‖H‖.
				t.Errorf("not converged and rel. error %v", relErr)
			}
			if est.HVPs != est.Iterations {
				t.Errorf("HVPs = %d, iterations = %d", est.HVPs, est.Iterations)
			}
		})
	}
}

// TestPowerIterationOppositeExtremes: for eigenvalues ±3 the Rayleigh quotient
// does not converge, but Value = ‖Hv‖ equals 3 exactly, and the estimate must
// say it did not converge.
func TestPowerIterationOppositeExtremes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	obj := singleQuad(symWithSpectrum(rnd, []float64{-3, -1, 0.5, 2, 3}))
	est, err := PowerIteration(context.Background(), obj, make([]float64, 5), SpectralOptions{MaxIter: 200, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	// (2/3)^200 ≈ 1e-35: the components along ±2, … have vanished.
	if math.Abs(est.Value-3) > 1e-12 {
		t.Errorf("Value = %v, want 3", est.Value)
	}
	if est.Converged {
		t.Errorf("converged with θ = %v, residual %v; the ±3 eigenvalues should prevent it", est.Eigenvalue, est.Residual)
	}
}

// TestLanczos compares λ_min with a dense eigendecomposition, with full and
// selective reorthogonalization.
func TestLanczos(t *testing.T) {
	for _, tc := range spectralCases() {
		for _, reorth := range []Reorthogonalization{FullReorthogonalization, SelectiveReorthogonalization} {
			t.Run(fmt.Sprintf("%s/%v", tc.name, reorth), func(t *testing.T) {
				obj := singleQuad(tc.a)
				w := make([]float64, obj.p)
				eig := eigenvalues(tc.a)
				est, err := Lanczos(context.Background(), obj, w, SpectralOptions{MaxIter: 300, Tol: 1e-10, Seed: 3, Reorthogonalization: reorth})
				if err != nil {
					t.Fatal(err)
				}
				absErr := est.Value - eig[0]
				t.Logf("λ_min = %.12g, estimate %.12g (error %.2g), %d iterations, residual %.2g, converged %v",
					eig[0], est.Value, absErr, est.Iterations, est.Residual, est.Converged)
				if !est.Converged {
					t.Fatalf("not converged")
				}
				// Value is a Rayleigh quotient: ≥ λ_min up to rounding.
				if absErr < -1e-12 {
					t.Errorf("Ritz value %v below λ_min %v", est.Value, eig[0])
				}
				// Converged means residual ≤ 1e-10·‖T‖; the Rayleigh quotient
				// is then within the residual of an eigenvalue. With a random
				// start it is the smallest one.
				if absErr > est.Residual+1e-11 {
					t.Errorf("error %v exceeds residual bound %v", absErr, est.Residual)
				}
			})
		}
	}
}

// TestLanczosSmallDim: Lanczos stops after Dim() steps with exact Ritz values.
func TestLanczosSmallDim(t *testing.T) {
	rnd := rand.New(rand.NewPCG(13, 14))
	eig := []float64{-0.7, 0.1, 0.2, 5}
	obj := singleQuad(symWithSpectrum(rnd, eig))
	est, err := Lanczos(context.Background(), obj, make([]float64, 4), SpectralOptions{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if est.Iterations > 4 || math.Abs(est.Value-eig[0]) > 1e-12 || !est.Converged {
		t.Errorf("got %+v, want λ_min = %v within 4 iterations", est, eig[0])
	}
}

// TestSpectralDeterministic: equal seeds give identical estimates, different
// seeds different paths.
func TestSpectralDeterministic(t *testing.T) {
	obj := singleQuad(spectralCases()[0].a)
	w := make([]float64, obj.p)
	opts := SpectralOptions{MaxIter: 15, Seed: 42}
	a, _ := PowerIteration(context.Background(), obj, w, opts)
	b, _ := PowerIteration(context.Background(), obj, w, opts)
	c, _ := Lanczos(context.Background(), obj, w, opts)
	d, _ := Lanczos(context.Background(), obj, w, opts)
	if a != b || c != d {
		t.Errorf("same seed, different results: %+v %+v / %+v %+v", a, b, c, d)
	}
	opts.Seed = 43
	e, _ := PowerIteration(context.Background(), obj, w, opts)
	if e.Value == a.Value {
		t.Errorf("different seeds gave identical estimates")
	}
}

// TestSpectralShift: the Shift option estimates H + σI.
func TestSpectralShift(t *testing.T) {
	rnd := rand.New(rand.NewPCG(15, 16))
	eig := []float64{-2, -0.5, 1, 1.5, 2.5}
	obj := singleQuad(symWithSpectrum(rnd, eig))
	w := make([]float64, 5)
	l, _ := Lanczos(context.Background(), obj, w, SpectralOptions{Shift: 3})
	p, _ := PowerIteration(context.Background(), obj, w, SpectralOptions{Shift: 3, MaxIter: 500, Tol: 1e-12})
	// 5 steps of Lanczos on a 5×5 matrix are exact; power iteration with ratio
	// 4.5/5.5 converges to 1e-12 within 500 steps.
	if math.Abs(l.Value-1) > 1e-12 || math.Abs(p.Value-5.5) > 1e-10 {
		t.Errorf("shifted λ_min = %v (want 1), ‖H+3I‖ = %v (want 5.5)", l.Value, p.Value)
	}
}

func TestSpectralCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	obj := singleQuad(spectralCases()[0].a)
	if _, err := PowerIteration(ctx, obj, make([]float64, obj.p), SpectralOptions{}); err != context.Canceled {
		t.Errorf("power iteration: err = %v", err)
	}
	if _, err := Lanczos(ctx, obj, make([]float64, obj.p), SpectralOptions{}); err != context.Canceled {
		t.Errorf("lanczos: err = %v", err)
	}
}

// TestLanczosBasis checks the invariants behind the estimate: the basis is
// orthonormal (to rounding with full reorthogonalization, to √ε with selective
// reorthogonalization), and Value and Residual are the Rayleigh quotient and
// residual ‖Ay − θy‖ of the Ritz vector y = Q_k s of the smallest Ritz value.
func TestLanczosBasis(t *testing.T) {
	rnd := rand.New(rand.NewPCG(39, 40))
	a := goe(rnd, 200)
	// A spread of outliers makes Ritz values converge (and orthogonality get
	// lost without reorthogonalization) early.
	for i := 0; i < 5; i++ {
		a.SetSym(i, i, a.At(i, i)+float64(3+2*i))
	}
	op := func(dst, v []float64) error {
		var av mat.VecDense
		av.MulVec(a, mat.NewVecDense(len(v), v))
		copy(dst, av.RawVector().Data)
		return nil
	}
	for _, tc := range []struct {
		reorth Reorthogonalization
		orth   float64 // tolerated max |QᵀQ − I|
	}{
		// Full: two Gram–Schmidt passes give O(ε) orthogonality.
		{FullReorthogonalization, 1e-14},
		// Selective keeps semi-orthogonality, |q_iᵀq_j| ≲ √ε ≈ 1.5e-8.
		{SelectiveReorthogonalization, 1e-7},
	} {
		for _, iters := range []int{20, 120} {
			est, _, kr, err := lanczos(context.Background(), op, 200, SpectralOptions{MaxIter: iters, Tol: 1e-300, Seed: 5, Reorthogonalization: tc.reorth}.defaults(), false)
			if err != nil {
				t.Fatal(err)
			}
			k := len(kr.basis)
			worst := 0.0
			for i := 0; i < k; i++ {
				for j := 0; j <= i; j++ {
					d := dotSlices(kr.basis[i], kr.basis[j])
					if i == j {
						d--
					}
					worst = math.Max(worst, math.Abs(d))
				}
			}
			// The Ritz vector of the smallest Ritz value.
			tk := mat.NewSymDense(k, nil)
			for i := 0; i < k; i++ {
				tk.SetSym(i, i, kr.alpha[i])
				if i+1 < k {
					tk.SetSym(i, i+1, kr.beta[i])
				}
			}
			var es mat.EigenSym
			es.Factorize(tk, true)
			var s mat.Dense
			es.VectorsTo(&s)
			y := make([]float64, 200)
			for i := 0; i < k; i++ {
				for j := range y {
					y[j] += s.At(i, 0) * kr.basis[i][j]
				}
			}
			ay := make([]float64, 200)
			op(ay, y)
			ny := Norm(y)
			for j := range ay {
				ay[j] = (ay[j] - est.Value*y[j]) / ny
			}
			trueRes := Norm(ay)
			t.Logf("%v, %d steps: max|QᵀQ − I| = %.2g, residual %.3g, recomputed %.3g", tc.reorth, k, worst, est.Residual, trueRes)
			if worst > tc.orth {
				t.Errorf("%v, %d steps: orthogonality lost: %.2g", tc.reorth, k, worst)
			}
			// The same quantities computed in a different order: rounding
			// only (the residual is a difference of O(‖A‖) terms, hence the
			// absolute 1e-13).
			if math.Abs(trueRes-est.Residual) > 1e-9*est.Residual+1e-13 {
				t.Errorf("%v, %d steps: residual %v, recomputed %v", tc.reorth, k, est.Residual, trueRes)
			}
		}
	}
}

func dotSlices(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestLanczosExtremes: one Lanczos run estimates both λ_min and ‖H‖, compared
// with a dense eigendecomposition, in fewer HVPs than power iteration plus
// Lanczos.
func TestLanczosExtremes(t *testing.T) {
	for _, tc := range spectralCases() {
		t.Run(tc.name, func(t *testing.T) {
			obj := singleQuad(tc.a)
			w := make([]float64, obj.p)
			eig := eigenvalues(tc.a)
			norm := math.Max(-eig[0], eig[len(eig)-1])
			opts := SpectralOptions{MaxIter: 300, Tol: 1e-10, Seed: 3}
			lo, hi, err := LanczosExtremes(context.Background(), obj, w, opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("λ_min %.10g ≈ %.10g (res %.2g), ‖H‖ %.10g ≈ %.10g (θ %.4g, res %.2g), %d iterations, %d HVPs",
				eig[0], lo.Value, lo.Residual, norm, hi.Value, hi.Eigenvalue, hi.Residual, lo.Iterations, lo.HVPs)
			if !lo.Converged || !hi.Converged {
				t.Fatalf("not converged: %+v %+v", lo, hi)
			}
			// Rayleigh quotients: λ_min from above, ‖H‖ from below (rounding
			// 1e-12 for spectra of size ≤ 4).
			if lo.Value < eig[0]-1e-12 || lo.Value-eig[0] > lo.Residual+1e-11 {
				t.Errorf("λ_min estimate %v, want %v within %v", lo.Value, eig[0], lo.Residual)
			}
			if hi.Value > norm+1e-12 || norm-hi.Value > hi.Residual+1e-11 || math.Abs(hi.Eigenvalue) != hi.Value {
				t.Errorf("norm estimate %+v, want %v", hi, norm)
			}
			// Both ends from one run: its steps plus at most two explicit
			// Ritz residuals, counted once.
			if hi.HVPs != 0 || hi.Iterations != lo.Iterations || lo.HVPs > lo.Iterations+2 {
				t.Errorf("HVPs %d + %d for %d iterations", lo.HVPs, hi.HVPs, lo.Iterations)
			}
			pw, err := PowerIteration(context.Background(), obj, w, opts)
			if err != nil {
				t.Fatal(err)
			}
			l, err := Lanczos(context.Background(), obj, w, opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("separately: power iteration %d HVPs (converged %v), Lanczos %d HVPs", pw.HVPs, pw.Converged, l.HVPs)
			if lo.HVPs > pw.HVPs+l.HVPs {
				t.Errorf("one run took %d HVPs, two took %d", lo.HVPs, pw.HVPs+l.HVPs)
			}
		})
	}
}

// TestLanczosStopAtNegative: when only the sign of λ_min matters, Lanczos
// stops at the first Ritz vector with a negative explicit Rayleigh quotient,
// which is an upper bound on λ_min; without negative eigenvalues it runs to
// convergence as usual.
func TestLanczosStopAtNegative(t *testing.T) {
	rnd := rand.New(rand.NewPCG(17, 18))
	eig := make([]float64, 200)
	for i := range eig {
		eig[i] = 0.01 + 2*rnd.Float64()
	}
	eig[0] = -0.02 // one small negative eigenvalue inside a dense spectrum
	obj := singleQuad(symWithSpectrum(rnd, eig))
	w := make([]float64, obj.p)
	opts := SpectralOptions{MaxIter: 200, Tol: 1e-8, Seed: 6}
	full, err := Lanczos(context.Background(), obj, w, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.StopAtNegative = true
	sign, err := Lanczos(context.Background(), obj, w, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("to tolerance: %.6g in %d HVPs; sign only: %.6g in %d HVPs", full.Value, full.HVPs, sign.Value, sign.HVPs)
	// The explicit Rayleigh quotient is negative and, like every Rayleigh
	// quotient, at least λ_min (to rounding).
	if !(sign.Value < 0) || sign.Value < -0.02-1e-12 || sign.HVPs >= full.HVPs {
		t.Errorf("sign-only estimate %+v (full %+v)", sign, full)
	}
	// No negative eigenvalue: the option changes nothing.
	eig[0] = 0.005
	obj = singleQuad(symWithSpectrum(rnd, eig))
	opts.StopAtNegative = false
	a, _ := Lanczos(context.Background(), obj, w, opts)
	opts.StopAtNegative = true
	b, _ := Lanczos(context.Background(), obj, w, opts)
	if a != b || !(b.Value > 0) {
		t.Errorf("positive definite: %+v vs %+v", a, b)
	}
}

// TestTridiagSolve checks the LDLᵀ solve of (T + σI)y = r·e_1 against a
// dense solve, and that it refuses an indefinite T + σI.
func TestTridiagSolve(t *testing.T) {
	rnd := rand.New(rand.NewPCG(19, 20))
	for _, n := range []int{1, 2, 7, 40} {
		alpha := make([]float64, n)
		beta := make([]float64, n) // one extra entry, ignored
		a := mat.NewSymDense(n, nil)
		for i := range alpha {
			alpha[i] = rnd.NormFloat64()
			a.SetSym(i, i, alpha[i])
			beta[i] = rnd.NormFloat64()
			if i+1 < n {
				a.SetSym(i, i+1, beta[i])
			}
		}
		lo := eigenvalues(a)[0]
		shift := 0.5 - lo // T + σI has λ_min = 0.5
		y := make([]float64, n)
		if !tridiagSolve(alpha, beta, shift, 3, y) {
			t.Fatalf("n=%d: positive definite system refused", n)
		}
		rhs := make([]float64, n)
		rhs[0] = 3
		want := denseSolve(a, shift, rhs)
		// Cholesky and LDLᵀ are both backward stable; cond ≤ ~20 here.
		if d := Distance(y, want); d > 1e-12*Norm(want) {
			t.Errorf("n=%d: off by %g", n, d)
		}
		if n > 1 && tridiagSolve(alpha, beta, -0.5-lo, 3, y) {
			t.Errorf("n=%d: indefinite system accepted", n)
		}
	}
}

// denseKrylovStart returns the operator v ↦ M·v of an n×n matrix, a right-hand
// side g drawn from rnd, ‖g‖ and the first basis vector g/‖g‖.
func denseKrylovStart(rnd *rand.Rand, m mat.Matrix, n int) (op func(dst, v []float64) error, g []float64, gn float64, q []float64) {
	op = func(dst, v []float64) error {
		mat.NewVecDense(n, dst).MulVec(m, mat.NewVecDense(n, v))
		return nil
	}
	g = make([]float64, n)
	for i := range g {
		g[i] = rnd.NormFloat64()
	}
	gn = Norm(g)
	q = make([]float64, n)
	floats.ScaleTo(q, 1/gn, g)
	return op, g, gn, q
}

// TestRadauFactor: along an exact Lanczos run on an indefinite H shifted
// to a positive definite A = H + λI, the Gauss–Radau factor f bounds the
// conjugate gradient iterate's error by ρ/(√μ·f) in the A-norm and ρ/(μ·f)
// in the 2-norm for nodes μ ≤ λ_min(A), is 1 or more, and is sharp: with μ
// near λ_min(A) the A-norm bound is within a small factor of the true error,
// where the residual bound ρ/√μ is not.
func TestRadauFactor(t *testing.T) {
	rnd := rand.New(rand.NewPCG(23, 24))
	const n, lamMinA = 60, 0.05
	eig := make([]float64, n)
	for i := range eig {
		eig[i] = -1 + 4*rnd.Float64()
	}
	eig[0] = -1
	h := symWithSpectrum(rnd, eig)
	lambda := lamMinA + 1 // A = H + λI has λ_min = 0.05, λ_max ≤ 4.05
	op, g, gn, q := denseKrylovStart(rnd, h, n)
	exact := denseSolve(h, lambda, g)
	kr := &krylov{}
	// Sharpness is checked while the run has not resolved the spectrum
	// (later, rounding at the 60-dimensional end blurs both bounds).
	const sharpSteps = 20
	worst := map[float64]float64{}
	for k := 1; k <= 40; k++ {
		r, b, err := kr.extend(op, q, FullReorthogonalization, nil)
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float64, k)
		if !tridiagSolve(kr.alpha, kr.beta, lambda, gn, y) {
			t.Fatalf("step %d: tridiagonal solve failed", k)
		}
		u := kr.combine(y)
		e := make([]float64, n)
		floats.SubTo(e, u, exact)
		ae := make([]float64, n)
		if err := op(ae, e); err != nil {
			t.Fatal(err)
		}
		floats.AddScaled(ae, lambda, e)
		errA, err2 := math.Sqrt(floats.Dot(e, ae)), Norm(e)
		rho := b * math.Abs(y[k-1])
		for _, mu := range []float64{0.999 * lamMinA, 0.25 * lamMinA} {
			f, ok := radauFactor(kr.alpha, kr.beta, lambda, mu, b)
			if !ok || f < 1 {
				t.Fatalf("step %d, μ = %g: f = %v, ok %v", k, mu, f, ok)
			}
			if errA > rho/(math.Sqrt(mu)*f)*(1+1e-9)+1e-14 || err2 > rho/(mu*f)*(1+1e-9)+1e-14 {
				t.Errorf("step %d, μ = %g: error %.4g (A-norm %.4g) above ρ/(μ·f) = %.4g (ρ/(√μ·f) = %.4g), f = %.4g", k, mu, err2, errA, rho/(mu*f), rho/(math.Sqrt(mu)*f), f)
			}
			if k <= sharpSteps {
				worst[mu] = math.Max(worst[mu], rho/(math.Sqrt(mu)*f)/errA)
			}
		}
		kr.beta = append(kr.beta, b)
		floats.Scale(1/b, r)
		q = r
	}
	t.Logf("largest bound ÷ true A-norm error in the first %d steps, by node: %v", sharpSteps, worst)
	if w := worst[0.999*lamMinA]; w > 1.8 {
		t.Errorf("with μ near λ_min the A-norm bound overestimates by up to %.3g (ρ/√μ alone: up to 4.5)", w)
	}
	// The node must lie below every Ritz value of A.
	if _, ok := radauFactor(kr.alpha, kr.beta, lambda, 2*lamMinA, 1); ok {
		t.Error("a node above λ_min(A) was accepted")
	}
}

// TestKrylovLambda: the subsample run uses the samples drawn from the seed,
// its Ritz values lie in the subsample Hessian's spectrum, and it stops by
// its rule.
func TestKrylovLambda(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 22))
	eig := make([]float64, 30)
	for i := range eig {
		eig[i] = -0.3 + 4*float64(i)/29
	}
	q := newQuad(rnd, symWithSpectrum(rnd, eig), 60, 0.5)
	w := make([]float64, 30)
	g := make([]float64, 30)
	for i := range g {
		g[i] = rnd.NormFloat64()
	}
	const margin, samples, seed = 0.01, 25, 4
	lambda, spec, c, err := krylovLambda(context.Background(), q, w, g, margin, samples, SpectralOptions{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	hs := mat.NewSymDense(30, nil)
	for _, i := range newRand(seed, streamSubsample).Perm(q.Len())[:samples] {
		hs.AddSym(hs, q.a[i])
	}
	hs.ScaleSym(1.0/samples, hs)
	es := eigenvalues(hs)
	t.Logf("λ = %.4g, Ritz [%.4g ± %.2g, %.4g ± %.2g] of H_S's [%.4g, %.4g] (H's [%.4g, %.4g]), %d steps",
		lambda, spec.Lowest, spec.LowestResidual, spec.Highest, spec.HighestResidual, es[0], es[29], eig[0], eig[29], spec.Dim)
	// Rayleigh quotients of H_S: inside its spectrum (rounding 1e-12).
	if spec.Lowest < es[0]-1e-12 || spec.Highest > es[29]+1e-12 {
		t.Errorf("Ritz range outside the subsample's spectrum")
	}
	top := math.Max(spec.Highest, -spec.Lowest)
	if !(spec.HighestResidual <= lambdaTopTol*top && spec.LowestResidual <= lambdaLowTol*margin*top) && spec.Dim < 30 {
		t.Errorf("stopped before its rule: %+v", spec)
	}
	if lambda != autoLambda(margin, top, spec.Lowest, spec.LowestResidual) || spec.Samples != samples {
		t.Errorf("λ %v, spec %+v", lambda, spec)
	}
	if c.calls != spec.Dim || c.samples != spec.Dim*samples {
		t.Errorf("counted %+v for %d steps", c, spec.Dim)
	}
}

// TestProductsResidual checks that the residual lanczosCG reports without an
// HVP of its own is that of the products the run made, for an operator whose
// products are not those of a symmetric matrix (as rounding in a float32
// engine makes them): a slightly asymmetric A. The recurrence residual of
// T_k, which assumes symmetry, must miss it, or the test would not tell the
// two apart.
func TestProductsResidual(t *testing.T) {
	rnd := rand.New(rand.NewPCG(17, 18))
	const n, k, lambda = 40, 12, 0.5
	a := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range i + 1 {
			v := rnd.NormFloat64()
			a.Set(i, j, v)
			a.Set(j, i, v)
		}
		a.Set(i, i, a.At(i, i)+float64(n)/2)
	}
	for i := range n {
		for j := range n {
			a.Set(i, j, a.At(i, j)+1e-3*rnd.NormFloat64())
		}
	}
	op, g, gn, q := denseKrylovStart(rnd, a, n)
	kr := &krylov{}
	for step := 1; step <= k; step++ {
		r, b, err := kr.extend(op, q, FullReorthogonalization, nil)
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float64, step)
		if !tridiagSolve(kr.alpha, kr.beta, lambda, gn, y) {
			t.Fatal("tridiagonal solve failed")
		}
		u := kr.combine(y)
		want := make([]float64, n)
		if err := op(want, u); err != nil {
			t.Fatal(err)
		}
		floats.AddScaled(want, lambda, u)
		floats.Sub(want, g)
		got := kr.productsResidual(y, r, lambda, u, g)
		if d := math.Abs(got - Norm(want)); d > 1e-13*gn {
			t.Errorf("step %d: products residual %.16g, explicit %.16g", step, got, Norm(want))
		}
		if est := b * math.Abs(y[step-1]); step == k && math.Abs(est-Norm(want)) < 1e-6*gn {
			t.Errorf("step %d: the recurrence residual %g matches the explicit %g: the operator is too symmetric to test", step, est, Norm(want))
		}
		kr.beta = append(kr.beta, b)
		floats.Scale(1/b, r)
		q = r
	}
}
