package autodiff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// benchData returns n random samples of the given shape with labels < classes.
func benchData(n int, shape []int, classes int) *labelled {
	rng := rand.New(rand.NewPCG(3, 4))
	d := &labelled{shape: shape, x: make([]float32, n*numel(shape)), y: make([]int64, n)}
	for i := range d.x {
		d.x[i] = rng.Float32()
	}
	for i := range d.y {
		d.y[i] = int64(rng.IntN(classes))
	}
	return d
}

func benchProgram(b *testing.B, model string) *Program {
	m, err := onnxio.Load(testenv.Testdata("models/" + model + ".onnx"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

var benchShapes = map[string][]int{"mlp": {784}, "cnn_bn": {1, 28, 28}}

func BenchmarkForward(b *testing.B) {
	for _, model := range []string{"mlp", "cnn_bn"} {
		b.Run(fmt.Sprintf("%s/batch1024", model), func(b *testing.B) {
			p := benchProgram(b, model)
			d := benchData(1024, benchShapes[model], 10)
			opts := EvalOptions{BatchSize: 1024}
			sink := func(int, []float32, []int) error { return nil }
			for b.Loop() {
				if err := p.Predict(context.Background(), d, nil, opts, sink); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGradient(b *testing.B) {
	for _, c := range []struct {
		model string
		batch int
	}{{"mlp", 10}, {"mlp", 128}, {"cnn_bn", 128}} {
		p := benchProgram(b, c.model)
		d := benchData(c.batch, benchShapes[c.model], 10)
		g := make([]float64, p.Dim())
		v := make([]float64, p.Dim())
		for i := range v {
			v[i] = 1e-3 * float64(i%7)
		}
		opts := EvalOptions{BatchSize: c.batch}
		b.Run(fmt.Sprintf("%s/batch%d/grad", c.model, c.batch), func(b *testing.B) {
			for b.Loop() {
				if _, err := p.Gradient(context.Background(), d, nil, opts, g); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%s/batch%d/hvp", c.model, c.batch), func(b *testing.B) {
			hv := make([]float64, p.Dim())
			for b.Loop() {
				if _, err := p.HVP(context.Background(), d, nil, opts, v, hv, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
