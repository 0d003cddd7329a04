package lethe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// Backend is the engine that runs a forward pass.
type Backend string

// Backends of Predict.
const (
	// Native is lethe's own engine, the one that computes gradients and
	// unlearns. The default.
	Native Backend = "native"
	// ORT is onnxruntime.
	ORT Backend = "ort"
)

// PredictRequest asks for a forward pass (`lethe run`). Model and Data are
// required; the zero value of every other field is the documented default.
type PredictRequest struct {
	// Model is the ONNX file.
	Model string
	// Data holds the samples; labels are not needed.
	Data Data
	// Backend is Native (the default) or ORT.
	Backend Backend
	// Engine configures the batches and threads of either backend, and the
	// precision of Native (ORT computes in the model's types). With ORT,
	// Threads 0 is onnxruntime's default.
	Engine Engine
	// Out, when not empty, is a NumPy .npy file to write the output to
	// (atomically; never over an input).
	Out string
	// Progress, when not nil, receives progress events.
	Progress func(Event)
}

// PredictResult is a forward pass's first output. Its JSON encoding is the
// output of `lethe run --json` (schemas/run.schema.json).
type PredictResult struct {
	// Model, Data and Out are the request's; Backend is the engine that ran.
	Model   string  `json:"model"`
	Data    string  `json:"data"`
	Out     string  `json:"out"`
	Backend Backend `json:"engine"`
	// Onnxruntime is onnxruntime's version (ORT only); Precision lethe's
	// arithmetic (Native only).
	Onnxruntime string `json:"onnxruntime,omitempty"`
	Precision   string `json:"precision,omitempty"`
	// Samples counts the samples, Batches the batches they ran in.
	Samples int `json:"samples"`
	Batches int `json:"batches"`
	// Output, Type and Shape describe the first output.
	Output string  `json:"output"`
	Type   string  `json:"type"`
	Shape  []int64 `json:"shape"`
	// Tensor is the first output for every sample, in order: float32 from
	// Native; from ORT float32, float64, or int64 for integer and bool
	// outputs.
	Tensor *onnxio.Tensor `json:"-"`
}

// Predict feeds every sample of Data through the model in batches and
// returns the model's first output for all samples in order. The samples
// must match the model's single float32 input: either its shape without
// the batch axis, or the same number of values when that shape is fully
// known (so flat 784-value samples feed a [N, 1, 28, 28] input). A model
// the native engine cannot run is an *InputError for the field Backend:
// onnxruntime may run it.
func Predict(ctx context.Context, req PredictRequest) (*PredictResult, error) {
	switch {
	case req.Model == "":
		return nil, badField("Model", "no model given")
	case req.Backend == "":
		req.Backend = Native
	case req.Backend != Native && req.Backend != ORT:
		return nil, badField("Backend", "%q: want native or ort", req.Backend)
	}
	if err := req.Engine.validate("Engine"); err != nil {
		return nil, err
	}
	if req.Backend == ORT && req.Engine.Precision != autodiff.Float32 {
		return nil, badField("Engine.Precision", "the precision applies to the native engine only; onnxruntime computes in the model's types")
	}
	if req.Out != "" {
		if err := CheckOutput(req.Out, append([]string{req.Model}, req.Data.files()...)...); err != nil {
			return nil, err
		}
	}
	m, err := onnxio.Load(req.Model)
	if err != nil {
		return nil, classify("Model", err)
	}
	if req.Out != "" {
		if err := CheckOutput(req.Out, m.Files()...); err != nil {
			return nil, err
		}
	}
	src, closeSrc, err := req.Data.open("Data")
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	if src.Len() == 0 {
		return nil, badField("Data", "%s: no samples", req.Data)
	}
	rep := newReporter(req.Progress)
	var res *PredictResult
	if req.Backend == Native {
		res, err = predictNative(ctx, req, m, src)
	} else {
		res, err = predictORT(req, m, src)
	}
	if err != nil {
		return nil, err
	}
	if req.Out != "" {
		if err := onnxio.WriteFileAtomic(req.Out, func(w io.Writer) error { return writeNpy(w, res.Tensor) }); err != nil {
			return nil, fmt.Errorf("lethe: writing %s: %w", req.Out, err)
		}
	}
	t := res.Tensor
	res.Output, res.Type, res.Shape = t.Name, t.Type.String(), t.Dims
	with := fmt.Sprintf("onnxruntime %s", res.Onnxruntime)
	if req.Backend == Native {
		with = fmt.Sprintf("lethe's engine (%s, %s)", res.Precision, autodiff.BLASName())
	}
	msg := fmt.Sprintf("ran %d samples through %s with %s in batches of up to %d", res.Samples, req.Model, with, req.Engine.evalOptions(0).BatchSize)
	if req.Out != "" {
		msg += fmt.Sprintf("; wrote %s %v to %s", res.Type, res.Shape, req.Out)
	}
	rep.info(msg)
	return res, nil
}

