package onnxtest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lethe-ml/lethe/onnxio"
)

// MLP builds a PyTorch-style multilayer perceptron with layer widths sizes
// (at least two): input "x" [N, sizes[0]], for each layer i (from 1) a Gemm
// with transB=1 and initializers "fc<i>.weight" [out, in] and "fc<i>.bias"
// [out], ReLU between layers, and output "logits". Weights are uniform in
// ±1/√in from a generator seeded with seed, stored with enc. IR version 8,
// opset 13.
func MLP(seed uint64, enc Encoding, sizes ...int) *Builder {
	if len(sizes) < 2 {
		panic("onnxtest: MLP needs at least two sizes")
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	b := New(8, 13).Input("x", onnxio.Float, -1, int64(sizes[0]))
	in := "x"
	for i := 1; i < len(sizes); i++ {
		fanIn, fanOut := sizes[i-1], sizes[i]
		bound := float32(1 / math.Sqrt(float64(fanIn)))
		uniform := func(n int) []float32 {
			v := make([]float32, n)
			for j := range v {
				v[j] = (2*rng.Float32() - 1) * bound
			}
			return v
		}
		w, bias := fmt.Sprintf("fc%d.weight", i), fmt.Sprintf("fc%d.bias", i)
		b.Float(w, []int64{int64(fanOut), int64(fanIn)}, uniform(fanOut*fanIn), enc)
		b.Float(bias, []int64{int64(fanOut)}, uniform(fanOut), enc)
		out := fmt.Sprintf("h%d", i)
		if i == len(sizes)-1 {
			out = "logits"
		}
		b.Node("Gemm", []string{in, w, bias}, []string{out}, Int("transB", 1))
		in = out
		if i < len(sizes)-1 {
			b.Node("Relu", []string{out}, []string{out + "_relu"})
			in = out + "_relu"
		}
	}
	return b.Output("logits", onnxio.Float, -1, int64(sizes[len(sizes)-1]))
}
