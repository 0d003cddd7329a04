package lethe

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/unlearn"
)

// ConstrainRequest asks to make a model a constrained optimum of its
// training loss in the ball ‖w‖ ≤ C, as Unlearn requires (`lethe
// constrain`). Model, Data, Radius and Out are required; the zero value of
// every other field is the documented default. The model's metadata is not
// read: Constrain is where it is written.
type ConstrainRequest struct {
	// Model is the trained ONNX model.
	Model string
	// Data is its training data D.
	Data Data
	// Out is the ONNX file to write. It must not be an input.
	Out string
	// Radius is the ball radius C > 0.
	Radius float64
	// L2 is the weight μ ≥ 0 of the regulariser (μ/2)‖w‖². Default 0.
	L2 float64
	// Loss is "xent" (the default), "mse" or "bce".
	Loss string
	// Recipe is the training recipe; zero fields take ConstrainRecipe's.
	Recipe Recipe
	// Engine configures lethe's engine. Recipe.BatchSize, not
	// Engine.BatchSize, sets the mini-batches of training.
	Engine Engine
	// Progress, when not nil, receives progress events.
	Progress func(Event)
}

// ConstrainResult is what Constrain did. Its JSON encoding is the output of
// `lethe constrain --json` (schemas/constrain.schema.json).
type ConstrainResult struct {
	// Model, Data and Out are the request's, Data as messages name it.
	Model string `json:"model"`
	Data  string `json:"data"`
	Out   string `json:"out"`
	// Samples counts the training samples, Params the trainable
	// parameters.
	Samples int `json:"samples"`
	Params  int `json:"params"`
	// Radius, L2 and Loss are the objective trained on; Recipe the recipe,
	// defaults applied.
	Radius float64 `json:"radius"`
	L2     float64 `json:"l2"`
	Loss   string  `json:"loss"`
	Recipe Recipe  `json:"recipe"`
	// Before is the input model, before projection; After is Out as
	// written (parameters rounded to the model's types).
	Before State `json:"before"`
	After  State `json:"after"`
	// Projections counts the projections that scaled w, Steps the
	// optimiser steps.
	Projections int `json:"projections"`
	Steps       int `json:"steps"`
	// Seconds is the whole call's time.
	Seconds float64 `json:"seconds"`
	// Weights are Out's parameters in lethe's parameter order.
	Weights []float64 `json:"-"`
}

// Constrain projects the model's trainable parameters onto the ball
// ‖w‖₂ ≤ C (w ← w·C/‖w‖ when ‖w‖ > C), fine-tunes them on all of Data with
// projected training (a projection after every step) on
// L(w, D) + (μ/2)‖w‖², and writes Out with the metadata MetaRadius, MetaL2
// and MetaLoss that Unlearn and Retrain take their defaults from. Train
// until the final gradient norm is small: the certificate's theorem
// assumes a stationary point.
func Constrain(ctx context.Context, req ConstrainRequest) (*ConstrainResult, error) {
	started := time.Now()
	recipe := req.Recipe.withDefaults(ConstrainRecipe())
	loss, lossName, err := lossName("Loss", req.Loss)
	switch {
	case err != nil:
		return nil, err
	case req.Model == "":
		return nil, badField("Model", "no model given")
	case req.Out == "":
		return nil, badField("Out", "no output given")
	case !(req.Radius > 0) || math.IsInf(req.Radius, 0):
		return nil, badField("Radius", "C = %g: want a finite C > 0", req.Radius)
	case !(req.L2 >= 0) || math.IsInf(req.L2, 0):
		return nil, badField("L2", "μ = %g: want a finite μ ≥ 0", req.L2)
	}
	if err := recipe.Validate(); err != nil {
		return nil, err
	}
	if err := req.Engine.validate("Engine"); err != nil {
		return nil, err
	}
	if err := CheckOutput(req.Out, append([]string{req.Model}, req.Data.files()...)...); err != nil {
		return nil, err
	}
	ws, err := load(req.Model, req.Engine, req.Data, "Data", req.Out)
	if err != nil {
		return nil, err
	}
	defer ws.close()
	if err := ws.checkData("Data", loss); err != nil {
		return nil, err
	}
	obj := objective{loss: loss, name: lossName, l2: req.L2, radius: req.Radius}
	w, err := ws.params()
	if err != nil {
		return nil, err
	}
	rep := newReporter(req.Progress)
	full := &autodiff.Objective{Program: ws.prog, Data: checked{ws.data}, L2: obj.l2, Options: req.Engine.evalOptions(loss)}
	before, err := unlearn.Diagnose(ctx, full, w, obj.radius)
	if err != nil {
		return nil, wrapf("constrain", classify("Data", err))
	}
	rep.info(fmt.Sprintf("%s, %d parameters, %d samples of %s; ‖w‖ = %.6g (C = %g), loss %.6g, ‖∇‖ %.4g",
		req.Model, len(w), ws.data.Len(), ws.name, before.Norm, obj.radius, before.Loss, before.GradNorm))
	rep.info(fmt.Sprintf("%s, %s", recipe, obj))
	job := &trainJob{rep: rep, label: "projected training on D", obj: full, w: w, opts: recipe.options(obj.radius)}
	t, err := job.trainAndSave(ctx, ws, obj, req.Out)
	if err != nil {
		return nil, err
	}
	b, after := stateOf(before), t.final
	rep.info(fmt.Sprintf("wrote %s: ‖w‖ %.6g → %.6g (C = %g), loss %.6g → %.6g, ‖∇L(w, D)‖ %.4g → %.4g",
		req.Out, b.Norm, after.Norm, obj.radius, b.Objective, after.Objective, b.GradNorm, after.GradNorm))
	rep.info(after.activeText())
	return &ConstrainResult{
		Model: req.Model, Data: ws.name, Out: req.Out, Samples: ws.data.Len(), Params: len(w),
		Radius: obj.radius, L2: obj.l2, Loss: obj.name, Recipe: recipe,
		Before: b, After: after, Projections: t.res.Projections, Steps: t.res.Steps,
		Seconds: time.Since(started).Seconds(), Weights: t.stored,
	}, nil
}
