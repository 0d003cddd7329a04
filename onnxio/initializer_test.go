package onnxio_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

var encodings = []struct {
	name string
	enc  onnxtest.Encoding
}{{"raw", onnxtest.Raw}, {"typed", onnxtest.Typed}, {"external", onnxtest.External}}

// perturbed returns v with every element moved by a distinct small amount, so
// that a value written to the wrong place would be noticed.
func perturbed(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x + 1e-3*float64(i+1)
	}
	return out
}

// TestSetParamVectorRoundTrip replaces every parameter, saves, reloads and
// checks that the values read back exactly and are stored the way the
// original stored them.
func TestSetParamVectorRoundTrip(t *testing.T) {
	for _, e := range encodings {
		t.Run(e.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in.onnx")
			if err := onnxtest.MLP(3, e.enc, 5, 4, 3).Write(in); err != nil {
				t.Fatal(err)
			}
			var inData []byte
			if e.enc == onnxtest.External {
				inData, _ = os.ReadFile(in + ".data")
			}
			m, err := onnxio.Load(in)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := m.Params(onnxio.ParamOptions{})
			if err != nil {
				t.Fatal(err)
			}
			w, err := m.ParamVector(ps)
			if err != nil {
				t.Fatal(err)
			}
			old := m.Graph()
			oldW1 := slices.Clone(old.Initializer("fc1.weight").Float32)
			w2 := perturbed(w)
			if err := m.SetParamVector(ps, w2); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(old.Initializer("fc1.weight").Float32, oldW1) {
				t.Error("SetParamVector changed a Graph snapshot obtained before it")
			}
			out := filepath.Join(dir, "out.onnx")
			if err := m.Save(out); err != nil {
				t.Fatal(err)
			}
			m2, err := onnxio.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m2.ParamVector(ps)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != float64(float32(w2[i])) {
					t.Fatalf("param %d reads back %v, want float32(%v)", i, got[i], w2[i])
				}
			}
			for _, tp := range onnxio.ProtoOf(m2).Graph.Initializer {
				var stored onnxtest.Encoding
				switch {
				case tp.GetDataLocation() == 1:
					stored = onnxtest.External
				case tp.RawData != nil:
					stored = onnxtest.Raw
				default:
					stored = onnxtest.Typed
				}
				if stored != e.enc {
					t.Errorf("%s is stored as %d, want %d", tp.GetName(), stored, e.enc)
				}
			}
			if e.enc == onnxtest.External {
				if now, _ := os.ReadFile(in + ".data"); !bytes.Equal(now, inData) {
					t.Error("the input's external data file changed")
				}
				if _, err := os.Stat(out + ".data"); err != nil {
					t.Errorf("no external data file next to the output: %v", err)
				}
				if files := m2.Files(); len(files) != 2 || !strings.HasSuffix(files[1], "out.onnx.data") {
					t.Errorf("the saved model reads %v, want out.onnx and out.onnx.data", files)
				}
			}
		})
	}
}