// predictNative runs the model with lethe's engine.
func predictNative(ctx context.Context, req PredictRequest, m *onnxio.Model, src dataset.Source) (*PredictResult, error) {
	outs := m.Graph().Outputs
	if len(outs) == 0 {
		return nil, badField("Model", "%s: the model has no outputs", req.Model)
	}
	first := outs[0]
	if first.Kind == onnxio.KindTensor && first.ElemType != onnxio.Float && first.ElemType != onnxio.Undefined {
		return nil, badField("Backend", "%s: the first output %q is %s; the native engine computes float32 outputs: use onnxruntime", req.Model, first.Name, first.ElemType)
	}
	prog, err := autodiff.Compile(m, autodiff.Options{Precision: req.Engine.Precision})
	if err != nil {
		return nil, badField("Backend", "%s: %w", req.Model, err)
	}
	data, err := fitData(m, req.Model, src, req.Data.String())
	if err != nil {
		return nil, err
	}
	var pieces []predicted
	opts := req.Engine.evalOptions(0)
	opts.Threads = req.Engine.Threads
	err = prog.Predict(ctx, checked{data}, nil, opts, func(at int, out []float32, shape []int) error {
		pieces = append(pieces, predicted{at: at, out: out, shape: slices.Clone(shape)})
		return nil
	})
	if err != nil {
		return nil, wrapf("run", classify("Data", err))
	}
	t, err := joinPredicted(pieces, data.Len(), first.Name)
	if err != nil {
		return nil, err
	}
	return &PredictResult{Model: req.Model, Data: req.Data.String(), Out: req.Out, Backend: Native, Precision: req.Engine.Precision.String(),
		Samples: data.Len(), Batches: len(pieces), Tensor: t}, nil
}

// predictORT runs the model with onnxruntime.
func predictORT(req PredictRequest, m *onnxio.Model, src dataset.Source) (*PredictResult, error) {
	ins := m.Graph().DataInputs()
	if len(ins) != 1 {
		return nil, badField("Model", "%s: the model has %d inputs; lethe feeds exactly one", req.Model, len(ins))
	}
	in := ins[0]
	if in.Kind != onnxio.KindTensor || in.ElemType != onnxio.Float {
		return nil, badField("Model", "%s: input %q is %s %s; lethe feeds float32 features", req.Model, in.Name, in.Kind, in.ElemType)
	}
	dims, err := sampleDims(in, src.SampleShape())
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("%s does not fit %s: %w", req.Data, req.Model, err)}
	}
	sess, err := ort.NewSession(req.Model, ort.Options{IntraOpThreads: req.Engine.Threads})
	if errors.Is(err, ort.ErrNoLibrary) {
		return nil, fmt.Errorf("lethe: run: %w", err)
	}
	if err != nil {
		return nil, badInput("Model", err)
	}
	defer sess.Close()
	batches := dataset.Batches(src.Len(), req.Engine.evalOptions(0).BatchSize, nil)
	acc := &concat{batches: len(batches)}
	err = dataset.ForEachBatch(src, batches, func(idx []int, x []float32, _ []int64) error {
		t := &onnxio.Tensor{Name: in.Name, Type: onnxio.Float, Dims: append([]int64{int64(len(idx))}, dims...), Float32: x}
		res, err := sess.Run([]*onnxio.Tensor{t})
		if err != nil {
			return &runError{err}
		}
		return acc.add(res[0], len(idx))
	})
	var re *runError
	var in2 *InputError
	switch {
	case errors.As(err, &re):
		return nil, fmt.Errorf("lethe: run: %w", re.err)
	case errors.As(err, &in2):
		return nil, err
	case err != nil:
		return nil, badInput("Data", err) // reading the data failed
	}
	return &PredictResult{Model: req.Model, Data: req.Data.String(), Out: req.Out, Backend: ORT, Onnxruntime: ort.Version(),
		Samples: src.Len(), Batches: len(batches), Tensor: acc.t}, nil
}

