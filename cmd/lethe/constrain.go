package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
)

// constrainOptions are the inputs of `lethe constrain`.
type constrainOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags
	data   dataFlags
	train  recipeFlags

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
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.data.register(f)
	o.train.register(f, &o.engine, lethe.ConstrainRecipe(), "seed of the mini-batch shuffling (default 0)")
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
	if err := o.train.validate("constrain", true, o.engine.BatchSize); err != nil {
		return err
	}
	if o.Out == "" {
		return usageErrorf("constrain: -o/--out is required")
	}
	return checkOutput(o.Out, append([]string{o.Model}, o.data.paths()...)...)
}

// Run trains and writes the constrained model.
func (o *constrainOptions) Run(ctx context.Context) error {
	res, err := lethe.Constrain(ctx, lethe.ConstrainRequest{
		Model: o.Model, Data: o.data.data(""), Out: o.Out, Radius: o.train.Radius, L2: o.engine.L2, Loss: o.engine.Loss,
		Recipe: o.train.recipe(o.engine.BatchSize), Engine: o.engine.engine(), Progress: o.global.progress(o.io, "constrain: "),
	})
	if err != nil {
		return trainHint(err)
	}
	if o.global.JSON {
		return o.io.writeJSON(res)
	}
	return nil
}
