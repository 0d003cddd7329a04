package autodiff

import (
	"context"
	"math"
	"testing"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// TestChunkCapFollowsFootprint checks that a convolutional model's passes are
// cut into cache-sized chunks while a small MLP's are not, and that the
// chunking leaves the gradient unchanged up to float32 rounding.
func TestChunkCapFollowsFootprint(t *testing.T) {
	for _, tc := range []struct {
		model      string
		lo, hi     int
		sampleSize []int
	}{
		{"mlp", 256, math.MaxInt, []int{784}},
		{"cnn_bn", minChunk, 256, []int{1, 28, 28}},
	} {
		m, err := onnxio.Load(testenv.Testdata("models/" + tc.model + ".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		// The cap of float32, the precision passes run in; the gradients
		// in float64, to compare them closely.
		p32, err := Compile(m, Options{Precision: Float32})
		if err != nil {
			t.Fatal(err)
		}
		c := p32.e.(*compiled[float32])
		in, _, err := c.p.dataInput(tc.sampleSize, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.chunkCap(in, tc.sampleSize); got < tc.lo || got > tc.hi {
			t.Errorf("%s: chunk cap %d, want within [%d, %d]", tc.model, got, tc.lo, tc.hi)
		}
		p, err := Compile(m, Options{Precision: Float64})
		if err != nil {
			t.Fatal(err)
		}
		d := benchData(300, tc.sampleSize, 10)
		one := make([]float64, p.Dim())
		all := make([]float64, p.Dim())
		if _, err := p.Gradient(context.Background(), d, nil, EvalOptions{BatchSize: 1, Threads: 1}, one); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Gradient(context.Background(), d, nil, EvalOptions{BatchSize: 300, Threads: 2}, all); err != nil {
			t.Fatal(err)
		}
		for i := range one {
			if math.Abs(one[i]-all[i]) > 1e-12*(1+math.Abs(one[i])) {
				t.Fatalf("%s: gradient[%d] is %g sample by sample and %g in chunks", tc.model, i, one[i], all[i])
			}
		}
	}
}
