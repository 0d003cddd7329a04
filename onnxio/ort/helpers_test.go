package ort_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// requireORT initializes onnxruntime or reports it missing (a failure under
// `make test`).
func requireORT(t *testing.T) {
	t.Helper()
	testenv.Missing(t, "onnxruntime shared library", ort.Init())
}

// sameBits reports whether two tensors have the same type, dims and value
// bits (NaN payloads included).
func sameBits(a, b *onnxio.Tensor) bool {
	if a.Type != b.Type || !slices.Equal(a.Dims, b.Dims) || !slices.Equal(a.Int64, b.Int64) ||
		!slices.Equal(a.Uint64, b.Uint64) || !slices.Equal(a.Bits16, b.Bits16) ||
		len(a.Float32) != len(b.Float32) || len(a.Float64) != len(b.Float64) {
		return false
	}
	for i := range a.Float32 {
		if math.Float32bits(a.Float32[i]) != math.Float32bits(b.Float32[i]) {
			return false
		}
	}
	for i := range a.Float64 {
		if math.Float64bits(a.Float64[i]) != math.Float64bits(b.Float64[i]) {
			return false
		}
	}
	return true
}

// randomInput is a float32 tensor of the given dims with standard normal values.
func randomInput(rng *rand.Rand, dims ...int64) *onnxio.Tensor {
	t := &onnxio.Tensor{Name: "x", Type: onnxio.Float, Dims: dims}
	t.Float32 = make([]float32, t.NumElements())
	for i := range t.Float32 {
		t.Float32[i] = float32(rng.NormFloat64())
	}
	return t
}

// mlpForward evaluates an onnxtest.MLP graph (Gemm with transB=1, ReLU
// between layers) in float64 from the model's current initializers.
func mlpForward(t *testing.T, m *onnxio.Model, x *onnxio.Tensor) []float64 {
	t.Helper()
	g := m.Graph()
	h, err := x.Float64s()
	if err != nil {
		t.Fatal(err)
	}
	batch := int(x.Dims[0])
	for i, n := range g.Nodes {
		if n.OpType != "Gemm" {
			continue
		}
		w, _ := g.Initializer(n.Inputs[1]).Float64s()
		b, _ := g.Initializer(n.Inputs[2]).Float64s()
		out, in := len(b), len(w)/len(b)
		next := make([]float64, batch*out)
		for r := range batch {
			for o := range out {
				s := b[o]
				for k := range in {
					s += h[r*in+k] * w[o*in+k]
				}
				if i < len(g.Nodes)-1 { // a Relu follows every Gemm but the last
					s = math.Max(s, 0)
				}
				next[r*out+o] = s
			}
		}
		h = next
	}
	return h
}
