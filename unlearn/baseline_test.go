package unlearn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// baselineSetup trains a logistic regression into the C-ball on all samples
// and returns it with its retained and forgotten parts: the starting point
// of every unlearning method.
func baselineSetup(t *testing.T, radius float64) (w []float64, retained, forgotten *logReg) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(41, 42))
	full := newLogReg(rnd, 400, 8, 3, 0.001)
	w = make([]float64, full.Dim())
	if _, err := Train(context.Background(), full, w, TrainOptions{LearningRate: 0.05, BatchSize: 32, Epochs: 20, Radius: radius}); err != nil {
		t.Fatal(err)
	}
	var keep, drop []int
	for i := 0; i < full.Len(); i++ {
		if i%10 == 0 {
			drop = append(drop, i)
		} else {
			keep = append(keep, i)
		}
	}
	retained, forgotten = full.subset(keep), full.subset(drop)
	// Gradient ascent acts on the data loss of the forgotten samples alone.
	forgotten.mu = 0
	return w, retained, forgotten
}

// TestFineTuneReducesRetainedLoss: fine-tuning from w* lowers the retained
// loss and every iterate stays in the ball.
func TestFineTuneReducesRetainedLoss(t *testing.T) {
	const radius = 2.0
	w, retained, _ := baselineSetup(t, radius)
	// Perturb w* so that there is something left to fine-tune.
	rnd := rand.New(rand.NewPCG(43, 44))
	for i := range w {
		w[i] += 0.3 * rnd.NormFloat64()
	}
	Project(w, radius)
	before, _ := retained.Eval(context.Background(), w, nil, nil)
	bc := &ballChecker{Objective: retained}
	res, err := FineTune(context.Background(), bc, w, TrainOptions{LearningRate: 0.02, BatchSize: 32, Epochs: 3, Radius: radius})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("retained loss %.4g → %.4g, ‖w‖ %.4g", before, res.Loss, res.Norm)
	if !(res.Loss < before) {
		t.Errorf("fine-tuning did not reduce the retained loss: %v → %v", before, res.Loss)
	}
	// Project guarantees ‖w‖ ≤ C exactly in floating point.
	if bc.maxNorm > radius {
		t.Errorf("an iterate has norm %v > C = %v", bc.maxNorm, radius)
	}
}

