package autodiff

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSoftmaxHeadAgreesWithTheCompiledGraph checks SoftmaxHead's loss,
// gradient and Hessian-vector products against the float64 Objective of the
// same logistic regression compiled from its ONNX graph (a Gemm, weight
// [10, 784] with transB), with and without an Index of retained rows
// (skipped in place), on all samples and on a subset, at parameters away
// from the fixture's, and that a product at new parameters does not reuse
// the probabilities of the old ones.
func TestSoftmaxHeadAgreesWithTheCompiledGraph(t *testing.T) {
	f := loadFixture(t, "logreg")
	const n, d, k, mu = 2500, 784, 10, 1e-3
	data := randomLabelled(n, d, k, 11)
	p, err := Compile(f.model, Options{Precision: Float64})
	if err != nil {
		t.Fatal(err)
	}
	offset := map[string]int{}
	for _, prm := range p.Params() {
		offset[prm.Name] = prm.Offset
	}
	position := func(c, j int) int {
		if j == d {
			return offset["linear.bias"] + c
		}
		return offset["linear.weight"] + c*d + j
	}
	// The objective on every row, and on the rows not divisible by 5 (a
	// retained set: those rows are skipped in place).
	var retained []int
	for i := range n {
		if i%5 != 0 {
			retained = append(retained, i)
		}
	}
	for _, index := range [][]int{nil, retained} {
		want := &Objective{Program: p, Data: data, Index: index, L2: mu, Options: EvalOptions{Threads: 2}}
		got := &SoftmaxHead{Features: data.x, Labels: data.y, Index: index, K: k, D: d, L2: mu, Threads: 2, Position: position}
		if got.Dim() != p.Dim() || got.Len() != want.Len() {
			t.Fatalf("Dim, Len = %d, %d; want %d, %d", got.Dim(), got.Len(), p.Dim(), want.Len())
		}
		compareHeads(t, p.Dim(), want, got)
	}
}

// compareHeads compares the loss, gradient and Hessian-vector products of
// got with want's on all samples and on a subset, at two random points.
func compareHeads(t *testing.T, dim int, want *Objective, got *SoftmaxHead) {
	t.Helper()
	n := want.Len()
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(scale float64) []float64 {
		v := make([]float64, dim)
		for i := range v {
			v[i] = scale * rng.NormFloat64()
		}
		return v
	}
	subset := make([]int, 0, n/3)
	for i := n - 1; i >= 0; i -= 3 {
		subset = append(subset, i)
	}
	ctx := context.Background()
	// float32 features, parameters and products against float64 ones:
	// sums of 784 products of O(1) terms agree to a few float32 ulps, so
	// norm-wise 1e-5 is a loose bound and a wrong term breaks it by far.
	const tol = 1e-5
	for _, w := range [][]float64{random(0.05), random(0.2)} {
		for _, idx := range [][]int{nil, subset} {
			gWant, gGot := make([]float64, len(w)), make([]float64, len(w))
			lWant, err := want.Eval(ctx, w, idx, gWant)
			if err != nil {
				t.Fatal(err)
			}
			lGot, err := got.Eval(ctx, w, idx, gGot)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(lGot-lWant) > tol*math.Abs(lWant) {
				t.Errorf("subset %v: loss %.9g, want %.9g", idx != nil, lGot, lWant)
			}
			if e := relErr(gGot, gWant); e > tol {
				t.Errorf("subset %v: gradient relative error %.3g", idx != nil, e)
			}
			v := random(1)
			hWant, hGot := make([]float64, len(w)), make([]float64, len(w))
			if err := want.HVP(ctx, w, idx, v, hWant); err != nil {
				t.Fatal(err)
			}
			if err := got.HVP(ctx, w, idx, v, hGot); err != nil {
				t.Fatal(err)
			}
			if e := relErr(hGot, hWant); e > tol {
				t.Errorf("subset %v: HVP relative error %.3g", idx != nil, e)
			}
		}
	}
	if t.Failed() {
		t.Fatalf("with Index of %d samples: see above", n)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	w := random(0.3)
	if err := got.HVP(cancelled, w, nil, w, make([]float64, len(w))); err != context.Canceled {
		t.Errorf("HVP with a cancelled context: %v, want context.Canceled", err)
	}
}
