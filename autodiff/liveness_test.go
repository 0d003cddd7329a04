package autodiff

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// TestDeadAdjointsChangeNothing checks that an HVP pass that skips the
// primal adjoints no tangent rule reads (grad nil) gives the same H·v, bit
// for bit, as one that computes them all (grad wanted): the tangents are the
// same operations in the same order either way. It also checks that the
// analysis finds the Fashion-MNIST CNN's first activation dead and its
// logits live.
func TestDeadAdjointsChangeNothing(t *testing.T) {
	models := map[string]string{"fashion_cnn": testenv.RepoRoot() + "/models/fashion_cnn.onnx"}
	for _, name := range fixtureModels {
		models[name] = testenv.Testdata("models/" + name + ".onnx")
	}
	for name, path := range models {
		m, err := onnxio.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, prec := range []Precision{Float32, Float64} {
			p, err := Compile(m, Options{Precision: prec})
			if err != nil {
				t.Fatal(err)
			}
			var d Data
			if name == "fashion_cnn" {
				d = benchData(37, []int{1, 28, 28}, 10)
			} else {
				d = loadFixture(t, name).data
			}
			opts := EvalOptions{BatchSize: 16, Threads: 2}
			v := randVec(rand.New(rand.NewPCG(8, 9)), p.Dim())
			lean, full, grad := make([]float64, p.Dim()), make([]float64, p.Dim()), make([]float64, p.Dim())
			if _, err := p.HVP(context.Background(), d, nil, opts, v, lean, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := p.HVP(context.Background(), d, nil, opts, v, full, grad); err != nil {
				t.Fatal(err)
			}
			for i := range lean {
				if lean[i] != full[i] {
					t.Errorf("%s %s: (H·v)[%d] is %g without the gradient and %g with it", name, prec, i, lean[i], full[i])
					break
				}
			}
		}
	}
	m, err := onnxio.Load(models["fashion_cnn"])
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prog := p.e.(*compiled[float32]).p
	first := prog.nodes[0] // conv1 with its Relu fused in
	if first.op != "Conv" || prog.primalAdj[first.out[0]] {
		t.Errorf("node %s (%s): the primal adjoint of its output is live, want dead", first.name, first.op)
	}
	if !prog.primalAdj[prog.lossSlot] {
		t.Errorf("the logits' primal adjoint is dead, want live")
	}
}
