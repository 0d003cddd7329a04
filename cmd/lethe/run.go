package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// defaultRunBatch is the batch size of `lethe run` when --batch-size is not
// given.
const defaultRunBatch = 256

// Engines for --engine.
const (
	engineORT    = "ort"
	engineNative = "native"
)

// runOptions are the inputs of `lethe run`.
type runOptions struct {
	io     *ioStreams
	global *globalOptions

	Model     string
	Data      string
	Out       string
	Engine    string
	Precision string
	BatchSize int
	Threads   int
}

func newRunCmd(streams *ioStreams, global *globalOptions, runF func(*runOptions) error) *cobra.Command {
	opts := &runOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "run MODEL --data F --out OUT.npy",
		Short: "Run a forward pass and write the first output as .npy",
		Long: `run feeds every sample of --data through the model in batches and writes the
model's first output, for all samples in order, to --out as a NumPy .npy file.

--data is an .npz with an array x (float32 features [N, ...]; float64 and
uint8 features are converted, uint8 scaled to [0, 1]), an .npy of features,
mnist:train|test, fashion-mnist:train|test, an idx images file or a CSV file.
The samples must match the model's single float32 input: either its shape
without the batch axis, or the same number of values when that shape is fully
known (so flat 784-value samples feed a [N, 1, 28, 28] input).

--engine native (the default) is lethe's own engine, the one that computes
gradients and unlearns; it computes in --precision (float32 as ONNX and
PyTorch do, or float64) and writes the first output as float32, which must be
a floating-point output. --threads 0 uses one worker per CPU.

--engine ort runs onnxruntime: float32 outputs are written as float32, float64
as float64, integer and bool outputs as int64; --threads 0 is onnxruntime's
default. Both engines write the same .npy layout, so their outputs can be
compared directly.`,
		Example: `  lethe run model.onnx --data test.npz --out logits.npy
  lethe run model.onnx --data mnist:test --out logits.npy --batch-size 1024 --threads 2
  lethe run model.onnx --data test.npz --engine ort --out logits-ort.npy`,
		Args: exactArgs(1, "one MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Model = args[0]
			if err := opts.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runRun(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", "", "samples to run (required; see above)")
	f.StringVarP(&opts.Out, "out", "o", "", "output .npy file (required)")
	f.StringVar(&opts.Engine, "engine", engineNative, "engine: native (lethe's own) or ort (onnxruntime)")
	f.StringVar(&opts.Precision, "precision", "float32", "native engine arithmetic: float32 (as ONNX and PyTorch) or float64")
	f.IntVar(&opts.BatchSize, "batch-size", defaultRunBatch, "samples per batch")
	f.IntVar(&opts.Threads, "threads", 0, "native: worker threads (0: one per CPU); ort: threads per operator (0: onnxruntime's default)")
	return cmd
}

// Validate checks the options before any work.
func (o *runOptions) Validate() error {
	switch {
	case o.Data == "":
		return usageErrorf("run: --data is required")
	case o.Out == "":
		return usageErrorf("run: --out is required")
	case o.Engine != engineORT && o.Engine != engineNative:
		return usageErrorf("run: --engine %q: want native or ort", o.Engine)
	case o.BatchSize < 1:
		return usageErrorf("run: --batch-size %d: want at least 1", o.BatchSize)
	case o.Threads < 0:
		return usageErrorf("run: --threads %d: want 0 (default) or more", o.Threads)
	}
	if _, err := autodiff.ParsePrecision(o.Precision); err != nil {
		return usageErrorf("run: --precision %q: want float32 or float64", o.Precision)
	}
	if o.Precision != "float32" && o.Engine == engineORT {
		return usageErrorf("run: --precision applies to --engine native only; onnxruntime computes in the model's types")
	}
	return checkOutput(o.Out, o.Model, o.Data)
}

// runSummary is the --json output of run.
type runSummary struct {
	Model       string  `json:"model"`
	Data        string  `json:"data"`
	Out         string  `json:"out"`
	Engine      string  `json:"engine"`
	Onnxruntime string  `json:"onnxruntime,omitempty"`
	Precision   string  `json:"precision,omitempty"`
	Samples     int     `json:"samples"`
	Batches     int     `json:"batches"`
	Output      string  `json:"output"`
	Type        string  `json:"type"`
	Shape       []int64 `json:"shape"`
}

func runRun(o *runOptions) error {
	m, err := onnxio.Load(o.Model)
	if err != nil {
		return badInput(err)
	}
	if err := checkOutput(o.Out, m.Files()...); err != nil {
		return err
	}
	if o.Engine == engineNative {
		return runNative(o, m)
	}
	ins := m.Graph().DataInputs()
	if len(ins) != 1 {
		return badInput(fmt.Errorf("%s: the model has %d inputs; lethe run feeds exactly one", o.Model, len(ins)))
	}
	in := ins[0]
	if in.Kind != onnxio.KindTensor || in.ElemType != onnxio.Float {
		return badInput(fmt.Errorf("%s: input %q is %s %s; lethe run feeds float32 features", o.Model, in.Name, in.Kind, in.ElemType))
	}
	src, err := dataset.Open(o.Data, dataset.Options{})
	if err != nil {
		return badInput(err)
	}
	defer dataset.Close(src)
	if src.Len() == 0 {
		return badInput(fmt.Errorf("%s: no samples", o.Data))
	}
	dims, err := sampleDims(in, src.SampleShape())
	if err != nil {
		return badInput(fmt.Errorf("%s does not fit %s: %w", o.Data, o.Model, err))
	}
	sess, err := ort.NewSession(o.Model, ort.Options{IntraOpThreads: o.Threads})
	if errors.Is(err, ort.ErrNoLibrary) {
		return failed(err)
	}
	if err != nil {
		return badInput(err)
	}
	defer sess.Close()
	batches := dataset.Batches(src.Len(), o.BatchSize, nil)
	acc := &outputs{batches: len(batches)}
	err = dataset.ForEachBatch(src, batches, func(idx []int, x []float32, _ []int64) error {
		t := &onnxio.Tensor{Name: in.Name, Type: onnxio.Float, Dims: append([]int64{int64(len(idx))}, dims...), Float32: x}
		res, err := sess.Run([]*onnxio.Tensor{t})
		if err != nil {
			return failed(err)
		}
		return acc.add(res[0], len(idx))
	})
	var ee *exitError
	if err != nil && !errors.As(err, &ee) {
		err = badInput(err) // reading the data failed
	}
	if err != nil {
		return err
	}
	if err := onnxio.WriteFileAtomic(o.Out, func(w io.Writer) error { return writeNpy(w, acc.t) }); err != nil {
		return failed(err)
	}
	s := runSummary{Model: o.Model, Data: o.Data, Out: o.Out, Engine: o.Engine, Onnxruntime: ort.Version(),
		Samples: src.Len(), Batches: len(batches), Output: acc.t.Name, Type: acc.t.Type.String(), Shape: acc.t.Dims}
	o.global.logf(o.io, "ran %d samples through %s with onnxruntime %s in batches of up to %d; wrote %s %v to %s",
		s.Samples, o.Model, s.Onnxruntime, o.BatchSize, s.Type, s.Shape, o.Out)
	if o.global.JSON {
		return o.io.writeJSON(s)
	}
	return nil
}

// runNative runs the model with lethe's engine (autodiff.Program.Predict).
func runNative(o *runOptions, m *onnxio.Model) error {
	outs := m.Graph().Outputs
	if len(outs) == 0 {
		return badInput(fmt.Errorf("%s: the model has no outputs", o.Model))
	}
	first := outs[0]
	if first.Kind == onnxio.KindTensor && first.ElemType != onnxio.Float && first.ElemType != onnxio.Undefined {
		return badInput(fmt.Errorf("%s: the first output %q is %s; --engine native writes float32 outputs: use --engine ort", o.Model, first.Name, first.ElemType))
	}
	prec, _ := autodiff.ParsePrecision(o.Precision)
	prog, err := autodiff.Compile(m, autodiff.Options{Precision: prec})
	if err != nil {
		return badInput(fmt.Errorf("%s: %w (--engine ort may run it)", o.Model, err))
	}
	src, err := dataset.Open(o.Data, dataset.Options{})
	if err != nil {
		return badInput(err)
	}
	defer dataset.Close(src)
	if src.Len() == 0 {
		return badInput(fmt.Errorf("%s: no samples", o.Data))
	}
	data, err := fitData(m, o.Model, src, o.Data)
	if err != nil {
		return err
	}
	var pieces []predicted
	opts := autodiff.EvalOptions{BatchSize: o.BatchSize, Threads: o.Threads}
	err = prog.Predict(context.Background(), checkedData{data}, nil, opts, func(at int, out []float32, shape []int) error {
		pieces = append(pieces, predicted{at: at, out: out, shape: slices.Clone(shape)})
		return nil
	})
	if err != nil {
		return computeError(err)
	}
	t, err := joinPredicted(pieces, data.Len(), first.Name)
	if err != nil {
		return err
	}
	if err := onnxio.WriteFileAtomic(o.Out, func(w io.Writer) error { return writeNpy(w, t) }); err != nil {
		return failed(err)
	}
	s := runSummary{Model: o.Model, Data: o.Data, Out: o.Out, Engine: o.Engine, Precision: o.Precision,
		Samples: data.Len(), Batches: len(pieces), Output: t.Name, Type: t.Type.String(), Shape: t.Dims}
	o.global.logf(o.io, "ran %d samples through %s with lethe's engine (%s, %s) in batches of up to %d; wrote %s %v to %s",
		s.Samples, o.Model, o.Precision, autodiff.BLASName(), o.BatchSize, s.Type, s.Shape, o.Out)
	if o.global.JSON {
		return o.io.writeJSON(s)
	}
	return nil
}

// predicted is one batch of the native engine's first output: the batch's
// position among the samples, its values and its shape.
type predicted struct {
	at    int
	out   []float32
	shape []int
}

// joinPredicted concatenates batches, which arrive in any order, along their
// first axis into one tensor of n rows. An output without a batch axis is
// accepted only from a single batch, as it is.
func joinPredicted(pieces []predicted, n int, name string) (*onnxio.Tensor, error) {
	slices.SortFunc(pieces, func(a, b predicted) int { return a.at - b.at })
	toDims := func(shape []int) []int64 {
		d := make([]int64, len(shape))
		for i, v := range shape {
			d[i] = int64(v)
		}
		return d
	}
	t := &onnxio.Tensor{Name: name, Type: onnxio.Float}
	if len(pieces) == 1 {
		t.Dims, t.Float32 = toDims(pieces[0].shape), pieces[0].out
		return t, nil
	}
	rows := 0
	for i, p := range pieces {
		end := n
		if i+1 < len(pieces) {
			end = pieces[i+1].at
		}
		if p.at != rows || len(p.shape) == 0 || p.shape[0] != end-p.at {
			return nil, badInput(fmt.Errorf("output %q has dims %v for a batch of %d samples, without a batch axis; run all samples in one batch (--batch-size)", name, p.shape, end-p.at))
		}
		if i > 0 && !slices.Equal(p.shape[1:], pieces[0].shape[1:]) {
			return nil, failed(fmt.Errorf("output %q changed from %v to %v between batches", name, pieces[0].shape, p.shape))
		}
		rows += p.shape[0]
		t.Float32 = append(t.Float32, p.out...)
	}
	t.Dims = toDims(pieces[0].shape)
	t.Dims[0] = int64(rows)
	return t, nil
}

// sampleDims returns the dims one sample is fed with: the input's own dims
// (after the batch axis) when they are all fixed and hold as many values as a
// sample, otherwise the sample's shape when it agrees with every fixed one.
func sampleDims(in onnxio.ValueInfo, sample []int) ([]int64, error) {
	out := make([]int64, len(sample))
	n := int64(1)
	for i, d := range sample {
		out[i] = int64(d)
		n *= int64(d)
	}
	if !in.HasShape || len(in.Shape) == 0 {
		return out, nil
	}
	model := in.Shape[1:]
	fixed := make([]int64, 0, len(model))
	want := int64(1)
	for _, d := range model {
		if d.Param != "" || d.Value < 0 {
			break
		}
		fixed = append(fixed, d.Value)
		want *= d.Value
	}
	if len(fixed) == len(model) {
		if want != n {
			return nil, fmt.Errorf("samples of shape %v have %d values; input %q takes %v (%d values)", sample, n, in.Name, fixed, want)
		}
		return fixed, nil
	}
	if len(model) != len(sample) {
		return nil, fmt.Errorf("samples of shape %v do not fit input %q of rank %d", sample, in.Name, len(in.Shape))
	}
	for i, d := range model {
		if d.Param == "" && d.Value >= 0 && d.Value != out[i] {
			return nil, fmt.Errorf("samples of shape %v do not fit input %q: dimension %d is %d, want %d", sample, in.Name, i+1, out[i], d.Value)
		}
	}
	return out, nil
}

// outputs concatenates one output over batches along its first axis.
type outputs struct {
	batches int
	t       *onnxio.Tensor
}

func (a *outputs) add(t *onnxio.Tensor, n int) error {
	batched := len(t.Dims) > 0 && t.Dims[0] == int64(n)
	if !batched && a.batches > 1 {
		return badInput(fmt.Errorf("output %q has dims %v, without a batch axis of %d; run all samples in one batch (--batch-size)", t.Name, t.Dims, n))
	}
	if a.t == nil {
		a.t = t
		return nil
	}
	if t.Type != a.t.Type || !slices.Equal(t.Dims[1:], a.t.Dims[1:]) {
		return failed(fmt.Errorf("output %q changed from %s %v to %s %v between batches", t.Name, a.t.Type, a.t.Dims, t.Type, t.Dims))
	}
	a.t.Dims[0] += t.Dims[0]
	a.t.Float32 = append(a.t.Float32, t.Float32...)
	a.t.Float64 = append(a.t.Float64, t.Float64...)
	a.t.Int64 = append(a.t.Int64, t.Int64...)
	a.t.Uint64 = append(a.t.Uint64, t.Uint64...)
	return nil
}
