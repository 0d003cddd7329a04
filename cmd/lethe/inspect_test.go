package main

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// paramsFixture is testdata/models/NAME.params.json: the parameter list the
// PyTorch exporter script computed (DESIGN.md §2 order).
type paramsFixture struct {
	Total  int `json:"total"`
	Params []struct {
		Name   string  `json:"name"`
		Shape  []int64 `json:"shape"`
		Offset int     `json:"offset"`
		Size   int     `json:"size"`
	} `json:"params"`
}

// TestInspectFixtures checks `inspect --json` on every exported model against
// the exporter's parameter list, input shape and operator histogram, and the
// norm against the initializer values.
func TestInspectFixtures(t *testing.T) {
	wantOps := map[string]map[string]int{
		"mlp":    {"Gemm": 3, "Relu": 2},
		"cnn_bn": {"Conv": 2, "Relu": 2, "BatchNormalization": 2, "MaxPool": 1, "AveragePool": 1, "Flatten": 1, "Gemm": 1},
	}
	wantInput := map[string][]any{
		"mlp":    {"N", 784.0},
		"cnn_bn": {"N", 1.0, 28.0, 28.0},
	}
	for _, name := range []string{"mlp", "logreg", "cnn_bn", "cnn_folded", "resblock", "transformer"} {
		t.Run(name, func(t *testing.T) {
			model := fixture(t, "models/"+name+".onnx")
			var want paramsFixture
			b, err := os.ReadFile(fixture(t, "models/"+name+".params.json"))
			if err == nil {
				err = json.Unmarshal(b, &want)
			}
			if err != nil {
				t.Fatal(err)
			}
			code, out, errs := cli(t, "inspect", "--json", model)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var r lethe.InspectReport
			decodeJSON(t, out, &r)
			if len(r.Params) != len(want.Params) || r.ParamCount != want.Total {
				t.Fatalf("%d params, %d values; want %d, %d", len(r.Params), r.ParamCount, len(want.Params), want.Total)
			}
			m, err := onnxio.Load(model)
			if err != nil {
				t.Fatal(err)
			}
			var ss float64
			for i, p := range r.Params {
				w := want.Params[i]
				if p.Name != w.Name || !slices.Equal(p.Shape, w.Shape) || p.Offset != w.Offset || p.Size != w.Size || p.Type != "float32" {
					t.Errorf("param %d: %+v, want %+v", i, p, w)
				}
				v, _ := m.Graph().Initializer(w.Name).Float64s()
				for _, x := range v {
					ss += x * x
				}
			}
			// The same float64 sum in a different order: a few ulps.
			if math.Abs(r.ParamNorm-math.Sqrt(ss)) > 1e-12*math.Sqrt(ss) {
				t.Errorf("norm %v, want %v", r.ParamNorm, math.Sqrt(ss))
			}
			if ops, ok := wantOps[name]; ok && !mapsEqual(r.Ops, ops) {
				t.Errorf("ops %v, want %v", r.Ops, ops)
			}
			if in, ok := wantInput[name]; ok && (len(r.Inputs) != 1 || r.Inputs[0].Name != "x" || r.Inputs[0].Type != "float32" || !slices.Equal(r.Inputs[0].Shape, in)) {
				t.Errorf("inputs %+v, want x float32 %v", r.Inputs, in)
			}
			if r.Supported == nil || !*r.Supported || len(r.Unsupported) != 0 || r.EngineError != "" || r.IRVersion < 3 || len(r.Opsets) == 0 || r.Producer != "pytorch" {
				t.Errorf("header: supported %v, IR %d, opsets %v, producer %q", r.Supported, r.IRVersion, r.Opsets, r.Producer)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestInspectHuman checks the human report of the MLP.
func TestInspectHuman(t *testing.T) {
	code, out, errs := cli(t, "inspect", fixture(t, "models/mlp.onnx"))
	if code != exitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, want := range []string{"opsets", "ai.onnx 13", "x", "float32 [N, 784]", "logits", "Gemm 3, Relu 2",
		"every node is supported by the native engine", "6 tensors, 26506 values", "fc1.weight", "[32 784]", "25088", "fc3.bias", "26496"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestInspectFreeze checks --freeze, including a pattern that matches nothing.
func TestInspectFreeze(t *testing.T) {
	model := fixture(t, "models/mlp.onnx")
	code, out, _ := cli(t, "inspect", "--json", "--freeze", "fc1.*", "--freeze", "fc2.weight", model)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var r lethe.InspectReport
	decodeJSON(t, out, &r)
	var names []string
	for _, p := range r.Params {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"fc2.bias", "fc3.weight", "fc3.bias"}) || r.Params[0].Offset != 0 || r.ParamCount != 32+320+10 {
		t.Errorf("params %v (count %d)", names, r.ParamCount)
	}
	code, out, errs := cli(t, "inspect", "--freeze", "conv*", model)
	if code != exitUsage || out != "" || !strings.Contains(errs, `"conv*" matches no initializer`) || !strings.Contains(errs, "mlp.onnx") {
		t.Errorf("unmatched pattern: exit %d, stderr %q", code, errs)
	}
}

// TestInspectSupportHook checks that the engine's support check, once wired
// into nodeSupport, is reported per node.
func TestInspectSupportHook(t *testing.T) {
	defer func(f func(onnxio.Node) error) { nodeSupport = f }(nodeSupport)
	nodeSupport = func(n onnxio.Node) error {
		if n.OpType == "Relu" {
			return errors.New("no rule for Relu")
		}
		return nil
	}
	model := fixture(t, "models/mlp.onnx")
	code, out, _ := cli(t, "inspect", "--json", model)
	var r lethe.InspectReport
	decodeJSON(t, out, &r)
	if code != exitOK || r.Supported == nil || *r.Supported || len(r.Unsupported) != 2 || r.Unsupported[0].Op != "Relu" ||
		r.Unsupported[0].Reason != "no rule for Relu" || r.Unsupported[0].Opset != 13 {
		t.Errorf("exit %d, supported %v, unsupported %+v", code, r.Supported, r.Unsupported)
	}
	_, out, _ = cli(t, "inspect", model)
	if !strings.Contains(out, "not supported by the native engine: 2 nodes") || !strings.Contains(out, "no rule for Relu") {
		t.Errorf("human report:\n%s", out)
	}
	nodeSupport = func(onnxio.Node) error { return nil }
	_, out, _ = cli(t, "inspect", model)
	if !strings.Contains(out, "every node is supported") {
		t.Errorf("human report:\n%s", out)
	}
}

// unsupportedModel writes a model with a node the native engine does not
// implement (Hardmax after a MatMul) into dir and returns its path.
func unsupportedModel(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "hardmax.onnx")
	b := onnxtest.New(8, 13).Input("x", onnxio.Float, -1, 784).
		Float("w", []int64{784, 10}, make([]float32, 7840), onnxtest.Raw).
		Node("MatMul", []string{"x", "w"}, []string{"h"}).
		Node("Hardmax", []string{"h"}, []string{"logits"}, onnxtest.Int("axis", 1)).
		Output("logits", onnxio.Float, -1, 10)
	if err := b.Write(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInspectUnsupported checks the engine's own support check on a model
// with an operator it does not implement: inspect still exits 0, and names
// the node, its operator and opset, and the reason.
func TestInspectUnsupported(t *testing.T) {
	model := unsupportedModel(t, t.TempDir())
	code, out, errs := cli(t, "inspect", "--json", model)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r lethe.InspectReport
	decodeJSON(t, out, &r)
	if r.Supported == nil || *r.Supported || len(r.Unsupported) != 1 {
		t.Fatalf("supported %v, unsupported %+v", r.Supported, r.Unsupported)
	}
	u := r.Unsupported[0]
	if u.Node != "Hardmax_1" || u.Op != "Hardmax" || u.Opset != 13 || !strings.Contains(u.Reason, "does not implement") {
		t.Errorf("unsupported %+v", u)
	}
	code, out, _ = cli(t, "inspect", model)
	for _, want := range []string{"not supported by the native engine: 1 node", "Hardmax_1 (Hardmax, opset 13)", "does not implement"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("exit %d, report lacks %q:\n%s", code, want, out)
		}
	}
}
