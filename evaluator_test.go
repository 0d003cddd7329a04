package lethe_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/internal/testenv"
)

// TestEvaluatorMeasuresLikeEvaluate checks that an Evaluator measures
// parameter vectors exactly as Evaluate measures the model they came from:
// the model's own parameters, given explicitly or not, and a retrained
// model's, read back from its file.
func TestEvaluatorMeasuresLikeEvaluate(t *testing.T) {
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	model := testenv.Testdata("models/mlp.onnx")
	forget := filepath.Join(dir, "forget.txt")
	os.WriteFile(forget, []byte("1\n8\n15\n22\n29\n36\n43\n50\n57\n64\n71\n78\n"), 0o644)
	req := lethe.EvalRequest{Model: model, Data: lethe.Data{Path: data}, Forget: lethe.Subset{File: forget},
		Test: lethe.Data{Path: data}, Original: model, AttackSeed: 3}
	ctx := context.Background()
	ev, err := lethe.NewEvaluator(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	report, err := lethe.Evaluate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	own, err := ev.Measure(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	given, err := ev.Measure(ctx, ev.Params())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*own, report.Metrics) || !reflect.DeepEqual(own, given) {
		t.Errorf("Measure(nil) %+v, Measure(Params()) %+v, Evaluate %+v", own, given, report.Metrics)
	}
	if r, f, n := ev.Sizes(); r != 288 || f != 12 || n != 300 || ev.Classes() != 10 {
		t.Errorf("sizes %d/%d/%d, classes %d", r, f, n, ev.Classes())
	}
	acc, err := ev.TestAccuracy(ctx, nil)
	if err != nil || acc != own.Test.Accuracy {
		t.Errorf("TestAccuracy %v (%v), Measure's %v", acc, err, own.Test.Accuracy)
	}
	// The original measured against itself: its own softmax, not a pair.
	orig, err := ev.MeasureOriginal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if orig.Test.Accuracy != own.Test.Accuracy || orig.MIAPosterior == nil || reflect.DeepEqual(orig.MIAPosterior, own.MIAPosterior) {
		t.Errorf("original %+v, own %+v", orig, own)
	}
	// A wrong-length vector is the caller's mistake.
	var in *lethe.InputError
	if _, err := ev.Measure(ctx, make([]float64, 3)); !errors.As(err, &in) {
		t.Errorf("3 parameters: %v", err)
	}
}

// TestVerifyCheckError checks that a failed check is a *CheckError naming
// it, returned with the report.
func TestVerifyCheckError(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	ctx := context.Background()
	a, err := lethe.Unlearn(ctx, request(t, dir, data, "a.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := lethe.Unlearn(ctx, request(t, dir, data, "b.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := lethe.Verify(ctx, lethe.VerifyRequest{Model: a.Out, Cert: b.CertPath})
	var failed *lethe.CheckError
	if !errors.As(err, &failed) || rep == nil || rep.OK || !reflect.DeepEqual(failed.Checks, rep.Failed()) {
		t.Fatalf("error %v, report %+v", err, rep)
	}
	for _, name := range []string{"output", "binding"} {
		if !contains(err.Error(), name) {
			t.Errorf("%q does not name %s", err, name)
		}
	}
	var in *lethe.InputError
	if _, err := lethe.Verify(ctx, lethe.VerifyRequest{Model: filepath.Join(dir, "none.onnx")}); !errors.As(err, &in) || in.Field != "Model" {
		t.Errorf("missing model: %v", err)
	}
}
