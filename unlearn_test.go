package lethe_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/unlearn"
)

// request is a fast, deterministic full-scope unlearning of 6 of 300 MNIST
// samples from the logistic-regression fixture (which ScopeAuto would
// certify in the convex scope: convex_test.go covers that).
func request(t *testing.T, dir, data, out string) lethe.UnlearnRequest {
	return lethe.UnlearnRequest{
		Model: logreg(t), Data: lethe.Data{Path: data}, Forget: lethe.Subset{Indices: []int{299, 3, 17, 42, 100, 200}},
		Out: filepath.Join(dir, out), Objective: lethe.Objective{Radius: 50, L2: new(0.01)}, Epsilon: 1, Delta: 1e-5,
		Scope: lethe.ScopeFull,
	}
}

// TestUnlearnThenVerify runs the library's pipeline end to end: the result
// carries the certificate written beside the model, the model's file holds
// the released parameters, the progress reaches the callback and nothing
// reaches stderr, and Verify passes.
func TestUnlearnThenVerify(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	req := request(t, dir, data, "out.onnx")
	var events []lethe.Event
	req.Progress = func(e lethe.Event) { events = append(events, e) }
	var res *lethe.UnlearnResult
	var err error
	if stderr := captureStderr(t, func() { res, err = lethe.Unlearn(context.Background(), req) }); stderr != "" {
		t.Errorf("Unlearn wrote to stderr: %q", stderr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !res.Certified || res.NForget != 6 || res.N != 300 || res.CertPath != lethe.CertPath(req.Out) || res.NoiseFree != nil {
		t.Fatalf("result %+v", res)
	}
	onDisk, err := certify.Read(res.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	if d1, _ := onDisk.Digest(); d1 == "" || !certEqual(t, onDisk, res.Certificate) {
		t.Error("the result's certificate is not the one written")
	}
	if res.Certificate.Forget.Digest != certify.DigestIndices([]int{3, 17, 42, 100, 200, 299}) {
		t.Errorf("forget digest %s", res.Certificate.Forget.Digest)
	}
	// The file holds the released parameters, rounded to float32.
	m, err := onnxio.Load(res.Out)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := m.Params(onnxio.ParamOptions{})
	w, _ := m.ParamVector(ps)
	for i := range w {
		if w[i] != float64(float32(res.Released[i])) {
			t.Fatalf("parameter %d: file %v, released %v", i, w[i], res.Released[i])
		}
	}
	var started, done bool
	for _, e := range events {
		started = started || e.Kind == lethe.EventStart && e.Step == "certified update"
		done = done || e.Kind == lethe.EventDone && e.Step == "certified update"
	}
	if !started || !done {
		t.Errorf("progress events %+v lack the certified update's start and end", events)
	}
	rep, err := lethe.Verify(context.Background(), lethe.VerifyRequest{Model: res.Out, Input: req.Model, Data: req.Data})
	if err != nil || !rep.OK || rep.Status != certify.StatusCertified {
		t.Fatalf("verify: %v\n%+v", err, rep)
	}
}

// certEqual compares two certificates by their canonical encoding.
func certEqual(t *testing.T, a, b *certify.Certificate) bool {
	t.Helper()
	ca, err := a.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	return string(ca) == string(cb)
}

// TestLambdaZeroIsExact checks that an explicit λ = 0 is used as given
// (DESIGN.md §5), not replaced by the automatic choice, and that nil is the
// automatic choice.
func TestLambdaZeroIsExact(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	zero := request(t, dir, data, "zero.onnx")
	zero.Lambda = new(0.0)
	res, err := lethe.Unlearn(context.Background(), zero)
	if err != nil {
		t.Fatal(err)
	}
	if b := res.Certificate.Bound; b.Lambda != 0 || b.LambdaAuto || res.Lambda != 0 {
		t.Errorf("explicit λ = 0: certificate λ = %v (auto %v)", b.Lambda, b.LambdaAuto)
	}
	auto, err := lethe.Unlearn(context.Background(), request(t, dir, data, "auto.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if !auto.Certificate.Bound.LambdaAuto {
		t.Errorf("no λ given: not chosen automatically")
	}
}

// TestKeepNoiseFree checks that the noise-free point is returned only on
// request, that the released parameters are it plus noise of the
// certified σ, and that the noise is seeded when asked.
func TestKeepNoiseFree(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	req := request(t, dir, data, "a.onnx")
	req.KeepNoiseFree = true
	req.Seed = new(uint64(7))
	var warned bool
	req.Progress = func(e lethe.Event) {
		warned = warned || e.Kind == lethe.EventWarning && e.Message == certify.SeedWarning
	}
	a, err := lethe.Unlearn(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !warned || a.Certified || a.Status != certify.StatusSeeded {
		t.Errorf("seeded noise: warned %v, certified %v, status %q", warned, a.Certified, a.Status)
	}
	noise := make([]float64, len(a.Released))
	for i := range noise {
		noise[i] = a.Released[i] - a.NoiseFree[i]
	}
	// ‖Y‖²/σ² is χ² with P degrees of freedom: within 6 standard
	// deviations (√(2P)) of P.
	P := float64(len(noise))
	chi2 := math.Pow(unlearn.Norm(noise)/a.Sigma, 2)
	if math.Abs(chi2-P) > 6*math.Sqrt(2*P) {
		t.Errorf("‖Y‖²/σ² = %.1f for P = %v", chi2, P)
	}
	req.Out = filepath.Join(dir, "b.onnx")
	b, err := lethe.Unlearn(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Released, b.Released) {
		t.Error("the same seed drew different noise")
	}
}

// TestInputErrors checks that each kind of bad input is an *InputError
// naming the field, with a message naming the file and sample at fault,
// found before any output is written.
func TestInputErrors(t *testing.T) {
	dir := t.TempDir()
	data, x, y := mnistSubset(t, dir, 300)
	nan := slices.Clone(x)
	nan[5*784+3] = float32(math.NaN())
	nanData := filepath.Join(dir, "nan.npz")
	if err := writeNPZ(nanData, nan, y); err != nil {
		t.Fatal(err)
	}
	labels := slices.Clone(y)
	labels[7] = 12
	labelData := filepath.Join(dir, "labels.npz")
	if err := writeNPZ(labelData, x, labels); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		edit  func(*lethe.UnlearnRequest)
		field string
		words []string
	}{
		{"no model", func(r *lethe.UnlearnRequest) { r.Model = "" }, "Model", nil},
		{"missing model", func(r *lethe.UnlearnRequest) { r.Model = filepath.Join(dir, "none.onnx") }, "Model", []string{"none.onnx"}},
		{"no delta", func(r *lethe.UnlearnRequest) { r.Delta = 0 }, "Delta", nil},
		{"negative lambda", func(r *lethe.UnlearnRequest) { r.Lambda = new(-1.0) }, "Lambda", nil},
		{"epsilon and sigma", func(r *lethe.UnlearnRequest) { r.Sigma = 0.1 }, "Epsilon", nil},
		{"output over the model", func(r *lethe.UnlearnRequest) { r.Out = r.Model }, "Out", []string{"logreg.onnx"}},
		{"forget index out of range", func(r *lethe.UnlearnRequest) { r.Forget.Indices = []int{3, 300} }, "Forget", []string{"300", "out of range"}},
		{"NaN feature", func(r *lethe.UnlearnRequest) { r.Data.Path = nanData }, "Data.Path", []string{"nan.npz", "sample 5"}},
		{"label beyond the outputs", func(r *lethe.UnlearnRequest) { r.Data.Path = labelData }, "Data", []string{"labels.npz", "sample 7", "label 12"}},
		{"outside the ball", func(r *lethe.UnlearnRequest) { r.Objective.Radius = 0.01 }, "Objective.Radius", []string{"lethe constrain"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := request(t, dir, data, "out.onnx")
			c.edit(&req)
			_, err := lethe.Unlearn(context.Background(), req)
			var in *lethe.InputError
			if !errors.As(err, &in) || in.Field != c.field {
				t.Fatalf("error %v (%T); want an *InputError for %s", err, err, c.field)
			}
			for _, w := range c.words {
				if !contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "out.onnx")); err == nil {
				t.Fatal("out.onnx was written")
			}
		})
	}
}

// TestNoNoiseNeedsNoPrivacyParameters checks that NoNoise asks for no ε
// and no δ.
func TestNoNoiseNeedsNoPrivacyParameters(t *testing.T) {
	dir := t.TempDir()
	req := lethe.UnlearnRequest{Model: "m.onnx", Data: lethe.Data{Path: "d.npz"}, Forget: lethe.Subset{Indices: []int{1}},
		Out: filepath.Join(dir, "o.onnx"), NoNoise: true}
	if err := req.Validate(); err != nil {
		t.Errorf("NoNoise without ε and δ: %v", err)
	}
	req.NoNoise = false
	var in *lethe.InputError
	if err := req.Validate(); !errors.As(err, &in) || in.Field != "Delta" {
		t.Errorf("without NoNoise, no δ: %v", err)
	}
}
