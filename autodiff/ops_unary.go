package autodiff

import (
	"fmt"
	"math"

	"github.com/lethe-ml/lethe/internal/simd"
)

// Elementwise unary ops y = f(x). Each is given by f and its first and second
// derivatives, written in terms of x and y = f(x) so that rules reuse the
// forward result. With f' and f” the four rules are shared by every op:
//
//	forward  y = f(x)               ẏ = f'(x)·ẋ
//	VJP      x̄ = f'(x)·ȳ            x̄̇ = f'(x)·ȳ̇ + f''(x)·ẋ·ȳ
//
// Scalars are evaluated in float64 and rounded to the program's precision.
type elementwise struct {
	ints bool // f maps integers to integers and may run on integer tensors
	f    func(x float64) float64
	d1   func(x, y float64) float64
	d2   func(x, y float64) float64 // nil where f is piecewise linear (f'' = 0)
}

const (
	sqrt2       = math.Sqrt2
	invSqrt2    = 1 / math.Sqrt2
	invSqrt2Pi  = 0.3989422804014327 // 1/√(2π)
	twoBySqrtPi = 1.1283791670955126 // 2/√π
)

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func init() {
	fixed := func(e elementwise) builder {
		return func(*nodeInfo) (kernels, error) { return pair(&unaryKernel[float32]{e}, &unaryKernel[float64]{e}), nil }
	}
	register("Neg", fixed(elementwise{
		ints: true,
		f:    func(x float64) float64 { return -x },
		d1:   func(x, y float64) float64 { return -1 },
	}))
	register("Abs", fixed(elementwise{
		ints: true,
		f:    math.Abs,
		d1: func(x, y float64) float64 {
			if x < 0 {
				return -1
			}
			return 1
		},
	}))
	register("Exp", fixed(elementwise{
		f:  math.Exp,
		d1: func(x, y float64) float64 { return y },
		d2: func(x, y float64) float64 { return y },
	}))
	register("Log", fixed(elementwise{
		f:  math.Log,
		d1: func(x, y float64) float64 { return 1 / x },
		d2: func(x, y float64) float64 { return -1 / (x * x) },
	}))
	register("Sqrt", fixed(elementwise{
		f:  math.Sqrt,
		d1: func(x, y float64) float64 { return 0.5 / y },
		d2: func(x, y float64) float64 { return -0.25 / (y * y * y) },
	}))
	register("Reciprocal", fixed(elementwise{
		f:  func(x float64) float64 { return 1 / x },
		d1: func(x, y float64) float64 { return -y * y },
		d2: func(x, y float64) float64 { return 2 * y * y * y },
	}))
	register("Sigmoid", fixed(elementwise{
		f:  sigmoid,
		d1: func(x, y float64) float64 { return y * (1 - y) },
		d2: func(x, y float64) float64 { return y * (1 - y) * (1 - 2*y) },
	}))
	register("Tanh", fixed(elementwise{
		f:  math.Tanh,
		d1: func(x, y float64) float64 { return 1 - y*y },
		d2: func(x, y float64) float64 { return -2 * y * (1 - y*y) },
	}))
	register("Softplus", fixed(elementwise{
		f:  func(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) },
		d1: func(x, y float64) float64 { return sigmoid(x) },
		d2: func(x, y float64) float64 { s := sigmoid(x); return s * (1 - s) },
	}))
	register("Softsign", fixed(elementwise{
		f:  func(x float64) float64 { return x / (1 + math.Abs(x)) },
		d1: func(x, y float64) float64 { a := 1 + math.Abs(x); return 1 / (a * a) },
		d2: func(x, y float64) float64 {
			a := 1 + math.Abs(x)
			s := 1.0
			if x < 0 {
				s = -1
			}
			return -2 * s / (a * a * a)
		},
	}))
	register("Erf", fixed(elementwise{
		f:  math.Erf,
		d1: func(x, y float64) float64 { return twoBySqrtPi * math.Exp(-x*x) },
		d2: func(x, y float64) float64 { return -2 * x * twoBySqrtPi * math.Exp(-x*x) },
	}))
	register("Sin", fixed(elementwise{
		f:  math.Sin,
		d1: func(x, y float64) float64 { return math.Cos(x) },
		d2: func(x, y float64) float64 { return -y },
	}))
	register("Cos", fixed(elementwise{
		f:  math.Cos,
		d1: func(x, y float64) float64 { return -math.Sin(x) },
		d2: func(x, y float64) float64 { return -y },
	}))
	register("Tan", fixed(elementwise{
		f:  math.Tan,
		d1: func(x, y float64) float64 { return 1 + y*y },
		d2: func(x, y float64) float64 { return 2 * y * (1 + y*y) },
	}))
	register("Asin", fixed(elementwise{
		f:  math.Asin,
		d1: func(x, y float64) float64 { return 1 / math.Sqrt(1-x*x) },
		d2: func(x, y float64) float64 { return x / math.Pow(1-x*x, 1.5) },
	}))
	register("Acos", fixed(elementwise{
		f:  math.Acos,
		d1: func(x, y float64) float64 { return -1 / math.Sqrt(1-x*x) },
		d2: func(x, y float64) float64 { return -x / math.Pow(1-x*x, 1.5) },
	}))
	register("Atan", fixed(elementwise{
		f:  math.Atan,
		d1: func(x, y float64) float64 { return 1 / (1 + x*x) },
		d2: func(x, y float64) float64 { return -2 * x / ((1 + x*x) * (1 + x*x)) },
	}))
	register("Sinh", fixed(elementwise{
		f:  math.Sinh,
		d1: func(x, y float64) float64 { return math.Cosh(x) },
		d2: func(x, y float64) float64 { return y },
	}))
	register("Cosh", fixed(elementwise{
		f:  math.Cosh,
		d1: func(x, y float64) float64 { return math.Sinh(x) },
		d2: func(x, y float64) float64 { return y },
	}))
	register("Asinh", fixed(elementwise{
		f:  math.Asinh,
		d1: func(x, y float64) float64 { return 1 / math.Sqrt(x*x+1) },
		d2: func(x, y float64) float64 { return -x / math.Pow(x*x+1, 1.5) },
	}))
	register("Acosh", fixed(elementwise{
		f:  math.Acosh,
		d1: func(x, y float64) float64 { return 1 / math.Sqrt(x*x-1) },
		d2: func(x, y float64) float64 { return -x / math.Pow(x*x-1, 1.5) },
	}))
	register("Atanh", fixed(elementwise{
		f:  math.Atanh,
		d1: func(x, y float64) float64 { return 1 / (1 - x*x) },
		d2: func(x, y float64) float64 { return 2 * x / ((1 - x*x) * (1 - x*x)) },
	}))
	// HardSwish: x·max(0, min(1, x/6 + ½)).
	register("HardSwish", fixed(elementwise{
		f: func(x float64) float64 { return x * max(0, min(1, x/6+0.5)) },
		d1: func(x, y float64) float64 {
			switch {
			case x <= -3:
				return 0
			case x >= 3:
				return 1
			}
			return x/3 + 0.5
		},
		d2: func(x, y float64) float64 {
			if x > -3 && x < 3 {
				return 1.0 / 3
			}
			return 0
		},
	}))
	register("ThresholdedRelu", func(n *nodeInfo) (kernels, error) {
		a := float64(n.AttrFloat("alpha", 1))
		return fixed(elementwise{
			f: func(x float64) float64 {
				if x > a {
					return x
				}
				return 0
			},
			d1: func(x, y float64) float64 {
				if x > a {
					return 1
				}
				return 0
			},
		})(n)
	})
	zero := func(x, y float64) float64 { return 0 }
	register("Floor", fixed(elementwise{ints: true, f: math.Floor, d1: zero}))
	register("Ceil", fixed(elementwise{ints: true, f: math.Ceil, d1: zero}))
	register("Round", fixed(elementwise{ints: true, f: math.RoundToEven, d1: zero}))
	register("Sign", fixed(elementwise{ints: true, f: func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}, d1: zero}))
	register("Gelu", buildGelu)
	register("LeakyRelu", func(n *nodeInfo) (kernels, error) {
		a := float64(n.AttrFloat("alpha", 0.01))
		return fixed(elementwise{
			f: func(x float64) float64 {
				if x < 0 {
					return a * x
				}
				return x
			},
			d1: func(x, y float64) float64 {
				if x < 0 {
					return a
				}
				return 1
			},
		})(n)
	})
	register("Elu", func(n *nodeInfo) (kernels, error) {
		a := float64(n.AttrFloat("alpha", 1))
		return fixed(eluLike(a, 1))(n)
	})
	register("Selu", func(n *nodeInfo) (kernels, error) {
		a := float64(n.AttrFloat("alpha", 1.67326319217681884765625))
		g := float64(n.AttrFloat("gamma", 1.05070102214813232421875))
		return fixed(eluLike(a, g))(n)
	})
	register("Celu", func(n *nodeInfo) (kernels, error) {
		a := float64(n.AttrFloat("alpha", 1))
		return fixed(elementwise{
			f: func(x float64) float64 { return max(0, x) + min(0, a*(math.Exp(x/a)-1)) },
			d1: func(x, y float64) float64 {
				if x > 0 {
					return 1
				}
				return math.Exp(x / a)
			},
			d2: func(x, y float64) float64 {
				if x > 0 {
					return 0
				}
				return math.Exp(x/a) / a
			},
		})(n)
	})
	register("HardSigmoid", func(n *nodeInfo) (kernels, error) {
		a := float64(n.AttrFloat("alpha", 0.2))
		b := float64(n.AttrFloat("beta", 0.5))
		return fixed(elementwise{
			f: func(x float64) float64 { return max(0, min(1, a*x+b)) },
			d1: func(x, y float64) float64 {
				if v := a*x + b; v > 0 && v < 1 {
					return a
				}
				return 0
			},
		})(n)
	})
}