// TestSetInitializerErrors checks the refusals of SetInitializer.
func TestSetInitializerErrors(t *testing.T) {
	b := onnxtest.New(8, 13).
		Float("w", []int64{2}, []float32{1, 2}, onnxtest.Raw).
		Double("d", []int64{2}, []float64{1, 2}, onnxtest.Raw).
		Int64("i", []int64{2}, []int64{1, 2}, onnxtest.Raw)
	m, err := onnxio.Decode(b.Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		values []float32
		want   string
	}{
		{"w", []float32{1}, "2 elements"},
		{"d", []float32{1, 2}, "float64"},
		{"i", []float32{1, 2}, "int64"},
		{"nope", []float32{1}, "no initializer"},
	} {
		if err := m.SetInitializer(tc.name, tc.values); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetInitializer(%q): got %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
	if err := m.SetInitializer("w", []float32{5, 6}); err != nil {
		t.Fatal(err)
	}
	if got := m.Graph().Initializer("w").Float32; !slices.Equal(got, []float32{5, 6}) {
		t.Errorf("w = %v after SetInitializer", got)
	}
}

// TestDoubleParams checks that float64 initializers are parameters and are
// written back exactly.
func TestDoubleParams(t *testing.T) {
	b := onnxtest.New(8, 13).Input("x", onnxio.Double, 2).
		Double("w", []int64{2}, []float64{1, 2}, onnxtest.Typed).
		Node("Mul", []string{"x", "w"}, []string{"y"}).Output("y", onnxio.Double, 2)
	m, err := onnxio.Decode(b.Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := m.Params(onnxio.ParamOptions{})
	if err != nil || len(ps) != 1 || ps[0].Type != onnxio.Double {
		t.Fatalf("params %+v, %v", ps, err)
	}
	w := []float64{math.Pi, -math.E} // not representable in float32
	if err := m.SetParamVector(ps, w); err != nil {
		t.Fatal(err)
	}
	got, err := m.ParamVector(ps)
	if err != nil || !slices.Equal(got, w) {
		t.Errorf("ParamVector = %v (%v), want %v", got, err, w)
	}
	if err := m.SetParamVector(ps, w[:1]); err == nil {
		t.Error("SetParamVector accepted a vector of the wrong length")
	}
}

// TestSaveRefusesInputs checks that Save never writes over a file the model
// was read from, and leaves nothing behind when the folder does not exist.
func TestSaveRefusesInputs(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.onnx")
	b := onnxtest.MLP(1, onnxtest.External, 3, 2)
	b.ExternalLocation = "w.data"
	if err := b.Write(in); err != nil {
		t.Fatal(err)
	}
	m, err := onnxio.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(in)
	link := filepath.Join(dir, "link.onnx")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	// Saving to "w" would write its external data to w.data, the input's.
	for _, out := range []string{in, link, filepath.Join(dir, "w.data"), filepath.Join(dir, "w")} {
		if err := m.Save(out); !errors.Is(err, onnxio.ErrOverwriteInput) {
			t.Errorf("Save(%s): got %v, want ErrOverwriteInput", out, err)
		}
	}
	if after, _ := os.ReadFile(in); !bytes.Equal(before, after) {
		t.Error("the input model changed")
	}
	if err := m.Save(filepath.Join(dir, "no", "such", "dir.onnx")); err == nil {
		t.Error("Save into a missing folder succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 { // in.onnx, w.data, link.onnx
		t.Errorf("the folder holds %d entries after refused saves, want 3", len(entries))
	}
}

// TestEncodeInlinesExternalData checks that Encode is deterministic and
// self-contained.
func TestEncodeInlinesExternalData(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.onnx")
	if err := onnxtest.MLP(1, onnxtest.External, 3, 2).Write(in); err != nil {
		t.Fatal(err)
	}
	m, err := onnxio.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.Clone().Encode()
	if !bytes.Equal(a, b) {
		t.Error("Encode is not deterministic across a Clone")
	}
	m2, err := onnxio.Decode(a, onnxio.DecodeOptions{}) // no folder: must not need one
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m2.Graph().Initializer("fc1.weight").Float32, m.Graph().Initializer("fc1.weight").Float32) {
		t.Error("inlined values differ")
	}
}

// TestCloneIsIndependent checks that changing a clone leaves the original.
func TestCloneIsIndependent(t *testing.T) {
	m, err := onnxio.Decode(onnxtest.MLP(1, onnxtest.Raw, 3, 2).Metadata("k", "v").Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := m.Clone()
	if err := c.SetInitializer("fc1.bias", []float32{9, 9}); err != nil {
		t.Fatal(err)
	}
	c.SetMetadata("k", "changed")
	c.SetMetadata("new", "x")
	if slices.Equal(m.Graph().Initializer("fc1.bias").Float32, []float32{9, 9}) {
		t.Error("the original's initializer changed")
	}
	if md := m.Metadata(); md["k"] != "v" || len(md) != 1 {
		t.Errorf("the original's metadata changed: %v", md)
	}
	if md := c.Metadata(); md["k"] != "changed" || md["new"] != "x" {
		t.Errorf("clone metadata %v", md)
	}
}

// TestAccessors checks the model-level accessors on a known model.
func TestAccessors(t *testing.T) {
	m, err := onnxio.Decode(onnxtest.MLP(1, onnxtest.Raw, 3, 2).Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.IRVersion() != 8 || m.Opset("") != 13 || m.Opset("ai.onnx") != 13 || m.Opset("com.microsoft") != 0 {
		t.Errorf("IR %d, opsets %v", m.IRVersion(), m.Opsets())
	}
	if m.ProducerName() != "lethe-onnxtest" || m.Path() != "" {
		t.Errorf("producer %q path %q", m.ProducerName(), m.Path())
	}
	g := m.Graph()
	in := g.DataInputs()
	if len(in) != 1 || in[0].Name != "x" || in[0].ElemType != onnxio.Float || in[0].Shape[0].String() != "N" || in[0].Shape[1].Value != 3 {
		t.Errorf("data inputs %+v", in)
	}
	if n := g.Nodes[0]; n.OpType != "Gemm" || n.AttrInt("transB", 0) != 1 || n.AttrInt("transA", 7) != 7 || n.AttrFloat("alpha", 1) != 1 {
		t.Errorf("node %+v", n)
	}
}
