package autodiff

import (
	"slices"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// TestLastAffineLayerPyTorch: on every PyTorch export of the repository the
// head found is the module's last nn.Linear (exported as Gemm, or as MatMul
// with a pre-transposed weight and Add), and ProveAffine accepts it with the
// head's input as the feature cut.
func TestLastAffineLayerPyTorch(t *testing.T) {
	cases := []struct {
		model    string
		head     []string
		features []string
	}{
		{"testdata/models/logreg.onnx", []string{"linear.weight", "linear.bias"}, []string{"x"}},
		{"testdata/models/mlp.onnx", []string{"fc3.weight", "fc3.bias"}, []string{"/Relu_1_output_0"}},
		{"testdata/models/cnn_bn.onnx", []string{"fc.weight", "fc.bias"}, []string{"/Flatten_output_0"}},
		{"testdata/models/cnn_folded.onnx", []string{"out.weight", "out.bias"}, []string{"/Relu_5_output_0"}},
		{"testdata/models/resblock.onnx", []string{"fc.weight", "fc.bias"}, []string{"/Flatten_output_0"}},
		{"testdata/models/transformer.onnx", []string{"fc.weight", "fc.bias"}, []string{"/ReduceMean_output_0"}},
		{"testdata/models/lstm_head.onnx", []string{"fc.weight", "fc.bias"}, []string{"/Gather_output_0"}},
		{"testdata/models/convt_head.onnx", []string{"fc.bias", "onnx::MatMul_19"}, []string{"/Reshape_output_0"}},
		{"models/mnist_mlp.onnx", []string{"layers.4.weight", "layers.4.bias"}, []string{"/layers/layers.3/Relu_output_0"}},
		{"models/fashion_cnn.onnx", []string{"fc.weight", "fc.bias"}, []string{"/Flatten_output_0"}},
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			m := loadModel(t, c.model)
			for _, loss := range []Loss{CrossEntropy, MSE, BCE} {
				head, err := LastAffineLayer(m, loss)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(head, c.head) {
					t.Fatalf("%v: head %q, want %q", loss, head, c.head)
				}
				p, err := ProveAffine(m, head, loss)
				if err != nil {
					t.Fatalf("%v: %v", loss, err)
				}
				if !slices.Equal(p.Features, c.features) {
					t.Fatalf("%v: features %q, want %q", loss, p.Features, c.features)
				}
			}
		})
	}
}

func TestLastAffineLayerGraphs(t *testing.T) {
	// x → Relu → MatMul(·, Reshape(Transpose(w))) → Sub(·, Constant) →
	// Add(b, ·) → Unsqueeze → Squeeze → Softmax.
	viewed := func() *onnxtest.Builder {
		return onnxtest.New(8, 13).Input("x", onnxio.Float, -1, 4).
			Float("w", []int64{3, 4}, vals(12), onnxtest.Raw).
			Float("b", []int64{3}, vals(3), onnxtest.Raw).
			Float("offset", []int64{3}, vals(3), onnxtest.Raw).
			Int64("shape", []int64{2}, []int64{4, 3}, onnxtest.Raw).
			Int64("axes", []int64{1}, []int64{1}, onnxtest.Raw).
			Node("Relu", []string{"x"}, []string{"h"}).
			Node("Transpose", []string{"w"}, []string{"wt"}).
			Node("Reshape", []string{"wt", "shape"}, []string{"wr"}).
			Node("MatMul", []string{"h", "wr"}, []string{"z"}).
			Node("Constant", nil, []string{"c"}, onnxtest.Float("value_float", 0.5)).
			Node("Sub", []string{"z", "c"}, []string{"zc"}).
			Node("Add", []string{"b", "zc"}, []string{"zb"}).
			Node("Unsqueeze", []string{"zb", "axes"}, []string{"zu"}).
			Node("Squeeze", []string{"zu", "axes"}, []string{"logits"}).
			Node("Softmax", []string{"logits"}, []string{"probs"}, onnxtest.Int("axis", -1)).
			Output("probs", onnxio.Float, -1, 3)
	}
	m := decode(t, viewed())
	head, err := LastAffineLayer(m, CrossEntropy)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"w", "b"}; !slices.Equal(head, want) {
		t.Fatalf("head %q, want %q", head, want)
	}
	if _, err := ProveAffine(m, head, CrossEntropy); err != nil {
		t.Fatal(err)
	}
	// With mse the final Softmax is not skipped, and it is not affine.
	if _, err := LastAffineLayer(m, MSE); err == nil || !strings.Contains(err.Error(), `Softmax node "Softmax_9"`) {
		t.Fatalf("LastAffineLayer(mse) = %v, want an error naming the Softmax node", err)
	}

	errCases := []struct {
		name string
		b    *onnxtest.Builder
		want string
	}{
		{"ends in ReLU", onnxtest.New(8, 13).Input("x", onnxio.Float, -1, 3).
			Float("w", []int64{3, 3}, vals(9), onnxtest.Raw).
			Node("Gemm", []string{"x", "w"}, []string{"z"}).
			Node("Relu", []string{"z"}, []string{"r"}).
			Output("r", onnxio.Float, -1, 3),
			`does not end in an affine layer: Relu node "Relu_1"`},
		{"residual sum", onnxtest.New(8, 13).Input("x", onnxio.Float, -1, 3).
			Float("w", []int64{3, 3}, vals(9), onnxtest.Raw).
			Node("Gemm", []string{"x", "w"}, []string{"z"}).
			Node("Add", []string{"z", "x"}, []string{"logits"}).
			Output("logits", onnxio.Float, -1, 3),
			`Add node "Add_1" adds two computed tensors`},
		{"fixed weight", onnxtest.New(8, 13).Input("x", onnxio.Float, -1, 1).
			Node("Constant", nil, []string{"w"}, onnxtest.Float("value_float", 2)).
			Node("MatMul", []string{"x", "w"}, []string{"logits"}).
			Output("logits", onnxio.Float, -1, 1),
			`MatMul node "MatMul_1" does not multiply a computed tensor by a trainable weight`},
		{"output is the input", onnxtest.New(8, 13).Input("x", onnxio.Float, -1, 3).
			Node("Identity", []string{"x"}, []string{"logits"}).
			Output("logits", onnxio.Float, -1, 3),
			`"x", on the path from the output, is computed by no Gemm or MatMul`},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			head, err := LastAffineLayer(decode(t, c.b), CrossEntropy)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "autodiff: ") {
				t.Fatalf("LastAffineLayer = %q, %v; want an error containing %q", head, err, c.want)
			}
		})
	}
}
