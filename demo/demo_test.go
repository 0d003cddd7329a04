package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// requireMNIST reports MNIST missing (a failure under `make test`).
func requireMNIST(t *testing.T) {
	t.Helper()
	src, err := dataset.Open("mnist:train", dataset.Options{})
	testenv.Missing(t, "MNIST", err)
	dataset.Close(src)
}

// requireORT reports onnxruntime missing (a failure under `make test`).
func requireORT(t *testing.T) {
	t.Helper()
	testenv.Missing(t, "onnxruntime shared library", ort.Init())
}

// fixture returns the path of a file under testdata/.
func fixture(t *testing.T, name string) string {
	t.Helper()
	p := testenv.Testdata(name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v (made by testdata/gen_fixtures.py)", name, err)
	}
	return p
}

// quickOptions runs the quick demo on the MLP fixture (not a constrained
// optimum, so the theorem's premise fails and Δ = 2C: the pipeline is what
// is tested) into dir.
func quickOptions(t *testing.T, dir string) Options {
	return Options{Quick: true, Model: fixture(t, "models/mlp.onnx"), Radius: 20, L2: new(5e-4), Out: dir,
		ForgetSeed: DefaultForgetSeed, AttackSeed: 1}
}

// validateSchema checks v's JSON encoding against schemas/demo.schema.json,
// the schema of `lethe demo --json`.
func validateSchema(t *testing.T, v any) {
	t.Helper()
	url := "https://github.com/lethe-ml/lethe/schemas/demo.schema.json"
	f, err := os.Open(filepath.Join(testenv.RepoRoot(), "schemas", "demo.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("the result does not validate against demo.schema.json: %v", err)
	}
}

// demoQuick runs the quick demo into a fresh folder and returns it with
// the result, as its JSON encoding reads back.
func demoQuick(t *testing.T) (string, Result) {
	t.Helper()
	requireORT(t)
	requireMNIST(t)
	dir := filepath.Join(t.TempDir(), "demo") // created by Run
	r, err := Run(context.Background(), quickOptions(t, dir))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	validateSchema(t, r)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return dir, res
}

func TestDemoQuick(t *testing.T) {
	dir, res := demoQuick(t)
	if res.N != QuickTrain || res.NForget != QuickForget || res.NTest != QuickTest {
		t.Errorf("sizes %d/%d/%d", res.N, res.NForget, res.NTest)
	}
	if !res.Certified || res.Status != certify.StatusCertified || res.Verify == nil || !res.Verify.OK {
		t.Errorf("status %q, certified %v, verify %+v", res.Status, res.Certified, res.Verify)
	}
	if res.RadiusSource != "--radius" || res.Radius != 20 || res.L2 != 5e-4 || res.Retrain.Epochs != 1 {
		t.Errorf("C %v (%s), μ %v, recipe %+v", res.Radius, res.RadiusSource, res.L2, res.Retrain)
	}
	want := []string{"original", "retrain (reference)", "lethe certified", "lethe fixed σ, ε = ", "lethe noise-free (not certified)"}
	if len(res.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(res.Rows), len(want))
	}
	for i, row := range res.Rows {
		if !strings.HasPrefix(row.Method, want[i]) {
			t.Errorf("row %d is %q, want %q", i, row.Method, want[i])
		}
		m := row.Metrics
		if m == nil || m.Retained == nil || m.Forgotten == nil || m.Test == nil || m.MIALoss == nil || m.MIAPosterior == nil || row.DistanceToRetrain == nil {
			t.Fatalf("row %q not fully measured: %+v", row.Method, row)
		}
	}
	cert, fixed := res.Rows[2], res.Rows[3]
	if !cert.Certified || cert.Epsilon == nil || *cert.Epsilon != 1 || cert.Sigma == nil || cert.Sensitivity == nil {
		t.Fatalf("certified row %+v", cert)
	}
	// Δ = 2C: the fixture is not stationary, so only the trivial bound holds.
	if *cert.Sensitivity != 40 || cert.ActiveBound != string(certify.ActiveTrivial) {
		t.Errorf("Δ = %v (%s), want 2C = 40 (trivial)", *cert.Sensitivity, cert.ActiveBound)
	}
	// The fixed-σ row's ε is derived from σ = 0.001 and the same Δ and δ.
	eps, err := certify.EpsilonForSigma(certify.Analytic, PaperSigma, *cert.Sensitivity, 1e-5)
	if err != nil || fixed.Epsilon == nil || *fixed.Epsilon != eps || fixed.Certified {
		t.Errorf("fixed σ row %+v, derived ε %v (%v)", fixed, eps, err)
	}
	if *res.Rows[1].DistanceToRetrain != 0 {
		t.Errorf("retrain's distance to itself is %v", *res.Rows[1].DistanceToRetrain)
	}
	// The curve: one point per ε, σ decreasing as ε grows.
	if len(res.Privacy) != len(epsilons) {
		t.Fatalf("%d privacy points", len(res.Privacy))
	}
	for i, p := range res.Privacy {
		s, _ := certify.Sigma(certify.Analytic, 40, epsilons[i], 1e-5)
		if p.Epsilon != epsilons[i] || p.Sigma != s || (i > 0 && !(p.Sigma < res.Privacy[i-1].Sigma)) {
			t.Errorf("point %d: %+v (σ(ε) = %v)", i, p, s)
		}
	}

	for _, f := range []string{"forget.txt", "mlp-unlearned.onnx", "mlp-unlearned.cert.json", "mlp-retrained.onnx",
		tableFile, jsonFile, reportFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, f := range []string{privacyPNG, rocLossPNG, rocPosteriorPNG} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		img := decodeDemoPNG(t, data)
		if n := distinctColours(img); n < 16 {
			t.Errorf("%s has %d colours: blank?", f, n)
		}
	}
	table, _ := os.ReadFile(filepath.Join(dir, tableFile))
	for _, want := range []string{"| method", "MIA AUC (loss)", "Δ (active bound)", "lethe certified", "40 (trivial)", "Certificate assumption"} {
		if !bytes.Contains(table, []byte(want)) {
			t.Errorf("%s lacks %q", tableFile, want)
		}
	}

	// The released model passes lethe verify on its own, and lethe eval
	// reads it with the demo's forget list.
	out := filepath.Join(dir, "mlp-unlearned.onnx")
	ctx := context.Background()
	if rep, err := lethe.Verify(ctx, lethe.VerifyRequest{Model: out, Input: fixture(t, "models/mlp.onnx")}); err != nil {
		t.Errorf("verify: %v\n%+v", err, rep)
	}
	ev, err := lethe.Evaluate(ctx, lethe.EvalRequest{Model: out, Data: lethe.Data{Path: filepath.Join(dir, "train.npz")},
		Forget: lethe.Subset{File: filepath.Join(dir, "forget.txt")}, Test: lethe.Data{Path: filepath.Join(dir, "test.npz")},
		Original: fixture(t, "models/mlp.onnx"), AttackSeed: 1})
	if err != nil {
		t.Fatalf("eval of the released model: %v", err)
	}
	// Same model, same samples, same attack seed: the same numbers as the
	// demo's certified row.
	if ev.Test.Accuracy != cert.Metrics.Test.Accuracy || ev.MIALoss.AUC != cert.Metrics.MIALoss.AUC || ev.MIAPosterior.AUC != cert.Metrics.MIAPosterior.AUC {
		t.Errorf("eval of the released model: test %v, AUCs %v/%v; the demo measured %v, %v/%v",
			ev.Test.Accuracy, ev.MIALoss.AUC, ev.MIAPosterior.AUC, cert.Metrics.Test.Accuracy, cert.Metrics.MIALoss.AUC, cert.Metrics.MIAPosterior.AUC)
	}
}

func decodeDemoPNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("image is %v", b)
	}
	return img
}

func distinctColours(img image.Image) int {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}] = true
		}
	}
	return len(seen)
}

// TestDemoReportInChromium opens the quick demo's HTML report in headless
// Chromium (screenshot and DOM dump in one run, through testenv.Chromium)
// and checks that it loads without console messages, holds the
// results table with every row and the three figures, and renders them.
func TestDemoReportInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	dir, res := demoQuick(t)
	dom, data := testenv.Chromium(t, filepath.Join(dir, reportFile), "1200,2400")
	for _, want := range []string{`id="results"`, "retrain (reference)", "lethe certified (ε = 1", "lethe noise-free (not certified)",
		"Notes and assumptions", "Certificate assumption", res.Unlearned} {
		if !strings.Contains(dom, want) {
			t.Errorf("DOM lacks %q", want)
		}
	}
	if n := strings.Count(dom, "<img "); n != 3 {
		t.Errorf("DOM holds %d images, want 3", n)
	}
	if keep := os.Getenv("LETHE_DEMO_SCREENSHOT"); keep != "" {
		os.WriteFile(keep, data, 0o644)
	}
	img := decodeDemoPNG(t, data)
	// Text, table shading and plots give thousands of colours; a blank page
	// one. The table header's shading (#e8f0f8) must be visible.
	if n := distinctColours(img); n < 64 {
		t.Errorf("screenshot has only %d colours", n)
	}
	header := false
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && !header; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 == 0xE8 && g>>8 == 0xF0 && bl>>8 == 0xF8 {
				header = true
				break
			}
		}
	}
	if !header {
		t.Error("screenshot lacks the results table's header shading")
	}
}

