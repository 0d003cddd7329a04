package audit

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

func TestFitLogisticHandSolved(t *testing.T) {
	// One feature, unpenalised. At x = 0, 1 of 4 labels is 1; at x = 1, 3 of
	// 4. With two distinct x values the model is saturated, so the maximum
	// likelihood fit reproduces the empirical frequencies:
	// σ(b) = ¼ ⇒ b = −ln 3, σ(b + w) = ¾ ⇒ w = 2 ln 3.
	x := []float64{0, 0, 0, 0, 1, 1, 1, 1}
	y := []bool{true, false, false, false, true, true, false, true}
	m, err := FitLogistic(x, 1, y, &LogisticOptions{L2: -1, Tolerance: 1e-13})
	if err != nil {
		t.Fatal(err)
	}
	// Gradient below 1e-13 and a Hessian of order 0.1 put θ within ~1e-12
	// of the optimum; the map back from standardised units adds rounding.
	const tol = 1e-10
	if math.Abs(m.Intercept+math.Log(3)) > tol || math.Abs(m.Coef[0]-2*math.Log(3)) > tol {
		t.Errorf("fit = (%v, %v), want (%v, %v)", m.Intercept, m.Coef[0], -math.Log(3), 2*math.Log(3))
	}
	p := m.Probability(nil, []float64{0, 1})
	if math.Abs(p[0]-0.25) > tol || math.Abs(p[1]-0.75) > tol {
		t.Errorf("probabilities = %v, want [0.25 0.75]", p)
	}
}

// independentObjective returns the objective FitLogistic documents, in
// standardised units, written from the formula with gonum/stat for the
// standardisation (population standard deviation) and no code shared with
// the package, together with the map from a fitted model to its
// standardised parameters θ = (b, w).
func independentObjective(x []float64, dim int, y []bool, lambda float64) (f func([]float64) float64, theta func(*LogisticModel) []float64) {
	n := len(y)
	mean, sd := make([]float64, dim), make([]float64, dim)
	col := make([]float64, n)
	for j := range dim {
		for i := range n {
			col[i] = x[i*dim+j]
		}
		mean[j], sd[j] = stat.PopMeanStdDev(col, nil)
	}
	f = func(th []float64) float64 {
		var s float64
		for i := range n {
			eta := th[0]
			for j := range dim {
				eta += th[j+1] * (x[i*dim+j] - mean[j]) / sd[j]
			}
			// log(1+e^η) − yη, as max(η,0) + log1p(e^−|η|) − yη.
			s += math.Max(eta, 0) + math.Log1p(math.Exp(-math.Abs(eta)))
			if y[i] {
				s -= eta
			}
		}
		var pen float64
		for _, w := range th[1:] {
			pen += w * w
		}
		return s/float64(n) + lambda/2*pen
	}
	theta = func(m *LogisticModel) []float64 {
		// b + w·(x−m)/s = Intercept + Coef·x ⇒ w = Coef·s, b = Intercept + Coef·m.
		th := make([]float64, dim+1)
		th[0] = m.Intercept
		for j := range dim {
			th[j+1] = m.Coef[j] * sd[j]
			th[0] += m.Coef[j] * mean[j]
		}
		return th
	}
	return f, theta
}

// syntheticLogistic draws n rows of dim features, N(μ_j, s_j²) with varied
// means and scales, and labels from P(y=1|x) = σ(b + β·x).
func syntheticLogistic(rng *rand.Rand, n int, beta []float64, b float64) ([]float64, []bool) {
	dim := len(beta)
	x := make([]float64, n*dim)
	y := make([]bool, n)
	for i := range n {
		eta := b
		for j := range dim {
			v := float64(j) - 1 + (0.5+float64(j))*rng.NormFloat64()
			x[i*dim+j] = v
			eta += beta[j] * v
		}
		y[i] = rng.Float64() < 1/(1+math.Exp(-eta))
	}
	return x, y
}

