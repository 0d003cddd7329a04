package unlearn

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// Optimizer selects the update rule of Train.
type Optimizer int

const (
	// Adam is torch.optim.Adam (with bias correction; amsgrad off). The default.
	Adam Optimizer = iota
	// SGD is torch.optim.SGD with optional momentum, dampening and Nesterov.
	SGD
)

func (o Optimizer) String() string {
	switch o {
	case Adam:
		return "adam"
	case SGD:
		return "sgd"
	}
	return fmt.Sprintf("Optimizer(%d)", int(o))
}

// Schedule selects the learning-rate schedule of Train.
type Schedule int

const (
	// ConstantLR keeps the learning rate fixed. The default.
	ConstantLR Schedule = iota
	// CosineLR anneals per optimizer step:
	// lr_k = MinLR + (lr − MinLR)(1 + cos(πk/K))/2 for step k = 0..K−1 of K
	// total steps (torch CosineAnnealingLR with T_max = K, stepped after every
	// optimizer step).
	CosineLR
	// StepLR multiplies the learning rate by Gamma every StepSize epochs
	// (torch StepLR stepped once per epoch).
	StepLR
)

// TrainOptions configures Train. The zero value is the documented default:
// Adam, learning rate 1e-3, batch size 128, 1 epoch, constant learning rate,
// no weight decay, no ball.
type TrainOptions struct {
	// Optimizer is Adam (default) or SGD.
	Optimizer Optimizer
	// LearningRate is the base learning rate. Default 1e-3 (torch's Adam
	// default; set it explicitly for SGD).
	LearningRate float64
	// Momentum, Dampening and Nesterov are torch.optim.SGD's (all 0/false by
	// default: plain SGD). Ignored by Adam.
	Momentum  float64
	Dampening float64
	Nesterov  bool
	// Beta1, Beta2 and Eps are Adam's; defaults 0.9, 0.999, 1e-8 (a zero
	// value selects the default). Ignored by SGD.
	Beta1, Beta2, Eps float64
	// WeightDecay adds WeightDecay·w to every mini-batch gradient (coupled L2,
	// as torch.optim's weight_decay). It is on top of any regulariser the
	// Objective itself contains and is not part of the reported losses.
	WeightDecay float64
	// BatchSize is the mini-batch size. Default 128; values ≥ Len() give
	// full-batch steps. The last batch of an epoch may be smaller
	// (drop_last=False).
	BatchSize int
	// Epochs is the number of passes over the data. Default 1.
	Epochs int
	// Schedule is the learning-rate schedule. Default ConstantLR.
	Schedule Schedule
	// MinLR is CosineLR's final learning rate (eta_min). Default 0.
	MinLR float64
	// StepSize is StepLR's period in epochs. Default 1.
	StepSize int
	// Gamma is StepLR's decay factor. Default 0.1.
	Gamma float64
	// Radius, if positive, is C: w is projected onto the C-ball before the
	// first step and after every step, so every iterate satisfies ‖w‖ ≤ C.
	Radius float64
	// Seed seeds the per-epoch shuffling (PCG); equal seeds give equal runs.
	Seed uint64
	// Progress, if not nil, is called after every step.
	Progress func(TrainProgress)
}

// TrainProgress is passed to TrainOptions.Progress after every step.
type TrainProgress struct {
	Epoch, Epochs int     // epoch from 1
	Step, Steps   int     // global step from 1, and the total
	Loss          float64 // the mini-batch loss at the start of the step
	LR            float64 // the learning rate used by the step
}

// TrainResult summarises a Train run.
type TrainResult struct {
	// Loss is L(w, D) on all samples at the final w, and GradNorm the norm of
	// its gradient (neither includes WeightDecay).
	Loss     float64
	GradNorm float64
	// Norm is ‖w‖₂ at the end.
	Norm float64
	// Epochs and Steps count what was completed.
	Epochs int
	Steps  int
	// Projections counts the projections that scaled w (including the
	// initial one).
	Projections int
}

