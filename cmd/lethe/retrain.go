package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
)

// retrainOptions are the inputs of `lethe retrain`.
type retrainOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags
	data   dataFlags
	train  recipeFlags

	Model   string
	Forget  string
	Out     string
	Scope   string
	GradTol float64

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
lethe.l2 and lethe.loss.

--scope head retrains the last affine layer alone, exactly (the reference of
lethe unlearn --scope head): the frozen backbone's features are computed once
and the head's strongly convex objective (--l2 μ > 0) is minimised by Newton
steps from zeros until ‖∇L(w, D_r)‖ ≤ --grad-tol; --scope auto does so for
every parameter when the convex scope is proven, else trains as --scope full.`,
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
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.data.register(f)
	o.train.register(f, &o.engine, lethe.RetrainRecipe(), "seed of the fresh initialisation and of the mini-batch shuffling (default 0)")
	f.StringVar(&o.Forget, "forget", "", "samples to leave out: a text file of indices, an .npy of indices, or an .npz with the samples (required)")
	f.Float64Var(&o.train.Radius, "radius", 0, "ball radius C > 0 (default: the model's lethe.radius metadata)")
	f.StringVarP(&o.Out, "out", "o", "", "output model (required)")
	f.StringVar(&o.Scope, "scope", "full", "full (every parameter, with the recipe), head (the last affine layer, exactly) or auto")
	f.Float64Var(&o.GradTol, "grad-tol", 1e-9, "exact (convex-scope) retrain: stop at this gradient norm")
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
	if err := o.train.validate("retrain", false, o.engine.BatchSize); err != nil {
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

// Run retrains and writes the model.
func (o *retrainOptions) Run(ctx context.Context) error {
	res, err := lethe.Retrain(ctx, lethe.RetrainRequest{
		Model: o.Model, Data: o.data.data(""), Forget: lethe.Subset{File: o.Forget}, Out: o.Out,
		Objective: o.engine.objective(o.train.Radius, o.l2Set, o.lossSet),
		Recipe:    o.train.recipe(o.engine.BatchSize), Engine: o.engine.engine(), Progress: o.global.progress(o.io, "retrain: "),
		Scope: lethe.Scope(o.Scope), GradTol: o.GradTol,
	})
	if err != nil {
		return trainHint(err)
	}
	if o.global.JSON {
		return o.io.writeJSON(res)
	}
	return nil
}
