package demo

import (
	"path/filepath"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/unlearn"
)

// Fixed choices of the demo (documented in `lethe demo --help`).
const (
	// DefaultForgetSeed seeds the choice of the forgotten samples (PCG
	// stream forgetStream): the same 1,000 indices on every machine.
	DefaultForgetSeed = 2024
	forgetStream      = 0x666f72676574 // "forget"
	// PaperSigma is the fixed noise of the paper's code (Zhang et al., ICML
	// 2024, unlearn.py --std 0.001), which is not calibrated to any (ε, δ).
	PaperSigma = 0.001
	// QuickTrain, QuickForget and QuickTest size Options.Quick runs.
	QuickTrain, QuickForget, QuickTest = 600, 30, 300
)

// epsilons are the privacy budgets of the privacy–utility curve.
var epsilons = []float64{0.1, 0.3, 1, 3, 10, 30, 100}

// Options configure Run and Reproduce. The zero value of each field is the
// documented default, except the seeds, whose zero value is seed 0 (the
// command line's defaults are DefaultForgetSeed and attack seed 1).
type Options struct {
	// Out is the folder of the results (created if needed). Default
	// out/demo (Reproduce: results).
	Out string
	// Work is Reproduce's folder for the models, certificates and reports.
	// Default out/reproduce.
	Work string
	// Model is the trained model (a constrained optimum in the ball
	// ‖w‖ ≤ C), Data its training data and Test held-out data (the
	// attacks' non-members). Defaults models/mnist_mlp.onnx, mnist:train,
	// mnist:test. Reproduce runs Setups instead.
	Model, Data, Test string
	// Radius is C and L2 is μ. Default: the model's metadata, else the
	// bundled model's card.
	Radius float64
	L2     *float64
	// NForget is the number of training samples to forget. Default 1000.
	NForget    int
	ForgetSeed uint64
	// Epsilon is the ε of the certified row (default 1); Delta the δ of
	// every certified quantity (default 1e-5).
	Epsilon, Delta float64
	// Epochs overrides the retrain recipe's epochs. Default: the model
	// card's recipe (30).
	Epochs      int
	RetrainSeed uint64
	AttackSeed  uint64
	// Quick runs the pipeline on QuickTrain training samples (QuickForget
	// forgotten), QuickTest test samples and a 1-epoch retrain, in
	// seconds.
	Quick bool
	// Engine configures lethe's engine.
	Engine lethe.Engine
	// Setups are Reproduce's models. Default: the bundled MNIST MLP and
	// Fashion-MNIST CNN.
	Setups []Setup
	// Progress, when not nil, receives progress events.
	Progress func(lethe.Event)
}

// withDefaults fills the zero fields.
func (o Options) withDefaults(reproduce bool) Options {
	if o.Out == "" {
		o.Out = filepath.Join("out", "demo")
		if reproduce {
			o.Out = "results"
		}
	}
	if o.Work == "" {
		o.Work = filepath.Join("out", "reproduce")
	}
	if o.Model == "" {
		o.Model = filepath.Join("models", "mnist_mlp.onnx")
	}
	if o.Data == "" {
		o.Data = "mnist:train"
	}
	if o.Test == "" {
		o.Test = "mnist:test"
	}
	if o.NForget == 0 {
		o.NForget = 1000
	}
	if o.Epsilon == 0 {
		o.Epsilon = 1
	}
	if o.Delta == 0 {
		o.Delta = 1e-5
	}
	if o.Setups == nil {
		o.Setups = bundledSetups
	}
	return o
}

// Setup is one model and data set the demo runs on.
type Setup struct {
	Name      string // shown in tables, e.g. "MNIST MLP"
	Slug      string // file-name prefix, e.g. "mnist_mlp"
	Model     string // the trained model
	Train     string // its training data
	Test      string // held-out data
	Baselines bool   // add the fine-tune and negative-gradient rows
	// LipschitzPairs, when not 0, is the number of point pairs of the M
	// estimate (lethe unlearn --lipschitz-pairs), fewer where
	// Hessian-vector products are expensive.
	LipschitzPairs int
}

// bundledSetups are the models Reproduce compares on.
//
// A full-data Hessian-vector product of the CNN costs some 50 times the
// MLP's (about 11 s on 59,000 samples with 2 threads: its update took 25
// minutes for 132 of them), and the estimate of the Hessian-Lipschitz
// constant M, when Δ needs it, takes up to 320 with the default 8 pairs of
// points. The CNN's update therefore estimates M from 2 pairs: M does not
// enter Δ when the trivial bound 2C is active (the bundled models fail the
// theorem's premise, so M is not estimated at all), and the certificate
// states the number of pairs either way.
var bundledSetups = []Setup{
	{Name: "MNIST MLP", Slug: "mnist_mlp", Model: filepath.Join("models", "mnist_mlp.onnx"), Train: "mnist:train", Test: "mnist:test", Baselines: true},
	{Name: "Fashion-MNIST CNN", Slug: "fashion_cnn", Model: filepath.Join("models", "fashion_cnn.onnx"), Train: "fashion-mnist:train", Test: "fashion-mnist:test", Baselines: true,
		LipschitzPairs: 2},
}

// card is what a bundled model's card (models/*.md) states about how it was
// trained: the ball, the L2 weight and the recipe that retraining repeats.
// The demo uses it when the model file does not carry lethe's metadata
// (lethe.radius, lethe.l2) or models/train.py's (train.radius_C,
// train.l2_mu).
type card struct {
	Radius float64
	L2     float64
	Recipe Recipe
}

// Recipe is the projected-Adam recipe of the retrain reference.
type Recipe struct {
	// Epochs, LR and BatchSize are projected Adam's epochs, learning rate and
	// mini-batch size.
	Epochs    int     `json:"epochs"`
	LR        float64 `json:"lr"`
	BatchSize int     `json:"batch_size"`
}

// paperRecipe is the training recipe of the paper's code (Zhang et al.,
// ICML 2024, train.py): Adam, learning rate 0.01, batches of 128, 30 epochs.
var paperRecipe = Recipe{Epochs: 30, LR: 0.01, BatchSize: 128}

// bundledCards are the cards of the bundled models by file name: both are
// trained by models/train.py in the ball C = 20 with μ = 5e-4, starting with
// the paper's recipe (which retraining repeats).
var bundledCards = map[string]card{
	"mnist_mlp.onnx":   {Radius: 20, L2: 5e-4, Recipe: paperRecipe},
	"fashion_cnn.onnx": {Radius: 20, L2: 5e-4, Recipe: paperRecipe},
}

// Baseline recipes (not certified; see lethe.Baseline). Both start from the
// original model and stay in its ball.
var (
	// fineTuneRecipe continues projected Adam on D_r for two epochs at a
	// tenth of the training learning rate, so that it refines w* instead
	// of retraining it.
	fineTuneRecipe = unlearn.TrainOptions{LearningRate: 1e-3, BatchSize: 128, Epochs: 2, Seed: 1}
	// negGradRecipe ascends the forgotten samples' mean cross-entropy (no
	// L2 term) by projected SGD: one pass over the forgotten samples in
	// batches of 128 (8 steps for 1,000).
	negGradRecipe = unlearn.NegativeGradientOptions{LearningRate: 0.05, BatchSize: 128, Seed: 1}
)
