package autodiff

import (
	"context"
	"testing"

	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// TestFinalSoftmaxUsesLogits: a model whose last node is Softmax gets the
// cross-entropy of the logits feeding it, not the log of its probabilities,
// so its gradient equals the same model's without the Softmax.
func TestFinalSoftmaxUsesLogits(t *testing.T) {
	w := []float32{0.5, -1, 2, 0.25, -0.75, 1.5}
	build := func(softmax bool) *onnxio.Model {
		b := onnxtest.New(8, 13).Input("x", onnxio.Float, -1, 2).
			Float("w", []int64{3, 2}, w, onnxtest.Raw).
			Node("Gemm", []string{"x", "w"}, []string{"logits"}, onnxtest.Int("transB", 1))
		out := "logits"
		if softmax {
			b.Node("Softmax", []string{"logits"}, []string{"probs"}, onnxtest.Int("axis", -1))
			out = "probs"
		}
		m, err := onnxio.Decode(b.Output(out, onnxio.Float, -1, 3).Bytes(), onnxio.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	data := &labelled{x: []float32{1, 2, -1, 0.5, 3, -2}, shape: []int{2}, y: []int64{0, 2, 1}}
	grads := make([][]float64, 2)
	for i, softmax := range []bool{false, true} {
		p, err := Compile(build(softmax), Options{Precision: Float64})
		if err != nil {
			t.Fatal(err)
		}
		if p.FinalSoftmax() != softmax {
			t.Fatalf("FinalSoftmax() = %v for softmax=%v", p.FinalSoftmax(), softmax)
		}
		grads[i] = make([]float64, p.Dim())
		if _, err := p.Gradient(context.Background(), data, nil, EvalOptions{}, grads[i]); err != nil {
			t.Fatal(err)
		}
	}
	// Identical arithmetic on both paths.
	if e := relErr(grads[1], grads[0]); e > 1e-15 {
		t.Fatalf("gradient through the final Softmax differs from the logits' gradient: rel. error %.3g", e)
	}
}
