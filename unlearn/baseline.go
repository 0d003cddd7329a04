package unlearn

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// This file holds two heuristic unlearning baselines of the literature, for
// comparison with the certified Newton update. Neither is certified: nothing
// bounds how far their result lies from retraining on D_r, so no noise can be
// calibrated to them and reports must label them as uncertified.

// FineTune is the "fine-tune" baseline: it continues projected training of w
// (in place) on the retained objective only, relying on the model drifting
// away from the forgotten samples it no longer sees ("catastrophic
// forgetting"). It is Train on retained, with Train's options and defaults
// (Adam, learning rate 1e-3, batch 128, one epoch); set opts.Radius to keep
// every iterate in the C-ball, as the certified update's comparison requires.
//
// FineTune is NOT certified unlearning: the forgotten samples' influence on w
// decays but is never removed, and no bound says by how much.
func FineTune(ctx context.Context, retained Objective, w []float64, opts TrainOptions) (*TrainResult, error) {
	return Train(ctx, retained, w, opts)
}

// streamNegativeGradient is the PCG stream of NegativeGradient's shuffling,
// apart from the streams of operator.go.
const streamNegativeGradient uint64 = 0x6e65672d67726164 // "neg-grad"

// NegativeGradientOptions configures NegativeGradient. The zero value is the
// documented default: learning rate 1e-3, 10 steps, batch 128, no ball.
type NegativeGradientOptions struct {
	// LearningRate is the step size η of the ascent. Default 1e-3.
	LearningRate float64
	// Steps is the number of ascent steps. Default 10. Gradient ascent on a
	// cross-entropy loss diverges if run long enough, so the baseline is by
	// nature a few steps.
	Steps int
	// BatchSize is the mini-batch size. Mini-batches run through the
	// forgotten samples in a fresh random order on every pass. Default 128;
	// values ≥ Len() give full-batch steps.
	BatchSize int
	// Radius, if positive, is C: w is projected onto the C-ball before the
	// first step and after every step, so every iterate satisfies ‖w‖ ≤ C.
	Radius float64
	// Seed seeds the shuffling (PCG); equal seeds give equal runs.
	Seed uint64
	// Progress, if not nil, is called after every step. Epoch counts passes
	// over the forgotten samples; Loss is the mini-batch loss before the step.
	Progress func(TrainProgress)
}

// NegativeGradientResult summarises a NegativeGradient run.
type NegativeGradientResult struct {
	// InitialLoss and Loss are L(w, D_u) on all forgotten samples before the
	// first and after the last step.
	InitialLoss, Loss float64
	// Steps counts the steps taken.
	Steps int
	// Norm is ‖w‖₂ at the end.
	Norm float64
	// Projections counts the projections that scaled w (including the
	// initial one).
	Projections int
}

// NegativeGradient is the "negative gradient" baseline: projected stochastic
// gradient *ascent* on the forgotten samples,
//
//	w ← P_C(w + η ∇L(w, B)),  B a mini-batch of D_u,
//
// updating w in place. It pushes the model to fit the forgotten samples
// badly, which is not the same as never having seen them: it typically
// over-shoots (forgotten accuracy below that of unseen samples, itself a
// membership signal) and damages the retained samples too.
//
// forgotten is the objective on D_u. Its regulariser, if any, is ascended
// too (ascent on +(μ/2)‖w‖² pushes w outward), so pass forgotten without the
// L2 term to ascend the data loss alone.
//
// NegativeGradient is NOT certified unlearning. A non-finite loss stops it
// with a *DivergedError; on cancellation it returns the result so far and the
// context's error.
func NegativeGradient(ctx context.Context, forgotten Objective, w []float64, opts NegativeGradientOptions) (*NegativeGradientResult, error) {
	checkLen(w, forgotten)
	o := opts
	if o.LearningRate <= 0 {
		o.LearningRate = 1e-3
	}
	if o.Steps <= 0 {
		o.Steps = 10
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 128
	}
	if o.Radius < 0 || math.IsNaN(o.Radius) {
		panic(errRadius)
	}
	res := &NegativeGradientResult{}
	n := forgotten.Len()
	if n == 0 {
		return res, fmt.Errorf("unlearn: negative gradient: objective has no samples")
	}
	if o.Radius > 0 && Project(w, o.Radius) {
		res.Projections++
	}
	grad := make([]float64, len(w))
	loss, err := forgotten.Eval(ctx, w, nil, nil)
	if err != nil {
		return res, fmt.Errorf("unlearn: negative gradient: %w", err)
	}
	res.InitialLoss = loss

	bs := min(o.BatchSize, n)
	perPass := (n + bs - 1) / bs
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	rnd := newRand(o.Seed, streamNegativeGradient)
	for step := 0; step < o.Steps; step++ {
		if err := ctx.Err(); err != nil {
			res.Norm = Norm(w)
			return res, err
		}
		k := step % perPass
		if k == 0 {
			rnd.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		}
		batch := append([]int(nil), perm[k*bs:min((k+1)*bs, n)]...)
		loss, err := forgotten.Eval(ctx, w, batch, grad)
		if err != nil {
			return res, fmt.Errorf("unlearn: negative gradient step %d: %w", step+1, err)
		}
		if !isFinite(loss) {
			return res, &DivergedError{Method: "negative gradient", Iter: step + 1, Value: loss}
		}
		floats.AddScaled(w, o.LearningRate, grad)
		if o.Radius > 0 && Project(w, o.Radius) {
			res.Projections++
		}
		res.Steps = step + 1
		if o.Progress != nil {
			o.Progress(TrainProgress{Epoch: step/perPass + 1, Epochs: (o.Steps + perPass - 1) / perPass,
				Step: step + 1, Steps: o.Steps, Loss: loss, LR: o.LearningRate})
		}
	}
	if res.Loss, err = forgotten.Eval(ctx, w, nil, nil); err != nil {
		return res, fmt.Errorf("unlearn: negative gradient final loss: %w", err)
	}
	if !isFinite(res.Loss) {
		return res, &DivergedError{Method: "negative gradient", Iter: res.Steps, Value: res.Loss}
	}
	res.Norm = Norm(w)
	return res, nil
}
