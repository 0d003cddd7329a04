package unlearn_test

import (
	"context"
	"testing"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/unlearn"
)

// TestNonConvexMNIST is the non-convex check on the paper's MNIST MLP
// (784-32-32-10): train w* in the ball on 2,000 samples, forget 1%, and
// compare with w̃*, the local minimiser of the retained loss that training
// reaches from w* (the minimiser the Newton step approximates; a fresh
// initialisation lands in another basin, where no local method can follow).
// The noise-free unlearned weights must be closer to w̃* than w* is.
func TestNonConvexMNIST(t *testing.T) {
	const n, radius, mu = 2000, 20.0, 1e-3
	ms := newMNISTSetup(t, n, "mlp")
	p, data, w := ms.prog, ms.data, ms.w
	ctx := context.Background()
	full := &autodiff.Objective{Program: p, Data: data, L2: mu}
	// Mini-batch Adam to a good region, then full-batch Adam with a decaying
	// rate to settle at a stationary point.
	train := func(obj unlearn.Objective, w []float64, epochs, batch int, lr float64) *unlearn.TrainResult {
		r, err := unlearn.Train(ctx, obj, w, unlearn.TrainOptions{Epochs: epochs, BatchSize: batch, LearningRate: lr,
			Schedule: unlearn.CosineLR, Radius: radius, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	train(full, w, 30, 64, 3e-3)
	r := train(full, w, 300, n, 1e-3)
	t.Logf("w*: loss %.4g, ‖∇L‖ %.3g, ‖w‖ %.4g", r.Loss, r.GradNorm, r.Norm)
	keep := keptSamples(n)
	retained := &autodiff.Objective{Program: p, Data: data, Index: keep, L2: mu}
	wRetrained := append([]float64(nil), w...)
	rr := train(retained, wRetrained, 300, len(keep), 1e-3)
	t.Logf("w̃*: loss %.4g, ‖∇L‖ %.3g", rr.Loss, rr.GradNorm)
	res, err := unlearn.Newton(ctx, retained, w, unlearn.NewtonOptions{Radius: radius, SkipM: true})
	if err != nil {
		t.Fatal(err)
	}
	before, after := unlearn.Distance(w, wRetrained), unlearn.Distance(res.W, wRetrained)
	t.Logf("‖w* − w̃*‖ = %.4g, ‖w̃ − w̃*‖ = %.4g (λ = %.4g, Ritz range [%.4g, %.4g], ρ = %.3g, %d HVPs)",
		before, after, res.Lambda, res.Krylov.Lowest, res.Krylov.Highest, res.Solve.Residual, res.HVPs)
	if after >= before {
		t.Errorf("the unlearned weights are not closer to the retrained ones: %.4g ≥ %.4g", after, before)
	}
}