// eluLike is γ·(x for x > 0, α(eˣ−1) otherwise): Elu with γ = 1, Selu otherwise.
func eluLike(a, g float64) elementwise {
	return elementwise{
		f: func(x float64) float64 {
			if x > 0 {
				return g * x
			}
			return g * a * (math.Exp(x) - 1)
		},
		d1: func(x, y float64) float64 {
			if x > 0 {
				return g
			}
			return y + g*a
		},
		d2: func(x, y float64) float64 {
			if x > 0 {
				return 0
			}
			return y + g*a
		},
	}
}

// buildGelu: exact  f = x·Φ(x), f' = Φ(x) + x·φ(x), f” = φ(x)·(2 − x²);
// tanh form f = ½x(1+t), t = tanh(u), u = √(2/π)(x + 0.044715x³):
// f' = ½(1+t) + ½x·t', f” = t' + ½x·t” with t' = (1−t²)u',
// t” = −2t(1−t²)u'² + (1−t²)u”.
func buildGelu(n *nodeInfo) (kernels, error) {
	var e elementwise
	switch approx := n.AttrString("approximate", "none"); approx {
	case "none":
		e = elementwise{
			f:  func(x float64) float64 { return 0.5 * x * (1 + math.Erf(x*invSqrt2)) },
			d1: func(x, y float64) float64 { return 0.5*(1+math.Erf(x*invSqrt2)) + x*invSqrt2Pi*math.Exp(-x*x/2) },
			d2: func(x, y float64) float64 { return invSqrt2Pi * math.Exp(-x*x/2) * (2 - x*x) },
		}
	case "tanh":
		const c, k = 0.7978845608028654, 0.044715 // √(2/π)
		e = elementwise{
			f: func(x float64) float64 { return 0.5 * x * (1 + math.Tanh(c*(x+k*x*x*x))) },
			d1: func(x, y float64) float64 {
				t := math.Tanh(c * (x + k*x*x*x))
				return 0.5*(1+t) + 0.5*x*(1-t*t)*c*(1+3*k*x*x)
			},
			d2: func(x, y float64) float64 {
				t := math.Tanh(c * (x + k*x*x*x))
				u1, u2 := c*(1+3*k*x*x), c*6*k*x
				t1 := (1 - t*t) * u1
				t2 := -2*t*(1-t*t)*u1*u1 + (1-t*t)*u2
				return t1 + 0.5*x*t2
			},
		}
	default:
		return kernels{}, fmt.Errorf("approximate=%q is not one of none, tanh", approx)
	}
	return pair(&unaryKernel[float32]{e}, &unaryKernel[float64]{e}), nil
}