// runError is a failure of onnxruntime on a batch.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }

// predicted is one batch of the native engine's first output: the batch's
// position among the samples, its values and its shape.
type predicted struct {
	at    int
	out   []float32
	shape []int
}

// joinPredicted concatenates batches, which arrive in any order, along
// their first axis into one tensor of n rows. An output without a batch
// axis is accepted only from a single batch, as it is.
func joinPredicted(pieces []predicted, n int, name string) (*onnxio.Tensor, error) {
	slices.SortFunc(pieces, func(a, b predicted) int { return a.at - b.at })
	t := &onnxio.Tensor{Name: name, Type: onnxio.Float}
	if len(pieces) == 1 {
		t.Dims, t.Float32 = toInt64(pieces[0].shape), pieces[0].out
		return t, nil
	}
	rows := 0
	for i, p := range pieces {
		end := n
		if i+1 < len(pieces) {
			end = pieces[i+1].at
		}
		if p.at != rows || len(p.shape) == 0 || p.shape[0] != end-p.at {
			return nil, badField("Engine.BatchSize", "output %q has dims %v for a batch of %d samples, without a batch axis; run all samples in one batch", name, p.shape, end-p.at)
		}
		if i > 0 && !slices.Equal(p.shape[1:], pieces[0].shape[1:]) {
			return nil, fmt.Errorf("lethe: run: output %q changed from %v to %v between batches", name, pieces[0].shape, p.shape)
		}
		rows += p.shape[0]
		t.Float32 = append(t.Float32, p.out...)
	}
	t.Dims = toInt64(pieces[0].shape)
	t.Dims[0] = int64(rows)
	return t, nil
}

// concat concatenates one output over batches along its first axis.
type concat struct {
	batches int
	t       *onnxio.Tensor
}

func (a *concat) add(t *onnxio.Tensor, n int) error {
	batched := len(t.Dims) > 0 && t.Dims[0] == int64(n)
	if !batched && a.batches > 1 {
		return badField("Engine.BatchSize", "output %q has dims %v, without a batch axis of %d; run all samples in one batch", t.Name, t.Dims, n)
	}
	if a.t == nil {
		a.t = t
		return nil
	}
	if t.Type != a.t.Type || !slices.Equal(t.Dims[1:], a.t.Dims[1:]) {
		return &runError{fmt.Errorf("output %q changed from %s %v to %s %v between batches", t.Name, a.t.Type, a.t.Dims, t.Type, t.Dims)}
	}
	a.t.Dims[0] += t.Dims[0]
	a.t.Float32 = append(a.t.Float32, t.Float32...)
	a.t.Float64 = append(a.t.Float64, t.Float64...)
	a.t.Int64 = append(a.t.Int64, t.Int64...)
	a.t.Uint64 = append(a.t.Uint64, t.Uint64...)
	return nil
}

// writeNpy writes t as a NumPy .npy array of its dims: float32 and float64
// as themselves, integers and bools as int64, uint64 as uint64.
func writeNpy(w io.Writer, t *onnxio.Tensor) error {
	var flat any
	switch t.Type {
	case onnxio.Float:
		flat = t.Float32
	case onnxio.Double:
		flat = t.Float64
	case onnxio.Uint64:
		flat = t.Uint64
	case onnxio.Int8, onnxio.Int16, onnxio.Int32, onnxio.Int64, onnxio.Uint8, onnxio.Uint16, onnxio.Uint32, onnxio.Bool:
		flat = t.Int64
	default:
		return fmt.Errorf("output %q: %s values cannot be written as .npy", t.Name, t.Type)
	}
	dims := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		dims[i] = int(d)
	}
	v := reflect.ValueOf(flat)
	if len(dims) == 0 {
		return npy.Write(w, v.Index(0).Interface())
	}
	return npy.Write(w, nested(v, dims).Interface())
}

// nested reshapes the flat slice v into nested slices of the given dims,
// which is how npyio learns an array's shape.
func nested(v reflect.Value, dims []int) reflect.Value {
	if len(dims) == 1 {
		return v
	}
	inner := 1
	for _, d := range dims[1:] {
		inner *= d
	}
	typ := v.Type()
	for range dims[1:] {
		typ = reflect.SliceOf(typ)
	}
	out := reflect.MakeSlice(typ, dims[0], dims[0])
	for i := range dims[0] {
		out.Index(i).Set(nested(v.Slice(i*inner, (i+1)*inner), dims[1:]))
	}
	return out
}
