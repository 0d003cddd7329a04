package onnxio_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

func loadTestdata(t *testing.T, name string) *onnxio.Model {
	t.Helper()
	m, err := onnxio.Load(testenv.Testdata("models/" + name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func extract(t *testing.T, m *onnxio.Model, inputs, outputs []string) *onnxio.Model {
	t.Helper()
	e, err := m.Extract(inputs, outputs)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// runORT runs m in onnxruntime operator by operator (no graph rewrites) on
// one thread, so that equal operators on equal inputs give equal bits.
func runORT(t *testing.T, m *onnxio.Model, inputs ...*onnxio.Tensor) []*onnxio.Tensor {
	t.Helper()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSessionFromBytes(b, ort.Options{IntraOpThreads: 1, InterOpThreads: 1, DisableOptimizations: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func names[T any](xs []T, name func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = name(x)
	}
	return out
}

func initNames(m *onnxio.Model) []string {
	return names(m.Graph().Initializers, func(t *onnxio.Tensor) string { return t.Name })
}

func nodeNames(m *onnxio.Model) []string {
	return names(m.Graph().Nodes, func(n onnxio.Node) string { return n.Name })
}

func randomTensor(rng *rand.Rand, name string, dims ...int64) *onnxio.Tensor {
	x := &onnxio.Tensor{Name: name, Type: onnxio.Float, Dims: dims}
	x.Float32 = make([]float32, x.NumElements())
	for i := range x.Float32 {
		x.Float32[i] = float32(rng.NormFloat64())
	}
	return x
}

// bitEqual reports whether two float32 tensors have the same dims and bits.
func bitEqual(a, b *onnxio.Tensor) bool {
	return slices.Equal(a.Dims, b.Dims) && slices.EqualFunc(a.Float32, b.Float32, func(x, y float32) bool {
		return math.Float32bits(x) == math.Float32bits(y)
	})
}

// split cuts m at feature into a backbone (its data input → feature) and a
// head (feature → its first output), and checks in onnxruntime that the head
// applied to the backbone's output is the whole model's output, bit for bit:
// onnxruntime runs each extracted node as the same kernel on the same float32
// inputs it sees in the whole model (graph rewrites off, one thread), so no
// rounding can differ. It returns the head and the backbone's output.
func split(t *testing.T, m *onnxio.Model, feature string, x *onnxio.Tensor) (*onnxio.Model, *onnxio.Tensor) {
	t.Helper()
	in, out := m.Graph().DataInputs()[0].Name, m.Graph().Outputs[0].Name
	backbone := extract(t, m, []string{in}, []string{feature})
	head := extract(t, m, []string{feature}, []string{out})
	whole := runORT(t, m, x)[0]
	f := runORT(t, backbone, x)[0]
	composed := runORT(t, head, f)[0]
	if !bitEqual(composed, whole) {
		t.Fatalf("head(backbone(x)) differs from the whole model's output:\n%v\n%v", composed.Float32, whole.Float32)
	}
	return head, f
}

// checkEngineHead compiles head with the native engine, checks that its
// trainable parameters are exactly want, and that it computes onnxruntime's
// head output from the features f.
func checkEngineHead(t *testing.T, head *onnxio.Model, f *onnxio.Tensor, want []string) {
	t.Helper()
	p, err := autodiff.Compile(head, autodiff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p.Params(), func(q onnxio.Param) string { return q.Name }); !slices.Equal(got, want) {
		t.Fatalf("head parameters %q, want %q", got, want)
	}
	feature := head.Graph().Inputs[0].Name
	got, err := p.Run(map[string]*onnxio.Tensor{feature: f})
	if err != nil {
		t.Fatal(err)
	}
	ref := runORT(t, head, f)[0]
	if !slices.Equal(got[0].Dims, ref.Dims) {
		t.Fatalf("engine output dims %v, onnxruntime %v", got[0].Dims, ref.Dims)
	}
	a, _ := got[0].Float64s()
	b, _ := ref.Float64s()
	// Both compute the same float32 dot products (K ≤ 36 terms here) in
	// different summation orders. Their rounding differs by at most
	// K·2⁻²⁴·Σ|terms| in the worst case and about √K·2⁻²⁴·Σ|terms| in
	// practice; with Σ|terms| ≲ 10 that is ≲ 4e-6, while a wrong weight or
	// feature moves the outputs by ≳ 1e-2.
	d := ort.Compare(a, b)
	if d.MaxAbs > 1e-5 {
		t.Fatalf("engine head differs from onnxruntime's by %+v", d)
	}
	t.Logf("engine head vs onnxruntime head: max abs diff %.3g", d.MaxAbs)
}

func TestExtractSplitsMLP(t *testing.T) {
	testenv.Missing(t, "onnxruntime shared library", ort.Init())
	m := loadTestdata(t, "mlp.onnx")
	const feature = "/Relu_1_output_0"
	backbone := extract(t, m, []string{"x"}, []string{feature})
	if got, want := nodeNames(backbone), []string{"/fc1/Gemm", "/Relu", "/fc2/Gemm", "/Relu_1"}; !slices.Equal(got, want) {
		t.Fatalf("backbone nodes %q, want %q", got, want)
	}
	if got, want := initNames(backbone), []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}; !slices.Equal(got, want) {
		t.Fatalf("backbone initializers %q, want %q", got, want)
	}
	x := randomTensor(rand.New(rand.NewPCG(1, 2)), "x", 5, 784)
	head, f := split(t, m, feature, x)
	if got, want := nodeNames(head), []string{"/fc3/Gemm"}; !slices.Equal(got, want) {
		t.Fatalf("head nodes %q, want %q", got, want)
	}
	if head.IRVersion() != m.IRVersion() || !slices.Equal(head.Opsets(), m.Opsets()) || head.Path() != "" {
		t.Fatalf("head IR %d, opsets %v, path %q; want IR %d, opsets %v, no path", head.IRVersion(), head.Opsets(), head.Path(), m.IRVersion(), m.Opsets())
	}
	g := head.Graph()
	// mlp.onnx has no value_info: the new input is a float of unknown shape,
	// the output keeps the type the model declared.
	if in := g.Inputs[0]; len(g.Inputs) != 1 || in.Name != feature || in.Kind != onnxio.KindTensor || in.ElemType != onnxio.Float || in.HasShape {
		t.Fatalf("head inputs %+v, want one float input %s of unknown shape", g.Inputs, feature)
	}
	if !reflect.DeepEqual(g.Outputs, m.Graph().Outputs) {
		t.Fatalf("head outputs %+v, want the model's %+v", g.Outputs, m.Graph().Outputs)
	}
	checkEngineHead(t, head, f, []string{"fc3.weight", "fc3.bias"})
}

// TestExtractUnsupportedBackbone: a PyTorch export whose backbone the engine
// cannot compile splits into a backbone that onnxruntime runs and a head that
// the engine compiles.
func TestExtractUnsupportedBackbone(t *testing.T) {
	testenv.Missing(t, "onnxruntime shared library", ort.Init())
	cases := []struct {
		model, feature, op string
		head               []string
	}{
		{"lstm_head", "/Gather_output_0", "LSTM", []string{"fc.weight", "fc.bias"}},
		{"convt_head", "/Reshape_output_0", "ConvTranspose", []string{"fc.bias", "onnx::MatMul_19"}},
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			m := loadTestdata(t, c.model+".onnx")
			var unsupported *autodiff.UnsupportedOpError
			if _, err := autodiff.Compile(m, autodiff.Options{}); !errors.As(err, &unsupported) || unsupported.Op != c.op {
				t.Fatalf("Compile(%s) = %v, want unsupported %s (else this test proves nothing)", c.model, err, c.op)
			}
			x, want := readFixture(t, c.model)
			// The whole model in onnxruntime against PyTorch: float32 on both
			// sides, different kernels. The outputs are O(1) and each of the
			// few operators (at most 36-term sums, 5 LSTM steps) adds a few
			// float32 roundings of O(1) values, ≲ 1e-6 together; 1e-5 leaves
			// room for that and still fails any export or input mismatch.
			whole := runORT(t, m, x)[0]
			a, _ := whole.Float64s()
			d := ort.Compare(a, want)
			if d.MaxAbs > 1e-5 {
				t.Fatalf("onnxruntime differs from PyTorch by %+v", d)
			}
			t.Logf("onnxruntime vs PyTorch: max abs diff %.3g", d.MaxAbs)
			head, f := split(t, m, c.feature, x)
			checkEngineHead(t, head, f, c.head)
		})
	}
}

// readFixture reads x and PyTorch's logits from testdata/fixtures/NAME.npz.
func readFixture(t *testing.T, name string) (*onnxio.Tensor, []float64) {
	t.Helper()
	r, err := npz.Open(testenv.Testdata("fixtures/" + name + ".npz"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x := &onnxio.Tensor{Name: "x", Type: onnxio.Float}
	var logits []float32
	if err := r.Read("x.npy", &x.Float32); err != nil {
		t.Fatal(err)
	}
	if err := r.Read("logits.npy", &logits); err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Header("x.npy").Descr.Shape {
		x.Dims = append(x.Dims, int64(d))
	}
	want := make([]float64, len(logits))
	for i, v := range logits {
		want[i] = float64(v)
	}
	return x, want
}

func TestExtractErrors(t *testing.T) {
	mlp := loadTestdata(t, "mlp.onnx")
	lstm := loadTestdata(t, "lstm_head.onnx")
	cases := []struct {
		name            string
		m               *onnxio.Model
		inputs, outputs []string
		want            string
	}{
		{"needs the data input", mlp, []string{"/Relu_1_output_0"}, []string{"/Relu_output_0"},
			`output "/Relu_output_0" cannot be computed from the inputs: it needs graph input "x"`},
		{"no inputs", mlp, nil, []string{"logits"}, `output "logits" cannot be computed from the inputs: it needs graph input "x"`},
		{"unknown input", mlp, []string{"features"}, []string{"logits"}, `input "features" is not a tensor of the graph`},
		{"initializer as input", mlp, []string{"fc3.weight", "/Relu_1_output_0"}, []string{"logits"}, `input "fc3.weight" is an initializer`},
		{"unknown output", mlp, []string{"x"}, []string{"probs"}, `output "probs" is not a tensor of the graph`},
		{"empty output name", mlp, []string{"x"}, []string{""}, `output "" is not a tensor of the graph`},
		{"no outputs", mlp, []string{"x"}, nil, "no outputs"},
		{"input twice", mlp, []string{"x", "x"}, []string{"logits"}, `input "x" is listed twice`},
		{"output twice", mlp, []string{"x"}, []string{"logits", "logits"}, `output "logits" is listed twice`},
		{"input recomputed", lstm, []string{"x", "/lstm/LSTM_output_1"}, []string{"logits"},
			`input "/lstm/LSTM_output_1" is computed by node "/lstm/LSTM", which the outputs also need`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := c.m.Extract(c.inputs, c.outputs)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "onnxio: extract: ") {
				t.Fatalf("Extract = %v, %v; want an error containing %q", e, err, c.want)
			}
		})
	}
	undefined := onnxtest.New(8, 13).Input("x", onnxio.Float, -1, 2).
		Node("Add", []string{"x", "ghost"}, []string{"y"}).Output("y", onnxio.Float, -1, 2)
	m, err := onnxio.Decode(undefined.Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Extract([]string{"x"}, []string{"y"}); err == nil || !strings.Contains(err.Error(), `it needs "ghost", which nothing defines`) {
		t.Fatalf("Extract over an undefined name = %v", err)
	}
}

// TestExtractKeepsWhatItNeeds: types from value_info and initializers,
// outer-scope names of subgraphs, external data, model-local functions; and
// drops metadata and training information.
func TestExtractKeepsWhatItNeeds(t *testing.T) {
	then := onnxtest.New(8, 13).Node("Add", []string{"h", "bias"}, []string{"t"}).Output("t", onnxio.Float, -1, 3)
	els := onnxtest.New(8, 13).Node("Identity", []string{"h"}, []string{"e"}).Output("e", onnxio.Float, -1, 3)
	b := onnxtest.New(8, 13).Input("x", onnxio.Float, -1, 2).Input("c", onnxio.Bool).
		Float("w", []int64{3, 2}, []float32{1, 2, 3, 4, 5, 6}, onnxtest.External).
		Float("bias", []int64{3}, []float32{0.5, -1, 2}, onnxtest.External).
		Float("unused", []int64{1}, []float32{7}, onnxtest.External).
		Int64("shape", []int64{2}, []int64{-1, 3}, onnxtest.Raw).
		Node("Gemm", []string{"x", "w"}, []string{"h"}, onnxtest.Int("transB", 1)).
		Node("Reshape", []string{"h", "shape"}, []string{"hr"}).
		Node("Shape", []string{"hr"}, []string{"s"}).
		Node("If", []string{"c"}, []string{"logits"}, onnxtest.Graph("then_branch", then), onnxtest.Graph("else_branch", els)).
		ValueInfo("s", onnxio.Int64, 2).
		ValueInfo("h", onnxio.Float, -1, 3).
		Output("logits", onnxio.Float, -1, 3).
		Metadata("lethe.test", "dropped")
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	if err := b.Write(path); err != nil {
		t.Fatal(err)
	}
	m, err := onnxio.Load(path)
	if err != nil {
		t.Fatal(err)
	}

	// The If's branches read h and bias from the outer scope.
	e := extract(t, m, []string{"h", "c"}, []string{"logits"})
	if got, want := initNames(e), []string{"bias"}; !slices.Equal(got, want) {
		t.Fatalf("initializers %q, want %q", got, want)
	}
	if got := e.Graph().Inputs[0]; got.ElemType != onnxio.Float || !got.HasShape || len(got.Shape) != 2 || got.Shape[1].Value != 3 {
		t.Fatalf("input h %+v, want value_info's float [N, 3]", got)
	}
	if got := e.Graph().Initializer("bias"); !slices.Equal(got.Float32, []float32{0.5, -1, 2}) {
		t.Fatalf("external initializer bias = %v", got.Float32)
	}
	testenv.Missing(t, "onnxruntime shared library", ort.Init())
	h := &onnxio.Tensor{Name: "h", Type: onnxio.Float, Dims: []int64{2, 3}, Float32: []float32{1, 2, 3, 4, 5, 6}}
	c := &onnxio.Tensor{Name: "c", Type: onnxio.Bool, Int64: []int64{1}}
	if got := runORT(t, e, h, c)[0]; !slices.Equal(got.Float32, []float32{1.5, 1, 5, 4.5, 4, 8}) {
		t.Fatalf("onnxruntime runs the extracted If to %v, want h + bias", got.Float32)
	}
	if len(e.Metadata()) != 0 {
		t.Fatalf("metadata %v, want none", e.Metadata())
	}
	// Saved next to the original, the external data goes to a new file; the
	// original's data file is never written.
	if err := e.Save(path + ".data"); !errors.Is(err, onnxio.ErrOverwriteInput) {
		t.Fatalf("Save over the data file read = %v, want ErrOverwriteInput", err)
	}
	if err := e.Save(filepath.Join(dir, "head.onnx")); err != nil {
		t.Fatal(err)
	}
	saved, err := onnxio.Load(filepath.Join(dir, "head.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if got := saved.Graph().Initializer("bias"); !slices.Equal(got.Float32, []float32{0.5, -1, 2}) {
		t.Fatalf("saved bias = %v", got.Float32)
	}

	// An int64 tensor described by value_info keeps its type; the value_info
	// of h, computed inside, is kept, the one of s, not computed, is not.
	e = extract(t, m, []string{"x"}, []string{"s", "h"})
	if got := e.Graph().Outputs[0]; got.ElemType != onnxio.Int64 || len(got.Shape) != 1 {
		t.Fatalf("output s %+v, want int64 [2]", got)
	}
	if got, want := initNames(e), []string{"w", "shape"}; !slices.Equal(got, want) {
		t.Fatalf("initializers %q, want %q", got, want)
	}
	e = extract(t, m, []string{"x"}, []string{"hr"})
	if vi := e.Graph().ValueInfo; len(vi) != 1 || vi[0].Name != "h" {
		t.Fatalf("value_info %+v, want h's only", vi)
	}
	// An initializer as output takes its type and dims from the initializer.
	e = extract(t, m, nil, []string{"w"})
	if got := e.Graph().Outputs[0]; got.ElemType != onnxio.Float || len(got.Shape) != 2 || got.Shape[0].Value != 3 || got.Shape[1].Value != 2 {
		t.Fatalf("output w %+v, want float [3, 2]", got)
	}
}

// TestExtractModelFields: model-local functions (an unknown field to onnxio)
// are kept, training information and metadata are dropped.
func TestExtractModelFields(t *testing.T) {
	raw := onnxtest.MLP(3, onnxtest.Raw, 4, 3).Metadata("k", "v").Bytes()
	function := protowire.AppendTag(nil, 1, protowire.BytesType) // FunctionProto.name
	function = protowire.AppendString(function, "local_fn")
	raw = protowire.AppendTag(raw, 25, protowire.BytesType) // ModelProto.functions
	raw = protowire.AppendBytes(raw, function)
	raw = protowire.AppendTag(raw, 20, protowire.BytesType) // ModelProto.training_info
	raw = protowire.AppendBytes(raw, nil)
	m, err := onnxio.Decode(raw, onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := extract(t, m, []string{"x"}, []string{"logits"})
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	fields := map[protowire.Number][]byte{}
	for len(b) > 0 {
		num, _, n := protowire.ConsumeField(b)
		if n < 0 {
			t.Fatal("encoded model does not parse")
		}
		fields[num] = b[:n]
		b = b[n:]
	}
	if _, ok := fields[25]; !ok || !strings.Contains(string(fields[25]), "local_fn") {
		t.Error("model-local function dropped")
	}
	for num, what := range map[protowire.Number]string{20: "training_info", 14: "metadata_props"} {
		if _, ok := fields[num]; ok {
			t.Errorf("%s kept", what)
		}
	}
	if got, want := nodeNames(e), nodeNames(m); !slices.Equal(got, want) {
		t.Errorf("nodes %q, want %q", got, want)
	}
}

func TestExtractIRVersion3ListsInitializersAsInputs(t *testing.T) {
	b := onnxtest.New(3, 8).Input("x", onnxio.Float, -1, 2).Input("w1", onnxio.Float, 2, 2).Input("w2", onnxio.Float, 2, 2).
		Float("w1", []int64{2, 2}, []float32{1, 2, 3, 4}, onnxtest.Raw).
		Float("w2", []int64{2, 2}, []float32{5, 6, 7, 8}, onnxtest.Raw).
		Node("MatMul", []string{"x", "w1"}, []string{"h"}).
		Node("MatMul", []string{"h", "w2"}, []string{"y"}).
		Output("y", onnxio.Float, -1, 2)
	m, err := onnxio.Decode(b.Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := extract(t, m, []string{"h"}, []string{"y"})
	got := names(e.Graph().Inputs, func(v onnxio.ValueInfo) string { return v.Name })
	if want := []string{"h", "w2"}; !slices.Equal(got, want) {
		t.Fatalf("inputs %q, want %q", got, want)
	}
	if data := e.Graph().DataInputs(); len(data) != 1 || data[0].Name != "h" {
		t.Fatalf("data inputs %+v, want h only", data)
	}
}
