package ort

import (
	"fmt"
	"reflect"
	"slices"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/lethe-ml/lethe/onnxio"
)

// Options configures a Session. The zero value uses onnxruntime's defaults:
// its own thread counts and all graph optimizations.
type Options struct {
	// IntraOpThreads is the number of threads one operator may use; 0 lets
	// onnxruntime choose (one per core).
	IntraOpThreads int
	// InterOpThreads is the number of threads for running operators in
	// parallel; 0 lets onnxruntime choose.
	InterOpThreads int
	// DisableOptimizations turns off onnxruntime's graph rewrites (operator
	// fusion, constant folding), so that it computes exactly the graph in the
	// file, operator by operator.
	DisableOptimizations bool
}

// IOInfo describes a session input or output. Shape has -1 for dimensions
// the model leaves dynamic; it is empty (not nil) for a scalar and nil when
// the model does not declare the rank. Type is onnxio.Undefined for values
// that are not tensors (sequences, maps, optionals).
type IOInfo struct {
	Name  string
	Type  onnxio.DataType
	Shape []int64
}

// Session is a loaded onnxruntime inference session. It owns onnxruntime
// resources: call Close when done. Run may not be called concurrently on one
// Session.
type Session struct {
	s       *ortgo.DynamicAdvancedSession
	inputs  []IOInfo
	outputs []IOInfo
}

// NewSession loads the model file at path (external data is resolved by
// onnxruntime relative to it). It calls Init. The model is also read with
// onnxio, to learn which values it declares as scalars, so it must be one
// onnxio loads.
func NewSession(path string, opts Options) (*Session, error) {
	return newSession(path, nil, opts)
}

// NewSessionFromBytes loads a model from its serialized bytes, such as
// onnxio.Model.Encode returns. It calls Init.
func NewSessionFromBytes(data []byte, opts Options) (*Session, error) {
	return newSession("", data, opts)
}

func newSession(path string, data []byte, opts Options) (*Session, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	what := path
	if path == "" {
		what = "model bytes"
	}
	// onnxruntime reports a value of unknown rank with no dimensions, like a
	// scalar; only the model says which it is.
	var m *onnxio.Model
	var err error
	if path != "" {
		m, err = onnxio.Load(path)
	} else {
		m, err = onnxio.Decode(data, onnxio.DecodeOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("ort: %w", err)
	}
	scalars := map[string]bool{}
	for _, v := range slices.Concat(m.Graph().Inputs, m.Graph().Outputs) {
		scalars[v.Name] = v.Kind == onnxio.KindTensor && v.HasShape && len(v.Shape) == 0
	}
	so, err := sessionOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("ort: %s: %w", what, err)
	}
	defer so.Destroy() // onnxruntime copies the options into the session
	var ins, outs []ortgo.InputOutputInfo
	if path != "" {
		ins, outs, err = ortgo.GetInputOutputInfoWithOptions(path, so)
	} else {
		ins, outs, err = ortgo.GetInputOutputInfoWithONNXData(data)
	}
	if err != nil {
		return nil, fmt.Errorf("ort: %s: %w", what, err)
	}
	s := &Session{inputs: ioInfos(ins, scalars), outputs: ioInfos(outs, scalars)}
	names := func(vs []IOInfo) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = v.Name
		}
		return out
	}
	if path != "" {
		s.s, err = ortgo.NewDynamicAdvancedSession(path, names(s.inputs), names(s.outputs), so)
	} else {
		s.s, err = ortgo.NewDynamicAdvancedSessionWithONNXData(data, names(s.inputs), names(s.outputs), so)
	}
	if err != nil {
		return nil, fmt.Errorf("ort: %s: %w", what, err)
	}
	return s, nil
}

