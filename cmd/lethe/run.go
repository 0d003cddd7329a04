package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

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
float32 outputs are written as float32, float64 as float64, integer and bool
outputs as int64.

--data is an .npz with an array x (float32 features [N, ...]; float64 and
uint8 features are converted, uint8 scaled to [0, 1]), an .npy of features,
mnist:train|test, fashion-mnist:train|test, an idx images file or a CSV file.
The samples must match the model's single float32 input: either its shape
without the batch axis, or the same number of values when that shape is fully
known (so flat 784-value samples feed a [N, 1, 28, 28] input).

--engine ort runs onnxruntime. --engine native, lethe's own engine, is not
available in this build yet.`,
		Example: `  lethe run model.onnx --data test.npz --out logits.npy
  lethe run model.onnx --data mnist:test --out logits.npy --batch-size 1024 --threads 2`,
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
	f.StringVar(&opts.Engine, "engine", engineORT, "engine: ort (onnxruntime) or native")
	f.IntVar(&opts.BatchSize, "batch-size", defaultRunBatch, "samples per batch")
	f.IntVar(&opts.Threads, "threads", 0, "threads per operator (0: onnxruntime's default)")
	return cmd
}

// Validate checks the options before any work.
func (o *runOptions) Validate() error {
	switch {
	case o.Data == "":
		return usageErrorf("run: --data is required")
	case o.Out == "":
		return usageErrorf("run: --out is required")
	case o.Engine == engineNative:
		return usageErrorf("run: --engine native is not available in this build yet; use --engine ort")
	case o.Engine != engineORT:
		return usageErrorf("run: --engine %q: want ort or native", o.Engine)
	case o.BatchSize < 1:
		return usageErrorf("run: --batch-size %d: want at least 1", o.BatchSize)
	case o.Threads < 0:
		return usageErrorf("run: --threads %d: want 0 (default) or more", o.Threads)
	}
	return checkOutput(o.Out, o.Model, o.Data)
}

// runSummary is the --json output of run.
type runSummary struct {
	Model       string  `json:"model"`
	Data        string  `json:"data"`
	Out         string  `json:"out"`
	Engine      string  `json:"engine"`
	Onnxruntime string  `json:"onnxruntime"`
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
