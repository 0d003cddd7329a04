package autodiff

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lethe-ml/lethe/internal/simd"
)

// TestReluVectorized checks that the AVX2 loops of the float32 Relu
// selections give the Go loops' results bit for bit, on every length up to
// 70 (the vector body, its 16- and 8-lane steps and the scalar tail) and on
// the values where a selection could differ: NaNs (with payloads and signs),
// ±0, ±Inf, subnormals, and sums that round to zero; in place too.
func TestReluVectorized(t *testing.T) {
	if !simd.AVX2 {
		t.Skip("this CPU has no AVX2: the Go loops are the only ones")
	}
	rng := rand.New(rand.NewPCG(21, 22))
	special := []float32{
		0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00002), math.Float32frombits(0x7f800003),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-39, -1e-39, 0.25, -0.25, 1, -1,
	}
	value := func() float32 {
		if rng.IntN(3) == 0 {
			return special[rng.IntN(len(special))]
		}
		return float32(rng.NormFloat64())
	}
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = value()
		}
		return v
	}
	same := func(a, b []float32) int {
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				return i
			}
		}
		return -1
	}
	// both runs fn with the AVX2 loops and with the Go loops.
	both := func(fn func() []float32) (vec, scalar []float32) {
		vec = fn()
		simd.AVX2 = false
		defer func() { simd.AVX2 = true }()
		return vec, fn()
	}
	for n := 0; n <= 70; n++ {
		for _, b := range []float32{0, -0.25, 0.5, special[4], special[2]} {
			src, mask := fill(n), fill(n)
			cases := map[string]func() []float32{
				"biasRelu": func() []float32 {
					d := make([]float32, n)
					biasRelu(d, src, nil, b)
					return d
				},
				"biasRelu/mask": func() []float32 {
					d := make([]float32, n)
					biasRelu(d, src, mask, b)
					return d
				},
				"biasRelu/in place": func() []float32 {
					d := append([]float32(nil), src...)
					biasRelu(d, d, nil, b)
					return d
				},
				"reluMask": func() []float32 {
					d := make([]float32, n)
					reluMask(d, mask, src)
					return d
				},
				"reluMask/in place": func() []float32 {
					d := append([]float32(nil), src...)
					reluMask(d, d, d)
					return d
				},
			}
			for name, fn := range cases {
				vec, scalar := both(fn)
				if i := same(vec, scalar); i >= 0 {
					t.Fatalf("%s, n = %d, b = %g: element %d is %#x with AVX2 and %#x in Go (src %#x, mask %#x)",
						name, n, b, i, math.Float32bits(vec[i]), math.Float32bits(scalar[i]), math.Float32bits(src[i]), math.Float32bits(mask[i]))
				}
			}
		}
	}
}
