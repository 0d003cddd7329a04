package unlearn

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestHessianLipschitzExactCubic: for the 2-D harmonic cubic every pair
// attains ‖H_a − H_b‖₂ = c‖a − b‖ (H_a − H_b has eigenvalues ±c‖a − b‖), so
// the estimate must equal c for every sampling mode.
func TestHessianLipschitzExactCubic(t *testing.T) {
	const c = 2.5
	obj := &harmonicCubic{c: c, p: 2}
	w := []float64{0.3, -0.4}
	for _, s := range []PairSampling{MixedPairs, BallPairs, NearPairs} {
		est, err := EstimateHessianLipschitz(context.Background(), obj, w, 3, LipschitzOptions{Sampling: s, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		// (H_a − H_b)² = c²‖a−b‖²I, so ‖Dv‖ = c‖a−b‖ for every unit v: exact
		// up to rounding in the HVPs and norms.
		if math.Abs(est.Value-c) > 1e-12*c {
			t.Errorf("sampling %d: M = %v, want %v", s, est.Value, c)
		}
		for _, r := range est.Ratios {
			if math.Abs(r-c) > 1e-12*c {
				t.Errorf("sampling %d: pair ratio %v, want %v", s, r, c)
			}
		}
		if est.Pairs != 8 || len(est.Ratios) != 8 || est.Source != "estimated" || est.HVPs != 2*est.Iterations {
			t.Errorf("bookkeeping: %+v", est)
		}
		if !strings.Contains(est.Note, "not a proven bound") {
			t.Errorf("an estimated M must say it is not a bound: %q", est.Note)
		}
	}
}

// TestHessianLipschitzLowerEstimate: embedded in more dimensions, the true
// constant is still c (attained for differences in the first plane), and
// random pairs can only see less.
func TestHessianLipschitzLowerEstimate(t *testing.T) {
	const c = 1.5
	obj := &harmonicCubic{c: c, p: 6}
	w := make([]float64, 6)
	est, err := EstimateHessianLipschitz(context.Background(), obj, w, 1, LipschitzOptions{Pairs: 16, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("M estimate %.4g of true %.4g (%d pairs)", est.Value, c, est.Pairs)
	// ratio = c·‖d_{0,1}‖/‖d‖ ≤ c; a random 6-D direction keeps ~1/3 of its
	// squared norm in the plane, so the maximum of 16 is well above c/4.
	if est.Value > c*(1+1e-12) || est.Value < c/4 {
		t.Errorf("M estimate %v outside (c/4, c] for c = %v", est.Value, c)
	}
}

// TestHessianLipschitzQuadratic: a quadratic has a constant Hessian, M = 0.
func TestHessianLipschitzQuadratic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(17, 18))
	q := newQuad(rnd, goe(rnd, 5), 3, 0.5)
	est, err := EstimateHessianLipschitz(context.Background(), q, make([]float64, 5), 2, LipschitzOptions{Pairs: 3})
	if err != nil {
		t.Fatal(err)
	}
	// H_a − H_b is computed as a difference of two identical HVPs: exactly 0.
	if est.Value != 0 {
		t.Errorf("M = %v, want 0", est.Value)
	}
}

func TestDeclaredLipschitz(t *testing.T) {
	d := DeclaredLipschitz(3)
	if d.Value != 3 || d.Source != "declared" || d.Pairs != 0 {
		t.Errorf("%+v", d)
	}
}

// TestBallSampling: sampled points lie in their balls.
func TestBallSampling(t *testing.T) {
	rnd := rand.New(rand.NewPCG(19, 20))
	x := make([]float64, 50)
	w := make([]float64, 50)
	w[0] = 1.99
	maxNorm := 0.0
	for i := 0; i < 200; i++ {
		ballPoint(rnd, x, 2)
		maxNorm = math.Max(maxNorm, Norm(x))
		nearPoint(rnd, x, w, 0.1, 2)
		if Norm(x) > 2 || Distance(x, w) > 0.1+1e-12 {
			t.Fatalf("near point %v from w, norm %v", Distance(x, w), Norm(x))
		}
	}
	// In 50 dimensions a uniform point has ‖x‖ ≥ 2·0.9 with probability
	// 1 − 0.9^50 ≈ 0.995, so the max of 200 is close to 2.
	if maxNorm > 2 || maxNorm < 1.9 {
		t.Errorf("max norm %v", maxNorm)
	}
}
