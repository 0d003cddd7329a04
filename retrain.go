package lethe

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/unlearn"
)

// retrainInitStream is the PCG stream of Retrain's fresh initialisation,
// apart from the shuffling's stream inside unlearn.Train.
const retrainInitStream = 0x6c657468652d696e // "lethe-in"

// RetrainRequest asks for the reference algorithm A of certified unlearning
// (`lethe retrain`): training from a fresh initialisation on the retained
// samples only. Model, Data, Forget and Out are required; the zero value of
// every other field is the documented default.
type RetrainRequest struct {
	// Model is the ONNX model whose graph is retrained; its trained
	// parameters are discarded.
	Model string
	// Data is the training data D.
	Data Data
	// Forget names the samples D_u of Data to leave out.
	Forget Subset
	// Out is the ONNX file to write. It must not be an input.
	Out string
	// Objective is the objective to train on, by default the model's
	// (its metadata), so that the reference is trained like the model
	// being unlearned.
	Objective Objective
	// Recipe is the training recipe; zero fields take RetrainRecipe's.
	// Its Seed also seeds the fresh initialisation, so a retrain is
	// reproducible.
	Recipe Recipe
	// Engine configures lethe's engine. Recipe.BatchSize, not
	// Engine.BatchSize, sets the mini-batches of training.
	Engine Engine
	// Scope chooses what is retrained. ScopeFull (the default, also "")
	// trains every trainable parameter from a fresh initialisation with the
	// Recipe. ScopeHead retrains the last affine layer alone, exactly: the
	// frozen backbone's features are computed once and the convex objective
	// of the head is minimised by Newton steps from zeros until
	// ‖∇L(w, D_r)‖ ≤ GradTol (the Recipe does not apply) — the reference
	// of Unlearn's head scope. ScopeAuto does that for every trainable
	// parameter when the convexity pass proves the scope, else trains as
	// ScopeFull does.
	Scope Scope
	// GradTol is the gradient norm at which an exact (convex-scope)
	// retrain stops. Default 1e-9.
	GradTol float64
	// Progress, when not nil, receives progress events.
	Progress func(Event)
}

// RetrainResult is what Retrain did. Its JSON encoding is the output of
// `lethe retrain --json` (schemas/retrain.schema.json).
type RetrainResult struct {
	// Model, Data, Forget (its file) and Out are the request's.
	Model  string `json:"model"`
	Data   string `json:"data"`
	Forget string `json:"forget"`
	Out    string `json:"out"`
	// N counts the training samples, NForget those left out and NRetained
	// those trained on; Digest identifies the forget set (see
	// dataset.ForgetSet).
	N         int    `json:"n"`
	NForget   int    `json:"n_forget"`
	NRetained int    `json:"n_retained"`
	Digest    string `json:"forget_digest"`
	// Params counts the trainable parameters.
	Params int `json:"params"`
	// Radius, L2 and Loss are the objective trained on; Recipe the recipe,
	// defaults applied (nil for an exact, convex-scope retrain).
	Radius float64 `json:"radius"`
	L2     float64 `json:"l2"`
	Loss   string  `json:"loss"`
	Recipe *Recipe `json:"recipe,omitempty"`
	// Initial is the fresh initialisation on D_r; Final is Out as written.
	Initial Start `json:"initial"`
	Final   State `json:"final"`
	// Projections counts the projections that scaled w, Steps the
	// optimiser steps.
	Projections int `json:"projections"`
	Steps       int `json:"steps"`
	// Scope is "full" (trained with the Recipe) or "convex" (minimised
	// exactly by NewtonSteps Newton steps; Recipe, Projections and Steps
	// then do not apply).
	Scope       string `json:"scope"`
	NewtonSteps int    `json:"newton_steps,omitempty"`
	// TrainSeconds is the training's time, Seconds the whole call's.
	TrainSeconds float64 `json:"train_seconds"`
	Seconds      float64 `json:"seconds"`
	// Weights are Out's trainable parameters in lethe's parameter order
	// (DESIGN.md §2, with Engine.Freeze), as written.
	Weights []float64 `json:"-"`
}

// Start is a fresh initialisation: its norm and objective on D_r.
type Start struct {
	// Norm is ‖w‖₂.
	Norm float64 `json:"norm"`
	// Objective is L(w, D_r) + (μ/2)‖w‖².
	Objective float64 `json:"objective"`
}

