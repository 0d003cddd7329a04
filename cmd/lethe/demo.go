package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/demo"
)

// demoOptions are the inputs of `lethe demo`.
type demoOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags

	Out         string
	Work        string
	Model       string
	Data        string
	Test        string
	Radius      float64
	L2          float64
	NForget     int
	ForgetSeed  uint64
	Epsilon     float64
	Delta       float64
	Epochs      int
	RetrainSeed uint64
	AttackSeed  uint64
	Quick       bool
	Reproduce   bool

	l2Set bool
}

func newDemoCmd(streams *ioStreams, global *globalOptions, runF func(*demoOptions) error) *cobra.Command {
	o := &demoOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "demo [--out DIR] [--quick] [--reproduce]",
		Short: "Run the whole pipeline on the bundled MNIST model and print the results table",
		Long: `demo runs lethe end to end on the bundled MNIST MLP (models/mnist_mlp.onnx,
784-32-32-10, trained in the ball ‖w‖ ≤ C by models/train.py) with mnist:train
and mnist:test, and compares what it gets with retraining from scratch:

  1. forget 1,000 training samples chosen by a fixed seed (--forget-seed,
     default 2024; the list is written to DIR/forget.txt);
  2. the certified update of lethe unlearn, ε = 1, δ = 1e-5, analytic Gaussian
     mechanism, private noise: the model and its certificate are written
     through the same code path as lethe unlearn, then lethe verify's checks
     run on them;
  3. retraining from scratch on the retained samples, the model card's recipe
     (projected Adam in the same ball, 30 epochs);
  4. the results table: original, retrain, lethe certified, lethe with the
     paper's fixed σ = 0.001 (NOT calibrated: the ε it implies is shown), and
     lethe without noise (NOT certified), each with its accuracy on the
     retained, forgotten and test samples, membership-inference AUCs
     (forgotten vs test samples; loss-threshold and the posterior attack of
     Chen et al. against the original), distance to the retrained model, time,
     ε, δ, σ and the sensitivity Δ with the bound that gives it;
  5. plots (test accuracy against ε for ε from 0.1 to 100, reusing the one
     noise-free update with fresh noise per ε; membership-inference ROC curves)
     and a self-contained HTML report, all in DIR.

C and μ come from the model's metadata, or from the bundled model's card.

--quick runs the same pipeline on 600 training samples (30 forgotten), 300 test
samples and a 1-epoch retrain, in seconds. --reproduce runs the paper-style
comparison on the bundled MNIST MLP and Fashion-MNIST CNN, with the fine-tune
and negative-gradient baselines (not certified), and writes DIR/REPRODUCTION.md
with its plots; models and certificates go to --work.`,
		Example: `  lethe demo
  lethe demo --out out/demo --threads 2
  lethe demo --quick --out /tmp/demo
  lethe demo --reproduce --out results`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.l2Set = cmd.Flags().Changed("l2")
			if o.Reproduce {
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
	f.StringVar(&o.Model, "model", filepath.Join("models", "mnist_mlp.onnx"), "the trained model (a constrained optimum in the ball ‖w‖ ≤ C)")
	f.StringVar(&o.Data, "data", "mnist:train", "its training data")
	f.StringVar(&o.Test, "test", "mnist:test", "held-out data (non-members of the attacks)")
	f.Float64Var(&o.Radius, "radius", 0, "ball radius C (default: the model's metadata or card)")
	f.Float64Var(&o.L2, "l2", 0, "L2 weight μ of the training objective (default: the model's metadata or card)")
	f.IntVar(&o.NForget, "n-forget", 1000, "number of training samples to forget")
	f.Uint64Var(&o.ForgetSeed, "forget-seed", demo.DefaultForgetSeed, "seed of the choice of forgotten samples")
	f.Float64Var(&o.Epsilon, "epsilon", 1, "ε of the certified row")
	f.Float64Var(&o.Delta, "delta", 1e-5, "δ of every certified quantity")
	f.IntVar(&o.Epochs, "epochs", 0, "retrain epochs (default: the model card's recipe, 30)")
	f.Uint64Var(&o.RetrainSeed, "retrain-seed", 0, "seed of the retrain's initialisation and shuffling")
	f.Uint64Var(&o.AttackSeed, "attack-seed", 1, "seed of the attacks' subsampling and fit/score split")
	f.BoolVar(&o.Quick, "quick", false, "a tiny run (600 training samples, 1 retrain epoch) to check the pipeline")
	f.BoolVar(&o.Reproduce, "reproduce", false, "the paper-style table for the MNIST MLP and the Fashion-MNIST CNN, with baselines, to DIR/REPRODUCTION.md")
	return cmd
}

// Validate checks the flags before any work.
func (o *demoOptions) Validate() error {
	if err := o.engine.validate("demo"); err != nil {
		return err
	}
	switch {
	case o.Out == "":
		return usageErrorf("demo: --out must name a folder")
	case o.NForget < 2:
		return usageErrorf("demo: --n-forget %d: want at least 2 (the attacks split the forgotten samples in halves)", o.NForget)
	case !(o.Epsilon > 0) || math.IsInf(o.Epsilon, 0):
		return usageErrorf("demo: --epsilon %g: want ε > 0", o.Epsilon)
	case !(o.Delta > 0 && o.Delta < 1):
		return usageErrorf("demo: --delta %g: want a value in (0, 1)", o.Delta)
	case o.Radius < 0 || math.IsNaN(o.Radius) || math.IsInf(o.Radius, 0):
		return usageErrorf("demo: --radius %g: want C > 0", o.Radius)
	case o.L2 < 0 || math.IsNaN(o.L2):
		return usageErrorf("demo: --l2 %g: want μ ≥ 0", o.L2)
	case o.Epochs < 0:
		return usageErrorf("demo: --epochs %d: want at least 1 (0: the recipe's)", o.Epochs)
	}
	if st, err := os.Stat(o.Out); err == nil && !st.IsDir() {
		return usageErrorf("demo: --out %s is a file, not a folder", o.Out)
	}
	return nil
}

// options are the demo package's options.
func (o *demoOptions) options() demo.Options {
	d := demo.Options{
		Out: o.Out, Work: o.Work, Model: o.Model, Data: o.Data, Test: o.Test, Radius: o.Radius, NForget: o.NForget,
		ForgetSeed: o.ForgetSeed, Epsilon: o.Epsilon, Delta: o.Delta, Epochs: o.Epochs, RetrainSeed: o.RetrainSeed,
		AttackSeed: o.AttackSeed, Quick: o.Quick, Engine: o.engine.engine(), Progress: o.global.progress(o.io, ""),
	}
	if o.l2Set {
		d.L2 = new(o.L2)
	}
	return d
}

// Run runs the demo, or the reproduction with --reproduce, and prints the
// results.
func (o *demoOptions) Run(ctx context.Context) error {
	if o.Reproduce {
		rep, err := demo.Reproduce(ctx, o.options())
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
	res, err := demo.Run(ctx, o.options())
	if err != nil {
		return err
	}
	if o.global.JSON {
		return o.io.writeJSON(res)
	}
	return res.WriteText(o.io.Out)
}
