package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// checkTrainedModel checks what constrain and retrain promise about their
// output: it loads, its parameters lie in the C-ball, and it carries the
// training metadata.
func checkTrainedModel(t *testing.T, path string, radius float64, l2, loss string) []float64 {
	t.Helper()
	m, err := onnxio.Load(path)
	if err != nil {
		t.Fatalf("the output does not load: %v", err)
	}
	w := modelParams(t, path)
	if n := l2norm(w); n > radius {
		t.Errorf("‖w‖ = %.17g > C = %g in the written file", n, radius)
	}
	md := m.Metadata()
	if md[lethe.MetaRadius] != formatFloat(radius) || md[lethe.MetaL2] != l2 || md[lethe.MetaLoss] != loss {
		t.Errorf("metadata %v; want radius %g, l2 %s, loss %s", md, radius, l2, loss)
	}
	return w
}

// TestConstrain fine-tunes the fixture MLP in a ball smaller than its norm
// and checks the output, the summary and its consistency with lethe grad.
func TestConstrain(t *testing.T) {
	dir := t.TempDir()
	model, data := fixture(t, "models/mlp.onnx"), fixtureSamples(t, "mlp", 0)
	orig, _ := os.ReadFile(model)
	out := filepath.Join(dir, "c.onnx")
	code, stdout, errs := cli(t, "constrain", model, "--data", data, "--radius", "4", "--l2", "0.001",
		"--epochs", "20", "--lr", "0.01", "--batch-size", "8", "-o", out, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var s lethe.ConstrainResult
	decodeJSON(t, stdout, &s)
	w := checkTrainedModel(t, out, 4, "0.001", "xent")
	// The fixture MLP has ‖w‖ ≈ 5.05, outside the ball: the constraint is
	// active from the start.
	if s.Before.Norm < 5 || s.After.Norm > 4 || s.Projections == 0 || !s.After.Active || !s.Before.Active {
		t.Errorf("norms %g → %g, %d projections, active %v → %v", s.Before.Norm, s.After.Norm, s.Projections, s.Before.Active, s.After.Active)
	}
	if !(s.After.Objective < s.Before.Objective) {
		t.Errorf("loss %g → %g: training did not lower it", s.Before.Objective, s.After.Objective)
	}
	if s.Samples != 8 || s.Params != 26506 || s.Steps != 20 || s.Radius != 4 || s.L2 != 0.001 || s.Loss != "xent" ||
		s.Recipe != (lethe.Recipe{Optimizer: "adam", LR: 0.01, Schedule: "cosine", BatchSize: 8, Epochs: 20, Seed: 0}) ||
		s.Out != out || s.Model != model || s.Data != data {
		t.Errorf("summary %+v", s)
	}
	// The same norm by two summation algorithms: a few ulps.
	if n := l2norm(w); math.Abs(n-s.After.Norm) > 1e-14*n {
		t.Errorf("summary ‖w‖ %.17g, file ‖w‖ %.17g", s.After.Norm, n)
	}
	// The reported final loss and gradient norm are those of the file: lethe
	// grad on it agrees up to float32 summation order.
	code, stdout, errs = cli(t, "grad", out, "--data", data, "--l2", "0.001", "--out", filepath.Join(dir, "g.npy"), "--json")
	if code != exitOK {
		t.Fatalf("grad: exit %d: %s", code, errs)
	}
	var g lethe.GradientResult
	decodeJSON(t, stdout, &g)
	if math.Abs(g.Objective-s.After.Objective) > 1e-6*g.Objective || math.Abs(g.GradNorm-s.After.GradNorm) > 1e-5*g.GradNorm {
		t.Errorf("constrain reports loss %.10g, ‖∇‖ %.6g; grad on the output %.10g, %.6g", s.After.Objective, s.After.GradNorm, g.Objective, g.GradNorm)
	}
	if now, _ := os.ReadFile(model); !bytes.Equal(now, orig) {
		t.Error("the input model changed")
	}
}

// TestConstrainInactiveAndProgress checks a ball the model fits in, SGD with
// momentum and a step schedule, and the human log with one line per epoch.
func TestConstrainInactiveAndProgress(t *testing.T) {
	out := filepath.Join(t.TempDir(), "c.onnx")
	code, stdout, errs := cli(t, "constrain", fixture(t, "models/logreg.onnx"), "--data", fixtureSamples(t, "logreg", 0), "--radius", "100",
		"--epochs", "3", "--batch-size", "4", "--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9", "--schedule", "step", "--step-size", "1", "-o", out)
	if code != exitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, stdout, errs)
	}
	checkTrainedModel(t, out, 100, "0", "xent")
	for _, want := range []string{"epoch 1/3", "epoch 2/3", "epoch 3/3", "lr 0.01", "lr 0.001", "wrote " + out, "inactive",
		"projected sgd momentum 0.9, lr 0.1 (×0.1 every 1 epochs), batch 4, 3 epochs, seed 0"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	code, _, errs = cli(t, "constrain", fixture(t, "models/logreg.onnx"), "--data", fixtureSamples(t, "logreg", 0), "--radius", "100",
		"-o", filepath.Join(t.TempDir(), "q.onnx"), "-q")
	if code != exitOK || errs != "" {
		t.Errorf("--quiet: exit %d, stderr %q", code, errs)
	}
}

