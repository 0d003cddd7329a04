package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npz"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
)

// fixtureModels are the PyTorch-exported test models (testdata/README.md).
var fixtureModels = []string{"mlp", "logreg", "cnn_bn", "cnn_folded", "resblock", "transformer"}

// fixtureSamples writes the first n samples (0: all) of testdata/fixtures/NAME.npz
// to a fresh .npz with only x and y, as a user's data file would be, and
// returns its path.
func fixtureSamples(t *testing.T, name string, n int) string {
	t.Helper()
	src := fixture(t, "fixtures/"+name+".npz")
	f, err := npz.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var x []float32
	var y []int64
	if err := f.Read("x.npy", &x); err != nil {
		t.Fatal(err)
	}
	if err := f.Read("y.npy", &y); err != nil {
		t.Fatal(err)
	}
	shape := f.Header("x.npy").Descr.Shape
	if n > 0 {
		x, y = x[:n*len(x)/len(y)], y[:n]
	}
	path := filepath.Join(t.TempDir(), name+"-data.npz")
	if err := dataset.WriteNPZ(path, x, shape[1:], y); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeVector writes v as a float64 .npy file in a fresh folder.
func writeVector(t *testing.T, name string, v []float64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := dataset.WriteNPY(path, v, []int{len(v)}); err != nil {
		t.Fatal(err)
	}
	return path
}

// readVector reads a float64 .npy vector written by grad or hvp.
func readVector(t *testing.T, path string) []float64 {
	t.Helper()
	v, shape, err := dataset.ReadNPY[float64](path)
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 1 || shape[0] != len(v) {
		t.Fatalf("%s has shape %v, want a vector", path, shape)
	}
	return v
}

// normRelErr is ‖a − b‖/‖b‖: per-element relative errors mean nothing for the
// many gradient entries that are zero or nearly so.
func normRelErr(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var num, den float64
	for i := range b {
		d := a[i] - b[i]
		num += d * d
		den += b[i] * b[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// modelParams returns a model file's parameter vector (DESIGN.md §2 order).
func modelParams(t *testing.T, path string) []float64 {
	t.Helper()
	m, err := onnxio.Load(path)
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
	return w
}

// precisionTol is the agreement with PyTorch's float64 reference: float64
// reproduces it to rounding (the accumulation order differs; autodiff's own
// fixture test uses 1e-9; measured 4e-16), float32 within 1e-4 (measured
// up to 2e-7).
var precisionTol = map[string]float64{"float64": 1e-9, "float32": 1e-4}

// TestGradMatchesFixtures checks `lethe grad` on every exported model, in
// both precisions, against the PyTorch reference gradient.
func TestGradMatchesFixtures(t *testing.T) {
	for _, name := range fixtureModels {
		data := fixtureSamples(t, name, 0)
		ref := fixture(t, "fixtures/"+name+".npz")
		want, wantLoss := readNpz(t, ref, "grad"), readNpz(t, ref, "loss")[0]
		for _, prec := range []string{"float64", "float32"} {
			t.Run(name+"/"+prec, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "g.npy")
				// Batches of 3 over 2 threads: uneven batches, summed in order.
				code, stdout, errs := cli(t, "grad", fixture(t, "models/"+name+".onnx"), "--data", data, "--out", out,
					"--precision", prec, "--batch-size", "3", "--threads", "2", "--json")
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, errs)
				}
				var s lethe.GradientResult
				decodeJSON(t, stdout, &s)
				got := readVector(t, out)
				tol := precisionTol[prec]
				e := normRelErr(got, want)
				if e > tol {
					t.Errorf("gradient: relative error %.3g > %g", e, tol)
				}
				t.Logf("gradient relative error %.3g", e)
				if math.Abs(s.Objective-wantLoss) > tol*wantLoss || s.Objective != s.DataLoss {
					t.Errorf("loss %.12g (data %.12g), PyTorch %.12g", s.Objective, s.DataLoss, wantLoss)
				}
				if s.Samples != 8 || s.Params != len(want) || s.Precision != prec || s.Loss != "xent" || s.L2 != 0 ||
					math.Abs(s.GradNorm-l2norm(got)) > 1e-12*s.GradNorm || s.Out != out {
					t.Errorf("summary %+v", s)
				}
			})
		}
	}
}

