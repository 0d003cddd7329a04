package lethe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/unlearn"
)

// Recipe is a projected-training recipe (torch.optim semantics; a
// projection onto the ball ‖w‖ ≤ C after every step). A zero field takes
// the default of the function that trains (ConstrainRecipe, RetrainRecipe).
type Recipe struct {
	// Optimizer is "adam" (β 0.9, 0.999, ε 1e-8) or "sgd".
	Optimizer string `json:"optimizer"`
	// LR is the learning rate η.
	LR float64 `json:"lr"`
	// Momentum is SGD's momentum in [0, 1).
	Momentum float64 `json:"momentum,omitempty"`
	// Schedule is "constant", "cosine" (annealed per step to MinLR) or
	// "step" (×Gamma every StepSize epochs).
	Schedule string `json:"schedule"`
	// MinLR is the cosine schedule's final learning rate.
	MinLR float64 `json:"-"`
	// StepSize is the step schedule's period in epochs, Gamma its factor
	// in (0, 1].
	StepSize int     `json:"-"`
	Gamma    float64 `json:"-"`
	// BatchSize is the mini-batch size (the last batch of an epoch may be
	// smaller).
	BatchSize int `json:"batch_size"`
	// Epochs counts the passes over the data.
	Epochs int `json:"epochs"`
	// Seed seeds the shuffling (and Retrain's fresh initialisation).
	Seed uint64 `json:"seed"`
}

// ConstrainRecipe returns Constrain's default recipe, a short fine-tuning
// of a model that was already trained: Adam, learning rate 1e-3 annealed to
// 0 by a cosine schedule, mini-batches of 128, 1 epoch, seed 0.
func ConstrainRecipe() Recipe {
	return Recipe{Optimizer: "adam", LR: 1e-3, Schedule: "cosine", StepSize: 10, Gamma: 0.1, BatchSize: 128, Epochs: 1}
}

// RetrainRecipe returns Retrain's default recipe, that of the paper's code
// (Zhang et al., ICML 2024; models/train.py phase 1): Adam, learning rate
// 0.01 constant, mini-batches of 128, 30 epochs, seed 0.
func RetrainRecipe() Recipe {
	return Recipe{Optimizer: "adam", LR: 0.01, Schedule: "constant", StepSize: 10, Gamma: 0.1, BatchSize: 128, Epochs: 30}
}

// withDefaults fills r's zero fields from def.
func (r Recipe) withDefaults(def Recipe) Recipe {
	if r.Optimizer == "" {
		r.Optimizer = def.Optimizer
	}
	if r.LR == 0 {
		r.LR = def.LR
	}
	if r.Schedule == "" {
		r.Schedule = def.Schedule
	}
	if r.StepSize == 0 {
		r.StepSize = def.StepSize
	}
	if r.Gamma == 0 {
		r.Gamma = def.Gamma
	}
	if r.BatchSize == 0 {
		r.BatchSize = def.BatchSize
	}
	if r.Epochs == 0 {
		r.Epochs = def.Epochs
	}
	return r
}

// Validate reports the first field of a complete recipe that is out of
// range, as an *InputError. Every field counts as given: Constrain and
// Retrain fill a recipe's zero fields with their defaults before they
// validate it.
func (r Recipe) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case r.Epochs < 1:
		return badField("Recipe.Epochs", "%d: want at least 1", r.Epochs)
	case !(r.LR > 0) || !finite(r.LR):
		return badField("Recipe.LR", "%g: want a learning rate > 0", r.LR)
	case r.Optimizer != "adam" && r.Optimizer != "sgd":
		return badField("Recipe.Optimizer", "%q: want adam or sgd", r.Optimizer)
	case !(r.Momentum >= 0 && r.Momentum < 1):
		return badField("Recipe.Momentum", "%g: want a value in [0, 1)", r.Momentum)
	case r.Momentum != 0 && r.Optimizer != "sgd":
		return badField("Recipe.Momentum", "momentum applies to sgd only (Adam has its own moments)")
	case r.Schedule != "constant" && r.Schedule != "cosine" && r.Schedule != "step":
		return badField("Recipe.Schedule", "%q: want constant, cosine or step", r.Schedule)
	case !(r.MinLR >= 0) || r.MinLR >= r.LR:
		return badField("Recipe.MinLR", "%g: want 0 ≤ MinLR < LR (%g)", r.MinLR, r.LR)
	case r.StepSize < 1:
		return badField("Recipe.StepSize", "%d: want at least 1 epoch", r.StepSize)
	case !(r.Gamma > 0 && r.Gamma <= 1):
		return badField("Recipe.Gamma", "%g: want a factor in (0, 1]", r.Gamma)
	case r.BatchSize < 1:
		return badField("Recipe.BatchSize", "%d: want at least 1", r.BatchSize)
	}
	return nil
}

