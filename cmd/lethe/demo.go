package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/demo"
)

// demoOptions are the inputs of `lethe demo`.
type demoOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags
	demo.Options

	l2        float64
	l2Set     bool
	reproduce bool
}

func newDemoCmd(streams *ioStreams, global *globalOptions, runF func(*demoOptions) error) *cobra.Command {
	o := &demoOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "demo [--out DIR] [--quick] [--reproduce]",
		Short: "Run the whole pipeline on the bundled head model and print the results table",
		Long: `demo runs lethe end to end and compares what it releases with retraining.
By default it takes the model a user would ship, models/mnist_head.onnx: a
backbone trained on public data and a linear head fitted on a private split of
MNIST in which 100 canaries carry wrong labels. It forgets 1,000 private
samples (the canaries among them; the list is DIR/forget.txt), certifies the
head at ε = 1, δ = 1e-5, runs lethe verify on the release, and prints one
table: the original, the exact head retrain (the reference), lethe certified
and noise-free, the full-network release (σ calibrated to 2C), fine-tune and
negative gradient, each with accuracies, canary accuracy and loss, membership
inference, distance to the retrain, time, ε, δ, σ and Δ. Notes explain the
numbers; plots (privacy–utility for ε from 0.01 to 100) and an HTML report go
to DIR. The details: go doc github.com/lethe-ml/lethe/demo.

--model (with --data and --test) runs the same pipeline on another model,
scope auto; --quick runs on a few hundred samples in seconds; --reproduce runs
every bundled model and writes DIR/REPRODUCTION.md (models go to --work).`,
		Example: `  lethe demo
  lethe demo --quick --out /tmp/demo
  lethe demo --model models/mnist_mlp.onnx --threads 2
  lethe demo --reproduce --out results`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.l2Set = cmd.Flags().Changed("l2")
			if o.reproduce {
				for _, f := range []string{"model", "data", "test"} {
					if cmd.Flags().Changed(f) {
						return usageErrorf("demo: --%s does not apply to --reproduce, which runs the bundled models on their data sets", f)
					}
				}
				if !cmd.Flags().Changed("out") {
					o.Out = "results"
				}
			}
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
	o.engine.registerEval(f)
	f.StringVarP(&o.Out, "out", "o", filepath.Join("out", "demo"), "output folder (created if needed; --reproduce: results)")
	f.StringVar(&o.Work, "work", filepath.Join("out", "reproduce"), "--reproduce: folder for the models, certificates and reports")
	f.StringVar(&o.Model, "model", "", "another trained model (default: the bundled head model on its private split)")
	f.StringVar(&o.Data, "data", "", "--model's training data (default mnist:train)")
	f.StringVar(&o.Test, "test", "", "--model's held-out data, the attacks' non-members (default mnist:test)")
	f.Float64Var(&o.Radius, "radius", 0, "ball radius C (default: the model's metadata or card)")
	f.Float64Var(&o.l2, "l2", 0, "L2 weight μ of the training objective (default: the model's metadata or card)")
	f.IntVar(&o.NForget, "n-forget", 1000, "number of training samples to forget")
	f.Uint64Var(&o.ForgetSeed, "forget-seed", demo.DefaultForgetSeed, "seed of the choice of forgotten samples")
	f.Float64Var(&o.Epsilon, "epsilon", 1, "ε of the certified row")
	f.Float64Var(&o.Delta, "delta", 1e-5, "δ of every certified quantity")
	f.IntVar(&o.Epochs, "epochs", 0, "full scope's retrain epochs (default: the model card's recipe, 30)")
	f.Uint64Var(&o.RetrainSeed, "retrain-seed", 0, "seed of the full scope's retrain initialisation and shuffling")
	f.Uint64Var(&o.AttackSeed, "attack-seed", 1, "seed of the attacks' subsampling and fit/score split")
	f.BoolVar(&o.Quick, "quick", false, "a tiny run (600 training samples, 30 forgotten) to check the pipeline")
	f.BoolVar(&o.reproduce, "reproduce", false, "every bundled model, with baselines, to DIR/REPRODUCTION.md")
	return cmd
}

// demoFlags name the flags of demo.Options' fields in messages.
var demoFlags = map[string]string{"Data": "--data", "NForget": "--n-forget", "Epsilon": "--epsilon", "Delta": "--delta",
	"Radius": "--radius", "L2": "--l2", "Epochs": "--epochs", "Out": "--out"}

// Validate checks the flags before any work.
func (o *demoOptions) Validate() error {
	if err := o.engine.validate("demo"); err != nil {
		return err
	}
	for flag, zero := range map[string]bool{"--epsilon": o.Epsilon == 0, "--delta": o.Delta == 0, "--n-forget": o.NForget == 0} {
		if zero {
			return usageErrorf("demo: %s 0: want a positive value", flag)
		}
	}
	if o.l2Set {
		o.L2 = new(o.l2)
	}
	var in *lethe.InputError
	err := o.Options.Validate()
	if errors.As(err, &in) && demoFlags[in.Field] != "" {
		return usageErrorf("demo: %s: %v", demoFlags[in.Field], in.Err)
	}
	return err
}

// Run runs the demo, or the reproduction with --reproduce, and prints the
// results.
func (o *demoOptions) Run(ctx context.Context) error {
	o.Engine, o.Progress = o.engine.engine(), o.global.progress(o.io, "")
	if o.reproduce {
		rep, err := demo.Reproduce(ctx, o.Options)
		if err != nil {
			return err
		}
		if o.global.JSON {
			return o.io.writeJSON(rep.Results)
		}
		o.io.Out.Write(rep.Markdown)
		fmt.Fprintf(o.io.Out, "\nwrote %s\n", rep.Path)
		return nil
	}
	res, err := demo.Run(ctx, o.Options)
	if err != nil {
		return err
	}
	if o.global.JSON {
		return o.io.writeJSON(res)
	}
	return res.WriteText(o.io.Out)
}
