package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/unlearn"
)

// constrainDefaults is constrain's recipe: a short fine-tuning of a model
// that was already trained.
var constrainDefaults = trainDefaults{Epochs: 1, LR: 1e-3, Schedule: "cosine", BatchSize: 128, Seed: 0,
	SeedUsage: "seed of the mini-batch shuffling (default 0)"}

// constrainOptions are the inputs of `lethe constrain`.
type constrainOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags
	data   dataFlags
	train  trainFlags

	Model string
	Out   string
}

func newConstrainCmd(streams *ioStreams, global *globalOptions, runF func(*constrainOptions) error) *cobra.Command {
	o := &constrainOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "constrain MODEL --data F --radius C -o OUT",
		Short: "Project a model onto the ball ‖w‖ ≤ C and fine-tune it there",
		Long: `constrain makes MODEL a constrained optimum of its training loss, as the
certified update (lethe unlearn) requires (DESIGN.md §1): it projects the
trainable parameters onto the ball ‖w‖₂ ≤ C (w ← w·C/‖w‖ when ‖w‖ > C), then
fine-tunes them on all of --data with projected training (a projection after
every step), minimising L(w, D) + (μ/2)‖w‖² with μ from --l2.

The defaults are a short fine-tuning: Adam (torch.optim semantics), learning
rate 1e-3 annealed to 0 by a cosine schedule, mini-batches of 128 shuffled with
--seed 0, 1 epoch. Train longer (--epochs) until the final gradient norm is
small: the certificate's theorem assumes a stationary point.

OUT gets the new parameters (the graph and everything else unchanged) and the
metadata lethe.radius, lethe.l2 and lethe.loss, which lethe unlearn and lethe
retrain use as their defaults. The summary reports ‖w‖ and the loss before and
after, the final full-data gradient norm, and whether the ball constraint is
active at the end (‖w‖ ≈ C: then only the trivial 2C bound is rigorous).`,
		Example: `  lethe constrain model.onnx --data mnist:train --radius 20 -o constrained.onnx
  lethe constrain model.onnx --data train.npz --radius 20 --l2 5e-4 --epochs 5 --lr 1e-3 -o constrained.onnx
  lethe constrain model.onnx --data train.npz --radius 10 --optimizer sgd --lr 0.05 --momentum 0.9 --schedule step -o out.onnx`,
		Args: exactArgs(1, "one MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runConstrain(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.data.register(f)
	o.train.register(f, &o.engine, constrainDefaults)
	f.Float64Var(&o.train.Radius, "radius", 0, "ball radius C > 0 (required)")
	f.StringVarP(&o.Out, "out", "o", "", "output model (required)")
	return cmd
}

// Validate checks the flags before any work.
func (o *constrainOptions) Validate() error {
	if err := o.engine.validate("constrain"); err != nil {
		return err
	}
	if err := o.data.validate("constrain"); err != nil {
		return err
	}
	if err := o.train.validate("constrain", true); err != nil {
		return err
	}
	if o.Out == "" {
		return usageErrorf("constrain: -o/--out is required")
	}
	return checkOutput(o.Out, append([]string{o.Model}, o.data.paths()...)...)
}

// constrainSummary is the --json output of constrain.
type constrainSummary struct {
	Model   string          `json:"model"`
	Data    string          `json:"data"`
	Out     string          `json:"out"`
	Samples int             `json:"samples"`
	Params  int             `json:"params"`
	Radius  float64         `json:"radius"`
	L2      float64         `json:"l2"`
	Loss    string          `json:"loss"`
	Recipe  trainRecipeJSON `json:"recipe"`
	// Before is the input model, before projection; After is OUT as
	// written (float32 parameters rounded).
	Before      stateJSON `json:"before"`
	After       stateJSON `json:"after"`
	Projections int       `json:"projections"`
	Steps       int       `json:"steps"`
	Seconds     float64   `json:"seconds"`
}

// stateJSON describes parameters w against the training objective
// L(w) + (μ/2)‖w‖².
type stateJSON struct {
	Norm               float64 `json:"norm"`
	Objective          float64 `json:"objective"`
	GradNorm           float64 `json:"grad_norm"`
	RadialGrad         float64 `json:"radial_grad"`
	TangentialGradNorm float64 `json:"tangential_grad_norm"`
	Active             bool    `json:"active"`
}

func stateOf(d unlearn.Diagnosis) stateJSON {
	return stateJSON{Norm: d.Norm, Objective: d.Loss, GradNorm: d.GradNorm, RadialGrad: d.RadialGrad,
		TangentialGradNorm: d.TangentialGradNorm, Active: d.Active}
}

func runConstrain(ctx context.Context, o *constrainOptions) error {
	started := time.Now()
	ws, err := loadWorkspace(o.Model, &o.engine, &o.data, o.Out)
	if err != nil {
		return err
	}
	defer ws.close()
	if err := requireLabels(ws, o.data.name(), "constrain"); err != nil {
		return err
	}
	C := o.train.Radius
	w, err := ws.model.ParamVector(ws.prog.Params())
	if err != nil {
		return badInput(err)
	}
	full := &autodiff.Objective{Program: ws.prog, Data: checkedData{ws.data}, L2: o.engine.L2, Options: ws.eval}
	before, err := unlearn.Diagnose(ctx, full, w, C)
	if err != nil {
		return computeError(err)
	}
	o.global.logf(o.io, "constrain: %s, %d parameters, %d samples of %s; ‖w‖ = %.6g (C = %g), loss %.6g, ‖∇‖ %.4g",
		o.Model, len(w), ws.data.Len(), o.data.name(), before.Norm, C, before.Loss, before.GradNorm)
	o.global.logf(o.io, "constrain: %s, %s loss, l2 %g", o.train.recipe(o.engine.BatchSize), o.engine.Loss, o.engine.L2)
	job := &trainJob{io: o.io, global: o.global, label: "projected training on D", obj: full, w: w,
		opts: o.train.options(o.engine.BatchSize, C)}
	t, err := job.trainAndSave(ctx, ws, C, &o.engine, o.Out)
	if err != nil {
		return err
	}
	after := t.final
	s := constrainSummary{
		Model: o.Model, Data: o.data.name(), Out: o.Out, Samples: ws.data.Len(), Params: len(w),
		Radius: C, L2: o.engine.L2, Loss: o.engine.Loss, Recipe: o.train.recipeJSON(o.engine.BatchSize),
		Before: stateOf(before), After: stateOf(after), Projections: t.res.Projections, Steps: t.res.Steps,
		Seconds: time.Since(started).Seconds(),
	}
	o.global.logf(o.io, "constrain: wrote %s: ‖w‖ %.6g → %.6g (C = %g), loss %.6g → %.6g, ‖∇L(w, D)‖ %.4g → %.4g",
		o.Out, before.Norm, after.Norm, C, before.Loss, after.Loss, before.GradNorm, after.GradNorm)
	o.global.logf(o.io, "constrain: %s", activeText(after))
	if o.global.JSON {
		return o.io.writeJSON(s)
	}
	return nil
}

// activeText says whether the ball constraint is active at the end of
// training and what that means for the certificate.
func activeText(d unlearn.Diagnosis) string {
	if d.Active {
		return fmt.Sprintf("the ball constraint is ACTIVE (‖w‖ = %.6g ≈ C = %g; radial gradient %.4g, tangential %.4g): the theorem's interior-stationarity premise fails and only the trivial 2C bound is rigorous",
			d.Norm, d.Radius, d.RadialGrad, d.TangentialGradNorm)
	}
	return fmt.Sprintf("the ball constraint is inactive (‖w‖ = %.6g < C = %g); the final gradient norm %.4g says how close to stationary w is",
		d.Norm, d.Radius, d.GradNorm)
}

// requireLabels refuses a data set without labels: the loss needs them.
func requireLabels(ws *workspace, name, cmd string) error {
	if !dataset.HasLabels(ws.data) {
		return badInput(fmt.Errorf("%s: %s has no labels; %s needs labelled data (an .npz with x and y, or --x with --y)", cmd, name, cmd))
	}
	return nil
}
