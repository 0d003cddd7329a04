package lethe

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/unlearn"
)

// BaselineMethod names a heuristic unlearning baseline.
type BaselineMethod string

// Baselines: neither is certified; both start from the model's parameters
// and stay in its ball.
const (
	// FineTune continues projected training on the retained samples D_r
	// (unlearn.FineTune).
	FineTune BaselineMethod = "fine-tune"
	// NegativeGradient ascends the loss of the forgotten samples D_u by
	// projected SGD (unlearn.NegativeGradient).
	NegativeGradient BaselineMethod = "negative-gradient"
)

// BaselineRequest asks for a heuristic unlearning baseline, to compare
// certified unlearning with. Model, Data, Forget and Method are required;
// the zero value of every other field is the documented default.
type BaselineRequest struct {
	// Model is the trained ONNX model.
	Model string
	// Data is its training data D.
	Data Data
	// Forget names the samples D_u of Data to forget.
	Forget Subset
	// Method is FineTune or NegativeGradient.
	Method BaselineMethod
	// Objective is the objective the model was trained on (see
	// Objective); NegativeGradient ascends its data term alone.
	Objective Objective
	// FineTune is FineTune's recipe (Radius is set to C).
	FineTune unlearn.TrainOptions
	// NegativeGradient configures NegativeGradient (Radius is set to C).
	NegativeGradient unlearn.NegativeGradientOptions
	// Engine configures lethe's engine.
	Engine Engine
	// Progress, when not nil, receives progress events.
	Progress func(Event)
}

// BaselineResult is a baseline's parameters. They are NOT certified
// unlearned; nothing is written.
type BaselineResult struct {
	// Method is the baseline that ran.
	Method BaselineMethod
	// Weights are the parameters, in lethe's parameter order.
	Weights []float64
	// Loss is the loss after the run: on D_r (with the regulariser) for
	// FineTune, on D_u for NegativeGradient.
	Loss float64
	// Seconds is the baseline's running time.
	Seconds float64
}

// Baseline runs a heuristic unlearning baseline from the model's
// parameters and returns the parameters it ends at.
func Baseline(ctx context.Context, req BaselineRequest) (*BaselineResult, error) {
	switch {
	case req.Model == "":
		return nil, badField("Model", "no model given")
	case req.Forget.IsZero():
		return nil, badField("Forget", "no samples to forget given")
	case req.Method != FineTune && req.Method != NegativeGradient:
		return nil, badField("Method", "%q: want %q or %q", req.Method, FineTune, NegativeGradient)
	}
	if err := req.Objective.validate(); err != nil {
		return nil, err
	}
	if err := req.Engine.validate("Engine"); err != nil {
		return nil, err
	}
	ws, obj, forget, err := openTraining(req.Model, req.Engine, req.Data, req.Objective, req.Forget)
	if err != nil {
		return nil, err
	}
	defer ws.close()
	w0, err := ws.params()
	if err != nil {
		return nil, err
	}
	w := slices.Clone(w0)
	rep := newReporter(req.Progress)
	eval := req.Engine.evalOptions(obj.loss)
	res := &BaselineResult{Method: req.Method, Weights: w}
	started := time.Now()
	if req.Method == FineTune {
		retained := retainedIndices(ws.data.Len(), forget.Indices)
		o := &autodiff.Objective{Program: ws.prog, Data: checked{ws.data}, Index: retained, L2: obj.l2, Options: eval}
		opts := req.FineTune
		opts.Radius = obj.radius
		// unlearn.TrainOptions' defaults: 1 epoch, batches of 128, lr 1e-3.
		epochs, batch, lr := cmp.Or(opts.Epochs, 1), cmp.Or(opts.BatchSize, 128), cmp.Or(opts.LearningRate, 1e-3)
		steps := epochs * ((len(retained) + batch - 1) / batch)
		st := rep.start(fmt.Sprintf("fine-tune on D_r, lr %g, %d epochs", lr, epochs), steps)
		opts.Progress = func(tp unlearn.TrainProgress) { st.progress(tp.Step, fmt.Sprintf("epoch %d/%d", tp.Epoch, tp.Epochs)) }
		r, err := unlearn.FineTune(ctx, o, w, opts)
		if err != nil {
			return nil, wrapf("fine-tune", classify("Data", err))
		}
		res.Loss = r.Loss
		st.done(fmt.Sprintf("loss %.4g on D_r", r.Loss))
	} else {
		o := &autodiff.Objective{Program: ws.prog, Data: checked{ws.data}, Index: forget.Indices, Options: eval}
		opts := req.NegativeGradient
		opts.Radius = obj.radius
		// unlearn.NegativeGradientOptions' defaults: 10 steps, lr 1e-3.
		steps, lr := cmp.Or(opts.Steps, 10), cmp.Or(opts.LearningRate, 1e-3)
		st := rep.start(fmt.Sprintf("negative gradient on D_u, lr %g, %d steps", lr, steps), steps)
		opts.Progress = func(tp unlearn.TrainProgress) { st.progress(tp.Step, "") }
		r, err := unlearn.NegativeGradient(ctx, o, w, opts)
		if err != nil {
			return nil, wrapf("negative gradient", classify("Data", err))
		}
		res.Loss = r.Loss
		st.done(fmt.Sprintf("loss on D_u %.4g → %.4g", r.InitialLoss, r.Loss))
	}
	res.Seconds = time.Since(started).Seconds()
	return res, nil
}