// options turns the recipe into unlearn.TrainOptions with the given ball.
func (r Recipe) options(radius float64) unlearn.TrainOptions {
	o := unlearn.TrainOptions{
		LearningRate: r.LR, Momentum: r.Momentum, BatchSize: r.BatchSize, Epochs: r.Epochs,
		MinLR: r.MinLR, StepSize: r.StepSize, Gamma: r.Gamma, Radius: radius, Seed: r.Seed,
	}
	if r.Optimizer == "sgd" {
		o.Optimizer = unlearn.SGD
	}
	switch r.Schedule {
	case "cosine":
		o.Schedule = unlearn.CosineLR
	case "step":
		o.Schedule = unlearn.StepLR
	}
	return o
}

// String describes the recipe in words, for logs.
func (r Recipe) String() string {
	opt := "adam"
	if r.Optimizer == "sgd" {
		opt = "sgd"
		if r.Momentum > 0 {
			opt += fmt.Sprintf(" momentum %g", r.Momentum)
		}
	}
	sched := "constant"
	switch r.Schedule {
	case "cosine":
		sched = fmt.Sprintf("cosine to %g", r.MinLR)
	case "step":
		sched = fmt.Sprintf("×%g every %d epochs", r.Gamma, r.StepSize)
	}
	return fmt.Sprintf("projected %s, lr %g (%s), batch %d, %d epochs, seed %d", opt, r.LR, sched, r.BatchSize, r.Epochs, r.Seed)
}

// State describes parameters w against a training objective
// L(w) + (μ/2)‖w‖² on the ball ‖w‖ ≤ C (see unlearn.Diagnosis).
type State struct {
	// Norm is ‖w‖₂.
	Norm float64 `json:"norm"`
	// Objective is L(w) + (μ/2)‖w‖² and GradNorm the norm of its gradient.
	Objective float64 `json:"objective"`
	GradNorm  float64 `json:"grad_norm"`
	// RadialGrad is the gradient's component along w, ⟨∇, w⟩/‖w‖, and
	// TangentialGradNorm the norm of the rest: at a constrained optimum on
	// the sphere the tangential part vanishes.
	RadialGrad         float64 `json:"radial_grad"`
	TangentialGradNorm float64 `json:"tangential_grad_norm"`
	// Active reports that the ball constraint is active (‖w‖ ≈ C): then
	// only the trivial 2C bound is rigorous.
	Active bool    `json:"active"`
	radius float64 // C
}

func stateOf(d unlearn.Diagnosis) State {
	return State{Norm: d.Norm, Objective: d.Loss, GradNorm: d.GradNorm, RadialGrad: d.RadialGrad,
		TangentialGradNorm: d.TangentialGradNorm, Active: d.Active, radius: d.Radius}
}

// activeText says whether the ball constraint is active at the end of
// training and what that means for the certificate.
func (s State) activeText() string {
	if s.Active {
		return fmt.Sprintf("the ball constraint is ACTIVE (‖w‖ = %.6g ≈ C = %g; radial gradient %.4g, tangential %.4g): the theorem's interior-stationarity premise fails and only the trivial 2C bound is rigorous",
			s.Norm, s.radius, s.RadialGrad, s.TangentialGradNorm)
	}
	return fmt.Sprintf("the ball constraint is inactive (‖w‖ = %.6g < C = %g); the final gradient norm %.4g says how close to stationary w is",
		s.Norm, s.radius, s.GradNorm)
}

// trainJob is one projected training run of Constrain or Retrain.
type trainJob struct {
	rep   *reporter
	label string // e.g. "projected training on D"
	obj   *autodiff.Objective
	w     []float64 // the start; updated in place
	opts  unlearn.TrainOptions
}