// Retrain discards the model's trained parameters, draws fresh ones with
// PyTorch's default initialisers (seeded by Recipe.Seed), trains them with
// projected training on the retained set D_r = D \ D_u on the objective
// L(w, D_r) + (μ/2)‖w‖² in the ball ‖w‖ ≤ C, and writes Out (the graph and
// everything else unchanged, BatchNormalization running statistics
// included) with the training metadata.
func Retrain(ctx context.Context, req RetrainRequest) (*RetrainResult, error) {
	started := time.Now()
	recipe := req.Recipe.withDefaults(RetrainRecipe())
	switch {
	case req.Model == "":
		return nil, badField("Model", "no model given")
	case req.Forget.IsZero():
		return nil, badField("Forget", "no samples to leave out given")
	case req.Out == "":
		return nil, badField("Out", "no output given")
	}
	if err := req.Objective.validate(); err != nil {
		return nil, err
	}
	if err := recipe.Validate(); err != nil {
		return nil, err
	}
	if err := req.Engine.validate("Engine"); err != nil {
		return nil, err
	}
	switch {
	case req.Scope != "" && !validScope(req.Scope):
		return nil, badField("Scope", "%q: want full, head or auto", req.Scope)
	case req.GradTol < 0 || math.IsNaN(req.GradTol):
		return nil, badField("GradTol", "%g: want > 0 (or 0 for the default)", req.GradTol)
	}
	if err := CheckOutput(req.Out, append([]string{req.Model, req.Forget.File}, req.Data.files()...)...); err != nil {
		return nil, err
	}
	if req.Scope == ScopeHead || req.Scope == ScopeAuto {
		m, obj, plan, err := planScope(req.Model, req.Objective, req.Scope, req.Engine.Freeze, req.Out)
		if err != nil {
			return nil, err
		}
		if plan.convex {
			return req.retrainConvex(ctx, m, obj, plan, started)
		}
	}
	ws, obj, forget, err := openTraining(req.Model, req.Engine, req.Data, req.Objective, req.Forget, req.Out)
	if err != nil {
		return nil, err
	}
	defer ws.close()
	n := ws.data.Len()
	retained := retainedIndices(n, forget.Indices)
	o := &autodiff.Objective{Program: ws.prog, Data: checked{ws.data}, Index: retained, L2: obj.l2, Options: req.Engine.evalOptions(obj.loss)}
	w := ws.prog.FreshParams(rand.New(rand.NewPCG(recipe.Seed, retrainInitStream)))
	initLoss, err := o.Eval(ctx, w, nil, nil)
	if err != nil {
		return nil, wrapf("retrain", classify("Data", err))
	}
	start := Start{Norm: unlearn.Norm(w), Objective: initLoss}
	rep := newReporter(req.Progress)
	rep.info(fmt.Sprintf("%s, %d parameters, fresh initialisation (seed %d): ‖w‖ %.6g, loss %.6g on D_r",
		req.Model, len(w), recipe.Seed, start.Norm, start.Objective))
	rep.info(fmt.Sprintf("D_r = %d of the %d samples of %s (%d forgotten); %s, C = %g, %s",
		len(retained), n, ws.name, len(forget.Indices), recipe, obj.radius, obj))
	job := &trainJob{rep: rep, label: "retraining on D_r", obj: o, w: w, opts: recipe.options(obj.radius)}
	t, err := job.trainAndSave(ctx, ws, obj, req.Out)
	if err != nil {
		return nil, err
	}
	final := t.final
	rep.info(fmt.Sprintf("wrote %s after %s of training: loss %.6g → %.6g on D_r, ‖w‖ %.6g (C = %g), ‖∇L(w, D_r)‖ %.4g",
		req.Out, t.took.Round(time.Millisecond), start.Objective, final.Objective, final.Norm, obj.radius, final.GradNorm))
	rep.info(final.activeText())
	return &RetrainResult{
		Model: req.Model, Data: ws.name, Forget: req.Forget.File, Out: req.Out,
		N: n, NForget: len(forget.Indices), NRetained: len(retained), Digest: forget.Digest, Params: len(w),
		Radius: obj.radius, L2: obj.l2, Loss: obj.name, Recipe: &recipe, Scope: string(certify.ScopeFull),
		Initial: start, Final: final, Projections: t.res.Projections, Steps: t.res.Steps,
		TrainSeconds: t.took.Seconds(), Seconds: time.Since(started).Seconds(), Weights: t.stored,
	}, nil
}

