package autodiff

import (
	"fmt"
	"slices"
)

// Reductions over a set of axes. With d(i) the output element input i
// reduces into:
//
//	ReduceSum        y = Σx     ẏ = Σẋ       x̄ = ȳ[d]          x̄̇ = ȳ̇[d]
//	ReduceMean       the same scaled by 1/count
//	ReduceSumSquare  y = Σx²    ẏ = Σ2xẋ     x̄ = 2x·ȳ[d]       x̄̇ = 2ẋ·ȳ[d] + 2x·ȳ̇[d]
//	ReduceMax/Min    y = x[a]   ẏ = ẋ[a]     x̄[a] += ȳ          x̄̇[a] += ȳ̇  (a = arg max/min)
type reduceKind int

const (
	reduceSum reduceKind = iota
	reduceMean
	reduceSumSquare
	reduceMax
	reduceMin
)

type reduceKernel[T Float] struct {
	kind      reduceKind
	attrAxes  []int64
	axesInput bool // axes come from input 1
	keep      bool
	noop      bool // noop_with_empty_axes
}

func init() {
	for name, kind := range map[string]reduceKind{"ReduceSum": reduceSum, "ReduceMean": reduceMean,
		"ReduceSumSquare": reduceSumSquare, "ReduceMax": reduceMax, "ReduceMin": reduceMin} {
		register(name, func(n *nodeInfo) (kernels, error) {
			inputFrom := int64(18)
			if kind == reduceSum {
				inputFrom = 13
			}
			a := reduceKernel[float32]{kind: kind, attrAxes: n.AttrInts("axes"), axesInput: n.opset >= inputFrom,
				keep: n.AttrInt("keepdims", 1) != 0, noop: n.AttrInt("noop_with_empty_axes", 0) != 0}
			b := reduceKernel[float64](a)
			return pair(&a, &b), nil
		})
	}
}

// reducePlan maps input elements to output elements.
type reducePlan struct {
	in, out []int
	dst     []int // output index of every input element
	count   int   // inputs per output
}

func (k *reduceKernel[T]) plan(c *ctx[T], in []*value[T]) (*reducePlan, error) {
	s := in[0].shape()
	axes := k.attrAxes
	if k.axesInput {
		axes = nil
		if len(in) > 1 && in[1] != nil {
			if !in[1].isInt() {
				return nil, fmt.Errorf("axes must be integers")
			}
			axes = in[1].i.Data
		}
	}
	if p, ok := (*c.state()).(*reducePlan); ok && slices.Equal(p.in, s) && !k.axesInput {
		return p, nil
	}
	red := make([]bool, len(s))
	if len(axes) == 0 {
		for i := range red {
			red[i] = !k.noop
		}
	}
	for _, a := range axes {
		ax, err := normAxis(int(a), len(s))
		if err != nil {
			return nil, err
		}
		red[ax] = true
	}
	p := &reducePlan{in: slices.Clone(s), count: 1}
	full := make([]int, len(s)) // output shape with kept axes
	for i, d := range s {
		full[i] = d
		if red[i] {
			full[i] = 1
			p.count *= d
		}
		if !red[i] || k.keep {
			p.out = append(p.out, full[i])
		}
	}
	if p.out == nil {
		p.out = []int{}
	}
	st := stridesOf(full)
	p.dst = mapOver(s, func(idx []int) int {
		o := 0
		for i, v := range idx {
			if !red[i] {
				o += v * st[i]
			}
		}
		return o
	}).src
	*c.state() = p
	return p, nil
}

// argState is a plan plus the last pass's arg max/min.
type argState struct {
	*reducePlan
	arg []int
}

func (k *reduceKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x := in[0]
	if x.isInt() {
		return nil, fmt.Errorf("integer reductions are not supported")
	}
	if st, ok := (*c.state()).(*argState); ok {
		*c.state() = st.reducePlan
	}
	p, err := k.plan(c, in)
	if err != nil {
		return nil, err
	}
	y := floatVal(c.zeros(p.out), nil)
	yd := y.f.Data
	tan := c.tangent() && x.dot != nil
	if tan {
		y.dot = c.zeros(p.out)
	}
	switch k.kind {
	case reduceSum, reduceMean, reduceSumSquare:
		for i, v := range x.f.Data {
			if k.kind == reduceSumSquare {
				yd[p.dst[i]] += v * v
			} else {
				yd[p.dst[i]] += v
			}
		}
		if k.kind == reduceMean {
			scaleBy(yd, 1/T(p.count))
		}
		if tan {
			for i, v := range x.dot.Data {
				if k.kind == reduceSumSquare {
					v *= 2 * x.f.Data[i]
				}
				y.dot.Data[p.dst[i]] += v
			}
			if k.kind == reduceMean {
				scaleBy(y.dot.Data, 1/T(p.count))
			}
		}
	case reduceMax, reduceMin:
		arg := make([]int, len(yd))
		for i := range arg {
			arg[i] = -1
		}
		for i, v := range x.f.Data {
			o := p.dst[i]
			if a := arg[o]; a < 0 || (k.kind == reduceMax && v > yd[o]) || (k.kind == reduceMin && v < yd[o]) {
				yd[o], arg[o] = v, i
			}
		}
		*c.state() = &argState{p, arg}
		if tan {
			gatherInto(y.dot.Data, x.dot.Data, arg, 0)
		}
	}
	return []*value[T]{y}, nil
}

func scaleBy[T Float](d []T, s T) {
	for i := range d {
		d[i] *= s
	}
}

func (k *reduceKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	x, g := in[0], gout[0]
	res := make([]*value[T], len(in))
	gx := floatVal(c.zeros(x.f.Shape), nil)
	tan := c.tangent() && (g.dot != nil || (k.kind == reduceSumSquare && x.dot != nil))
	if tan {
		gx.dot = c.zeros(x.f.Shape)
	}
	res[0] = gx
	if k.kind == reduceMax || k.kind == reduceMin {
		st, ok := (*c.state()).(*argState)
		if !ok {
			return nil, fmt.Errorf("backward before forward")
		}
		scatterAdd(gx.f.Data, g.f.Data, st.arg)
		if tan {
			scatterAdd(gx.dot.Data, g.dot.Data, st.arg)
		}
		return res, nil
	}
	p, err := k.plan(c, in)
	if err != nil {
		return nil, err
	}
	s := T(1)
	if k.kind == reduceMean {
		s = 1 / T(p.count)
	}
	for i, o := range p.dst {
		v := s * g.f.Data[o]
		if k.kind == reduceSumSquare {
			gx.f.Data[i] = 2 * x.f.Data[i] * v
		} else {
			gx.f.Data[i] = v
		}
		if !tan {
			continue
		}
		var d T
		if g.dot != nil {
			d = s * g.dot.Data[o]
			if k.kind == reduceSumSquare {
				d *= 2 * x.f.Data[i]
			}
		}
		if k.kind == reduceSumSquare && x.dot != nil {
			d += 2 * x.dot.Data[i] * v
		}
		gx.dot.Data[i] = d
	}
	return res, nil
}