// trained is what trainAndSave reports: the training run, its duration,
// and the state of the parameters the written file holds.
type trained struct {
	res    *unlearn.TrainResult
	took   time.Duration
	final  State
	stored []float64
}

// train runs the job, reporting each step and each epoch's mean
// mini-batch loss, learning rate and ‖w‖.
func (j *trainJob) train(ctx context.Context) (*unlearn.TrainResult, time.Duration, error) {
	n := j.obj.Len()
	bs := min(max(j.opts.BatchSize, 1), n)
	perEpoch := (n + bs - 1) / bs
	st := j.rep.start(j.label, perEpoch*j.opts.Epochs)
	var sum float64
	var steps int
	j.opts.Progress = func(tp unlearn.TrainProgress) {
		sum += tp.Loss
		steps++
		st.progress(tp.Step, fmt.Sprintf("epoch %d/%d, batch loss %.4g", tp.Epoch, tp.Epochs, tp.Loss))
		if tp.Step%perEpoch == 0 || tp.Step == tp.Steps {
			st.detail(fmt.Sprintf("epoch %d/%d: mean batch loss %.6g, lr %.4g, ‖w‖ %.6g",
				tp.Epoch, tp.Epochs, sum/float64(steps), tp.LR, unlearn.Norm(j.w)))
			sum, steps = 0, 0
		}
	}
	res, err := unlearn.Train(ctx, j.obj, j.w, j.opts)
	var diverged *unlearn.DivergedError
	switch {
	case errors.As(err, &diverged):
		return nil, 0, fmt.Errorf("lethe: %w; nothing was written (a smaller learning rate, Recipe.LR, may help)", err)
	case err != nil:
		return nil, 0, wrapf("training", classify("Data", fmt.Errorf("%w; nothing was written", err)))
	}
	d := st.done(fmt.Sprintf("loss %.6g, ‖∇‖ %.4g, ‖w‖ %.6g", res.Loss, res.GradNorm, res.Norm))
	return res, d, nil
}

// trainAndSave trains the job in the C-ball, stores the parameters in a
// clone of ws's model (inside the ball after rounding to the model's types)
// with the training metadata, diagnoses the stored parameters on the job's
// objective, and writes the model to path. Nothing is written if any step
// fails.
func (j *trainJob) trainAndSave(ctx context.Context, ws *workspace, obj objective, path string) (*trained, error) {
	res, took, err := j.train(ctx)
	if err != nil {
		return nil, err
	}
	out, stored, err := storeInBall(ws.model, ws.prog.Params(), j.w, obj.radius)
	if err != nil {
		return nil, wrapf("training", err)
	}
	final, err := unlearn.Diagnose(ctx, j.obj, stored, obj.radius)
	if err != nil {
		return nil, wrapf("training", classify("Data", err))
	}
	// A trained model is no longer the output of an unlearning, so an
	// inherited certificate binding is removed.
	out.DeleteMetadata(MetaCertificate)
	setTrainingMetadata(out, obj)
	if err := saveModel(out, path); err != nil {
		return nil, err
	}
	return &trained{res: res, took: took, final: stateOf(final), stored: stored}, nil
}

// storeInBall writes w into a clone of m as the parameters ps and returns
// the clone with the parameter values it actually stores (float32
// parameters are rounded). Rounding can push a vector on the sphere
// ‖w‖ = C just outside the ball, so the stored vector is shrunk by a few
// ulps until its own norm is at most radius: what the file holds satisfies
// the constraint.
func storeInBall(m *onnxio.Model, ps []onnxio.Param, w []float64, radius float64) (*onnxio.Model, []float64, error) {
	out := m.Clone()
	scaled := append([]float64(nil), w...)
	for range 20 {
		if err := out.SetParamVector(ps, scaled); err != nil {
			return nil, nil, err
		}
		stored, err := out.ParamVector(ps)
		if err != nil {
			return nil, nil, err
		}
		norm := unlearn.Norm(stored)
		if radius <= 0 || norm <= radius {
			return out, stored, nil
		}
		s := radius / norm * (1 - 1e-7)
		for i := range scaled {
			scaled[i] = stored[i] * s
		}
	}
	return nil, nil, fmt.Errorf("could not round the parameters into the ball of radius %g", radius)
}
