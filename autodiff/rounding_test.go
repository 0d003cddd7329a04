package autodiff

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// randomLabelled returns n samples of d features uniform in [0, 1) and
// labels in [0, k).
func randomLabelled(n, d, k int, seed uint64) *labelled {
	rng := rand.New(rand.NewPCG(seed, 1))
	data := &labelled{shape: []int{d}, x: make([]float32, n*d), y: make([]int64, n)}
	for i := range data.x {
		data.x[i] = rng.Float32()
	}
	for i := range data.y {
		data.y[i] = int64(rng.IntN(k))
	}
	return data
}

// TestRoundingMarginMagnitudes checks the magnitude gradient against its
// closed form on the logistic-regression fixture (a Gemm, weight [10, 784]):
// (1/N)Σ_i |J_i|ᵀ·1 is mean_i |x_ij| for every weight of column j and 1 for
// every bias; and checks that the margin covers the float64 gradient's
// actual error against an independent, compensated computation.
func TestRoundingMarginMagnitudes(t *testing.T) {
	f := loadFixture(t, "logreg")
	const n, d, k, mu = 3000, 784, 10, 1e-3
	data := randomLabelled(n, d, k, 7)
	p, err := Compile(f.model, Options{Precision: Float64})
	if err != nil {
		t.Fatal(err)
	}
	w, err := f.model.ParamVector(p.Params())
	if err != nil {
		t.Fatal(err)
	}
	obj := &Objective{Program: p, Data: data, L2: mu, Options: EvalOptions{Threads: 2}}
	rm, err := NewRoundingMargin(f.model, nil, obj)
	if err != nil {
		t.Fatal(err)
	}
	absW := make([]float64, len(w))
	for i, v := range w {
		absW[i] = math.Abs(v)
	}
	mag := make([]float64, len(w))
	if _, err := rm.abs.Eval(context.Background(), absW, nil, mag); err != nil {
		t.Fatal(err)
	}
	colMean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			colMean[j] += float64(data.x[i*d+j]) / n
		}
	}
	for c := 0; c < k; c++ {
		for j := 0; j < d; j++ {
			// Both are means of the same 3,000 float32 values summed in
			// float64 in different orders: they agree to ~1e-15 relative.
			if got := mag[c*d+j]; math.Abs(got-colMean[j]) > 1e-12 {
				t.Fatalf("magnitude of weight [%d, %d] = %.15g, want mean |x_j| = %.15g", c, j, got, colMean[j])
			}
		}
	}
	for c := 0; c < k; c++ {
		if got := mag[k*d+c]; math.Abs(got-1) > 1e-12 {
			t.Fatalf("magnitude of bias %d = %.15g, want 1", c, got)
		}
	}

	margin, err := rm.Margin(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	g := make([]float64, len(w))
	if _, err := obj.Eval(context.Background(), w, nil, g); err != nil {
		t.Fatal(err)
	}
	ref := referenceLogRegGradient(data, w, mu)
	var errSq float64
	for i := range g {
		e := g[i] - ref[i]
		errSq += e * e
	}
	t.Logf("‖ĝ − g_ref‖ = %.3g, margin %.3g", math.Sqrt(errSq), margin)
	if math.Sqrt(errSq) > margin {
		t.Fatalf("the float64 gradient errs by %.3g, more than the margin %.3g", math.Sqrt(errSq), margin)
	}
	// The documented formula, recomputed independently: F = 2 for xent, Z
	// the largest output of the absolute-valued model, M the magnitudes
	// checked above, N = 3000 samples, P = 7850 parameters.
	var z, msq, wsq float64
	for i := 0; i < n; i++ {
		for c := 0; c < k; c++ {
			zc := math.Abs(w[k*d+c])
			for j := 0; j < d; j++ {
				zc += math.Abs(w[c*d+j]) * float64(data.x[i*d+j])
			}
			z = math.Max(z, zc)
		}
	}
	for i, v := range mag {
		msq += v * v
		wsq += w[i] * w[i]
	}
	gN, gP := float64(n+1000)*0x1p-53, float64(len(w)+1000)*0x1p-53
	gN, gP = gN/(1-gN), gP/(1-gP)
	want := (gN*2+2*gP*z)*math.Sqrt(msq) + gN*mu*math.Sqrt(wsq)
	// Z passes through float32 in Predict (relative 6e-8) and the margin
	// adds a relative 1e-6 on top: the two agree to 2e-6.
	if math.Abs(margin-want) > 2e-6*want || margin < want {
		t.Fatalf("margin %.6g, the documented formula gives %.6g (Z = %.4g)", margin, want, z)
	}
}

// referenceLogRegGradient computes ∇[(1/N)Σ xent(Wx_i + b, y_i) + (μ/2)‖w‖²]
// for weight [k, d] then bias [k], with compensated (Neumaier) summation
// over samples, independently of the engine.
func referenceLogRegGradient(data *labelled, w []float64, mu float64) []float64 {
	d := data.shape[0]
	n := len(data.y)
	k := (len(w)) / (d + 1)
	sum := make([]float64, len(w))
	comp := make([]float64, len(w))
	add := func(i int, v float64) {
		t := sum[i] + v
		if math.Abs(sum[i]) >= math.Abs(v) {
			comp[i] += (sum[i] - t) + v
		} else {
			comp[i] += (v - t) + sum[i]
		}
		sum[i] = t
	}
	z := make([]float64, k)
	for i := 0; i < n; i++ {
		x := data.x[i*d : (i+1)*d]
		m := math.Inf(-1)
		for c := 0; c < k; c++ {
			z[c] = w[k*d+c]
			for j, v := range x {
				z[c] += w[c*d+j] * float64(v)
			}
			m = math.Max(m, z[c])
		}
		var s float64
		for c := range z {
			z[c] = math.Exp(z[c] - m)
			s += z[c]
		}
		for c := range z {
			gc := z[c] / s
			if int64(c) == data.y[i] {
				gc--
			}
			gc /= float64(n)
			for j, v := range x {
				add(c*d+j, gc*float64(v))
			}
			add(k*d+c, gc)
		}
	}
	for i := range sum {
		sum[i] += comp[i] + mu*w[i]
	}
	return sum
}
