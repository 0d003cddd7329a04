package unlearn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
)

type namedObjective struct {
	name string
	obj  Objective
	w    []float64 // a test point
}

func testObjectives() []namedObjective {
	rnd := rand.New(rand.NewPCG(1, 2))
	randVec := func(n int, s float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = s * rnd.NormFloat64()
		}
		return v
	}
	lr := newLogReg(rnd, 50, 4, 3, 0.01)
	tn := newTanhNet(rnd, 30, 3, 4, 0.001)
	q := newQuad(rnd, symWithSpectrum(rnd, []float64{-2, -1, 0.5, 1, 3}), 7, 0.3)
	return []namedObjective{
		{"logreg", lr, randVec(lr.Dim(), 0.5)},
		{"tanhnet", tn, randVec(tn.Dim(), 0.7)},
		{"quad", q, randVec(q.Dim(), 1)},
		{"cubic", &harmonicCubic{c: 1.7, p: 4}, randVec(4, 1)},
	}
}

// TestObjectivesFiniteDifferences checks the hand-written gradients against
// central differences of Eval, and the HVPs against central differences of the
// gradient (fd.Jacobian), on all samples and on a subset.
func TestObjectivesFiniteDifferences(t *testing.T) {
	for _, tc := range testObjectives() {
		for _, idx := range [][]int{nil, {0}} {
			t.Run(fmt.Sprintf("%s/idx=%v", tc.name, idx), func(t *testing.T) {
				obj, w := tc.obj, tc.w
				n := obj.Dim()
				grad := make([]float64, n)
				if _, err := obj.Eval(context.Background(), w, idx, grad); err != nil {
					t.Fatal(err)
				}
				f := func(x []float64) float64 { v, _ := obj.Eval(context.Background(), x, idx, nil); return v }
				want := fd.Gradient(nil, f, w, &fd.Settings{Formula: fd.Central})
				// Central differences with the default step 6e-6 (≈ ε^(1/3))
				// have error ~1e-10 relative for these smooth functions.
				if !floats.EqualApprox(grad, want, 1e-7) {
					t.Errorf("gradient mismatch:\n got %v\nwant %v", grad, want)
				}
				var jac mat.Dense
				jac.ReuseAs(n, n)
				fd.Jacobian(&jac, func(y, x []float64) {
					if _, err := obj.Eval(context.Background(), x, idx, y); err != nil {
						panic(err)
					}
				}, w, &fd.JacobianSettings{Formula: fd.Central})
				rnd := rand.New(rand.NewPCG(3, 4))
				for k := 0; k < 3; k++ {
					v := make([]float64, n)
					for i := range v {
						v[i] = rnd.NormFloat64()
					}
					hv := make([]float64, n)
					if err := obj.HVP(context.Background(), w, idx, v, hv); err != nil {
						t.Fatal(err)
					}
					var jv mat.VecDense
					jv.MulVec(&jac, mat.NewVecDense(n, v))
					// Same central-difference error as above.
					if !floats.EqualApprox(hv, jv.RawVector().Data, 1e-6) {
						t.Errorf("HVP mismatch:\n got %v\nwant %v", hv, jv.RawVector().Data)
					}
				}
			})
		}
	}
}

// TestLogRegClosedFormHessian checks the closed-form logistic-regression
// Hessian (used as the exact reference) against the Hessian built from HVPs.
func TestLogRegClosedFormHessian(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	l := newLogReg(rnd, 40, 3, 4, 0.01)
	w := make([]float64, l.Dim())
	for i := range w {
		w[i] = rnd.NormFloat64()
	}
	// Both are exact formulas evaluated in float64: only summation order
	// differs.
	if !mat.EqualApprox(l.hessian(w), denseHessian(l, w), 1e-13) {
		t.Error("closed-form Hessian differs from the HVP-built one")
	}
}

// TestObjectivesSubsetMean checks that Eval over idx is the mean of the
// per-sample losses (the Objective contract LiSSA and Train rely on).
func TestObjectivesSubsetMean(t *testing.T) {
	for _, tc := range testObjectives() {
		if tc.obj.Len() < 3 {
			continue
		}
		all, _ := tc.obj.Eval(context.Background(), tc.w, []int{0, 1, 2}, nil)
		sum := 0.0
		for i := 0; i < 3; i++ {
			v, _ := tc.obj.Eval(context.Background(), tc.w, []int{i}, nil)
			sum += v
		}
		// The regulariser is added to every per-sample loss, so the mean of
		// the three equals the loss over the three; rounding only.
		if !scalar.EqualWithinAbsOrRel(all, sum/3, 1e-12, 1e-12) {
			t.Errorf("%s: loss over {0,1,2} = %v, mean of singles = %v", tc.name, all, sum/3)
		}
	}
}
