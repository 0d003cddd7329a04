package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/pflag"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
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
	fs.StringVar(&f.Precision, "precision", "float32", "arithmetic: float32 (as ONNX and PyTorch) or float64")
	fs.StringArrayVar(&f.Freeze, "freeze", nil, "keep initializers matching this glob fixed (repeatable), e.g. --freeze 'fc1.*'")
	fs.StringVar(&f.Loss, "loss", "xent", "per-sample loss on the first output: xent, mse or bce")
	fs.Float64Var(&f.L2, "l2", 0, "L2 weight μ: the objective is L(w) + (μ/2)‖w‖²; use the same μ for constrain, retrain and unlearn")
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
	case f.L2 < 0:
		return usageErrorf("%s: --l2 %g: want 0 or more", cmd, f.L2)
	case f.BatchSize < 1:
		return usageErrorf("%s: --batch-size %d: want at least 1", cmd, f.BatchSize)
	case f.Threads < 0:
		return usageErrorf("%s: --threads %d: want 0 (one per CPU) or more", cmd, f.Threads)
	}
	for _, g := range f.Freeze {
		if !validGlob(g) {
			return usageErrorf("%s: --freeze %q is not a valid glob", cmd, g)
		}
	}
	return nil
}

func (f *engineFlags) evalOptions() autodiff.EvalOptions {
	loss, _ := autodiff.ParseLoss(f.Loss)
	threads := f.Threads
	if threads == 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return autodiff.EvalOptions{Loss: loss, BatchSize: f.BatchSize, Threads: threads}
}

// dataFlags select a labelled data set (DESIGN.md §5 "Data").
type dataFlags struct {
	Data      string
	X, Y      string
	Normalize string
}

func (f *dataFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Data, "data", "", "training data: an .npz with x and y, mnist:train|test, fashion-mnist:train|test, an idx or CSV file")
	fs.StringVar(&f.X, "x", "", "features as .npy (with --y instead of --data)")
	fs.StringVar(&f.Y, "y", "", "integer labels as .npy (with --x)")
	fs.StringVar(&f.Normalize, "normalize", "", "standardise features after scaling: MEAN,STD")
}

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

// name is how messages refer to the data.
func (f *dataFlags) name() string {
	if f.Data != "" {
		return f.Data
	}
	return f.X
}

// paths lists the data files, for the output-is-not-an-input check.
func (f *dataFlags) paths() []string { return []string{f.Data, f.X, f.Y} }

// open opens the data set.
func (f *dataFlags) open() (dataset.Source, error) {
	var opts dataset.Options
	if f.Normalize != "" {
		n, err := dataset.ParseNormalize(f.Normalize)
		if err != nil {
			return nil, err
		}
		opts.Normalize = n
	}
	if f.Data != "" {
		return dataset.Open(f.Data, opts)
	}
	return dataset.OpenArrays(f.X, f.Y, opts)
}

// workspace is a model compiled for the engine with its data, shaped to fit.
type workspace struct {
	model *onnxio.Model
	prog  *autodiff.Program
	data  dataset.Source
	eval  autodiff.EvalOptions
	file  dataset.Source // the opened data set behind data's views
}

// close releases the data set's file.
func (w *workspace) close() {
	if w.file != nil {
		dataset.Close(w.file)
	}
}

// loadWorkspace loads and compiles the model and opens the data, reshaped to
// the model's input, after checking that no output path is one of the
// model's files. Every failure is bad input (exit code 2).
func loadWorkspace(modelPath string, ef *engineFlags, df *dataFlags, outputs ...string) (*workspace, error) {
	m, err := onnxio.Load(modelPath)
	if err != nil {
		return nil, badInput(err)
	}
	for _, out := range outputs {
		if err := checkOutput(out, m.Files()...); err != nil {
			return nil, err
		}
	}
	prec, _ := autodiff.ParsePrecision(ef.Precision)
	prog, err := autodiff.Compile(m, autodiff.Options{Precision: prec, Freeze: ef.Freeze})
	if err != nil {
		return nil, badInput(fmt.Errorf("%s: %w", modelPath, err))
	}
	if prog.Dim() == 0 {
		return nil, badInput(fmt.Errorf("%s: no trainable parameters (check --freeze)", modelPath))
	}
	ws := &workspace{model: m, prog: prog, eval: ef.evalOptions()}
	if df == nil {
		return ws, nil
	}
	src, err := df.open()
	if err != nil {
		return nil, badInput(err)
	}
	if ws.data, err = fitData(m, modelPath, src, df.name()); err != nil {
		dataset.Close(src)
		return nil, err
	}
	ws.file = src
	return ws, nil
}

// fitData reshapes a data set to the model's single data input.
func fitData(m *onnxio.Model, modelPath string, src dataset.Source, dataName string) (dataset.Source, error) {
	ins := m.Graph().DataInputs()
	if len(ins) != 1 {
		return nil, badInput(fmt.Errorf("%s: the model has %d inputs; lethe feeds exactly one", modelPath, len(ins)))
	}
	dims, err := sampleDims(ins[0], src.SampleShape())
	if err != nil {
		return nil, badInput(fmt.Errorf("%s does not fit %s: %w", dataName, modelPath, err))
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		shape[i] = int(d)
	}
	out, err := dataset.Reshape(src, shape)
	if err != nil {
		return nil, badInput(fmt.Errorf("%s does not fit %s: %w", dataName, modelPath, err))
	}
	return out, nil
}
