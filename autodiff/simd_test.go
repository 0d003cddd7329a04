package autodiff

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lethe-ml/lethe/internal/simd"
)

// special32 are the float32 values where a vectorized kernel could part
// from the Go loop: NaNs (with payloads and signs), ±0, ±Inf, subnormals,
// and values that tie or round to zero.
var special32 = []float32{
	0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
	math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00002), math.Float32frombits(0x7f800003),
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-39, -1e-39, 0.25, -0.25, 1, -1,
}

// fillSpecial returns n values, a third of them from special32 and the rest
// N(0, 1), or, with ties, from {−1, 0, 1} so that windows tie often.
func fillSpecial(rng *rand.Rand, n int, ties bool) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch {
		case rng.IntN(3) == 0:
			v[i] = special32[rng.IntN(len(special32))]
		case ties:
			v[i] = float32(rng.IntN(3) - 1)
		default:
			v[i] = float32(rng.NormFloat64())
		}
	}
	return v
}

// firstBitDiff returns the first index where a and b differ in their bits, or −1.
func firstBitDiff(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// withAndWithoutAVX2 runs fn with the AVX2 loops and with the Go loops.
func withAndWithoutAVX2(t *testing.T, fn func()) {
	if !simd.AVX2 {
		t.Skip("this CPU has no AVX2: the Go loops are the only ones")
	}
	fn()
	simd.AVX2 = false
	defer func() { simd.AVX2 = true }()
	fn()
}

// TestReluVectorized checks that the AVX2 loops of the float32 Relu
// selections and of addTo give the Go loops' results bit for bit, on every length up to
// 70 (the vector body, its 16- and 8-lane steps and the scalar tail) and on
// the special values; in place too.
func TestReluVectorized(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for n := 0; n <= 70; n++ {
		for _, b := range []float32{0, -0.25, 0.5, special32[4], special32[2]} {
			src, mask := fillSpecial(rng, n, false), fillSpecial(rng, n, false)
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
				"addTo": func() []float32 {
					d := append([]float32(nil), mask...)
					addTo(d, src)
					return d
				},
				"reluMask/in place": func() []float32 {
					d := append([]float32(nil), src...)
					reluMask(d, d, d)
					return d
				},
			}
			for name, fn := range cases {
				var got [2][]float32
				run := 0
				withAndWithoutAVX2(t, func() { got[run] = fn(); run++ })
				vec, scalar := got[0], got[1]
				if i := firstBitDiff(vec, scalar); i >= 0 {
					t.Fatalf("%s, n = %d, b = %g: element %d is %#x with AVX2 and %#x in Go (src %#x, mask %#x)",
						name, n, b, i, math.Float32bits(vec[i]), math.Float32bits(scalar[i]), math.Float32bits(src[i]), math.Float32bits(mask[i]))
				}
			}
		}
	}
}

// TestMaxPoolVectorized checks that the AVX2 2×2 stride-2 max-pooling, with
// and without the argmax, gives the Go loops' maxima and argmaxes bit for
// bit, on widths 2 to 41 (odd ones leave a column out), heights 2, 5 and
// 6, vertical strides 1 and 2, two planes, and values that tie often or are
// special.
func TestMaxPoolVectorized(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for w := 2; w <= 41; w++ {
		for _, c := range []struct {
			h, sh int
			ties  bool
		}{{6, 2, false}, {6, 2, true}, {5, 2, true}, {2, 2, false}, {5, 1, true}} {
			const planes = 2
			h, ties := c.h, c.ties
			g := window{h: h, w: w, kh: 2, kw: 2, sh: c.sh, sw: 2, dh: 1, dw: 1, oh: (h-2)/c.sh + 1, ow: w / 2}
			x := fillSpecial(rng, planes*h*w, ties)
			n := planes * g.oh * g.ow
			var ys, ya [2][]float32
			var args [2][]int32
			run := 0
			withAndWithoutAVX2(t, func() {
				ys[run], ya[run], args[run] = make([]float32, n), make([]float32, n), make([]int32, n)
				maxPool2x2(ys[run], x, g, planes)
				maxPool2x2Arg(ya[run], args[run], x, g, planes)
				run++
			})
			if i := firstBitDiff(ys[0], ys[1]); i >= 0 {
				t.Fatalf("w = %d, %+v: maximum %d is %#x with AVX2 and %#x in Go", w, c, i, math.Float32bits(ys[0][i]), math.Float32bits(ys[1][i]))
			}
			if i := firstBitDiff(ya[0], ya[1]); i >= 0 {
				t.Fatalf("w = %d, %+v, with argmax: maximum %d is %#x with AVX2 and %#x in Go", w, c, i, math.Float32bits(ya[0][i]), math.Float32bits(ya[1][i]))
			}
			for i := range args[0] {
				if args[0][i] != args[1][i] {
					t.Fatalf("w = %d, %+v: argmax %d is %d with AVX2 and %d in Go", w, c, i, args[0][i], args[1][i])
				}
			}
		}
	}
}

// TestWidenVectorized checks the AVX2 conversions between float32 passes
// and float64 buffers against the Go loops, bit for bit, on every length up
// to 40 and the special values (float64 NaNs with payloads and values that
// round to float32 subnormals, zero or infinity among them).
func TestWidenVectorized(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for n := 0; n <= 40; n++ {
		a, b := fillSpecial(rng, n, false), fillSpecial(rng, n, true)
		w := make([]float64, n)
		for i := range w {
			switch rng.IntN(4) {
			case 0:
				w[i] = []float64{math.Float64frombits(0x7ff8000000000123), math.Float64frombits(0xfff0000000000456), 1e-40, -1e-46, 3.5e38, 1e300, math.Copysign(0, -1)}[rng.IntN(7)]
			default:
				w[i] = rng.NormFloat64()
			}
		}
		var out [2][4][]float64
		var narrowed [2][]float32
		run := 0
		withAndWithoutAVX2(t, func() {
			o := &out[run]
			for k := range o {
				o[k] = make([]float64, n)
			}
			widen(o[0], a)
			widenSum(o[1], a, b)
			copy(o[2], w)
			addWide(o[2], b)
			narrowed[run] = make([]float32, n)
			narrow(narrowed[run], w)
			run++
		})
		for k, name := range []string{"widen", "widenSum", "addWide"} {
			for i := range out[0][k] {
				if math.Float64bits(out[0][k][i]) != math.Float64bits(out[1][k][i]) {
					t.Fatalf("%s, n = %d: element %d is %#x with AVX2 and %#x in Go", name, n, i, math.Float64bits(out[0][k][i]), math.Float64bits(out[1][k][i]))
				}
			}
		}
		if i := firstBitDiff(narrowed[0], narrowed[1]); i >= 0 {
			t.Fatalf("narrow, n = %d: element %d is %#x with AVX2 and %#x in Go", n, i, math.Float32bits(narrowed[0][i]), math.Float32bits(narrowed[1][i]))
		}
	}
}
