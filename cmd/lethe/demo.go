package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/onnxio/ort"
)

// The demo's fixed choices (documented in `lethe demo --help`).
const (
	// demoForgetSeed seeds the choice of the forgotten samples (PCG stream
	// demoForgetStream): the same 1,000 indices on every machine.
	demoForgetSeed   = 2024
	demoForgetStream = 0x666f72676574 // "forget"
	// demoRetrainStream is the PCG stream of the retrain's fresh
	// initialisation (the seed is --retrain-seed).
	demoRetrainStream = 0x72657472 // "retr"
	// paperSigma is the fixed noise of the paper's code (Zhang et al., ICML
	// 2024, unlearn.py --std 0.001), which is not calibrated to any (ε, δ).
	paperSigma = 0.001
	// quickTrain, quickForget and quickTest size --quick runs.
	quickTrain, quickForget, quickTest = 600, 30, 300
)

// demoEpsilons are the privacy budgets of the privacy–utility curve.
var demoEpsilons = []float64{0.1, 0.3, 1, 3, 10, 30, 100}

// modelCard is what a bundled model's card (models/*.md) states about how it
// was trained: the ball, the L2 weight and the recipe that retraining
// repeats. The demo uses it when the model file does not carry lethe's
// metadata (lethe.radius, lethe.l2) or models/train.py's (train.radius_C,
// train.l2_mu).
type modelCard struct {
	Radius float64
	L2     float64
	Recipe retrainRecipe
}

// retrainRecipe is the projected-Adam recipe of the retrain reference.
type retrainRecipe struct {
	Epochs    int     `json:"epochs"`
	LR        float64 `json:"lr"`
	BatchSize int     `json:"batch_size"`
}

// paperRecipe is the training recipe of the paper's code (Zhang et al.,
// ICML 2024, train.py): Adam, learning rate 0.01, batches of 128, 30 epochs.
var paperRecipe = retrainRecipe{Epochs: 30, LR: 0.01, BatchSize: 128}

// bundledCards are the cards of the bundled models by file name: both are
// trained by models/train.py in the ball C = 20 with μ = 5e-4, starting with
// the paper's recipe (which retraining repeats).
var bundledCards = map[string]modelCard{
	"mnist_mlp.onnx":   {Radius: 20, L2: 5e-4, Recipe: paperRecipe},
	"fashion_cnn.onnx": {Radius: 20, L2: 5e-4, Recipe: paperRecipe},
}

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
			return runDemo(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	registerEvalEngine(f, &o.engine)
	f.StringVarP(&o.Out, "out", "o", filepath.Join("out", "demo"), "output folder (created if needed; --reproduce: results)")
	f.StringVar(&o.Work, "work", filepath.Join("out", "reproduce"), "--reproduce: folder for the models, certificates and reports")
	f.StringVar(&o.Model, "model", filepath.Join("models", "mnist_mlp.onnx"), "the trained model (a constrained optimum in the ball ‖w‖ ≤ C)")
	f.StringVar(&o.Data, "data", "mnist:train", "its training data")
	f.StringVar(&o.Test, "test", "mnist:test", "held-out data (non-members of the attacks)")
	f.Float64Var(&o.Radius, "radius", 0, "ball radius C (default: the model's metadata or card)")
	f.Float64Var(&o.L2, "l2", 0, "L2 weight μ of the training objective (default: the model's metadata or card)")
	f.IntVar(&o.NForget, "n-forget", 1000, "number of training samples to forget")
	f.Uint64Var(&o.ForgetSeed, "forget-seed", demoForgetSeed, "seed of the choice of forgotten samples")
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

// runDemo runs the demo, or the reproduction with --reproduce.
func runDemo(ctx context.Context, o *demoOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ort.Init(); err != nil {
		return failed(fmt.Errorf("demo: the parity check of the released model needs onnxruntime (make setup installs it): %w", err))
	}
	if o.Reproduce {
		return runReproduce(ctx, o)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return failed(fmt.Errorf("demo: %w", err))
	}
	started := time.Now()
	setup := demoSetup{Name: slugOf(o.Model) + " on " + o.Data, Slug: slugOf(o.Model), Model: o.Model, Train: o.Data, Test: o.Test}
	if filepath.Base(o.Model) == "mnist_mlp.onnx" && o.Data == "mnist:train" {
		setup.Name = "MNIST MLP"
	}
	r, err := runSetup(ctx, o, setup, o.Out)
	if err != nil {
		return err
	}
	if err := r.writeOutputs(o.Out); err != nil {
		return err
	}
	res := r.result(time.Since(started))
	if o.global.JSON {
		return o.io.writeJSON(res)
	}
	printDemo(o.io.Out, r, res)
	return nil
}

// slugOf is a model file's name without its extension, for output names.
func slugOf(model string) string {
	base := filepath.Base(model)
	return base[:len(base)-len(filepath.Ext(base))]
}
