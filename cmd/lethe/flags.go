package main

import (
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/unlearn"
)

// engineFlags are the flags of every command that evaluates the model with
// lethe's engine (DESIGN.md §5 common flags).
type engineFlags struct {
	Precision string
	Freeze    []string
	Loss      string
	L2        float64
	BatchSize int
	Threads   int
}

func (f *engineFlags) register(fs *pflag.FlagSet) {
	f.registerEval(fs)
	fs.StringArrayVar(&f.Freeze, "freeze", nil, "keep initializers matching this glob fixed (repeatable), e.g. --freeze 'fc1.*'")
	fs.StringVar(&f.Loss, "loss", "xent", "per-sample loss on the first output: xent, mse or bce")
	fs.Float64Var(&f.L2, "l2", 0, "L2 weight μ: the objective is L(w) + (μ/2)‖w‖²; use the same μ for constrain, retrain and unlearn")
}

// registerEval adds the engine flags that matter for evaluation only; the
// loss is then the cross-entropy of the model's output.
func (f *engineFlags) registerEval(fs *pflag.FlagSet) {
	f.Loss = "xent"
	fs.StringVar(&f.Precision, "precision", "float32", "arithmetic: float32 (as ONNX and PyTorch) or float64")
	fs.IntVar(&f.BatchSize, "batch-size", 256, "samples per batch (memory, not results)")
	fs.IntVar(&f.Threads, "threads", 0, "worker threads (0: one per CPU)")
}

// validate checks the flags; cmd names the command in messages.
func (f *engineFlags) validate(cmd string) error {
	if _, err := autodiff.ParsePrecision(f.Precision); err != nil {
		return usageErrorf("%s: --precision %q: want float32 or float64", cmd, f.Precision)
	}
	if _, err := autodiff.ParseLoss(f.Loss); err != nil {
		return usageErrorf("%s: --loss %q: want xent, mse or bce", cmd, f.Loss)
	}
	switch {
	case !(f.L2 >= 0) || math.IsInf(f.L2, 0):
		return usageErrorf("%s: --l2 %g: want 0 or more", cmd, f.L2)
	case f.BatchSize < 1:
		return usageErrorf("%s: --batch-size %d: want at least 1", cmd, f.BatchSize)
	case f.Threads < 0:
		return usageErrorf("%s: --threads %d: want 0 (one per CPU) or more", cmd, f.Threads)
	}
	for _, g := range f.Freeze {
		if _, err := path.Match(g, ""); err != nil {
			return usageErrorf("%s: --freeze %q is not a valid glob", cmd, g)
		}
	}
	return nil
}

// engine is the library's engine configuration.
func (f *engineFlags) engine() lethe.Engine {
	p, _ := autodiff.ParsePrecision(f.Precision)
	return lethe.Engine{Precision: p, Freeze: f.Freeze, BatchSize: f.BatchSize, Threads: f.Threads}
}

// objective is the library's objective: the flags given, the model's
// metadata for the rest (radius 0, --l2 and --loss unless set).
func (f *engineFlags) objective(radius float64, l2Set, lossSet bool) lethe.Objective {
	o := lethe.Objective{Radius: radius}
	if l2Set {
		o.L2 = new(f.L2)
	}
	if lossSet {
		o.Loss = f.Loss
	}
	return o
}

// dataFlags select a labelled data set (DESIGN.md §5 "Data").
type dataFlags struct {
	Data      string
	X, Y      string
	Normalize string
	MaxBytes  int64
}

func (f *dataFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Data, "data", "", "training data: an .npz with x and y, mnist:train|test, fashion-mnist:train|test, an idx or CSV file")
	fs.StringVar(&f.X, "x", "", "features as .npy (with --y instead of --data)")
	fs.StringVar(&f.Y, "y", "", "integer labels as .npy (with --x)")
	fs.StringVar(&f.Normalize, "normalize", "", "standardise features after scaling: MEAN,STD")
	fs.Int64Var(&f.MaxBytes, "max-bytes", 0, "memory one data file may take once read, in bytes (0: 4 GiB); larger files are refused")
}

// given reports whether a data set was named.
func (f *dataFlags) given() bool { return f.Data != "" || f.X != "" }

// validate checks that exactly one data source is named.
func (f *dataFlags) validate(cmd string) error {
	switch {
	case f.Data == "" && f.X == "":
		return usageErrorf("%s: --data (or --x with --y) is required", cmd)
	case f.Data != "" && (f.X != "" || f.Y != ""):
		return usageErrorf("%s: give either --data or --x/--y, not both", cmd)
	case f.X != "" && f.Y == "":
		return usageErrorf("%s: --x needs --y with the labels", cmd)
	}
	if f.Normalize != "" {
		if _, err := dataset.ParseNormalize(f.Normalize); err != nil {
			return usageErrorf("%s: --normalize %q: %v", cmd, f.Normalize, err)
		}
	}
	return nil
}

