package onnxio_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// expectedParams is testdata/models/NAME.params.json, written by
// testdata/gen_fixtures.py from the PyTorch export with its own implementation
// of the DESIGN.md §2 rule.
type expectedParams struct {
	Total  int
	Params []struct {
		Name   string
		Shape  []int64
		Offset int
		Size   int
	}
}

// TestParamsMatchPyTorchFixtures checks Params against the parameter lists of
// every exported fixture model.
func TestParamsMatchPyTorchFixtures(t *testing.T) {
	files, err := filepath.Glob(testenv.Testdata("models/*.params.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/models/*.params.json fixtures (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var want expectedParams
			b, err := os.ReadFile(f)
			if err == nil {
				err = json.Unmarshal(b, &want)
			}
			if err != nil {
				t.Fatal(err)
			}
			m, err := onnxio.Load(strings.TrimSuffix(f, ".params.json") + ".onnx")
			if err != nil {
				t.Fatal(err)
			}
			ps, err := m.Params(onnxio.ParamOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != len(want.Params) {
				t.Fatalf("got %d parameters, want %d", len(ps), len(want.Params))
			}
			for i, p := range ps {
				w := want.Params[i]
				if p.Name != w.Name || !slices.Equal(p.Shape, w.Shape) || p.Offset != w.Offset || p.Size != w.Size {
					t.Errorf("param %d: got %s %v offset %d size %d, want %s %v offset %d size %d",
						i, p.Name, p.Shape, p.Offset, p.Size, w.Name, w.Shape, w.Offset, w.Size)
				}
			}
			last := ps[len(ps)-1]
			if last.Offset+last.Size != want.Total {
				t.Errorf("total %d, want %d", last.Offset+last.Size, want.Total)
			}
		})
	}
}

func paramNames(ps []onnxio.Param) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

// ruleModel exercises every exclusion rule of Params.
func ruleModel() *onnxtest.Builder {
	zeros := func(n int) []float32 { return make([]float32, n) }
	return onnxtest.New(8, 13).
		Input("x", onnxio.Float, 2, 4).
		Float("w", []int64{4, 4}, zeros(16), onnxtest.Raw).
		Int64("shape", []int64{2}, []int64{2, 4}, onnxtest.Raw).
		Float("pow_exp", nil, zeros(1), onnxtest.Raw).
		Float("clip_lo", nil, zeros(1), onnxtest.Typed).
		Float("both", nil, zeros(1), onnxtest.Raw). // Clip bound and Mul operand
		Float("alias_src", []int64{4}, zeros(4), onnxtest.Raw).
		Float("dead", []int64{3}, zeros(3), onnxtest.Raw).
		Float("pad_value", nil, zeros(1), onnxtest.Raw).
		Float("bn_scale", []int64{4}, zeros(4), onnxtest.Raw).
		Float("bn_b", []int64{4}, zeros(4), onnxtest.Raw).
		Float("bn_mean", []int64{4}, zeros(4), onnxtest.Raw).
		Float("bn_var", []int64{4}, zeros(4), onnxtest.Raw).
		Float("mean_via_identity", []int64{4}, zeros(4), onnxtest.Raw).
		Float("also_output", []int64{2}, zeros(2), onnxtest.Typed).
		Int64("pads", []int64{4}, []int64{0, 0, 0, 0}, onnxtest.Raw).
		Node("Identity", []string{"alias_src"}, []string{"alias"}).
		Node("Identity", []string{"mean_via_identity"}, []string{"mean1"}).
		Node("Identity", []string{"mean1"}, []string{"mean2"}).
		Node("MatMul", []string{"x", "w"}, []string{"a"}).
		Node("Reshape", []string{"a", "shape"}, []string{"b"}).
		Node("Pow", []string{"b", "pow_exp"}, []string{"c"}).
		Node("Clip", []string{"c", "clip_lo", "both"}, []string{"d"}).
		Node("Mul", []string{"d", "both"}, []string{"e"}).
		Node("Add", []string{"e", "alias"}, []string{"f"}).
		Node("Pad", []string{"f", "pads", "pad_value"}, []string{"g"}).
		Node("BatchNormalization", []string{"g", "bn_scale", "bn_b", "bn_mean", "bn_var"}, []string{"h"}).
		Node("BatchNormalization", []string{"h", "bn_scale", "bn_b", "mean2", "bn_var"}, []string{"y"}).
		Output("y", onnxio.Float, 2, 4).
		Output("also_output", onnxio.Float, 2)
}