func sessionOptions(opts Options) (*ortgo.SessionOptions, error) {
	so, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	if opts.IntraOpThreads > 0 {
		err = so.SetIntraOpNumThreads(opts.IntraOpThreads)
	}
	if err == nil && opts.InterOpThreads > 0 {
		err = so.SetInterOpNumThreads(opts.InterOpThreads)
	}
	if err == nil && opts.DisableOptimizations {
		err = so.SetGraphOptimizationLevel(ortgo.GraphOptimizationLevelDisableAll)
	}
	if err != nil {
		so.Destroy()
		return nil, err
	}
	return so, nil
}

// ioInfos converts onnxruntime's descriptions; scalars names the values the
// model declares as rank 0.
func ioInfos(vs []ortgo.InputOutputInfo, scalars map[string]bool) []IOInfo {
	out := make([]IOInfo, len(vs))
	for i, v := range vs {
		out[i] = IOInfo{Name: v.Name}
		if v.OrtValueType == ortgo.ONNXTypeTensor {
			out[i].Type = onnxio.DataType(v.DataType)
			if len(v.Dimensions) > 0 || scalars[v.Name] {
				out[i].Shape = append([]int64{}, v.Dimensions...)
			}
		}
	}
	return out
}

// Inputs describes the inputs Run expects, in order. Under IR version < 4
// onnxruntime leaves out inputs that have an initializer.
func (s *Session) Inputs() []IOInfo { return s.inputs }

// Outputs describes the outputs Run returns, in order.
func (s *Session) Outputs() []IOInfo { return s.outputs }

// Run feeds one tensor per entry of Inputs (in that order; names are not
// used) and returns every output, in the order of Outputs, as new tensors that
// belong to the caller. Any batch size the model allows works. Supported
// element types are float32, float64, bool and the 8- to 64-bit integers;
// others, and non-tensor values, are an error.
func (s *Session) Run(inputs []*onnxio.Tensor) ([]*onnxio.Tensor, error) {
	if len(inputs) != len(s.inputs) {
		return nil, fmt.Errorf("ort: the model takes %d inputs, got %d", len(s.inputs), len(inputs))
	}
	if len(s.inputs) == 0 || len(s.outputs) == 0 {
		return nil, fmt.Errorf("ort: models without inputs or outputs cannot be run through onnxruntime_go")
	}
	in := make([]ortgo.Value, len(inputs))
	out := make([]ortgo.Value, len(s.outputs))
	defer destroyAll(in)
	defer destroyAll(out)
	for i, t := range inputs {
		info := s.inputs[i]
		if t.Type != info.Type {
			return nil, fmt.Errorf("ort: input %q is %s, the model wants %s", info.Name, t.Type, info.Type)
		}
		v, err := toValue(t)
		if err != nil {
			return nil, fmt.Errorf("ort: input %q: %w", info.Name, err)
		}
		in[i] = v
	}
	for i, info := range s.outputs {
		if info.Shape != nil && len(info.Shape) == 0 { // onnxruntime_go cannot take over rank-0 outputs; provide them
			v, err := newScalar(info.Type)
			if err != nil {
				return nil, fmt.Errorf("ort: output %q: %w", info.Name, err)
			}
			out[i] = v
		}
	}
	if err := s.s.Run(in, out); err != nil {
		return nil, fmt.Errorf("ort: run: %w", err)
	}
	res := make([]*onnxio.Tensor, len(out))
	for i, v := range out {
		t, err := fromValue(v, s.outputs[i].Type)
		if err != nil {
			return nil, fmt.Errorf("ort: output %q: %w", s.outputs[i].Name, err)
		}
		t.Name = s.outputs[i].Name
		res[i] = t
	}
	return res, nil
}

// Close releases the session's onnxruntime resources. The Session must not be
// used afterwards.
func (s *Session) Close() error {
	if s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}

// destroyAll destroys every value in vs. onnxruntime_go may leave a typed nil
// pointer in an output slot after a failed conversion, hence the reflection.
func destroyAll(vs []ortgo.Value) {
	for _, v := range vs {
		if v != nil && !reflect.ValueOf(v).IsNil() {
			v.Destroy()
		}
	}
}