// TestDemoReproduceQuick runs --reproduce on two fixtures (an MLP on MNIST,
// logistic regression on Fashion-MNIST: the plumbing is tested, and a CNN's
// Hessian-vector products would take a minute even on 570 samples) and
// checks REPRODUCTION.md and its plots.
func TestDemoReproduceQuick(t *testing.T) {
	requireORT(t)
	requireMNIST(t)
	src, err := dataset.Open("fashion-mnist:test", dataset.Options{})
	testenv.Missing(t, "Fashion-MNIST", err)
	dataset.Close(src)
	out, work := filepath.Join(t.TempDir(), "results"), filepath.Join(t.TempDir(), "work")
	o := Options{Quick: true, Radius: 20, L2: new(5e-4), Out: out, Work: work, ForgetSeed: DefaultForgetSeed, AttackSeed: 1,
		Setups: []Setup{
			{Name: "MNIST MLP", Slug: "mlp", Model: fixture(t, "models/mlp.onnx"), Train: "mnist:train", Test: "mnist:test", Baselines: true},
			{Name: "Fashion-MNIST logreg", Slug: "logreg", Model: fixture(t, "models/logreg.onnx"), Train: "fashion-mnist:train", Test: "fashion-mnist:test", Baselines: true},
		}}
	rep, err := Reproduce(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, reproductionFile))
	if err != nil {
		t.Fatal(err)
	}
	validateSchema(t, rep.Results)
	if !bytes.Equal(md, rep.Markdown) || len(rep.Results) != 2 {
		t.Errorf("the reproduction returned differs from %s, or has %d results", reproductionFile, len(rep.Results))
	}
	// One section per model, each with every row and the curve's table.
	for want, n := range map[string]int{"## MNIST MLP": 1, "## Fashion-MNIST logreg": 1, "| original": 2, "| retrain (reference)": 2,
		"| lethe certified": 2, "| lethe fixed σ, ε = ": 2, "| lethe noise-free (not certified)": 2, "| fine-tune (not certified)": 2,
		"| negative gradient (not certified)": 2, "Privacy–utility": 2} {
		if c := strings.Count(string(md), want); c != n {
			t.Errorf("%s holds %q %d times, want %d", reproductionFile, want, c, n)
		}
	}
	for _, slug := range []string{"mlp", "logreg"} {
		for _, f := range []string{privacyPNG, rocLossPNG, rocPosteriorPNG} {
			if _, err := os.Stat(filepath.Join(out, slug+"_"+f)); err != nil {
				t.Error(err)
			}
		}
		// Models and certificates stay out of the results folder.
		if _, err := os.Stat(filepath.Join(work, slug, slug+"-unlearned.cert.json")); err != nil {
			t.Error(err)
		}
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext != ".md" && ext != ".png" {
			t.Errorf("results folder holds %s", e.Name())
		}
	}
}