func l2norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// TestGradHVPLosses checks --loss mse and bce on the MLP against the PyTorch
// reference in testdata/fixtures/mlp_losses.npz.
func TestGradHVPLosses(t *testing.T) {
	model, data := fixture(t, "models/mlp.onnx"), fixtureSamples(t, "mlp", 0)
	losses := fixture(t, "fixtures/mlp_losses.npz")
	v := writeVector(t, "v.npy", readNpz(t, fixture(t, "fixtures/mlp.npz"), "v"))
	for _, loss := range []string{"mse", "bce"} {
		t.Run(loss, func(t *testing.T) {
			dir := t.TempDir()
			g, hv := filepath.Join(dir, "g.npy"), filepath.Join(dir, "hv.npy")
			code, stdout, errs := cli(t, "grad", model, "--data", data, "--out", g, "--loss", loss, "--precision", "float64", "--json")
			if code != exitOK {
				t.Fatalf("grad: exit %d: %s", code, errs)
			}
			var s lethe.GradientResult
			decodeJSON(t, stdout, &s)
			wantLoss := readNpz(t, losses, "loss_"+loss)[0]
			// float64 throughout: see precisionTol.
			if s.Loss != loss || math.Abs(s.Objective-wantLoss) > 1e-9*wantLoss {
				t.Errorf("loss %s = %.12g, PyTorch %.12g", s.Loss, s.Objective, wantLoss)
			}
			if e := normRelErr(readVector(t, g), readNpz(t, losses, "grad_"+loss)); e > 1e-9 {
				t.Errorf("gradient: relative error %.3g", e)
			}
			if code, _, errs := cli(t, "hvp", model, "--data", data, "--vector", v, "--out", hv, "--loss", loss, "--precision", "float64", "-q"); code != exitOK {
				t.Fatalf("hvp: exit %d: %s", code, errs)
			}
			if e := normRelErr(readVector(t, hv), readNpz(t, losses, "hvp_"+loss)); e > 1e-9 {
				t.Errorf("HVP: relative error %.3g", e)
			}
		})
	}
}

