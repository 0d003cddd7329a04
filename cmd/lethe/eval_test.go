package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// evalFixture holds the files of the eval tests: 300 MNIST training samples,
// 200 test samples, a forget list of 40 indices, and their arrays for
// independent checks.
type evalFixture struct {
	dir, train, test, forget string
	xTrain, xTest            []float32
	yTrain, yTest            []int64
	forgotten                []int
}

func newEvalFixture(t *testing.T) *evalFixture {
	t.Helper()
	f := &evalFixture{dir: t.TempDir()}
	read := func(spec string, n int) ([]float32, []int64) {
		src, err := dataset.Open(spec, dataset.Options{})
		testenv.Missing(t, "MNIST", err)
		defer dataset.Close(src)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		x, y := make([]float32, n*784), make([]int64, n)
		if err := src.Read(idx, x, y); err != nil {
			t.Fatal(err)
		}
		return x, y
	}
	f.xTrain, f.yTrain = read("mnist:train", 300)
	f.xTest, f.yTest = read("mnist:test", 200)
	f.train, f.test = filepath.Join(f.dir, "train.npz"), filepath.Join(f.dir, "test.npz")
	if err := dataset.WriteNPZ(f.train, f.xTrain, []int{784}, f.yTrain); err != nil {
		t.Fatal(err)
	}
	if err := dataset.WriteNPZ(f.test, f.xTest, []int{784}, f.yTest); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 0; i < 40; i++ {
		f.forgotten = append(f.forgotten, 7*i+3)
		fmt.Fprintln(&b, 7*i+3)
	}
	f.forget = filepath.Join(f.dir, "forget.txt")
	if err := os.WriteFile(f.forget, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// referenceMetrics computes accuracy and mean cross-entropy of a model on
// samples rows of x independently of eval: one Forward pass and a float64
// log-softmax written out here.
func referenceMetrics(t *testing.T, model string, x []float32, y []int64, rows []int) (acc, loss float64) {
	t.Helper()
	m, err := onnxio.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := autodiff.Compile(m, autodiff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sel := make([]float32, 0, len(rows)*784)
	for _, i := range rows {
		sel = append(sel, x[i*784:(i+1)*784]...)
	}
	out, _, err := prog.Forward(sel, []int{784}, len(rows))
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for k, i := range rows {
		z := out[k*10 : (k+1)*10]
		best, mx := 0, math.Inf(-1)
		for c, v := range z {
			if float64(v) > mx {
				best, mx = c, float64(v)
			}
		}
		if int64(best) == y[i] {
			correct++
		}
		var s float64
		for _, v := range z {
			s += math.Exp(float64(v) - mx)
		}
		loss += mx + math.Log(s) - float64(z[y[i]])
	}
	return float64(correct) / float64(len(rows)), loss / float64(len(rows))
}

func TestEvalMatchesIndependentComputation(t *testing.T) {
	f := newEvalFixture(t)
	model := fixture(t, "models/mlp.onnx")
	code, stdout, stderr := cli(t, "eval", model, "--data", f.train, "--forget", f.forget, "--test", f.test,
		"--original", fixture(t, "models/mlp.onnx"), "--json", "--batch-size", "64")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r lethe.EvalReport
	decodeJSON(t, stdout, &r)
	if r.Retained == nil || r.Forgotten == nil || r.Test == nil || r.MIALoss == nil || r.MIAPosterior == nil {
		t.Fatalf("incomplete report %s", stdout)
	}
	if r.Retained.N != 260 || r.Forgotten.N != 40 || r.Test.N != 200 || r.Classes != 10 {
		t.Errorf("counts %d/%d/%d, classes %d", r.Retained.N, r.Forgotten.N, r.Test.N, r.Classes)
	}
	retained := retainedIndices(300, f.forgotten)
	all := make([]int, 200)
	for i := range all {
		all[i] = i
	}
	for _, c := range []struct {
		name string
		got  *lethe.SplitMetrics
		x    []float32
		y    []int64
		rows []int
	}{
		{"retained", r.Retained, f.xTrain, f.yTrain, retained},
		{"forgotten", r.Forgotten, f.xTrain, f.yTrain, f.forgotten},
		{"test", r.Test, f.xTest, f.yTest, all},
	} {
		acc, loss := referenceMetrics(t, model, c.x, c.y, c.rows)
		// Same float32 logits up to summation order inside batches of
		// different size: the mean loss agrees to float32 rounding.
		if c.got.Accuracy != acc || math.Abs(c.got.Loss-loss) > 1e-5*math.Max(1, loss) {
			t.Errorf("%s: accuracy %v, loss %v; independently %v, %v", c.name, c.got.Accuracy, c.got.Loss, acc, loss)
		}
	}
	// 40 members against 200 non-members: balanced to 40 each, half scored.
	if r.MIALoss.Members != 20 || r.MIALoss.NonMembers != 20 || r.MIALoss.Attack != "loss-threshold" {
		t.Errorf("loss attack %+v", r.MIALoss)
	}
	if r.MIAPosterior.Attack != "unlearning-posterior" {
		t.Errorf("posterior attack %+v", r.MIAPosterior)
	}
	for _, a := range []*lethe.AttackMetrics{r.MIALoss, r.MIAPosterior} {
		if !(a.AUC >= 0 && a.AUC <= 1 && a.BalancedAccuracy >= 0 && a.BalancedAccuracy <= 1 && a.TPRAt1FPR >= 0 && a.TPRAt1FPR <= 1) {
			t.Errorf("scores outside [0, 1]: %+v", a)
		}
	}

	// The same run twice gives the same attack scores (seeded), and a
	// different --attack-seed a different split.
	_, again, _ := cli(t, "eval", model, "--data", f.train, "--forget", f.forget, "--test", f.test, "--json")
	var r2 lethe.EvalReport
	decodeJSON(t, again, &r2)
	if r2.MIALoss.AUC != r.MIALoss.AUC || r2.MIAPosterior != nil {
		t.Errorf("rerun: loss AUC %v vs %v; posterior %+v without --original", r2.MIALoss.AUC, r.MIALoss.AUC, r2.MIAPosterior)
	}
}

func TestEvalHumanOutput(t *testing.T) {
	f := newEvalFixture(t)
	code, stdout, stderr := cli(t, "eval", fixture(t, "models/mlp.onnx"), "--data", f.train, "--forget", f.forget, "--test", f.test)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"retained", "forgotten", "test", "loss-threshold", "give --original", "0.5 is chance"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// Without --forget and --test: accuracy on all of --data, no attacks.
	code, stdout, _ = cli(t, "eval", fixture(t, "models/mlp.onnx"), "--data", f.train)
	if code != 0 || !strings.Contains(stdout, "skipped") || !strings.Contains(stdout, "300") {
		t.Errorf("accuracy-only eval: exit %d\n%s", code, stdout)
	}
}

func TestEvalBadInput(t *testing.T) {
	f := newEvalFixture(t)
	model := fixture(t, "models/mlp.onnx")
	outOfRange := filepath.Join(f.dir, "range.txt")
	os.WriteFile(outOfRange, []byte("3\n300\n"), 0o644)
	wrongShape := filepath.Join(f.dir, "shape.npz")
	if err := dataset.WriteNPZ(wrongShape, make([]float32, 20*10), []int{10}, make([]int64, 20)); err != nil {
		t.Fatal(err)
	}
	badLabels := filepath.Join(f.dir, "labels.npz")
	y := make([]int64, 20)
	y[5] = 12 // the model has 10 outputs
	if err := dataset.WriteNPZ(badLabels, make([]float32, 20*784), []int{784}, y); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"forget index out of range", []string{"--forget", outOfRange, "--test", f.test}, "300"},
		{"test set of another shape", []string{"--forget", f.forget, "--test", wrongShape}, "does not fit"},
		{"label beyond the outputs", []string{"--test", badLabels}, "label 12"},
		{"original without forget", []string{"--original", model, "--test", f.test}, "--original"},
		{"missing test file", []string{"--forget", f.forget, "--test", filepath.Join(f.dir, "none.npz")}, "none.npz"},
		{"missing original", []string{"--forget", f.forget, "--test", f.test, "--original", filepath.Join(f.dir, "none.onnx")}, "none.onnx"},
		{"too few forgotten samples to attack", []string{"--forget", writeForget(t, f.dir, "3\n"), "--test", f.test}, "too few"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"eval", model, "--data", f.train}, tc.args...)
			code, stdout, stderr := cli(t, args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d (want 2), stderr %q lacks %q; stdout %q", code, stderr, tc.want, stdout)
			}
		})
	}
	if code, _, _ := cli(t, "eval", filepath.Join(f.dir, "none.onnx"), "--data", f.train); code != exitUsage {
		t.Errorf("missing model: exit %d, want 2", code)
	}
}

func writeForget(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "small.txt")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
