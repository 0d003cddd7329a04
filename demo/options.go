package demo

import (
	"path/filepath"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/unlearn"
)

// Fixed choices of the demo (documented in the package doc).
const (
	// DefaultForgetSeed seeds the choice of the forgotten samples (PCG
	// stream forgetStream): the same indices on every machine.
	DefaultForgetSeed = 2024
	forgetStream      = 0x666f72676574 // "forget"
	// PaperSigma is the fixed noise of the paper's code (Zhang et al., ICML
	// 2024, unlearn.py --std 0.001), which is not calibrated to any (ε, δ).
	PaperSigma = 0.001
	// QuickTrain, QuickForget and QuickTest size Options.Quick runs: the
	// first QuickTrain training samples (for the head model, of its private
	// split, which keeps its first 2 canaries), QuickForget of them
	// forgotten, the first QuickTest test samples and a 1-epoch retrain.
	QuickTrain, QuickForget, QuickTest = 600, 30, 300
)

// epsilons are the privacy budgets of the privacy–utility curve.
var epsilons = []float64{0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100}

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
	// Model, when set, runs the generic pipeline on it instead of the
	// bundled head model: Data is its training data (default mnist:train)
	// and Test held-out data (the attacks' non-members, default
	// mnist:test), and the certified row's scope is ScopeAuto. Without
	// Model, Data and Test must be empty: Run certifies the head of
	// models/mnist_head.onnx on its private split (HeadSetup). Reproduce
	// runs Setups instead.
	Model, Data, Test string
	// Radius is C and L2 is μ. Default: the model's metadata, else the
	// bundled model's card.
	Radius float64
	L2     *float64
	// NForget is the number of training samples to forget (with canaries:
	// all of them and NForget − canaries others). Default 1000.
	NForget    int
	ForgetSeed uint64
	// Epsilon is the ε of the certified row (default 1); Delta the δ of
	// every certified quantity (default 1e-5).
	Epsilon, Delta float64
	// Epochs overrides the retrain recipe's epochs (full scope only: the
	// convex scope's reference is the exact retrain). Default: the model
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
	// Setups are Reproduce's models. Default: ReproduceSetups.
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
	if o.Model != "" && o.Data == "" {
		o.Data = "mnist:train"
	}
	if o.Model != "" && o.Test == "" {
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
		o.Setups = ReproduceSetups()
	}
	return o
}

// Setup is one model and data set the demo runs on.
type Setup struct {
	Name  string // shown in tables, e.g. "MNIST MLP"
	Slug  string // file-name prefix, e.g. "mnist_mlp"
	Model string // the trained model
	Train string // its training data (with Private, the data set D is cut from)
	Test  string // held-out data
	// Scope is the scope of the certified row: lethe.ScopeFull (the
	// paper-style setting), lethe.ScopeHead, or lethe.ScopeAuto (the
	// convex scope where it can be proven). "" is lethe.ScopeAuto.
	Scope lethe.Scope
	// Private, when not nil, cuts the training data D out of Train, with
	// canaries (see PrivateSplit).
	Private *PrivateSplit
	// FullRow adds, beside a convex-scope release, the same model unlearned
	// in the full scope (σ calibrated to 2C) and its privacy–utility curve.
	FullRow bool
	// Baselines adds the fine-tune and negative-gradient rows; NegGradLR,
	// when not 0, replaces the negative-gradient recipe's learning rate.
	Baselines bool
	NegGradLR float64
	// LipschitzPairs, when not 0, is the number of point pairs of the M
	// estimate (lethe unlearn --lipschitz-pairs), fewer where
	// Hessian-vector products are expensive.
	LipschitzPairs int
}

// HeadSetup is the default demo, the model a user would ship: the bundled
// models/mnist_head.onnx (card models/mnist_head.md), whose backbone was
// trained only on mnist:train[0:30000] and whose linear head was fitted
// exactly, with μ = 1e-3, on the private split D = mnist:train[30000:60000]
// in which 100 canaries carry wrong labels. The demo rebuilds D by the
// card's rule and certifies the head, with the full-network row and the
// baselines beside it.
func HeadSetup() Setup {
	return Setup{Name: "MNIST head (private split)", Slug: "mnist_head", Model: filepath.Join("models", "mnist_head.onnx"),
		Train: "mnist:train", Test: "mnist:test", Scope: lethe.ScopeHead,
		Private: &PrivateSplit{From: 30000, To: 60000, CanaryEvery: 300,
			Public: "mnist:train[0:30000]", Card: filepath.Join("models", "mnist_head.md")}, FullRow: true, Baselines: true,
		// The head's inputs, the backbone's features, are larger than the
		// MLP's pixels, and so are its gradients: at negGradRecipe's rate
		// the ascent diverged (test accuracy 10% when this was chosen), at
		// 0.01 it keeps the model, as a baseline should.
		NegGradLR: 0.01}
}

// ReproduceSetups are Reproduce's default models: the head model
// (HeadSetup), the convex multinomial logistic regression
// models/mnist_logreg.onnx on all of mnist:train (the convex scope on every
// parameter, with the full-network row), and the paper-style full-scope
// MNIST MLP and Fashion-MNIST CNN.
//
// A full-data Hessian-vector product of the CNN costs some 35 times the
// MLP's (about 4 s on 59,000 samples with 2 threads, make bench of
// 2026-12-04; the default update takes 10 of them), and the estimate of the
// Hessian-Lipschitz constant M, when Δ needs it, takes up to 320 with the
// default 8 pairs of points. The CNN's update therefore estimates M from 2 pairs, and so does
// the logistic regression's full-network row (whose premise holds, so M is
// estimated: 8 pairs took 37 s of its 52 s): σ is calibrated to the budget
// 2C whatever M is, M only decides whether the theorem's bound would be
// smaller, and the certificate states the number of pairs either way.
func ReproduceSetups() []Setup {
	return []Setup{
		HeadSetup(),
		{Name: "MNIST logistic regression", Slug: "mnist_logreg", Model: filepath.Join("models", "mnist_logreg.onnx"), Train: "mnist:train", Test: "mnist:test",
			Scope: lethe.ScopeAuto, FullRow: true, Baselines: true, LipschitzPairs: 2},
		{Name: "MNIST MLP", Slug: "mnist_mlp", Model: filepath.Join("models", "mnist_mlp.onnx"), Train: "mnist:train", Test: "mnist:test",
			Scope: lethe.ScopeFull, Baselines: true},
		{Name: "Fashion-MNIST CNN", Slug: "fashion_cnn", Model: filepath.Join("models", "fashion_cnn.onnx"), Train: "fashion-mnist:train", Test: "fashion-mnist:test",
			Scope: lethe.ScopeFull, Baselines: true, LipschitzPairs: 2},
	}
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

// Recipe is the projected-Adam recipe of the full scope's retrain
// reference.
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

// bundledCards are the cards of the bundled full-scope models by file name:
// both are trained by models/train.py in the ball C = 20 with μ = 5e-4,
// starting with the paper's recipe (which retraining repeats).
var bundledCards = map[string]card{
	"mnist_mlp.onnx":   {Radius: 20, L2: 5e-4, Recipe: paperRecipe},
	"fashion_cnn.onnx": {Radius: 20, L2: 5e-4, Recipe: paperRecipe},
}

// Baseline recipes (not certified; see lethe.Baseline). Both start from the
// original model, stay in its ball, and change only the parameters the
// certified row certifies (in the head scope the head: the backbone stays
// frozen).
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