// TestGradL2 checks that --l2 μ adds μw to the gradient and (μ/2)‖w‖² to the
// loss.
func TestGradL2(t *testing.T) {
	model, data := fixture(t, "models/logreg.onnx"), fixtureSamples(t, "logreg", 0)
	ref := fixture(t, "fixtures/logreg.npz")
	out := filepath.Join(t.TempDir(), "g.npy")
	const mu = 0.01
	code, stdout, errs := cli(t, "grad", model, "--data", data, "--out", out, "--l2", "0.01", "--precision", "float64", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var s lethe.GradientResult
	decodeJSON(t, stdout, &s)
	w := modelParams(t, model)
	want := readNpz(t, ref, "grad")
	for i := range want {
		want[i] += mu * w[i]
	}
	if e := normRelErr(readVector(t, out), want); e > 1e-9 {
		t.Errorf("gradient: relative error %.3g", e)
	}
	nw := l2norm(w)
	wantLoss := readNpz(t, ref, "loss")[0] + mu/2*nw*nw
	if s.L2 != mu || math.Abs(s.Objective-wantLoss) > 1e-9*wantLoss || math.Abs(s.Objective-s.DataLoss-mu/2*nw*nw) > 1e-12 {
		t.Errorf("loss %.12g (data %.12g), want %.12g", s.Objective, s.DataLoss, wantLoss)
	}
}

// TestGradIndices checks --indices: a subset equals the same samples given as
// their own data file, and a file naming every sample equals no --indices.
func TestGradIndices(t *testing.T) {
	dir := t.TempDir()
	model, data := fixture(t, "models/mlp.onnx"), fixtureSamples(t, "mlp", 0)
	first3 := fixtureSamples(t, "mlp", 3)
	sub := filepath.Join(dir, "sub.txt")
	os.WriteFile(sub, []byte("# the first three\n2\n0\n1\n"), 0o644)
	all := filepath.Join(dir, "all.txt")
	os.WriteFile(all, []byte("0\n1\n2\n3\n4\n5\n6\n7\n"), 0o644)
	run := func(out string, args ...string) []float64 {
		t.Helper()
		args = append([]string{"grad", model, "--out", filepath.Join(dir, out), "--precision", "float64", "--threads", "1", "-q"}, args...)
		if code, _, errs := cli(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return readVector(t, filepath.Join(dir, out))
	}
	// The same samples in the same batch: equal to rounding of the order in
	// which samples are read (none: the indices are sorted).
	if e := normRelErr(run("a.npy", "--data", data, "--indices", sub), run("b.npy", "--data", first3)); e > 1e-14 {
		t.Errorf("--indices 0,1,2 differs from the first three samples by %.3g", e)
	}
	if e := normRelErr(run("c.npy", "--data", data, "--indices", all), run("d.npy", "--data", data)); e != 0 {
		t.Errorf("--indices naming every sample differs from none by %.3g", e)
	}
	code, stdout, _ := cli(t, "grad", model, "--data", data, "--indices", sub, "--out", filepath.Join(dir, "e.npy"), "--json")
	var s lethe.GradientResult
	decodeJSON(t, stdout, &s)
	if code != exitOK || s.Samples != 3 || s.Indices != sub {
		t.Errorf("exit %d, summary %+v", code, s)
	}
}

// TestGradHVPRefusals checks the bad flags and inputs of grad and hvp: each
// exits 2, names the culprit, prints nothing on stdout and writes nothing.
func TestGradHVPRefusals(t *testing.T) {
	dir := t.TempDir()
	model, data := fixture(t, "models/mlp.onnx"), fixtureSamples(t, "mlp", 0)
	out := filepath.Join(dir, "out.npy")
	short := writeVector(t, "short.npy", make([]float64, 10))
	matrix := filepath.Join(dir, "matrix.npy")
	if err := dataset.WriteNPY(matrix, make([]float64, 26506), []int{2, 13253}); err != nil {
		t.Fatal(err)
	}
	v := writeVector(t, "v.npy", make([]float64, 26506))
	features := filepath.Join(dir, "x.npy") // features without labels
	if err := dataset.WriteNPY(features, make([]float32, 2*784), []int{2, 784}); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, []byte("# nothing\n"), 0o644)
	outOfRange := filepath.Join(dir, "range.txt")
	os.WriteFile(outOfRange, []byte("8\n"), 0o644)
	for _, tc := range []struct {
		name  string
		args  []string
		words []string
	}{
		{"no out", []string{"grad", model, "--data", data}, []string{"--out"}},
		{"no data", []string{"grad", model, "--out", out}, []string{"--data"}},
		{"bad loss", []string{"grad", model, "--data", data, "--out", out, "--loss", "hinge"}, []string{"--loss", "hinge"}},
		{"bad precision", []string{"grad", model, "--data", data, "--out", out, "--precision", "float16"}, []string{"--precision"}},
		{"bad batch", []string{"grad", model, "--data", data, "--out", out, "--batch-size", "0"}, []string{"--batch-size"}},
		{"negative l2", []string{"grad", model, "--data", data, "--out", out, "--l2", "-1"}, []string{"--l2"}},
		{"bad freeze", []string{"grad", model, "--data", data, "--out", out, "--freeze", "["}, []string{"--freeze"}},
		{"frozen solid", []string{"grad", model, "--data", data, "--out", out, "--freeze", "*"}, []string{"no trainable parameters"}},
		{"out is model", []string{"grad", model, "--data", data, "--out", model}, []string{"is also an input"}},
		{"out is data", []string{"grad", model, "--data", data, "--out", data}, []string{"is also an input"}},
		{"missing model", []string{"grad", filepath.Join(dir, "nope.onnx"), "--data", data, "--out", out}, []string{"nope.onnx"}},
		{"missing data", []string{"grad", model, "--data", filepath.Join(dir, "nope.npz"), "--out", out}, []string{"nope.npz"}},
		{"data of the wrong shape", []string{"grad", model, "--data", fixtureSamples(t, "resblock", 0), "--out", out}, []string{"does not fit", "784"}},
		{"no labels", []string{"grad", model, "--data", features, "--out", out}, []string{"x.npy", "no labels"}},
		{"empty indices", []string{"grad", model, "--data", data, "--out", out, "--indices", empty}, []string{"--indices", "empty.txt"}},
		{"index out of range", []string{"grad", model, "--data", data, "--out", out, "--indices", outOfRange}, []string{"range.txt", "out of range"}},
		{"no vector", []string{"hvp", model, "--data", data, "--out", out}, []string{"--vector"}},
		{"short vector", []string{"hvp", model, "--data", data, "--out", out, "--vector", short}, []string{"short.npy", "10 values", "26506"}},
		{"matrix vector", []string{"hvp", model, "--data", data, "--out", out, "--vector", matrix}, []string{"matrix.npy", "[2 13253]"}},
		{"missing vector", []string{"hvp", model, "--data", data, "--out", out, "--vector", filepath.Join(dir, "nov.npy")}, []string{"nov.npy"}},
		{"out is vector", []string{"hvp", model, "--data", data, "--out", v, "--vector", v}, []string{"is also an input"}},
		{"hvp no labels", []string{"hvp", model, "--data", features, "--out", out, "--vector", v}, []string{"no labels"}},
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

func TestGradHVPHelp(t *testing.T) {
	for _, cmd := range []string{"grad", "hvp", "constrain", "retrain"} {
		code, out, _ := cli(t, cmd, "--help")
		if code != exitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "lethe "+cmd+" model.onnx") {
			t.Errorf("%s --help: exit %d, no example in %q", cmd, code, out)
		}
	}
}

// TestNaNDataIsBadInput checks that a data file with a NaN in sample 5 is
// bad input for every engine command, found before any computation: exit
// 2, naming the file and the sample, and nothing written.
func TestNaNDataIsBadInput(t *testing.T) {
	dir := t.TempDir()
	x := make([]float32, 8*784)
	x[5*784+3] = float32(math.NaN())
	data := filepath.Join(dir, "nan.npz")
	if err := dataset.WriteNPZ(data, x, []int{784}, make([]int64, 8)); err != nil {
		t.Fatal(err)
	}
	model := fixture(t, "models/mlp.onnx")
	v := writeVector(t, "v.npy", make([]float64, 26506))
	forget := filepath.Join(dir, "forget.txt")
	os.WriteFile(forget, []byte("0\n"), 0o644)
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"run", model, "--data", data, "--out", out},
		{"grad", model, "--data", data, "--out", out},
		{"hvp", model, "--data", data, "--vector", v, "--out", out},
		{"constrain", model, "--data", data, "--radius", "4", "-o", out},
		{"retrain", model, "--data", data, "--forget", forget, "--radius", "4", "-o", out},
		{"unlearn", model, "--data", data, "--forget", forget, "--radius", "4", "--epsilon", "1", "--delta", "1e-5", "-o", out},
	} {
		code, stdout, errs := cli(t, args...)
		if code != exitUsage || stdout != "" || !strings.Contains(errs, "nan.npz") || !strings.Contains(errs, "sample 5") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 naming the file and the sample", args[0], code, stdout, errs)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: wrote %s", args[0], out)
		}
	}
}

