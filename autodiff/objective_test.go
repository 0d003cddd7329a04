package autodiff

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

func TestObjectiveAddsL2AndMapsSubsets(t *testing.T) {
	f := loadFixture(t, "mlp")
	p, err := Compile(f.model, Options{Precision: Float64})
	if err != nil {
		t.Fatal(err)
	}
	w0, err := f.model.ParamVector(p.Params())
	if err != nil {
		t.Fatal(err)
	}
	const mu = 0.01
	obj := &Objective{Program: p, Data: f.data, Index: []int{5, 1, 7}, L2: mu}
	if obj.Len() != 3 || obj.Dim() != len(w0) {
		t.Fatalf("Len %d, Dim %d", obj.Len(), obj.Dim())
	}
	w := make([]float64, len(w0))
	for i := range w {
		w[i] = 0.9 * w0[i]
	}
	g := make([]float64, len(w))
	loss, err := obj.Eval(context.Background(), w, []int{0, 2}, g)
	if err != nil {
		t.Fatal(err)
	}
	// The same value computed directly: samples 5 and 7 of the data, plus μ/2‖w‖².
	if err := p.SetParams(w); err != nil {
		t.Fatal(err)
	}
	g2 := make([]float64, len(w))
	l2, err := p.Gradient(context.Background(), f.data, []int{5, 7}, EvalOptions{}, g2)
	if err != nil {
		t.Fatal(err)
	}
	var sq float64
	for i, v := range w {
		sq += v * v
		g2[i] += mu * v
	}
	l2 += mu / 2 * sq
	// Both paths compute the same float64 sums in the same order.
	if math.Abs(loss-l2) > 1e-12 || relErr(g, g2) > 1e-12 {
		t.Fatalf("objective loss %.15g vs %.15g, gradient rel. error %.3g", loss, l2, relErr(g, g2))
	}
	v := make([]float64, len(w))
	v[3] = 1
	hv := make([]float64, len(w))
	if err := obj.HVP(context.Background(), w, nil, v, hv); err != nil {
		t.Fatal(err)
	}
	hv2 := make([]float64, len(w))
	if _, err := p.HVP(context.Background(), f.data, []int{5, 1, 7}, EvalOptions{}, v, hv2, nil); err != nil {
		t.Fatal(err)
	}
	hv2[3] += mu
	if relErr(hv, hv2) > 1e-12 {
		t.Fatalf("HVP with L2: relative error %.3g", relErr(hv, hv2))
	}
}

func TestFreshParamsFollowPyTorchDefaults(t *testing.T) {
	for _, c := range []struct {
		model string
		bound map[string]float64 // parameter → expected U(−b, b); 0 means constant
		value map[string]float64
	}{
		{"mlp", map[string]float64{"fc1.weight": 1 / math.Sqrt(784), "fc1.bias": 1 / math.Sqrt(784), "fc3.weight": 1 / math.Sqrt(32)}, nil},
		{"cnn_bn", nil, map[string]float64{"bn1.weight": 1, "bn1.bias": 0}},
	} {
		f := loadFixture(t, c.model)
		p, err := Compile(f.model, Options{})
		if err != nil {
			t.Fatal(err)
		}
		w := p.FreshParams(rand.New(rand.NewPCG(1, 1)))
		for _, q := range p.Params() {
			vals := w[q.Offset : q.Offset+q.Size]
			if b, ok := c.bound[q.Name]; ok {
				var hi float64
				for _, v := range vals {
					hi = max(hi, math.Abs(v))
				}
				// The largest of ≥ 10 uniform draws lies within (0.5b, b] with
				// probability > 1 − 2^−10.
				if hi > b || hi < b/2 {
					t.Errorf("%s %s: max |w| = %.4g, want U(−%.4g, %.4g)", c.model, q.Name, hi, b, b)
				}
			}
			if want, ok := c.value[q.Name]; ok {
				for _, v := range vals {
					if v != want {
						t.Fatalf("%s %s: %g, want constant %g", c.model, q.Name, v, want)
					}
				}
			}
		}
	}
}
