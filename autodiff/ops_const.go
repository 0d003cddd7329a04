package autodiff

import (
	"fmt"
	"math"

	"github.com/lethe-ml/lethe/onnxio"
)

// Ops whose outputs are not differentiable: shape queries, constants,
// comparisons and logic, and integer casts. Their backward rule is "no
// gradient flows", which they state by returning no adjoints.
type constKernel[T Float] struct {
	f func(c *ctx[T], in []*value[T]) ([]*value[T], error)
}

func (k *constKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) { return k.f(c, in) }

func (k *constKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	return nil, nil
}

// registerConst registers a non-differentiable op from one generic builder.
func registerConst(op string, b func(n *nodeInfo) (func(c *ctx[float32], in []*value[float32]) ([]*value[float32], error), func(c *ctx[float64], in []*value[float64]) ([]*value[float64], error), error)) {
	register(op, func(n *nodeInfo) (kernels, error) {
		f32, f64, err := b(n)
		if err != nil {
			return kernels{}, err
		}
		return pair(&constKernel[float32]{f32}, &constKernel[float64]{f64}), nil
	})
}

func init() {
	registerConst("Shape", func(n *nodeInfo) (func(*ctx[float32], []*value[float32]) ([]*value[float32], error), func(*ctx[float64], []*value[float64]) ([]*value[float64], error), error) {
		start, end := int(n.AttrInt("start", 0)), n.AttrInt("end", math.MaxInt32)
		return shapeOp[float32](start, int(end)), shapeOp[float64](start, int(end)), nil
	})
	registerConst("Size", func(n *nodeInfo) (func(*ctx[float32], []*value[float32]) ([]*value[float32], error), func(*ctx[float64], []*value[float64]) ([]*value[float64], error), error) {
		return sizeOp[float32], sizeOp[float64], nil
	})
	registerConst("Constant", func(n *nodeInfo) (func(*ctx[float32], []*value[float32]) ([]*value[float32], error), func(*ctx[float64], []*value[float64]) ([]*value[float64], error), error) {
		t, err := constantAttr(n.Node)
		if err != nil {
			return nil, nil, err
		}
		v32, err := valueOf[float32](t)
		if err != nil {
			return nil, nil, err
		}
		v64, err := valueOf[float64](t)
		if err != nil {
			return nil, nil, err
		}
		return constOp(v32), constOp(v64), nil
	})
	registerConst("ConstantOfShape", func(n *nodeInfo) (func(*ctx[float32], []*value[float32]) ([]*value[float32], error), func(*ctx[float64], []*value[float64]) ([]*value[float64], error), error) {
		fill := &onnxio.Tensor{Type: onnxio.Float, Dims: []int64{1}, Float32: []float32{0}}
		if a, ok := n.Attrs["value"]; ok && a.T != nil {
			fill = a.T
		}
		v32, err := valueOf[float32](fill)
		if err != nil {
			return nil, nil, err
		}
		v64, err := valueOf[float64](fill)
		if err != nil {
			return nil, nil, err
		}
		return constantOfShape(v32), constantOfShape(v64), nil
	})
	registerConst("Range", func(n *nodeInfo) (func(*ctx[float32], []*value[float32]) ([]*value[float32], error), func(*ctx[float64], []*value[float64]) ([]*value[float64], error), error) {
		return rangeOp[float32], rangeOp[float64], nil
	})
	for name, cmp := range map[string]func(a, b float64) bool{
		"Equal":          func(a, b float64) bool { return a == b },
		"Less":           func(a, b float64) bool { return a < b },
		"LessOrEqual":    func(a, b float64) bool { return a <= b },
		"Greater":        func(a, b float64) bool { return a > b },
		"GreaterOrEqual": func(a, b float64) bool { return a >= b },
		"And":            func(a, b float64) bool { return a != 0 && b != 0 },
		"Or":             func(a, b float64) bool { return a != 0 || b != 0 },
		"Xor":            func(a, b float64) bool { return (a != 0) != (b != 0) },
	} {
		registerConst(name, func(n *nodeInfo) (func(*ctx[float32], []*value[float32]) ([]*value[float32], error), func(*ctx[float64], []*value[float64]) ([]*value[float64], error), error) {
			return compareOp[float32](cmp), compareOp[float64](cmp), nil
		})
	}
	registerConst("Not", func(n *nodeInfo) (func(*ctx[float32], []*value[float32]) ([]*value[float32], error), func(*ctx[float64], []*value[float64]) ([]*value[float64], error), error) {
		return notOp[float32], notOp[float64], nil
	})
}