type unaryKernel[T Float] struct{ e elementwise }

func (k *unaryKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x := in[0]
	if x.isInt() {
		if !k.e.ints {
			return nil, unsupported("integer input")
		}
		t := &Tensor[int64]{Shape: x.i.Shape, Data: make([]int64, len(x.i.Data))}
		for i, v := range x.i.Data {
			t.Data[i] = int64(k.e.f(float64(v)))
		}
		return []*value[T]{intVal[T](t)}, nil
	}
	y := c.alloc(x.f.Shape)
	for i, v := range x.f.Data {
		y.Data[i] = T(k.e.f(float64(v)))
	}
	out := floatVal(y, nil)
	if c.tangent() && x.dot != nil {
		out.dot = c.alloc(x.f.Shape)
		for i, v := range x.f.Data {
			out.dot.Data[i] = T(k.e.d1(float64(v), float64(y.Data[i]))) * x.dot.Data[i]
		}
	}
	return []*value[T]{out}, nil
}

func (k *unaryKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	x, y, g := in[0].f, out[0].f, gout[0]
	gx := floatVal(c.alloc(x.Shape), nil)
	for i, v := range x.Data {
		gx.f.Data[i] = T(k.e.d1(float64(v), float64(y.Data[i]))) * g.f.Data[i]
	}
	if c.tangent() {
		gx.dot = c.zeros(x.Shape)
		if g.dot != nil {
			for i, v := range x.Data {
				gx.dot.Data[i] = T(k.e.d1(float64(v), float64(y.Data[i]))) * g.dot.Data[i]
			}
		}
		if xd := in[0].dot; xd != nil && k.e.d2 != nil {
			for i, v := range x.Data {
				gx.dot.Data[i] += T(k.e.d2(float64(v), float64(y.Data[i]))) * xd.Data[i] * g.f.Data[i]
			}
		}
	}
	return []*value[T]{gx}, nil
}

