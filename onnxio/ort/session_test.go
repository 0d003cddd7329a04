package ort_test

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// TestSessionFromBytes runs a model with external data from its Encode bytes
// (which inline the data) and from the file, with every option set.
func TestSessionFromBytes(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	if err := onnxtest.MLP(2, onnxtest.External, 4, 3).Write(path); err != nil {
		t.Fatal(err)
	}
	m, err := onnxio.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	opts := ort.Options{IntraOpThreads: 1, InterOpThreads: 1, DisableOptimizations: true}
	fromBytes, err := ort.NewSessionFromBytes(data, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fromBytes.Close()
	fromFile, err := ort.NewSession(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer fromFile.Close()
	in := fromFile.Inputs()
	if len(in) != 1 || in[0].Name != "x" || in[0].Type != onnxio.Float || len(in[0].Shape) != 2 || in[0].Shape[0] != -1 || in[0].Shape[1] != 4 {
		t.Errorf("inputs %+v", in)
	}
	if out := fromFile.Outputs(); len(out) != 1 || out[0].Name != "logits" {
		t.Errorf("outputs %+v", out)
	}
	x := randomInput(rand.New(rand.NewPCG(5, 6)), 5, 4)
	a, err := fromBytes.Run([]*onnxio.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	b, err := fromFile.Run([]*onnxio.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(a[0], b[0]) || a[0].Name != "logits" {
		t.Errorf("bytes and file sessions differ: %v vs %v", a[0], b[0])
	}
}

// TestRunErrors checks that misuse and unsupported values are errors, not
// crashes, and that Close may be called twice.
func TestRunErrors(t *testing.T) {
	requireORT(t)
	s, err := ort.NewSessionFromBytes(onnxtest.MLP(2, onnxtest.Raw, 4, 3).Bytes(), ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := randomInput(rand.New(rand.NewPCG(1, 1)), 2, 4)
	for _, tc := range []struct {
		name string
		in   []*onnxio.Tensor
		want string
	}{
		{"no inputs", nil, "takes 1 inputs, got 0"},
		{"wrong type", []*onnxio.Tensor{{Type: onnxio.Double, Dims: []int64{2, 4}, Float64: make([]float64, 8)}}, "is float64, the model wants float32"},
		{"too few values", []*onnxio.Tensor{{Type: onnxio.Float, Dims: []int64{2, 4}, Float32: make([]float32, 7)}}, "7 values for dims [2 4]"},
		{"wrong width", []*onnxio.Tensor{{Type: onnxio.Float, Dims: []int64{2, 5}, Float32: make([]float32, 10)}}, "run:"},
	} {
		if _, err := s.Run(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "ort: ") {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := s.Run([]*onnxio.Tensor{x}); err != nil {
		t.Errorf("a good run after failed ones: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := ort.NewSessionFromBytes([]byte("not onnx"), ort.Options{}); err == nil {
		t.Error("a session from garbage bytes")
	}
}

// TestRunTypes runs Identity/Cast models over every supported element type
// (and a scalar) and checks the values come back unchanged.
func TestRunTypes(t *testing.T) {
	requireORT(t)
	cases := []*onnxio.Tensor{
		{Type: onnxio.Float, Dims: []int64{2}, Float32: []float32{1.5, -2}},
		{Type: onnxio.Double, Dims: []int64{2}, Float64: []float64{1.5, -2}},
		{Type: onnxio.Int64, Dims: []int64{2}, Int64: []int64{1 << 40, -3}},
		{Type: onnxio.Int32, Dims: []int64{2}, Int64: []int64{1 << 30, -3}},
		{Type: onnxio.Int8, Dims: []int64{2}, Int64: []int64{-128, 127}},
		{Type: onnxio.Uint8, Dims: []int64{2}, Int64: []int64{0, 255}},
		{Type: onnxio.Uint16, Dims: []int64{1}, Int64: []int64{65535}},
		{Type: onnxio.Uint64, Dims: []int64{1}, Uint64: []uint64{1 << 63}},
		{Type: onnxio.Bool, Dims: []int64{3}, Int64: []int64{1, 0, 1}},
		{Type: onnxio.Float, Dims: nil, Float32: []float32{7}},          // scalar
		{Type: onnxio.Float, Dims: []int64{0, 3}, Float32: []float32{}}, // empty
	}
	for _, in := range cases {
		b := onnxtest.New(8, 13).Input("x", in.Type, in.Dims...).Node("Identity", []string{"x"}, []string{"y"}).Output("y", in.Type, in.Dims...)
		s, err := ort.NewSessionFromBytes(b.Bytes(), ort.Options{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.Run([]*onnxio.Tensor{in})
		s.Close()
		if err != nil {
			t.Errorf("%s %v: %v", in.Type, in.Dims, err)
			continue
		}
		if got := out[0]; got.Type != in.Type || len(got.Dims) != len(in.Dims) || !sameBits(&onnxio.Tensor{Type: got.Type, Dims: in.Dims, Float32: got.Float32, Float64: got.Float64, Int64: got.Int64, Uint64: got.Uint64}, in) {
			t.Errorf("%s %v: got %+v", in.Type, in.Dims, got)
		}
	}
	s, err := ort.NewSessionFromBytes(onnxtest.New(8, 13).Input("x", onnxio.String, 1).Node("Identity", []string{"x"}, []string{"y"}).Output("y", onnxio.String, 1).Bytes(), ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Run([]*onnxio.Tensor{{Type: onnxio.String, Dims: []int64{1}, Strings: [][]byte{[]byte("a")}}}); err == nil || !strings.Contains(err.Error(), "string tensors are not supported") {
		t.Errorf("string input: got %v", err)
	}
}

// TestUndeclaredRank runs a model whose input and output declare no shape:
// onnxruntime reports them with no dimensions, like scalars, and Run must
// still return the real output shape.
func TestUndeclaredRank(t *testing.T) {
	requireORT(t)
	vi := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxio.Float))}}}}
	}
	data, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(13)}},
		Graph: &onnxpb.GraphProto{Name: proto.String("g"), Input: []*onnxpb.ValueInfoProto{vi("x")}, Output: []*onnxpb.ValueInfoProto{vi("y")},
			Node: []*onnxpb.NodeProto{{OpType: proto.String("Identity"), Input: []string{"x"}, Output: []string{"y"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSessionFromBytes(data, ort.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Outputs()[0].Shape != nil {
		t.Errorf("output shape %v, want nil (undeclared)", s.Outputs()[0].Shape)
	}
	in := &onnxio.Tensor{Type: onnxio.Float, Dims: []int64{2}, Float32: []float32{1, 2}}
	out, err := s.Run([]*onnxio.Tensor{in})
	if err != nil || !sameBits(out[0], &onnxio.Tensor{Name: "y", Type: onnxio.Float, Dims: []int64{2}, Float32: []float32{1, 2}}) {
		t.Errorf("got %+v, %v", out, err)
	}
}