func shapeOp[T Float](start, end int) func(*ctx[T], []*value[T]) ([]*value[T], error) {
	return func(c *ctx[T], in []*value[T]) ([]*value[T], error) {
		s := in[0].shape()
		r := len(s)
		lo, hi := start, end
		if lo < 0 {
			lo += r
		}
		if hi < 0 {
			hi += r
		}
		lo, hi = min(max(lo, 0), r), min(max(hi, 0), r)
		d := []int64{}
		for i := lo; i < hi; i++ {
			d = append(d, int64(s[i]))
		}
		return []*value[T]{intVal[T](&Tensor[int64]{Shape: []int{len(d)}, Data: d})}, nil
	}
}

func sizeOp[T Float](c *ctx[T], in []*value[T]) ([]*value[T], error) {
	return []*value[T]{intVal[T](&Tensor[int64]{Shape: []int{}, Data: []int64{int64(numel(in[0].shape()))}})}, nil
}

func constOp[T Float](v *value[T]) func(*ctx[T], []*value[T]) ([]*value[T], error) {
	return func(*ctx[T], []*value[T]) ([]*value[T], error) { return []*value[T]{v}, nil }
}

func constantOfShape[T Float](fill *value[T]) func(*ctx[T], []*value[T]) ([]*value[T], error) {
	return func(c *ctx[T], in []*value[T]) ([]*value[T], error) {
		if !in[0].isInt() {
			return nil, fmt.Errorf("the shape input must be an integer tensor")
		}
		shape, err := intsToShape(in[0].i.Data)
		if err != nil {
			return nil, err
		}
		if fill.isInt() {
			t := &Tensor[int64]{Shape: shape, Data: make([]int64, numel(shape))}
			for i := range t.Data {
				t.Data[i] = fill.i.Data[0]
			}
			return []*value[T]{intVal[T](t)}, nil
		}
		t := &Tensor[T]{Shape: shape, Data: make([]T, numel(shape))}
		for i := range t.Data {
			t.Data[i] = fill.f.Data[0]
		}
		return []*value[T]{floatVal(t, nil)}, nil
	}
}

func rangeOp[T Float](c *ctx[T], in []*value[T]) ([]*value[T], error) {
	if in[0].isInt() {
		start, limit, delta := in[0].i.Data[0], in[1].i.Data[0], in[2].i.Data[0]
		if delta == 0 {
			return nil, fmt.Errorf("delta must not be 0")
		}
		n := max(0, int(math.Ceil(float64(limit-start)/float64(delta))))
		t := &Tensor[int64]{Shape: []int{n}, Data: make([]int64, n)}
		for i := range t.Data {
			t.Data[i] = start + int64(i)*delta
		}
		return []*value[T]{intVal[T](t)}, nil
	}
	start, limit, delta := in[0].f.Data[0], in[1].f.Data[0], in[2].f.Data[0]
	if delta == 0 {
		return nil, fmt.Errorf("delta must not be 0")
	}
	n := max(0, int(math.Ceil(float64((limit-start)/delta))))
	t := &Tensor[T]{Shape: []int{n}, Data: make([]T, n)}
	for i := range t.Data {
		t.Data[i] = start + T(i)*delta
	}
	return []*value[T]{floatVal(t, nil)}, nil
}

// scalarAt reads element i of a value as float64.
func scalarAt[T Float](v *value[T], i int) float64 {
	if v.isInt() {
		return float64(v.i.Data[i])
	}
	return float64(v.f.Data[i])
}

func compareOp[T Float](cmp func(a, b float64) bool) func(*ctx[T], []*value[T]) ([]*value[T], error) {
	return func(c *ctx[T], in []*value[T]) ([]*value[T], error) {
		a, b := in[0], in[1]
		out, err := broadcastShape(a.shape(), b.shape())
		if err != nil {
			return nil, err
		}
		t := &Tensor[int64]{Shape: out, Data: make([]int64, numel(out))}
		newBPlan(out, a.shape(), b.shape()).runs(func(o int, off, inc []int, n int) {
			for j := 0; j < n; j++ {
				if cmp(scalarAt(a, off[0]+j*inc[0]), scalarAt(b, off[1]+j*inc[1])) {
					t.Data[o+j] = 1
				}
			}
		})
		return []*value[T]{intVal[T](t)}, nil
	}
}

func notOp[T Float](c *ctx[T], in []*value[T]) ([]*value[T], error) {
	if !in[0].isInt() {
		return nil, fmt.Errorf("operator Not needs a boolean input")
	}
	t := &Tensor[int64]{Shape: in[0].i.Shape, Data: make([]int64, len(in[0].i.Data))}
	for i, v := range in[0].i.Data {
		if v == 0 {
			t.Data[i] = 1
		}
	}
	return []*value[T]{intVal[T](t)}, nil
}