// TestParamsRules checks which initializers are parameters on a graph that
// uses every rule.
func TestParamsRules(t *testing.T) {
	m, err := onnxio.Decode(ruleModel().Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := m.Params(onnxio.ParamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"w", "both", "alias_src", "bn_scale", "bn_b", "also_output"}
	if got := paramNames(ps); !slices.Equal(got, want) {
		t.Errorf("params %v, want %v", got, want)
	}
	wantOffsets := []int{0, 16, 17, 21, 25, 29}
	for i, p := range ps {
		if p.Offset != wantOffsets[i] {
			t.Errorf("%s: offset %d, want %d", p.Name, p.Offset, wantOffsets[i])
		}
	}
}

// TestParamsFreeze checks Freeze globs, including their errors.
func TestParamsFreeze(t *testing.T) {
	m, err := onnxio.Decode(onnxtest.MLP(1, onnxtest.Raw, 4, 3, 2).Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := m.Params(onnxio.ParamOptions{Freeze: []string{"fc1.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paramNames(ps), []string{"fc2.weight", "fc2.bias"}; !slices.Equal(got, want) {
		t.Errorf("params %v, want %v", got, want)
	}
	if ps[0].Offset != 0 || ps[1].Offset != 6 || ps[1].Size != 2 {
		t.Errorf("offsets not recomputed after freezing: %+v", ps)
	}
	if _, err := m.Params(onnxio.ParamOptions{Freeze: []string{"fc9.*"}}); err == nil || !strings.Contains(err.Error(), "matches no initializer") {
		t.Errorf("unmatched pattern: got %v", err)
	}
	if _, err := m.Params(onnxio.ParamOptions{Freeze: []string{"fc1["}}); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("bad pattern: got %v", err)
	}
}

// TestParamsSubgraphUse checks that an initializer used only inside an If
// branch (from the enclosing scope) is a parameter, while a name the branch
// defines itself does not leak out.
func TestParamsSubgraphUse(t *testing.T) {
	b := onnxtest.New(8, 13).Input("cond", onnxio.Bool).
		Float("outer_w", []int64{1}, []float32{2}, onnxtest.Raw).
		Float("shadowed", []int64{1}, []float32{3}, onnxtest.Raw).
		Output("y", onnxio.Float, 1)
	m, err := onnxio.Decode(b.Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pb := onnxio.ProtoOf(m)
	branch := func(name string) *onnxpb.GraphProto {
		return &onnxpb.GraphProto{
			Name:        proto.String(name),
			Initializer: []*onnxpb.TensorProto{{Name: proto.String("shadowed"), DataType: proto.Int32(1), Dims: []int64{1}, FloatData: []float32{1}}},
			Node:        []*onnxpb.NodeProto{{OpType: proto.String("Add"), Input: []string{"outer_w", "shadowed"}, Output: []string{"r"}}},
			Output:      []*onnxpb.ValueInfoProto{{Name: proto.String("r")}},
		}
	}
	pb.Graph.Node = []*onnxpb.NodeProto{{OpType: proto.String("If"), Input: []string{"cond"}, Output: []string{"y"},
		Attribute: []*onnxpb.AttributeProto{
			{Name: proto.String("then_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: branch("then")},
			{Name: proto.String("else_branch"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: branch("else")},
		}}}
	data, err := proto.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	m, err = onnxio.Decode(data, onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := m.Params(onnxio.ParamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paramNames(ps), []string{"outer_w"}; !slices.Equal(got, want) {
		t.Errorf("params %v, want %v", got, want)
	}
}

// TestParamsFloat16NeedsFreezing checks that a float16 weight is refused with
// advice, and accepted once frozen.
func TestParamsFloat16NeedsFreezing(t *testing.T) {
	b := onnxtest.New(8, 13).Input("x", onnxio.Float, 1).
		Float("w", []int64{1}, []float32{1}, onnxtest.Raw).
		Output("y", onnxio.Float, 1).
		Node("Mul", []string{"x", "w"}, []string{"y"})
	m, err := onnxio.Decode(b.Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pb := onnxio.ProtoOf(m)
	pb.Graph.Initializer = append(pb.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("h"),
		DataType: proto.Int32(int32(onnxio.Float16)), Dims: []int64{1}, RawData: []byte{0, 0x3c}})
	pb.Graph.Node = append(pb.Graph.Node, &onnxpb.NodeProto{OpType: proto.String("Mul"), Input: []string{"y", "h"}, Output: []string{"z"}})
	data, _ := proto.Marshal(pb)
	if m, err = onnxio.Decode(data, onnxio.DecodeOptions{}); err != nil {
		t.Fatal(err)
	}
	if v, err := m.Graph().Initializer("h").Float64s(); err != nil || v[0] != 1 {
		t.Errorf("float16 0x3c00 decodes to %v (%v), want 1", v, err)
	}
	if _, err := m.Params(onnxio.ParamOptions{}); err == nil || !strings.Contains(err.Error(), "float16") {
		t.Errorf("got %v, want an error about float16", err)
	}
	ps, err := m.Params(onnxio.ParamOptions{Freeze: []string{"h"}})
	if err != nil || !slices.Equal(paramNames(ps), []string{"w"}) {
		t.Errorf("with h frozen: %v, %v", paramNames(ps), err)
	}
}
