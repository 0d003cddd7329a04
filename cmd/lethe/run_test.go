package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npz"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// TestRunMatchesFixtures runs every exported model on its fixture batch with
// both engines and compares the written logits with the exporter's float64
// evaluation of the same ONNX graph, at two batch sizes.
func TestRunMatchesFixtures(t *testing.T) {
	for _, engine := range []string{"native", "ort"} {
		for _, name := range fixtureModels {
			t.Run(engine+"/"+name, func(t *testing.T) {
				if engine == "ort" {
					requireORT(t)
				}
				data := fixture(t, "fixtures/"+name+".npz")
				want := readNpz(t, data, "logits")
				for _, bs := range []string{"3", "256"} {
					out := filepath.Join(t.TempDir(), "out.npy")
					code, stdout, errs := cli(t, "run", fixture(t, "models/"+name+".onnx"), "--data", data, "--out", out, "--batch-size", bs, "--threads", "1", "--engine", engine)
					if code != exitOK || stdout != "" || !strings.Contains(errs, "ran 8 samples") {
						t.Fatalf("batch %s: exit %d, stdout %q, stderr %q", bs, code, stdout, errs)
					}
					got, shape := readNpy(t, out)
					if len(shape) != 2 || shape[0] != 8 || len(got) != len(want) {
						t.Fatalf("batch %s: shape %v, %d values; want 8 rows of %d", bs, shape, len(got), len(want)/8)
					}
					// float32 evaluation of a float64 reference: the fixtures
					// measure 1e-7 relative; logits are O(1).
					if d := ort.Compare(got, want); d.MaxAbs > 1e-4 {
						t.Errorf("batch %s: %+v against the float64 reference", bs, d)
					}
					if e := normRelErr(got, want); e > 1e-5 {
						t.Errorf("batch %s: relative error %.3g against the float64 reference", bs, e)
					}
				}
			})
		}
	}
}

// TestRunNativeFloat64 checks --precision float64: only the float32 rounding
// of the written output separates it from the float64 reference.
func TestRunNativeFloat64(t *testing.T) {
	for _, name := range fixtureModels {
		data := fixture(t, "fixtures/"+name+".npz")
		out := filepath.Join(t.TempDir(), "out.npy")
		if code, _, errs := cli(t, "run", fixture(t, "models/"+name+".onnx"), "--data", data, "--out", out, "--precision", "float64", "-q"); code != exitOK {
			t.Fatalf("%s: exit %d: %s", name, code, errs)
		}
		got, _ := readNpy(t, out)
		// float32 rounding is 6e-8 relative per element.
		if e := normRelErr(got, readNpz(t, data, "logits")); e > 1e-7 {
			t.Errorf("%s: relative error %.3g", name, e)
		}
	}
}

// TestRunNativeMatchesORT runs both engines on the same data and compares
// their outputs: both compute in float32, in different orders.
func TestRunNativeMatchesORT(t *testing.T) {
	requireORT(t)
	for _, name := range fixtureModels {
		data := fixture(t, "fixtures/"+name+".npz")
		dir := t.TempDir()
		outs := map[string][]float64{}
		for _, engine := range []string{"native", "ort"} {
			out := filepath.Join(dir, engine+".npy")
			if code, _, errs := cli(t, "run", fixture(t, "models/"+name+".onnx"), "--data", data, "--out", out, "--engine", engine, "--batch-size", "5", "-q"); code != exitOK {
				t.Fatalf("%s %s: exit %d: %s", name, engine, code, errs)
			}
			outs[engine], _ = readNpy(t, out)
		}
		// Two float32 evaluations of O(1) logits: ~1e-7 apart (measured).
		e := normRelErr(outs["native"], outs["ort"])
		if e > 1e-5 {
			t.Errorf("%s: native and onnxruntime differ by %.3g (relative, norm-wise)", name, e)
		}
		t.Logf("%s: native vs onnxruntime %.3g", name, e)
	}
}