// data is the library's data set; spec, when not empty, replaces --data
// (for --test).
func (f *dataFlags) data(spec string) lethe.Data {
	d := lethe.Data{Path: f.Data, X: f.X, Y: f.Y, MaxBytes: f.MaxBytes}
	if spec != "" {
		d = lethe.Data{Path: spec, MaxBytes: f.MaxBytes}
	}
	if f.Normalize != "" {
		d.Normalize, _ = dataset.ParseNormalize(f.Normalize)
	}
	return d
}

// paths lists the data files, for the output-is-not-an-input check.
func (f *dataFlags) paths() []string { return []string{f.Data, f.X, f.Y} }

// recipeFlags are the flags of the commands that train with projected
// SGD/Adam (constrain, retrain). Their defaults differ per command; the
// flag names are the same everywhere.
type recipeFlags struct {
	Radius    float64
	Optimizer string
	LR        float64
	Momentum  float64
	Schedule  string
	MinLR     float64
	StepSize  int
	Gamma     float64
	Epochs    int
	Seed      uint64
}

// register adds the recipe flags and the engine flags to fs with the
// defaults d. --batch-size is the mini-batch size here, which changes
// results, so it gets its own default and help text.
func (f *recipeFlags) register(fs *pflag.FlagSet, ef *engineFlags, d lethe.Recipe, seedUsage string) {
	ef.register(fs)
	bs := fs.Lookup("batch-size")
	ef.BatchSize = d.BatchSize
	bs.DefValue = strconv.Itoa(d.BatchSize)
	bs.Usage = "mini-batch size of training (the last batch of an epoch may be smaller)"
	fs.IntVar(&f.Epochs, "epochs", d.Epochs, "passes over the training data")
	fs.Float64Var(&f.LR, "lr", d.LR, "learning rate η")
	fs.StringVar(&f.Optimizer, "optimizer", d.Optimizer, "adam (β 0.9, 0.999, ε 1e-8) or sgd (torch.optim semantics)")
	fs.Float64Var(&f.Momentum, "momentum", 0, "SGD momentum in [0, 1) (--optimizer sgd only)")
	fs.StringVar(&f.Schedule, "schedule", d.Schedule, "learning-rate schedule: constant, cosine (annealed per step to --min-lr) or step (×--gamma every --step-size epochs)")
	fs.Float64Var(&f.MinLR, "min-lr", 0, "final learning rate of --schedule cosine")
	fs.IntVar(&f.StepSize, "step-size", d.StepSize, "epochs between learning-rate decays of --schedule step")
	fs.Float64Var(&f.Gamma, "gamma", d.Gamma, "learning-rate factor of --schedule step, in (0, 1]")
	fs.Uint64Var(&f.Seed, "seed", d.Seed, seedUsage)
}

// validate checks the recipe flags with lethe.Recipe.Validate; cmd names
// the command in messages. radiusRequired makes --radius mandatory;
// otherwise 0 means "not given".
func (f *recipeFlags) validate(cmd string, radiusRequired bool, batchSize int) error {
	switch {
	case radiusRequired && f.Radius == 0:
		return usageErrorf("%s: --radius is required: the ball radius C > 0 (the paper uses C = 20)", cmd)
	case !(f.Radius >= 0) || math.IsInf(f.Radius, 0):
		return usageErrorf("%s: --radius %g: want C > 0", cmd, f.Radius)
	}
	return flagError(cmd, f.recipe(batchSize).Validate())
}

// recipe is the library's recipe with the mini-batch size batchSize.
func (f *recipeFlags) recipe(batchSize int) lethe.Recipe {
	return lethe.Recipe{Optimizer: f.Optimizer, LR: f.LR, Momentum: f.Momentum, Schedule: f.Schedule, MinLR: f.MinLR,
		StepSize: f.StepSize, Gamma: f.Gamma, BatchSize: batchSize, Epochs: f.Epochs, Seed: f.Seed}
}

// checkOutput is lethe.CheckOutput as a command-line mistake.
func checkOutput(out string, inputs ...string) error {
	if err := lethe.CheckOutput(out, inputs...); err != nil {
		return usageErrorf("%v", err.(*lethe.InputError).Err)
	}
	return nil
}

// trainHint adds the command line's hint to a training run that diverged.
func trainHint(err error) error {
	var d *unlearn.DivergedError
	if errors.As(err, &d) {
		return fmt.Errorf("%v; try a smaller --lr; nothing was written", d)
	}
	return err
}