// TestNegativeGradientIncreasesForgottenLoss: gradient ascent raises the
// forgotten samples' loss, stays in the ball, counts its steps and reports
// the losses it measured.
func TestNegativeGradientIncreasesForgottenLoss(t *testing.T) {
	const radius = 2.0
	w, _, forgotten := baselineSetup(t, radius)
	before, _ := forgotten.Eval(context.Background(), w, nil, nil)
	bc := &ballChecker{Objective: forgotten}
	var progress []TrainProgress
	res, err := NegativeGradient(context.Background(), bc, w, NegativeGradientOptions{
		LearningRate: 2, Steps: 7, BatchSize: 16, Radius: radius, Seed: 3,
		Progress: func(p TrainProgress) { progress = append(progress, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := forgotten.Eval(context.Background(), w, nil, nil)
	t.Logf("forgotten loss %.4g → %.4g, ‖w‖ %.4g, %d projections", before, after, res.Norm, res.Projections)
	if !(after > before) {
		t.Errorf("forgotten loss %v → %v: gradient ascent must increase it", before, after)
	}
	// The result's losses are the same evaluations on the same w: exact.
	if res.InitialLoss != before || res.Loss != after {
		t.Errorf("result losses (%v, %v), measured (%v, %v)", res.InitialLoss, res.Loss, before, after)
	}
	// η = 2 is large enough that the ball is hit (the projections are
	// exercised); Project guarantees ‖w‖ ≤ C exactly.
	if bc.maxNorm > radius || res.Norm > radius || res.Projections == 0 {
		t.Errorf("an iterate has norm %v (final %v, %d projections), C = %v", bc.maxNorm, res.Norm, res.Projections, radius)
	}
	// 40 forgotten samples in batches of 16: 3 steps per pass, 7 steps in 3 passes.
	if res.Steps != 7 || len(progress) != 7 || progress[6].Epoch != 3 || progress[6].Epochs != 3 || progress[0].Steps != 7 {
		t.Errorf("steps %d, progress %+v", res.Steps, progress)
	}
}

// TestNegativeGradientAscends checks the update rule on the quadratic
// L(w) = ½(2w0² + 0.5w1²): one full-batch step from (1, −2) with η = 0.1
// moves to (1 + 0.1·2, −2 + 0.1·0.5·(−2)) = (1.2, −2.1), and a ball of
// radius 1 then scales it onto the sphere.
func TestNegativeGradientAscends(t *testing.T) {
	w := []float64{1, -2}
	if _, err := NegativeGradient(context.Background(), diagQuad(), w, NegativeGradientOptions{LearningRate: 0.1, Steps: 1}); err != nil {
		t.Fatal(err)
	}
	// A handful of float64 operations: agreement to a few ulps.
	if math.Abs(w[0]-1.2) > 1e-15 || math.Abs(w[1]+2.1) > 1e-15 {
		t.Errorf("w = %v, want (1.2, −2.1)", w)
	}
	w = []float64{1, -2}
	if _, err := NegativeGradient(context.Background(), diagQuad(), w, NegativeGradientOptions{LearningRate: 0.1, Steps: 1, Radius: 1}); err != nil {
		t.Fatal(err)
	}
	if n := Norm(w); n > 1 || n < 1-1e-12 {
		t.Errorf("‖w‖ = %v after projection onto the unit ball", n)
	}
	// The projection after the step keeps the direction of (1.2, −2.1)
	// (the initial projection scales (1, −2) first, so compare directions).
	if w[0] <= 0 || w[1] >= 0 {
		t.Errorf("w = %v, want the direction of the ascent step", w)
	}
}

// TestNegativeGradientDeterministic: equal seeds give equal runs.
func TestNegativeGradientDeterministic(t *testing.T) {
	w0, _, forgotten := baselineSetup(t, 2)
	run := func(seed uint64) []float64 {
		w := slices.Clone(w0)
		if _, err := NegativeGradient(context.Background(), forgotten, w, NegativeGradientOptions{LearningRate: 0.1, Steps: 5, BatchSize: 8, Radius: 2, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return w
	}
	if a, b := run(1), run(1); !slices.Equal(a, b) {
		t.Error("equal seeds gave different results")
	}
	if a, b := run(1), run(2); slices.Equal(a, b) {
		t.Error("different seeds gave the same shuffles")
	}
}

// divergent is an objective whose loss becomes infinite after one step.
type divergent struct{ quad }

func (d *divergent) Eval(ctx context.Context, w []float64, idx []int, grad []float64) (float64, error) {
	l, err := d.quad.Eval(ctx, w, idx, grad)
	if w[0] > 1 {
		return math.Inf(1), err
	}
	return l, err
}

func TestNegativeGradientDivergedAndCancelled(t *testing.T) {
	w := []float64{1, -2}
	_, err := NegativeGradient(context.Background(), &divergent{*diagQuad()}, w, NegativeGradientOptions{LearningRate: 0.1, Steps: 3})
	var de *DivergedError
	if !errors.As(err, &de) || de.Iter != 2 {
		t.Errorf("err = %v, want a *DivergedError at step 2", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w = []float64{1, -2}
	res, err := NegativeGradient(ctx, diagQuad(), w, NegativeGradientOptions{Steps: 3})
	if !errors.Is(err, context.Canceled) || res.Steps != 0 || w[0] != 1 {
		t.Errorf("cancelled: err %v, %d steps, w %v", err, res.Steps, w)
	}
}
