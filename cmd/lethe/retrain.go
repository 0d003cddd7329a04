package main

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/unlearn"
)

// retrainDefaults is the recipe of the paper's code (Zhang et al., ICML
// 2024; models/train.py phase 1): Adam, learning rate 0.01 constant,
// mini-batches of 128, 30 epochs. The seed is fixed: retraining is the
// reference algorithm A, not a privacy mechanism.
var retrainDefaults = trainDefaults{Epochs: 30, LR: 0.01, Schedule: "constant", BatchSize: 128, Seed: 0,
	SeedUsage: "seed of the fresh initialisation and of the mini-batch shuffling (default 0)"}

// retrainInitStream is the PCG stream of the fresh initialisation, apart
// from the shuffling's stream inside unlearn.Train.
const retrainInitStream = 0x6c657468652d696e // "lethe-in"

// retrainOptions are the inputs of `lethe retrain`.
type retrainOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags
	data   dataFlags
	train  trainFlags

	Model  string
	Forget string
	Out    string

	l2Set, lossSet bool
}

func newRetrainCmd(streams *ioStreams, global *globalOptions, runF func(*retrainOptions) error) *cobra.Command {
	o := &retrainOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "retrain MODEL --data F --forget SPEC -o OUT",
		Short: "Retrain from a fresh initialisation without the forgotten samples (the reference)",
		Long: `retrain is the reference algorithm A of certified unlearning (DESIGN.md §1): it
discards MODEL's trained parameters, draws fresh ones with PyTorch's default
initialisers (seeded by --seed), and trains them with projected training on the
retained set D_r = D \ D_u, the samples of --data that --forget does not name.
The result is what a certified unlearned model is compared against.

The defaults are the recipe of the paper's code (Zhang et al., ICML 2024):
Adam (torch.optim semantics), learning rate 0.01 constant, mini-batches of 128,
30 epochs, a projection onto the ball ‖w‖ ≤ C after every step, on the
objective L(w, D_r) + (μ/2)‖w‖². --seed defaults to 0 and fixes both the
initialisation and the shuffling, so a retrain is reproducible.

--radius, --l2 and --loss default to the model's lethe.radius, lethe.l2 and
lethe.loss metadata (written by lethe constrain), so that the reference is
trained on the same objective in the same ball as the model being unlearned;
without --radius and without that metadata, retrain refuses to run.

--forget is a text file of sample indices (one per line; '#' comments), an .npy
integer array of indices, or an .npz with the samples themselves (x, y).

OUT gets the retrained parameters (the graph and everything else unchanged,
BatchNormalization running statistics included) and the metadata lethe.radius,
lethe.l2 and lethe.loss.`,
		Example: `  lethe retrain constrained.onnx --data mnist:train --forget forget.txt -o retrained.onnx
  lethe retrain model.onnx --data train.npz --forget forget.npy --radius 20 --l2 5e-4 --epochs 10 -o retrained.onnx`,
		Args: exactArgs(1, "one MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			o.l2Set, o.lossSet = cmd.Flags().Changed("l2"), cmd.Flags().Changed("loss")
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runRetrain(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.data.register(f)
	o.train.register(f, &o.engine, retrainDefaults)
	f.StringVar(&o.Forget, "forget", "", "samples to leave out: a text file of indices, an .npy of indices, or an .npz with the samples (required)")
	f.Float64Var(&o.train.Radius, "radius", 0, "ball radius C > 0 (default: the model's lethe.radius metadata)")
	f.StringVarP(&o.Out, "out", "o", "", "output model (required)")
	return cmd
}

// Validate checks the flags before any work.
func (o *retrainOptions) Validate() error {
	if err := o.engine.validate("retrain"); err != nil {
		return err
	}
	if err := o.data.validate("retrain"); err != nil {
		return err
	}
	if err := o.train.validate("retrain", false); err != nil {
		return err
	}
	switch {
	case o.Forget == "":
		return usageErrorf("retrain: --forget is required")
	case o.Out == "":
		return usageErrorf("retrain: -o/--out is required")
	}
	return checkOutput(o.Out, append([]string{o.Model, o.Forget}, o.data.paths()...)...)
}

// retrainSummary is the --json output of retrain.
type retrainSummary struct {
	Model     string          `json:"model"`
	Data      string          `json:"data"`
	Forget    string          `json:"forget"`
	Out       string          `json:"out"`
	N         int             `json:"n"`
	NForget   int             `json:"n_forget"`
	NRetained int             `json:"n_retained"`
	Digest    string          `json:"forget_digest"`
	Params    int             `json:"params"`
	Radius    float64         `json:"radius"`
	L2        float64         `json:"l2"`
	Loss      string          `json:"loss"`
	Recipe    trainRecipeJSON `json:"recipe"`
	// Initial is the fresh initialisation on D_r; Final is OUT as written.
	Initial      initialJSON `json:"initial"`
	Final        stateJSON   `json:"final"`
	Projections  int         `json:"projections"`
	Steps        int         `json:"steps"`
	TrainSeconds float64     `json:"train_seconds"`
	Seconds      float64     `json:"seconds"`
}

// initialJSON is the fresh initialisation.
type initialJSON struct {
	Norm      float64 `json:"norm"`
	Objective float64 `json:"objective"`
}

func runRetrain(ctx context.Context, o *retrainOptions) error {
	started := time.Now()
	ws, err := loadWorkspace(o.Model, &o.engine, &o.data, o.Out)
	if err != nil {
		return err
	}
	defer ws.close()
	if err := trainingDefaults("retrain", o.Model, ws, &o.train.Radius, &o.engine, o.l2Set, o.lossSet); err != nil {
		return err
	}
	if err := requireLabels(ws, o.data.name(), "retrain"); err != nil {
		return err
	}
	forget, err := dataset.ParseForget(o.Forget, ws.data)
	if err != nil {
		return badInput(err)
	}
	C := o.train.Radius
	n := ws.data.Len()
	retained := retainedIndices(n, forget.Indices)
	obj := &autodiff.Objective{Program: ws.prog, Data: checkedData{ws.data}, Index: retained, L2: o.engine.L2, Options: ws.eval}
	w := ws.prog.FreshParams(rand.New(rand.NewPCG(o.train.Seed, retrainInitStream)))
	initLoss, err := obj.Eval(w, nil, nil)
	if err != nil {
		return computeError(err)
	}
	start := initialJSON{Norm: unlearn.Norm(w), Objective: initLoss}
	o.global.logf(o.io, "retrain: %s, %d parameters, fresh initialisation (seed %d): ‖w‖ %.6g, loss %.6g on D_r",
		o.Model, len(w), o.train.Seed, start.Norm, start.Objective)
	o.global.logf(o.io, "retrain: D_r = %d of the %d samples of %s (%d forgotten); %s, C = %g, %s loss, l2 %g",
		len(retained), n, o.data.name(), len(forget.Indices), o.train.recipe(o.engine.BatchSize), C, o.engine.Loss, o.engine.L2)
	job := &trainJob{io: o.io, global: o.global, label: "retraining on D_r", obj: obj, w: w,
		opts: o.train.options(o.engine.BatchSize, C)}
	t, err := job.trainAndSave(ctx, ws, C, &o.engine, o.Out)
	if err != nil {
		return err
	}
	final, trainTime := t.final, t.took
	s := retrainSummary{
		Model: o.Model, Data: o.data.name(), Forget: o.Forget, Out: o.Out,
		N: n, NForget: len(forget.Indices), NRetained: len(retained), Digest: forget.Digest, Params: len(w),
		Radius: C, L2: o.engine.L2, Loss: o.engine.Loss, Recipe: o.train.recipeJSON(o.engine.BatchSize),
		Initial: start, Final: stateOf(final), Projections: t.res.Projections, Steps: t.res.Steps,
		TrainSeconds: trainTime.Seconds(), Seconds: time.Since(started).Seconds(),
	}
	o.global.logf(o.io, "retrain: wrote %s after %s of training: loss %.6g → %.6g on D_r, ‖w‖ %.6g (C = %g), ‖∇L(w, D_r)‖ %.4g",
		o.Out, trainTime.Round(time.Millisecond), start.Objective, final.Loss, final.Norm, C, final.GradNorm)
	o.global.logf(o.io, "retrain: %s", activeText(final))
	if o.global.JSON {
		return o.io.writeJSON(s)
	}
	return nil
}