// Relu has its own kernel: it is the most common activation, and its rules
// are a mask: ẏ = [x>0]·ẋ, x̄ = [x>0]·ȳ, x̄̇ = [x>0]·ȳ̇ (f” = 0).
type reluKernel[T Float] struct{}

func init() {
	register("Relu", func(*nodeInfo) (kernels, error) { return pair(reluKernel[float32]{}, reluKernel[float64]{}), nil })
}

// reluMask sets dst[i] = src[i] where x[i] > 0 and 0 elsewhere. The select
// works on the bit patterns so that the compiler emits a conditional move:
// with the branch, random signs cost a misprediction every other element
// (ten times slower). float32 runs 8 lanes at a time where the CPU has AVX2
// (internal/simd), with the same results bit for bit.
func reluMask[T Float](dst, x, src []T) {
	switch x := any(x).(type) {
	case []float32:
		d, s := any(dst).([]float32)[:len(x)], any(src).([]float32)[:len(x)]
		done := simd.MaskCopy(d, x, s)
		for i, v := range x[done:] {
			b := math.Float32bits(s[done+i])
			if !(v > 0) {
				b = 0
			}
			d[done+i] = math.Float32frombits(b)
		}
	case []float64:
		d, s := any(dst).([]float64)[:len(x)], any(src).([]float64)[:len(x)]
		for i, v := range x {
			b := math.Float64bits(s[i])
			if !(v > 0) {
				b = 0
			}
			d[i] = math.Float64frombits(b)
		}
	}
}

func (reluKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x := in[0]
	if x.isInt() {
		return nil, fmt.Errorf("integer input is not supported")
	}
	out := floatVal(c.alloc(x.f.Shape), nil)
	reluMask(out.f.Data, x.f.Data, x.f.Data)
	if c.tangent() && x.dot != nil {
		out.dot = c.alloc(x.f.Shape)
		reluMask(out.dot.Data, x.f.Data, x.dot.Data)
	}
	return []*value[T]{out}, nil
}

// readsAdjoint: the tangent rule x̄̇ = [x>0]·ȳ̇ does not read ȳ.
func (reluKernel[T]) readsAdjoint(dot, need []bool) bool { return false }

func (reluKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	x, g := in[0].f, gout[0]
	gx := floatVal(c.alloc(x.Shape), nil)
	if c.outAdjoint() {
		reluMask(gx.f.Data, x.Data, g.f.Data)
	}
	if c.tangent() && g.dot != nil {
		gx.dot = c.alloc(x.Shape)
		reluMask(gx.dot.Data, x.Data, g.dot.Data)
	}
	return []*value[T]{gx}, nil
}