// TestLabelsBeyondOutputsAreBadInput checks that a label that is not a
// class of the model's output is bad input, found before any computation:
// exit 2, naming the file, the sample and the label.
func TestLabelsBeyondOutputsAreBadInput(t *testing.T) {
	dir := t.TempDir()
	y := make([]int64, 8)
	y[6] = 10 // the model has 10 outputs
	data := filepath.Join(dir, "labels.npz")
	if err := dataset.WriteNPZ(data, make([]float32, 8*784), []int{784}, y); err != nil {
		t.Fatal(err)
	}
	model := fixture(t, "models/mlp.onnx")
	forget := filepath.Join(dir, "forget.txt")
	os.WriteFile(forget, []byte("0\n"), 0o644)
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"grad", model, "--data", data, "--out", out},
		{"constrain", model, "--data", data, "--radius", "4", "-o", out},
		{"retrain", model, "--data", data, "--forget", forget, "--radius", "4", "-o", out},
		{"unlearn", model, "--data", data, "--forget", forget, "--radius", "4", "--epsilon", "1", "--delta", "1e-5", "-o", out},
	} {
		code, stdout, errs := cli(t, args...)
		if code != exitUsage || stdout != "" || !strings.Contains(errs, "labels.npz") || !strings.Contains(errs, "sample 6") || !strings.Contains(errs, "label 10") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 naming the file, the sample and the label", args[0], code, stdout, errs)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: wrote %s", args[0], out)
		}
	}
}
