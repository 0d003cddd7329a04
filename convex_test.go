package lethe_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
	"github.com/lethe-ml/lethe/unlearn"
)

// convexRequest unlearns 6 of 300 MNIST samples with the default scope.
func convexRequest(t *testing.T, model, dir, data, out string) lethe.UnlearnRequest {
	return lethe.UnlearnRequest{
		Model: model, Data: lethe.Data{Path: data}, Forget: lethe.Subset{Indices: []int{299, 3, 17, 42, 100, 200}},
		Out: filepath.Join(dir, out), Objective: lethe.Objective{L2: new(0.01)}, Epsilon: 1, Delta: 1e-5,
	}
}

// TestConvexScopeLinearModel: ScopeAuto certifies a linear model in the
// convex scope, without a radius; the released point is within the budget
// of the exactly retrained minimiser, σ is calibrated to the budget, and
// Verify re-proves the scope and passes.
func TestConvexScopeLinearModel(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	req := convexRequest(t, logreg(t), dir, data, "out.onnx")
	req.KeepNoiseFree = true
	res, err := lethe.Unlearn(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Certificate
	if res.Scope != "convex" || c.Scope != certify.ScopeConvex || !res.Certified || res.Budget != lethe.DefaultBudget ||
		res.Sensitivity != res.Budget || res.PosteriorBound > res.Budget || res.ActiveBound != "posterior" {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(res.ScopeReason, "affinely") || c.FrozenParameters.Count != 0 || c.CertifiedParameters.Count != 7850 {
		t.Fatalf("scope %q, certified %+v, frozen %+v", res.ScopeReason, c.CertifiedParameters, c.FrozenParameters)
	}
	want, err := certify.Sigma(certify.Analytic, lethe.DefaultBudget, 1, 1e-5)
	if err != nil || res.Sigma != want {
		t.Fatalf("σ = %g, want σ(budget) = %g (%v)", res.Sigma, want, err)
	}
	// The noise-free point is within the bound of the exact retrain.
	retrained := exactRetrain(t, logreg(t), data, req.Forget.Indices, 0.01)
	if d := unlearn.Distance(res.NoiseFree, retrained); d > res.PosteriorBound {
		t.Fatalf("‖w̃ − w̃*‖ = %.3g exceeds the posterior bound %.3g", d, res.PosteriorBound)
	}
	rep, err := lethe.Verify(context.Background(), lethe.VerifyRequest{Model: res.Out, Input: req.Model})
	if err != nil {
		t.Fatalf("%v\n%+v", err, rep)
	}
	for _, name := range []string{"convexity", "frozen", "sigma", "parity"} {
		if !hasCheck(rep, name, lethe.CheckPass) {
			t.Errorf("verify: no passing %s check: %+v", name, rep.Checks)
		}
	}
	if !hasCheck(rep, "posterior", lethe.CheckSkip) {
		t.Errorf("verify must say the posterior bound is taken on trust: %+v", rep.Checks)
	}
}

// exactRetrain minimises the retained objective of model (all parameters)
// by Newton to ‖∇‖ < 1e-10, in float64.
func exactRetrain(t *testing.T, model, data string, forget []int, mu float64) []float64 {
	t.Helper()
	m, err := onnxio.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	p, err := autodiff.Compile(m, autodiff.Options{Precision: autodiff.Float64})
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(data, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dataset.Close(src)
	obj := &autodiff.Objective{Program: p, Data: dataset.Without(src, forget), L2: mu}
	zero := func(context.Context, []float64) (float64, error) { return 0, nil }
	res, err := unlearn.NewtonToBudget(context.Background(), obj, make([]float64, p.Dim()), unlearn.BudgetOptions{
		Mu: mu, Budget: 1e-10 / mu, Margin: zero, MaxSteps: 100})
	if err != nil || !res.Reached {
		t.Fatalf("exact retrain: reached %v, %v", res != nil && res.Reached, err)
	}
	return res.W
}

func hasCheck(r *lethe.VerifyReport, name, status string) bool {
	for _, c := range r.Checks {
		if c.Name == name && c.Status == status {
			return true
		}
	}
	return false
}

// TestHeadScopeFreezesTheBackbone: ScopeHead certifies the MLP fixture's
// last layer only; the backbone is written back unchanged, the certificate
// names it frozen with its digest, and Verify catches a changed backbone.
func TestHeadScopeFreezesTheBackbone(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	model := testenv.Testdata("models/mlp.onnx")
	req := convexRequest(t, model, dir, data, "head.onnx")
	req.Scope, req.KeepNoiseFree = lethe.ScopeHead, true
	res, err := lethe.Unlearn(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Certificate
	// Renoised perturbs the certified coordinates (the last 330: fc3's
	// weight and bias come last in parameter order) and nothing else.
	again, err := res.Renoised(0.5)
	if err != nil {
		t.Fatal(err)
	}
	n := len(again)
	if !equalFloats(again[:n-330], res.NoiseFree[:n-330]) || equalFloats(again[n-330:], res.NoiseFree[n-330:]) {
		t.Fatal("Renoised must perturb exactly the certified parameters")
	}
	if c.Scope != certify.ScopeConvex || len(c.FrozenParameters.Names) == 0 || c.Features.Engine != certify.FeaturesNative {
		t.Fatalf("certificate scope %q, frozen %v, features %+v", c.Scope, c.FrozenParameters, c.Features)
	}
	in, out := loadParams(t, model), loadParams(t, res.Out)
	for _, name := range c.FrozenParameters.Names {
		if !equalFloats(in[name], out[name]) {
			t.Errorf("frozen parameter %s changed", name)
		}
	}
	for _, name := range c.CertifiedParameters.Names {
		if equalFloats(in[name], out[name]) {
			t.Errorf("certified parameter %s unchanged", name)
		}
	}
	// A changed backbone no longer matches the certificate.
	m, err := onnxio.Load(res.Out)
	if err != nil {
		t.Fatal(err)
	}
	name := c.FrozenParameters.Names[0]
	vals := make([]float32, len(out[name]))
	for i, v := range out[name] {
		vals[i] = float32(v) * 1.01
	}
	if err := m.SetInitializer(name, vals); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(dir, "tampered.onnx")
	if err := m.Save(tampered); err != nil {
		t.Fatal(err)
	}
	rep, err := lethe.Verify(context.Background(), lethe.VerifyRequest{Model: tampered, Cert: res.CertPath})
	var ce *lethe.CheckError
	if !errors.As(err, &ce) || !hasCheck(rep, "frozen", lethe.CheckFail) {
		t.Fatalf("a changed backbone verified: %v", err)
	}
}

func loadParams(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	m, err := onnxio.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, init := range m.Graph().Initializers {
		v, err := init.Float64s()
		if err == nil {
			out[init.Name] = v
		}
	}
	return out
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHeadScopeWithOnnxruntimeBackbone: the head scope certifies a
// PyTorch-exported model whose LSTM backbone lethe's engine cannot run; the
// features come from onnxruntime and Verify re-checks parity the same way.
func TestHeadScopeWithOnnxruntimeBackbone(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	x, y := randomSamples(400, []int{5, 4}, 3)
	data := filepath.Join(dir, "seq.npz")
	if err := dataset.WriteNPZ(data, x, []int{5, 4}, y); err != nil {
		t.Fatal(err)
	}
	req := convexRequest(t, testenv.Testdata("models/lstm_head.onnx"), dir, data, "lstm.onnx")
	req.Scope = lethe.ScopeHead
	res, err := lethe.Unlearn(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.FeatureEngine != certify.FeaturesOnnxruntime || !res.Certified || res.CertifiedParameters != 27 {
		t.Fatalf("result %+v", res)
	}
	rep, err := lethe.Verify(context.Background(), lethe.VerifyRequest{Model: res.Out, Data: lethe.Data{Path: data}})
	if err != nil {
		t.Fatalf("%v: %+v", err, rep.Checks)
	}
}

// randomSamples returns n standard-normal-ish samples and labels below k,
// from a fixed generator.
func randomSamples(n int, shape []int, k int64) ([]float32, []int64) {
	size := 1
	for _, d := range shape {
		size *= d
	}
	x := make([]float32, n*size)
	y := make([]int64, n)
	s := uint64(1)
	next := func() uint64 { s = s*6364136223846793005 + 1442695040888963407; return s >> 33 }
	for i := range x {
		x[i] = float32(int64(next()%2001)-1000) / 500
	}
	for i := range y {
		y[i] = int64(next()) % k
	}
	return x, y
}

// TestScopeAutoExplainsFull: ScopeAuto on a network certifies every
// parameter in the full scope and names the node that breaks convexity.
func TestScopeAutoExplainsFull(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	req := convexRequest(t, testenv.Testdata("models/mlp.onnx"), dir, data, "mlp.onnx")
	req.Objective.Radius = 50
	req.Lambda = new(1.0)
	res, err := lethe.Unlearn(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Scope != "full" || !strings.Contains(res.ScopeReason, "Relu") || res.Budget != 100 || res.Sensitivity != 100 {
		t.Fatalf("scope %q (%s), budget %g, Δ %g", res.Scope, res.ScopeReason, res.Budget, res.Sensitivity)
	}
}

// TestConvexFallsBackToRetraining: when the Newton steps from w* cannot
// reach the budget (here: one step allowed and a tight budget), the
// certified parameters are retrained from zeros until they do, and the
// certificate says so.
func TestConvexFallsBackToRetraining(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	req := convexRequest(t, logreg(t), dir, data, "fallback.onnx")
	req.MaxNewtonSteps, req.Budget = 1, 1e-6
	res, err := lethe.Unlearn(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	p := res.Certificate.Bound.Posterior
	if res.Start != string(certify.StartRetrainZeros) || p.Start != certify.StartRetrainZeros || p.Value > 1e-6 || !res.Certified {
		t.Fatalf("start %q, bound %+v", res.Start, p)
	}
	if _, err := lethe.Verify(context.Background(), lethe.VerifyRequest{Model: res.Out}); err != nil {
		t.Fatal(err)
	}
}

// TestScopeRefusals: the head scope needs μ > 0 and an affine last layer,
// and names the field or the node otherwise; nothing is written.
func TestScopeRefusals(t *testing.T) {
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 50)
	relu := filepath.Join(dir, "relu.onnx")
	w := make([]float32, 784*10)
	err := onnxtest.New(8, 13).Input("x", onnxio.Float, -1, 784).Output("y", onnxio.Float, -1, 10).
		Float("W", []int64{784, 10}, w, onnxtest.Raw).
		Node("MatMul", []string{"x", "W"}, []string{"z"}).Node("Relu", []string{"z"}, []string{"y"}).Write(relu)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		edit  func(*lethe.UnlearnRequest)
		field string
		want  string
	}{
		{"no L2", func(r *lethe.UnlearnRequest) { r.Objective.L2 = new(0.0) }, "Objective.L2", "μ > 0"},
		{"last layer not affine", func(r *lethe.UnlearnRequest) { r.Model = relu }, "Scope", "Relu"},
		{"frozen head", func(r *lethe.UnlearnRequest) { r.Engine.Freeze = []string{"*"} }, "Engine.Freeze", "head"},
		{"unknown scope", func(r *lethe.UnlearnRequest) { r.Scope = "everything" }, "Scope", "auto, full or head"},
		{"negative budget", func(r *lethe.UnlearnRequest) { r.Budget = -1 }, "Budget", "Δ_max"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := convexRequest(t, testenv.Testdata("models/mlp.onnx"), dir, data, "refused.onnx")
			req.Scope = lethe.ScopeHead
			c.edit(&req)
			_, err := lethe.Unlearn(context.Background(), req)
			var in *lethe.InputError
			if !errors.As(err, &in) || in.Field != c.field || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want an *InputError on %s mentioning %q", err, c.field, c.want)
			}
			if _, err := os.Stat(req.Out); err == nil {
				t.Fatal("a refused request wrote its output")
			}
		})
	}
}

// TestAffineOpsAgree: every op the convexity pass accepts is one a
// certificate may record.
func TestAffineOpsAgree(t *testing.T) {
	for _, op := range autodiff.AffineOps() {
		if !contains(strings.Join(certify.AffineOps(), " "), op) {
			t.Errorf("autodiff accepts %s, certify does not", op)
		}
	}
}

// TestFullScopeOnAConvexModel: asked for the full scope on a model whose
// objective is proven strongly convex, the automatic λ is exactly 0 (no
// damping of a problem that needs none), and the summary says why.
func TestFullScopeOnAConvexModel(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	res, err := lethe.Unlearn(context.Background(), request(t, dir, data, "full.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	b := res.Certificate.Bound
	if res.Lambda != 0 || b.Lambda != 0 || !b.LambdaAuto || !strings.Contains(res.ScopeReason, "strongly convex") {
		t.Fatalf("λ = %g (auto %v), reason %q", res.Lambda, b.LambdaAuto, res.ScopeReason)
	}
}