// TestConstrainExternalData constrains a model whose initializers are stored
// in an external file: the output gets its own data file.
func TestConstrainExternalData(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "ext.onnx")
	if err := onnxtest.MLP(3, onnxtest.External, 784, 4, 10).Write(model); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.onnx")
	if code, _, errs := cli(t, "constrain", model, "--data", fixtureSamples(t, "mlp", 0), "--radius", "1", "--epochs", "2", "-o", out, "-q"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	checkTrainedModel(t, out, 1, "0", "xent")
	if _, err := os.Stat(out + ".data"); err != nil {
		t.Errorf("no external data beside the output: %v", err)
	}
}

// TestConstrainRefusals checks the bad flags and inputs of constrain: each
// exits 2, names the culprit, prints nothing on stdout and writes nothing.
func TestConstrainRefusals(t *testing.T) {
	dir := t.TempDir()
	model, data := fixture(t, "models/mlp.onnx"), fixtureSamples(t, "mlp", 0)
	out := filepath.Join(dir, "out.onnx")
	features := filepath.Join(dir, "x.npy")
	if err := dataset.WriteNPY(features, make([]float32, 2*784), []int{2, 784}); err != nil {
		t.Fatal(err)
	}
	base := func(extra ...string) []string {
		return append([]string{"constrain", model, "--data", data, "-o", out}, extra...)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		words []string
	}{
		{"no radius", base(), []string{"--radius", "required"}},
		{"negative radius", base("--radius", "-1"), []string{"--radius"}},
		{"NaN radius", base("--radius", "NaN"), []string{"--radius"}},
		{"no out", []string{"constrain", model, "--data", data, "--radius", "1"}, []string{"--out"}},
		{"no data", []string{"constrain", model, "-o", out, "--radius", "1"}, []string{"--data"}},
		{"zero epochs", base("--radius", "1", "--epochs", "0"), []string{"--epochs"}},
		{"zero lr", base("--radius", "1", "--lr", "0"), []string{"--lr"}},
		{"bad optimizer", base("--radius", "1", "--optimizer", "rmsprop"), []string{"--optimizer", "rmsprop"}},
		{"bad schedule", base("--radius", "1", "--schedule", "exp"), []string{"--schedule", "exp"}},
		{"momentum with adam", base("--radius", "1", "--momentum", "0.9"), []string{"--momentum", "sgd"}},
		{"momentum too large", base("--radius", "1", "--optimizer", "sgd", "--momentum", "1.5"), []string{"--momentum"}},
		{"bad gamma", base("--radius", "1", "--gamma", "2"), []string{"--gamma"}},
		{"min-lr above lr", base("--radius", "1", "--min-lr", "0.1"), []string{"--min-lr"}},
		{"bad batch", base("--radius", "1", "--batch-size", "0"), []string{"--batch-size"}},
		{"bad loss", base("--radius", "1", "--loss", "hinge"), []string{"--loss"}},
		{"unknown flag", base("--radius", "1", "--nope"), []string{"--nope"}},
		{"out is model", []string{"constrain", model, "--data", data, "--radius", "1", "-o", model}, []string{"is also an input"}},
		{"out is data", []string{"constrain", model, "--data", data, "--radius", "1", "-o", data}, []string{"is also an input"}},
		{"out in missing folder", []string{"constrain", model, "--data", data, "--radius", "1", "-o", filepath.Join(dir, "no", "o.onnx")}, []string{"does not exist"}},
		{"missing model", []string{"constrain", filepath.Join(dir, "nope.onnx"), "--data", data, "--radius", "1", "-o", out}, []string{"nope.onnx"}},
		{"missing data", []string{"constrain", model, "--data", filepath.Join(dir, "nope.npz"), "--radius", "1", "-o", out}, []string{"nope.npz"}},
		{"no labels", []string{"constrain", model, "--data", features, "--radius", "1", "-o", out}, []string{"x.npy", "no labels"}},
		{"unsupported model", []string{"constrain", unsupportedModel(t, dir), "--data", data, "--radius", "1", "-o", out}, []string{"Hardmax"}},
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

// TestConstrainDiverges checks that training that blows up exits 1 and
// writes nothing.
func TestConstrainDiverges(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.onnx")
	code, stdout, errs := cli(t, "constrain", fixture(t, "models/mlp.onnx"), "--data", fixtureSamples(t, "mlp", 0), "--radius", "1e30",
		"--optimizer", "sgd", "--lr", "1e30", "--epochs", "5", "--batch-size", "2", "-o", out)
	if code != exitFailed || stdout != "" || !strings.Contains(errs, "--lr") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and a hint at --lr", code, stdout, errs)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("wrote %s", out)
	}
}

// TestConstrainWarnsAboutCertificate checks the warning for a model that
// carries the certificate binding of an earlier unlearning.
func TestConstrainDropsCertificateBinding(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "unlearned.onnx")
	if err := onnxtest.MLP(2, onnxtest.Raw, 784, 4, 10).Metadata(lethe.MetaCertificate, "sha256:abc").Write(model); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.onnx")
	code, _, errs := cli(t, "constrain", model, "--data", fixtureSamples(t, "mlp", 0), "--radius", "2", "-o", out, "-q")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m, err := onnxio.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	// The trained model is not the output of that unlearning any more.
	if b, ok := m.Metadata()[lethe.MetaCertificate]; ok {
		t.Errorf("constrained model still carries certificate binding %q", b)
	}
}
