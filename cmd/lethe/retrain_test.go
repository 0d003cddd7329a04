package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npz"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// retrainArgs are a quick recipe on the 8 fixture samples.
var retrainArgs = []string{"--epochs", "15", "--batch-size", "6", "--lr", "0.01"}

// TestRetrain retrains the fixture MLP without samples 0 and 3 and checks the
// output, the summary, determinism and independence from the input weights.
func TestRetrain(t *testing.T) {
	dir := t.TempDir()
	model, data := fixture(t, "models/mlp.onnx"), fixtureSamples(t, "mlp", 0)
	forget := filepath.Join(dir, "forget.txt")
	os.WriteFile(forget, []byte("3\n0\n"), 0o644)
	retrain := func(model, out string, extra ...string) lethe.RetrainResult {
		t.Helper()
		args := append([]string{"retrain", model, "--data", data, "--forget", forget, "-o", out, "--json"}, retrainArgs...)
		code, stdout, errs := cli(t, append(args, extra...)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var s lethe.RetrainResult
		decodeJSON(t, stdout, &s)
		return s
	}
	a := filepath.Join(dir, "a.onnx")
	s := retrain(model, a, "--radius", "4", "--l2", "0.001")
	checkTrainedModel(t, a, 4, "0.001", "xent")
	if !(s.Final.Objective < s.Initial.Objective) || s.Final.Norm > 4 {
		t.Errorf("loss %g → %g, ‖w‖ %g", s.Initial.Objective, s.Final.Objective, s.Final.Norm)
	}
	if s.N != 8 || s.NForget != 2 || s.NRetained != 6 || !strings.HasPrefix(s.Digest, "sha256:") || s.Params != 26506 ||
		s.Radius != 4 || s.L2 != 0.001 || s.Loss != "xent" || s.Steps != 15 || s.TrainSeconds <= 0 || s.Seconds < s.TrainSeconds ||
		s.Recipe == nil || *s.Recipe != (lethe.Recipe{Optimizer: "adam", LR: 0.01, Schedule: "constant", BatchSize: 6, Epochs: 15, Seed: 0}) {
		t.Errorf("summary %+v", s)
	}

	// The reported loss is the file's on D_r: lethe grad over the retained
	// indices agrees up to float32 summation order.
	retained := filepath.Join(dir, "retained.txt")
	os.WriteFile(retained, []byte("1\n2\n4\n5\n6\n7\n"), 0o644)
	code, stdout, errs := cli(t, "grad", a, "--data", data, "--indices", retained, "--l2", "0.001", "--out", filepath.Join(dir, "g.npy"), "--json")
	if code != exitOK {
		t.Fatalf("grad: exit %d: %s", code, errs)
	}
	var g lethe.GradientResult
	decodeJSON(t, stdout, &g)
	if math.Abs(g.Objective-s.Final.Objective) > 1e-6*g.Objective || math.Abs(g.GradNorm-s.Final.GradNorm) > 1e-5*g.GradNorm {
		t.Errorf("retrain reports loss %.10g, ‖∇‖ %.6g; grad on D_r %.10g, %.6g", s.Final.Objective, s.Final.GradNorm, g.Objective, g.GradNorm)
	}

	// Retraining discards the input weights and is seeded: the same recipe
	// from a differently trained model of the same graph gives the same file.
	c := filepath.Join(dir, "c.onnx")
	if code, _, errs := cli(t, "constrain", model, "--data", data, "--radius", "3", "--epochs", "2", "-o", c, "-q"); code != exitOK {
		t.Fatalf("constrain: %s", errs)
	}
	b := filepath.Join(dir, "b.onnx")
	retrain(c, b, "--radius", "4", "--l2", "0.001", "--loss", "xent")
	if !bytes.Equal(readFile(t, a), readFile(t, b)) {
		t.Error("retraining from another model of the same graph, with the same seed, wrote a different file")
	}
	d := filepath.Join(dir, "d.onnx")
	retrain(model, d, "--radius", "4", "--l2", "0.001", "--seed", "7")
	if slices.Equal(modelParams(t, a), modelParams(t, d)) {
		t.Error("--seed 7 gave the same parameters as --seed 0")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRetrainDefaultsFromMetadata checks that --radius, --l2 and --loss come
// from the metadata lethe constrain wrote, unless given.
func TestRetrainDefaultsFromMetadata(t *testing.T) {
	dir := t.TempDir()
	model, data := fixture(t, "models/logreg.onnx"), fixtureSamples(t, "logreg", 0)
	c := filepath.Join(dir, "c.onnx")
	if code, _, errs := cli(t, "constrain", model, "--data", data, "--radius", "2.5", "--l2", "0.01", "--loss", "mse", "-o", c, "-q"); code != exitOK {
		t.Fatalf("constrain: %s", errs)
	}
	forget := filepath.Join(dir, "forget.txt")
	os.WriteFile(forget, []byte("5\n"), 0o644)
	for _, tc := range []struct {
		extra  []string
		radius float64
		l2     float64
		loss   string
	}{
		{nil, 2.5, 0.01, "mse"},
		{[]string{"--radius", "1", "--l2", "0", "--loss", "xent"}, 1, 0, "xent"},
	} {
		out := filepath.Join(t.TempDir(), "r.onnx")
		args := append([]string{"retrain", c, "--data", data, "--forget", forget, "-o", out, "--epochs", "2", "--json"}, tc.extra...)
		code, stdout, errs := cli(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.extra, code, errs)
		}
		var s lethe.RetrainResult
		decodeJSON(t, stdout, &s)
		if s.Radius != tc.radius || s.L2 != tc.l2 || s.Loss != tc.loss || s.NForget != 1 {
			t.Errorf("%v: radius %g, l2 %g, loss %s; want %g, %g, %s", tc.extra, s.Radius, s.L2, s.Loss, tc.radius, tc.l2, tc.loss)
		}
		checkTrainedModel(t, out, tc.radius, formatFloat(tc.l2), tc.loss)
	}
}

// TestRetrainForgetSamples checks that forgetting samples given as an .npz
// of the samples themselves retrains on the same D_r as their indices.
func TestRetrainForgetSamples(t *testing.T) {
	dir := t.TempDir()
	model, data := fixture(t, "models/cnn_bn.onnx"), fixtureSamples(t, "cnn_bn", 0)
	f, err := npz.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	var x []float32
	var y []int64
	f.Read("x.npy", &x)
	f.Read("y.npy", &y)
	f.Close()
	samples := filepath.Join(dir, "forget.npz")
	// Samples 6 and 1, in that order.
	if err := dataset.WriteNPZ(samples, append(slices.Clone(x[6*784:7*784]), x[784:2*784]...), []int{1, 28, 28}, []int64{y[6], y[1]}); err != nil {
		t.Fatal(err)
	}
	indices := filepath.Join(dir, "forget.txt")
	os.WriteFile(indices, []byte("1\n6\n"), 0o644)
	var outs [][]byte
	for i, spec := range []string{samples, indices} {
		out := filepath.Join(dir, []string{"s.onnx", "i.onnx"}[i])
		code, stdout, errs := cli(t, "retrain", model, "--data", data, "--forget", spec, "--radius", "5", "--epochs", "3", "-o", out, "--json")
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", spec, code, errs)
		}
		var s lethe.RetrainResult
		decodeJSON(t, stdout, &s)
		if s.NForget != 2 || s.NRetained != 6 {
			t.Errorf("%s: summary %+v", spec, s)
		}
		outs = append(outs, readFile(t, out))
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("forgetting samples and forgetting their indices retrained differently")
	}
}

// TestRetrainRefusals checks the bad flags and inputs of retrain: each exits
// 2, names the culprit, prints nothing on stdout and writes nothing.
func TestRetrainRefusals(t *testing.T) {
	dir := t.TempDir()
	model, data := fixture(t, "models/mlp.onnx"), fixtureSamples(t, "mlp", 0)
	out := filepath.Join(dir, "out.onnx")
	forget := filepath.Join(dir, "forget.txt")
	os.WriteFile(forget, []byte("1\n"), 0o644)
	all := filepath.Join(dir, "all.txt")
	os.WriteFile(all, []byte("0\n1\n2\n3\n4\n5\n6\n7\n"), 0o644)
	outside := filepath.Join(dir, "outside.txt")
	os.WriteFile(outside, []byte("1\n99\n"), 0o644)
	badMeta := filepath.Join(dir, "badmeta.onnx")
	if err := onnxtest.MLP(1, onnxtest.Raw, 784, 4, 10).Metadata(lethe.MetaRadius, "big").Write(badMeta); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		words []string
	}{
		{"no forget", []string{"retrain", model, "--data", data, "--radius", "1", "-o", out}, []string{"--forget"}},
		{"no out", []string{"retrain", model, "--data", data, "--radius", "1", "--forget", forget}, []string{"--out"}},
		{"no radius anywhere", []string{"retrain", model, "--data", data, "--forget", forget, "-o", out}, []string{"--radius", "mlp.onnx", "lethe.radius"}},
		{"bad radius metadata", []string{"retrain", badMeta, "--data", data, "--forget", forget, "-o", out}, []string{"badmeta.onnx", "lethe.radius", "big"}},
		{"negative radius", []string{"retrain", model, "--data", data, "--forget", forget, "--radius", "-2", "-o", out}, []string{"--radius"}},
		{"zero epochs", []string{"retrain", model, "--data", data, "--forget", forget, "--radius", "1", "--epochs", "0", "-o", out}, []string{"--epochs"}},
		{"bad seed", []string{"retrain", model, "--data", data, "--forget", forget, "--radius", "1", "--seed", "-1", "-o", out}, []string{"--seed"}},
		{"forget everything", []string{"retrain", model, "--data", data, "--forget", all, "--radius", "1", "-o", out}, []string{"all.txt", "all 8"}},
		{"forget out of range", []string{"retrain", model, "--data", data, "--forget", outside, "--radius", "1", "-o", out}, []string{"outside.txt", "99"}},
		{"missing forget", []string{"retrain", model, "--data", data, "--forget", filepath.Join(dir, "nof.txt"), "--radius", "1", "-o", out}, []string{"nof.txt"}},
		{"out is forget", []string{"retrain", model, "--data", data, "--forget", forget, "--radius", "1", "-o", forget}, []string{"is also an input"}},
		{"out is model", []string{"retrain", model, "--data", data, "--forget", forget, "--radius", "1", "-o", model}, []string{"is also an input"}},
		{"missing data", []string{"retrain", model, "--data", filepath.Join(dir, "nope.npz"), "--forget", forget, "--radius", "1", "-o", out}, []string{"nope.npz"}},
	} {
		code, stdout, errs := cli(t, tc.args...)
		if code != exitUsage || stdout != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2", tc.name, code, stdout, errs)
		}
		for _, w := range tc.words {
			if !strings.Contains(errs, w) {
				t.Errorf("%s: stderr %q lacks %q", tc.name, errs, w)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: wrote %s", tc.name, out)
		}
	}
}