// retrainConvex is the exact retrain of the convex scope: the certified
// parameters alone, from zeros, by Newton steps on their strongly convex
// retained objective (on the features of the frozen part) until the
// gradient norm is at most GradTol.
func (req RetrainRequest) retrainConvex(ctx context.Context, m *onnxio.Model, obj objective, plan *scopePlan, started time.Time) (*RetrainResult, error) {
	rep := newReporter(req.Progress)
	rep.info(plan.reason)
	ws, err := withData(m, nil, req.Model, req.Data, "Data")
	if err != nil {
		return nil, err
	}
	defer ws.close()
	if err := requireLabels(ws.data, ws.name, "Data"); err != nil {
		return nil, err
	}
	forget, err := req.Forget.resolve("Forget", ws.data)
	if err != nil {
		return nil, err
	}
	feats, h, err := convexInputs(ctx, rep, m, req.Model, ws, plan, req.Engine, obj.loss)
	if err != nil {
		return nil, err
	}
	width, err := outputWidth(h.prog, feats.data)
	if err != nil {
		return nil, err
	}
	if obj.loss == autodiff.CrossEntropy || width > 1 {
		if err := checkLabels(ws.data, ws.name, "Data", width); err != nil {
			return nil, err
		}
	}
	cert, _, err := splitParams(m, plan.proof.Params)
	if err != nil {
		return nil, badInput("Model", err)
	}
	tol := req.GradTol
	if tol == 0 {
		tol = 1e-9
	}
	n := ws.data.Len()
	retained := retainedIndices(n, forget.Indices)
	o := &autodiff.Objective{Program: h.prog, Data: checked{feats.data}, Index: retained, L2: obj.l2, Options: req.Engine.evalOptions(obj.loss)}
	w0 := make([]float64, h.prog.Dim())
	initLoss, err := o.Eval(ctx, w0, nil, nil)
	if err != nil {
		return nil, wrapf("retrain", classify("Data", err))
	}
	solver, err := newStepSolver(m, plan.proof, cert, obj.loss, h, feats, o)
	if err != nil {
		return nil, wrapf("retrain", classify("Data", err))
	}
	st := rep.start("exact retraining of the certified parameters on D_r", 0)
	noMargin := func(context.Context, []float64) (float64, error) { return 0, nil }
	res, err := unlearn.NewtonToBudget(ctx, o, w0, unlearn.BudgetOptions{Mu: obj.l2, Budget: tol / obj.l2, Margin: noMargin, MaxSteps: fallbackSteps,
		Hessian: solver.hessian, PrecondAt: solver.preconditioner(),
		Progress: func(p unlearn.BudgetProgress) {
			st.progress(p.Step, fmt.Sprintf("Newton step %d: ‖∇‖ = %.3g", p.Step, p.Posterior.GradNorm))
		}})
	if err != nil {
		return nil, wrapf("retrain", classify("Data", err))
	}
	if !res.Reached {
		return nil, fmt.Errorf("lethe: retrain: %d Newton steps left ‖∇L(w, D_r)‖ at %.3g > %g; nothing was written", len(res.Steps), res.Posterior.GradNorm, tol)
	}
	took := st.done(fmt.Sprintf("%d Newton steps, ‖∇‖ = %.3g", len(res.Steps), res.Posterior.GradNorm))
	out := m.Clone()
	if err := out.SetParamVector(cert, res.W); err != nil {
		return nil, wrapf("retrain", err)
	}
	out.DeleteMetadata(MetaCertificate)
	setTrainingMetadata(out, obj)
	if err := saveModel(out, req.Out); err != nil {
		return nil, err
	}
	stored, err := out.ParamVector(cert)
	if err != nil {
		return nil, wrapf("retrain", err)
	}
	weights, _, err := fullVector(out, req.Engine.Freeze, cert, stored)
	if err != nil {
		return nil, err
	}
	g := make([]float64, len(stored))
	loss, err := o.Eval(ctx, stored, nil, g)
	if err != nil {
		return nil, wrapf("retrain", classify("Data", err))
	}
	rep.info(fmt.Sprintf("wrote %s: loss %.6g → %.6g on D_r, ‖∇L(w, D_r)‖ %.3g as stored in float32", req.Out, initLoss, loss, unlearn.Norm(g)))
	return &RetrainResult{
		Model: req.Model, Data: ws.name, Forget: req.Forget.File, Out: req.Out,
		N: n, NForget: len(forget.Indices), NRetained: len(retained), Digest: forget.Digest, Params: len(stored),
		Radius: obj.radius, L2: obj.l2, Loss: obj.name, Scope: string(certify.ScopeConvex), NewtonSteps: len(res.Steps),
		Initial: Start{Objective: initLoss}, Final: State{Norm: unlearn.Norm(stored), Objective: loss, GradNorm: unlearn.Norm(g)},
		TrainSeconds: took.Seconds(), Seconds: time.Since(started).Seconds(), Weights: weights,
	}, nil
}
