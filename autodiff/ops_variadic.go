package autodiff

import "fmt"

// Variadic elementwise ops with broadcasting: Sum, Mean (linear) and Max,
// Min (which route to the selected input, like MaxPool):
//
//	Sum   y = Σₖ xₖ       ẏ = Σₖ ẋₖ          x̄ₖ = u(ȳ)        x̄̇ₖ = u(ȳ̇)
//	Mean  the same scaled by 1/K
//	Max   y = x_a(o)     ẏ = ẋ_a(o)         x̄ₖ = u([a=k]·ȳ)   x̄̇ₖ = u([a=k]·ȳ̇)
//
// where a(o) is the first input holding the extreme value at o.
type variadicKernel[T Float] struct {
	op string
}

func init() {
	for _, op := range []string{"Sum", "Mean", "Max", "Min"} {
		register(op, func(*nodeInfo) (kernels, error) {
			return pair(&variadicKernel[float32]{op}, &variadicKernel[float64]{op}), nil
		})
	}
}

// variadicState keeps the selection of the last pass for Max and Min.
type variadicState struct{ pick []int }

func (k *variadicKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	shapes := make([][]int, len(in))
	for i, v := range in {
		if v.isInt() {
			return nil, unsupported("integer %s", k.op)
		}
		shapes[i] = v.f.Shape
	}
	out, err := broadcastShape(shapes...)
	if err != nil {
		return nil, err
	}
	alloc := c.r.ar.alloc
	n := numel(out)
	y := floatVal(c.alloc(out), nil)
	anyDot := false
	for _, v := range in {
		anyDot = anyDot || v.dot != nil
	}
	tan := c.tangent() && anyDot
	if tan {
		y.dot = c.zeros(out)
	}
	switch k.op {
	case "Sum", "Mean":
		clear(y.f.Data)
		for _, v := range in {
			addTo(y.f.Data, expandTo(alloc, v.f, out))
			if tan && v.dot != nil {
				addTo(y.dot.Data, expandTo(alloc, v.dot, out))
			}
		}
		if k.op == "Mean" {
			scaleBy(y.f.Data, 1/T(len(in)))
			if tan {
				scaleBy(y.dot.Data, 1/T(len(in)))
			}
		}
	case "Max", "Min":
		st := &variadicState{pick: make([]int, n)}
		for i, v := range in {
			xs := expandTo(alloc, v.f, out)
			for j, x := range xs {
				if i == 0 || (k.op == "Max" && x > y.f.Data[j]) || (k.op == "Min" && x < y.f.Data[j]) {
					y.f.Data[j], st.pick[j] = x, i
				}
			}
		}
		if tan {
			for i, v := range in {
				if v.dot == nil {
					continue
				}
				xd := expandTo(alloc, v.dot, out)
				for j, p := range st.pick {
					if p == i {
						y.dot.Data[j] = xd[j]
					}
				}
			}
		}
		*c.state() = st
	default:
		return nil, fmt.Errorf("unknown variadic op %s", k.op)
	}
	return []*value[T]{y}, nil
}

func (k *variadicKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	g := gout[0]
	shape := out[0].f.Shape
	alloc := c.r.ar.alloc
	var pick []int
	if k.op == "Max" || k.op == "Min" {
		st, ok := (*c.state()).(*variadicState)
		if !ok {
			return nil, fmt.Errorf("backward before forward")
		}
		pick = st.pick
	}
	scale := T(1)
	if k.op == "Mean" {
		scale = 1 / T(len(in))
	}
	res := make([]*value[T], len(in))
	for i, v := range in {
		if !need[i] {
			continue
		}
		adj := func(src []T) []T {
			d := alloc(len(src))
			for j, x := range src {
				if pick != nil && pick[j] != i {
					d[j] = 0
				} else {
					d[j] = scale * x
				}
			}
			return reduceTo(alloc, d, shape, v.f.Shape)
		}
		r := floatVal(&Tensor[T]{Shape: v.f.Shape, Data: adj(g.f.Data)}, nil)
		if c.tangent() && g.dot != nil {
			r.dot = &Tensor[T]{Shape: v.f.Shape, Data: adj(g.dot.Data)}
		}
		res[i] = r
	}
	return res, nil
}