func TestFitLogisticIsOptimalForIndependentObjective(t *testing.T) {
	// The reference is the optimality condition of the documented
	// objective, checked with gonum/diff/fd on an independent
	// implementation of it: at the fit the finite-difference gradient
	// vanishes, and since the objective is convex with Hessian eigenvalues
	// ≥ μ near the fit (μ from the finite-difference Hessian), the fit lies
	// within ‖∇f‖/μ of the unique optimum.
	rng := rand.New(rand.NewPCG(21, 22))
	x, y := syntheticLogistic(rng, 600, []float64{1, -0.8, 0.3}, 0.4)
	for _, lambda := range []float64{1e-3, 0.1} {
		m, err := FitLogistic(x, 3, y, &LogisticOptions{L2: lambda, Tolerance: 1e-12})
		if err != nil {
			t.Fatal(err)
		}
		f, toTheta := independentObjective(x, 3, y, lambda)
		th := toTheta(m)
		// The package's own objective value and the independent one agree to
		// rounding (600 terms of order 1).
		if v := f(th); math.Abs(v-m.Objective) > 1e-12 {
			t.Errorf("λ=%v: objective %v, independent %v", lambda, m.Objective, v)
		}
		g := fd.Gradient(nil, f, th, &fd.Settings{Formula: fd.Central})
		hess := mat.NewSymDense(len(th), nil)
		fd.Hessian(hess, f, th, nil)
		var eig mat.EigenSym
		if !eig.Factorize(hess, false) {
			t.Fatal("eigendecomposition failed")
		}
		mu := eig.Values(nil)[0]
		if mu <= 0 {
			t.Fatalf("λ=%v: smallest Hessian eigenvalue %v, want > 0", lambda, mu)
		}
		// Central differences with the default step have error ~1e-10 here,
		// so ‖∇f‖ is measured to about that; μ ≳ 0.05 then bounds the
		// distance to the optimum by ~1e-8. 1e-6 leaves a wide margin while
		// failing for any real error (a wrong gradient or penalty moves θ
		// by ≳ 1e-3).
		if d := floats.Norm(g, 2) / mu; d > 1e-6 {
			t.Errorf("λ=%v: ‖∇f‖/μ = %v at the fit (gradient %v, μ %v)", lambda, d, g, mu)
		}
	}
}

func TestFitLogisticRecoversTrueCoefficients(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	beta := []float64{1, -2, 0.5}
	const b = 0.3
	x, y := syntheticLogistic(rng, 20000, beta, b)
	m, err := FitLogistic(x, 3, y, &LogisticOptions{L2: 1e-8})
	if err != nil {
		t.Fatal(err)
	}
	// Maximum likelihood with 20000 samples: standard errors here are
	// ≲ 0.03 (inverse Fisher information); 0.15 is five of them, and the
	// 1e-8 penalty's bias is negligible.
	const tol = 0.15
	for j := range beta {
		if math.Abs(m.Coef[j]-beta[j]) > tol {
			t.Errorf("Coef[%d] = %v, true %v", j, m.Coef[j], beta[j])
		}
	}
	if math.Abs(m.Intercept-b) > tol {
		t.Errorf("Intercept = %v, true %v", m.Intercept, b)
	}
	if m.Iterations > 20 {
		t.Errorf("Newton took %d iterations; it converges quadratically in ~6", m.Iterations)
	}
}

func TestFitLogisticSeparableAndDegenerate(t *testing.T) {
	// Perfectly separable data: the default penalty keeps the fit finite
	// and classifies correctly; without a penalty the coefficient runs off
	// until the gradient (∝ e^−margin·w) is below the tolerance.
	x := []float64{-2, -1, -0.5, 0.5, 1, 2}
	y := []bool{false, false, false, true, true, true}
	m, err := FitLogistic(x, 1, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Decision(nil, x)
	for i := range y {
		if (d[i] > 0) != y[i] {
			t.Errorf("separable: decision %v for label %v", d[i], y[i])
		}
	}
	// The penalised slope is about 6 (λ = 1e-3 balances the exponentially
	// small loss gradient); unpenalised it must be several times larger.
	if m.Coef[0] <= 1 || m.Coef[0] > 20 {
		t.Errorf("penalised separable slope = %v, want in (1, 20]", m.Coef[0])
	}
	free, err := FitLogistic(x, 1, y, &LogisticOptions{L2: -1})
	if err == nil && free.Coef[0] <= 3*m.Coef[0] {
		t.Errorf("unpenalised separable slope %v not well above the penalised %v", free.Coef[0], m.Coef[0])
	} else if err != nil && !errors.Is(err, ErrNotConverged) {
		t.Errorf("unpenalised separable fit: err = %v, want nil or ErrNotConverged", err)
	}
	// A constant feature next to an informative one: its coefficient is 0.
	x2 := []float64{3, -2, 3, -1, 3, -0.5, 3, 0.5, 3, 1, 3, 2, 3, 0.1, 3, -0.1}
	y2 := []bool{false, false, true, true, true, true, false, true}
	m2, err := FitLogistic(x2, 2, y2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Coef[0] != 0 {
		t.Errorf("constant feature coefficient = %v, want 0", m2.Coef[0])
	}
	if _, err := FitLogistic([]float64{1, 2}, 1, []bool{true, true}, nil); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("one class: err = %v, want ErrTooFewSamples", err)
	}
	if _, err := FitLogistic([]float64{1, math.Inf(1)}, 1, []bool{true, false}, nil); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Inf feature: err = %v, want ErrInvalidInput", err)
	}
}
