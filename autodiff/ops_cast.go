package autodiff

import (
	"fmt"
	"math"

	"github.com/lethe-ml/lethe/onnxio"
)

// Cast and CastLike. Between floating-point types the cast is the identity in
// the program's precision (ẏ = ẋ, x̄ = ȳ); casting to an integer or boolean
// type truncates toward zero and ends differentiation.
type castKernel[T Float] struct {
	to   onnxio.DataType
	like bool // CastLike: the target type is input 1's
}

func init() {
	register("Cast", func(n *nodeInfo) (kernels, error) {
		to := onnxio.DataType(n.AttrInt("to", 0))
		if !castable(to) {
			return kernels{}, fmt.Errorf("cast to %v is not supported", to)
		}
		return pair(&castKernel[float32]{to: to}, &castKernel[float64]{to: to}), nil
	})
	register("CastLike", func(n *nodeInfo) (kernels, error) {
		return pair(&castKernel[float32]{like: true}, &castKernel[float64]{like: true}), nil
	})
	register("Where", func(n *nodeInfo) (kernels, error) {
		return pair(&whereKernel[float32]{}, &whereKernel[float64]{}), nil
	})
}

func isFloatType(t onnxio.DataType) bool {
	return t == onnxio.Float || t == onnxio.Double || t == onnxio.Float16 || t == onnxio.BFloat16
}

func castable(t onnxio.DataType) bool {
	switch t {
	case onnxio.Float, onnxio.Double, onnxio.Float16, onnxio.BFloat16, onnxio.Bool,
		onnxio.Int8, onnxio.Int16, onnxio.Int32, onnxio.Int64, onnxio.Uint8, onnxio.Uint16, onnxio.Uint32:
		return true
	}
	return false
}

func (k *castKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x := in[0]
	toFloat := isFloatType(k.to)
	if k.like {
		toFloat = !in[1].isInt()
	}
	switch {
	case toFloat && !x.isInt() && (k.to == onnxio.Float16 || k.to == onnxio.BFloat16):
		// Narrow float types: round, as the cast would, but keep computing in T.
		y := floatVal(c.alloc(x.f.Shape), x.dot)
		for i, v := range x.f.Data {
			y.f.Data[i] = T(roundNarrow(float32(v), k.to))
		}
		return []*value[T]{y}, nil
	case toFloat && !x.isInt():
		return []*value[T]{x}, nil
	case toFloat:
		return []*value[T]{floatVal(intsToFloat[T](x.i), nil)}, nil
	case x.isInt():
		if k.to == onnxio.Bool {
			return []*value[T]{intVal[T](boolOf(x.i.Shape, len(x.i.Data), func(i int) bool { return x.i.Data[i] != 0 }))}, nil
		}
		return []*value[T]{x}, nil
	}
	if k.to == onnxio.Bool {
		return []*value[T]{intVal[T](boolOf(x.f.Shape, len(x.f.Data), func(i int) bool { return x.f.Data[i] != 0 }))}, nil
	}
	t := &Tensor[int64]{Shape: x.f.Shape, Data: make([]int64, len(x.f.Data))}
	for i, v := range x.f.Data {
		t.Data[i] = int64(math.Trunc(float64(v)))
	}
	return []*value[T]{intVal[T](t)}, nil
}

func boolOf(shape []int, n int, f func(i int) bool) *Tensor[int64] {
	t := &Tensor[int64]{Shape: shape, Data: make([]int64, n)}
	for i := range t.Data {
		if f(i) {
			t.Data[i] = 1
		}
	}
	return t
}

func (k *castKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	if out[0].isInt() {
		return nil, nil
	}
	res := make([]*value[T], len(in))
	res[0] = gout[0]
	return res, nil
}

// Where selects y = cond ? a : b with broadcasting; it is linear in a and b:
// ẏ = cond ? ȧ : ḃ, ā = u(cond ? ȳ : 0), b̄ = u(cond ? 0 : ȳ), and the same
// for the tangents with ȳ̇.
type whereKernel[T Float] struct{}

func (whereKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	cond, a, b := in[0], in[1], in[2]
	if !cond.isInt() {
		return nil, fmt.Errorf("the condition must be boolean")
	}
	out, err := broadcastShape(cond.shape(), a.shape(), b.shape())
	if err != nil {
		return nil, err
	}
	plan := newBPlan(out, cond.shape(), a.shape(), b.shape())
	if a.isInt() != b.isInt() {
		return nil, fmt.Errorf("mixed integer and floating-point branches")
	}
	if a.isInt() {
		t := &Tensor[int64]{Shape: out, Data: make([]int64, numel(out))}
		selectRuns(plan, cond.i.Data, a.i.Data, b.i.Data, t.Data)
		return []*value[T]{intVal[T](t)}, nil
	}
	y := floatVal(c.alloc(out), nil)
	selectRuns(plan, cond.i.Data, a.f.Data, b.f.Data, y.f.Data)
	if c.tangent() && (a.dot != nil || b.dot != nil) {
		y.dot = c.alloc(out)
		selectRuns(plan, cond.i.Data, orZeros(c, a), orZeros(c, b), y.dot.Data)
	}
	return []*value[T]{y}, nil
}

// orZeros returns v's tangent data, or zeros of its shape.
func orZeros[T Float](c *ctx[T], v *value[T]) []T {
	if v.dot != nil {
		return v.dot.Data
	}
	return c.zeros(v.f.Shape).Data
}

func selectRuns[E any](plan *bplan, cond []int64, a, b, dst []E) {
	plan.runs(func(o int, off, inc []int, n int) {
		for j := 0; j < n; j++ {
			if cond[off[0]+j*inc[0]] != 0 {
				dst[o+j] = a[off[1]+j*inc[1]]
			} else {
				dst[o+j] = b[off[2]+j*inc[2]]
			}
		}
	})
}

func (whereKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	cond, g := in[0], gout[0]
	shape := out[0].f.Shape
	alloc := c.r.ar.alloc
	cd := expandTo(func(n int) []int64 { return make([]int64, n) }, cond.i, shape)
	res := make([]*value[T], 3)
	for i := 1; i <= 2; i++ {
		if !need[i] {
			continue
		}
		pick := func(src []T) []T {
			dst := alloc(len(src))
			for j, v := range src {
				if (cd[j] != 0) == (i == 1) {
					dst[j] = v
				} else {
					dst[j] = 0
				}
			}
			return reduceTo(alloc, dst, shape, in[i].f.Shape)
		}
		v := floatVal(&Tensor[T]{Shape: in[i].f.Shape, Data: pick(g.f.Data)}, nil)
		if c.tangent() && g.dot != nil {
			v.dot = &Tensor[T]{Shape: in[i].f.Shape, Data: pick(g.dot.Data)}
		}
		res[i] = v
	}
	return res, nil
}

// roundNarrow rounds v to the nearest float16 or bfloat16 value (ties to even).
func roundNarrow(v float32, to onnxio.DataType) float32 {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return v
	}
	if to == onnxio.BFloat16 {
		b := math.Float32bits(v)
		b += 0x7fff + (b>>16)&1
		return math.Float32frombits(b &^ 0xffff)
	}
	// float16: 10 mantissa bits, exponents down to −14 (subnormals below).
	f := float64(v)
	a := math.Abs(f)
	if a >= 65520 { // rounds to infinity
		return float32(math.Copysign(math.Inf(1), f))
	}
	exp := math.Max(math.Floor(math.Log2(a)), -14)
	if a == 0 {
		return v
	}
	ulp := math.Ldexp(1, int(exp)-10)
	return float32(math.RoundToEven(f/ulp) * ulp)
}