// TestRunNpyAndJSON feeds the features as a plain .npy file and checks the
// --json summary and that the output equals the .npz run bit for bit.
func TestRunNpyAndJSON(t *testing.T) {
	dir := t.TempDir()
	model, data := fixture(t, "models/cnn_bn.onnx"), fixture(t, "fixtures/cnn_bn.npz")
	f, err := npz.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	var x []float32
	err = f.Read("x.npy", &x)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][]float32, 8) // flat 784-value samples, fed to [N,1,28,28]
	for i := range rows {
		rows[i] = x[i*784 : (i+1)*784]
	}
	var buf bytes.Buffer
	if err := npy.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	xnpy := filepath.Join(dir, "x.npy")
	os.WriteFile(xnpy, buf.Bytes(), 0o644)

	for _, engine := range []string{"native", "ort"} {
		if engine == "ort" {
			requireORT(t)
		}
		a, b := filepath.Join(dir, engine+"-a.npy"), filepath.Join(dir, engine+"-b.npy")
		code, stdout, errs := cli(t, "run", model, "--data", xnpy, "--out", a, "--json", "--quiet", "--engine", engine)
		if code != exitOK || errs != "" {
			t.Fatalf("%s: exit %d, stderr %q", engine, code, errs)
		}
		var s lethe.PredictResult
		decodeJSON(t, stdout, &s)
		if s.Samples != 8 || s.Batches != 1 || string(s.Backend) != engine || s.Output != "logits" || s.Type != "float32" || !slices.Equal(s.Shape, []int64{8, 10}) ||
			(s.Onnxruntime == "") != (engine == "native") || (s.Precision == "float32") != (engine == "native") {
			t.Errorf("%s: summary %+v", engine, s)
		}
		if code, _, errs := cli(t, "run", model, "--data", data, "--out", b, "-q", "--engine", engine); code != exitOK {
			t.Fatalf("%s: npz run: %s", engine, errs)
		}
		ra, _ := os.ReadFile(a)
		rb, _ := os.ReadFile(b)
		if !bytes.Equal(ra, rb) {
			t.Errorf("%s: the .npy and .npz runs wrote different files", engine)
		}
	}
}

// TestRunRefusals checks run's refusals: writing over an input, bad engine
// flags, a model the native engine cannot run, and data that does not fit the
// model. Each exits 2 and writes nothing.
func TestRunRefusals(t *testing.T) {
	dir := t.TempDir()
	mlp := filepath.Join(dir, "mlp.onnx")
	orig, err := os.ReadFile(fixture(t, "models/mlp.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(mlp, orig, 0o644)
	data := fixture(t, "fixtures/mlp.npz")
	out := filepath.Join(dir, "out.npy")
	for _, tc := range []struct {
		name  string
		args  []string
		words []string
	}{
		{"output is the model", []string{"run", mlp, "--data", data, "--out", mlp}, []string{"is also an input"}},
		{"output is the data", []string{"run", mlp, "--data", data, "--out", data}, []string{"is also an input"}},
		{"bad engine", []string{"run", mlp, "--data", data, "--out", out, "--engine", "gpu"}, []string{"--engine", "gpu"}},
		{"bad precision", []string{"run", mlp, "--data", data, "--out", out, "--precision", "half"}, []string{"--precision", "half"}},
		{"precision with ort", []string{"run", mlp, "--data", data, "--out", out, "--precision", "float64", "--engine", "ort"}, []string{"--precision", "native"}},
		{"unsupported op", []string{"run", unsupportedModel(t, t.TempDir()), "--data", data, "--out", out}, []string{"Hardmax", "--engine ort"}},
		{"data of the wrong shape", []string{"run", mlp, "--data", fixture(t, "fixtures/resblock.npz"), "--out", out},
			[]string{"resblock.npz", "does not fit", "192 values", "784"}},
		{"data of the wrong shape (ort)", []string{"run", mlp, "--data", fixture(t, "fixtures/resblock.npz"), "--out", out, "--engine", "ort"},
			[]string{"resblock.npz", "does not fit", "192 values", "784"}},
		{"missing data", []string{"run", mlp, "--data", filepath.Join(dir, "nope.npz"), "--out", out}, []string{"nope.npz"}},
	} {
		code, stdout, errs := cli(t, tc.args...)
		if code != exitUsage || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q; want 2", tc.name, code, stdout)
		}
		for _, w := range tc.words {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: stderr %q lacks %q", tc.name, errs, w)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: wrote %s", tc.name, out)
		}
	}
	if now, _ := os.ReadFile(mlp); !bytes.Equal(now, orig) {
		t.Error("the model changed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want only mlp.onnx", len(entries))
	}
}