// Train minimises obj by mini-batch projected SGD or Adam with PyTorch
// semantics, updating w in place. Every epoch visits the samples in a fresh
// random order. When Radius > 0, every iterate is projected onto the C-ball,
// so the result approximates argmin_{‖w‖≤C} L(w): this is both lethe's
// "constrain" (fine-tuning an imported model) and "retrain" (from a fresh
// initialisation on D_r).
//
// A non-finite loss stops training with a *DivergedError. On cancellation,
// Train returns the result so far (with the full-data loss at the current w
// left at 0) and the context's error.
func Train(ctx context.Context, obj Objective, w []float64, opts TrainOptions) (*TrainResult, error) {
	checkLen(w, obj)
	o := opts
	if o.LearningRate <= 0 {
		o.LearningRate = 1e-3
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 128
	}
	if o.Epochs <= 0 {
		o.Epochs = 1
	}
	if o.Beta1 <= 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 <= 0 {
		o.Beta2 = 0.999
	}
	if o.Eps <= 0 {
		o.Eps = 1e-8
	}
	if o.StepSize <= 0 {
		o.StepSize = 1
	}
	if o.Gamma <= 0 {
		o.Gamma = 0.1
	}
	if o.Radius < 0 || math.IsNaN(o.Radius) {
		panic(errRadius)
	}
	if o.Optimizer != Adam && o.Optimizer != SGD {
		panic("unlearn: unknown optimizer")
	}
	if o.Nesterov && (o.Momentum <= 0 || o.Dampening != 0) {
		panic("unlearn: nesterov momentum requires a momentum and zero dampening")
	}

	n, nSamples := len(w), obj.Len()
	res := &TrainResult{}
	if nSamples == 0 {
		return res, fmt.Errorf("unlearn: train: objective has no samples")
	}
	if o.Radius > 0 && Project(w, o.Radius) {
		res.Projections++
	}
	bs := min(o.BatchSize, nSamples)
	perEpoch := (nSamples + bs - 1) / bs
	total := perEpoch * o.Epochs

	grad := make([]float64, n)
	buf1 := make([]float64, n) // momentum buffer (SGD) or first moment (Adam)
	buf2 := make([]float64, n) // second moment (Adam)
	perm := make([]int, nSamples)
	for i := range perm {
		perm[i] = i
	}
	rnd := newRand(o.Seed, streamTrain)
	step := 0
	for epoch := 0; epoch < o.Epochs; epoch++ {
		rnd.Shuffle(nSamples, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for start := 0; start < nSamples; start += bs {
			if err := ctx.Err(); err != nil {
				res.Norm = Norm(w)
				return res, err
			}
			batch := perm[start:min(start+bs, nSamples)]
			loss, err := obj.Eval(ctx, w, append([]int(nil), batch...), grad)
			if err != nil {
				return res, fmt.Errorf("unlearn: train step %d: %w", step+1, err)
			}
			if !isFinite(loss) {
				return res, &DivergedError{Method: "train", Iter: step + 1, Value: loss}
			}
			lr := o.learningRate(epoch, step, total)
			if o.WeightDecay != 0 {
				floats.AddScaled(grad, o.WeightDecay, w)
			}
			step++
			switch o.Optimizer {
			case SGD:
				sgdStep(w, grad, buf1, lr, o, step)
			case Adam:
				adamStep(w, grad, buf1, buf2, lr, o, step)
			}
			if o.Radius > 0 && Project(w, o.Radius) {
				res.Projections++
			}
			res.Steps = step
			if o.Progress != nil {
				o.Progress(TrainProgress{Epoch: epoch + 1, Epochs: o.Epochs, Step: step, Steps: total, Loss: loss, LR: lr})
			}
		}
		res.Epochs = epoch + 1
	}
	loss, err := obj.Eval(ctx, w, nil, grad)
	if err != nil {
		return res, fmt.Errorf("unlearn: train final loss: %w", err)
	}
	res.Loss, res.GradNorm, res.Norm = loss, Norm(grad), Norm(w)
	return res, nil
}

// learningRate returns the learning rate of global step k (from 0) in epoch e.
func (o *TrainOptions) learningRate(e, k, total int) float64 {
	switch o.Schedule {
	case ConstantLR:
		return o.LearningRate
	case CosineLR:
		return o.MinLR + (o.LearningRate-o.MinLR)*(1+math.Cos(math.Pi*float64(k)/float64(total)))/2
	case StepLR:
		return o.LearningRate * math.Pow(o.Gamma, float64(e/o.StepSize))
	}
	panic("unlearn: unknown learning-rate schedule")
}

// sgdStep is torch.optim.SGD's update for step t (from 1):
//
//	b_t = g (t = 1),  b_t = μ·b_{t−1} + (1 − τ)·g (t > 1)
//	d = g + μ·b_t (Nesterov) or d = b_t;  w ← w − lr·d
//
// with g already including weight decay; without momentum d = g.
func sgdStep(w, g, buf []float64, lr float64, o TrainOptions, t int) {
	if o.Momentum == 0 {
		floats.AddScaled(w, -lr, g)
		return
	}
	if t == 1 {
		copy(buf, g)
	} else {
		for i := range buf {
			buf[i] = o.Momentum*buf[i] + (1-o.Dampening)*g[i]
		}
	}
	if o.Nesterov {
		for i := range w {
			w[i] -= lr * (g[i] + o.Momentum*buf[i])
		}
		return
	}
	floats.AddScaled(w, -lr, buf)
}

// adamStep is torch.optim.Adam's update for step t (from 1):
//
//	m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²
//	w ← w − lr·(m/(1 − β1^t)) / (√(v/(1 − β2^t)) + ε)
func adamStep(w, g, m, v []float64, lr float64, o TrainOptions, t int) {
	bc1 := 1 - math.Pow(o.Beta1, float64(t))
	sqrtBC2 := math.Sqrt(1 - math.Pow(o.Beta2, float64(t)))
	stepSize := lr / bc1
	// The operation order follows torch's single-tensor implementation.
	for i := range w {
		m[i] = o.Beta1*m[i] + (1-o.Beta1)*g[i]
		v[i] = o.Beta2*v[i] + (1-o.Beta2)*g[i]*g[i]
		w[i] -= stepSize * m[i] / (math.Sqrt(v[i])/sqrtBC2 + o.Eps)
	}
}
