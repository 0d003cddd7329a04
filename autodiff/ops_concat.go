package autodiff

import (
	"fmt"
	"slices"
)

// Concat joins inputs along an axis and Split cuts one input into pieces.
// Both are linear: their tangents are the same op on the tangents, and each
// one's VJP is the other (Concat's adjoint splits ȳ, Split's concatenates the
// outputs' adjoints, zeros for pieces that do not reach the loss).
type concatKernel[T Float] struct{ axis int }

type splitKernel[T Float] struct {
	axis  int
	split []int64 // attribute sizes, nil when given as input 1 or equal
	num   int     // number of outputs
}

func init() {
	register("Concat", func(n *nodeInfo) (kernels, error) {
		a := int(n.AttrInt("axis", 0))
		return pair(&concatKernel[float32]{a}, &concatKernel[float64]{a}), nil
	})
	register("Split", func(n *nodeInfo) (kernels, error) {
		a := int(n.AttrInt("axis", 0))
		s := n.AttrInts("split")
		num := len(n.Outputs)
		return pair(&splitKernel[float32]{a, s, num}, &splitKernel[float64]{a, s, num}), nil
	})
}

// blocks describes a tensor of shape s cut along axis: outer blocks of
// s[axis]·inner elements.
func blocks(s []int, axis int) (outer, inner int) {
	return numel(s[:axis]), numel(s[axis+1:])
}

func (k *concatKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	ax, err := normAxis(k.axis, len(in[0].shape()))
	if err != nil {
		return nil, err
	}
	out := slices.Clone(in[0].shape())
	out[ax] = 0
	anyDot := false
	for _, v := range in {
		s := v.shape()
		if len(s) != len(out) || v.isInt() != in[0].isInt() {
			return nil, fmt.Errorf("inputs differ in rank or type")
		}
		for i := range s {
			if i != ax && s[i] != out[i] {
				return nil, fmt.Errorf("input shapes %v and %v differ off the concat axis", in[0].shape(), s)
			}
		}
		out[ax] += s[ax]
		anyDot = anyDot || v.dot != nil
	}
	if in[0].isInt() {
		parts := make([][]int64, len(in))
		for i, v := range in {
			parts[i] = v.i.Data
		}
		t := &Tensor[int64]{Shape: out, Data: make([]int64, numel(out))}
		concatInto(t.Data, parts, in, ax)
		return []*value[T]{intVal[T](t)}, nil
	}
	parts := make([][]T, len(in))
	for i, v := range in {
		parts[i] = v.f.Data
	}
	y := floatVal(c.alloc(out), nil)
	concatInto(y.f.Data, parts, in, ax)
	if c.tangent() && anyDot {
		for i, v := range in {
			parts[i] = orZeros(c, v)
		}
		y.dot = c.alloc(out)
		concatInto(y.dot.Data, parts, in, ax)
	}
	return []*value[T]{y}, nil
}

func concatInto[E any, T Float](dst []E, parts [][]E, in []*value[T], ax int) {
	outer, inner := blocks(in[0].shape(), ax)
	o := 0
	for b := 0; b < outer; b++ {
		for i, v := range in {
			n := v.shape()[ax] * inner
			o += copy(dst[o:o+n], parts[i][b*n:(b+1)*n])
		}
	}
}

func (k *concatKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	ax, _ := normAxis(k.axis, len(in[0].shape()))
	g := gout[0]
	outer, inner := blocks(out[0].f.Shape, ax)
	total := out[0].f.Shape[ax] * inner
	res := make([]*value[T], len(in))
	start := 0
	for i, v := range in {
		n := v.shape()[ax] * inner
		if need[i] {
			r := floatVal(c.alloc(v.f.Shape), nil)
			if c.tangent() && g.dot != nil {
				r.dot = c.alloc(v.f.Shape)
			}
			for b := 0; b < outer; b++ {
				copy(r.f.Data[b*n:(b+1)*n], g.f.Data[b*total+start:b*total+start+n])
				if r.dot != nil {
					copy(r.dot.Data[b*n:(b+1)*n], g.dot.Data[b*total+start:b*total+start+n])
				}
			}
			res[i] = r
		}
		start += n
	}
	return res, nil
}

// sizes returns the split sizes along the axis of length d.
func (k *splitKernel[T]) sizes(in []*value[T], d int) ([]int, error) {
	split := k.split
	if len(in) > 1 && in[1] != nil {
		if !in[1].isInt() {
			return nil, fmt.Errorf("split sizes must be integers")
		}
		split = in[1].i.Data
	}
	s := make([]int, k.num)
	if split == nil {
		chunk := (d + k.num - 1) / k.num
		for i := range s {
			s[i] = min(chunk, d-min(d, i*chunk))
		}
		return s, nil
	}
	if len(split) != k.num {
		return nil, fmt.Errorf("%d split sizes for %d outputs", len(split), k.num)
	}
	total := 0
	for i, v := range split {
		s[i] = int(v)
		total += s[i]
	}
	if total != d {
		return nil, fmt.Errorf("split sizes %v do not add up to %d", split, d)
	}
	return s, nil
}

func (k *splitKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x := in[0]
	shape := x.shape()
	ax, err := normAxis(k.axis, len(shape))
	if err != nil {
		return nil, err
	}
	sizes, err := k.sizes(in, shape[ax])
	if err != nil {
		return nil, err
	}
	outer, inner := blocks(shape, ax)
	total := shape[ax] * inner
	res := make([]*value[T], k.num)
	start := 0
	for i, sz := range sizes {
		s := slices.Clone(shape)
		s[ax] = sz
		n := sz * inner
		if x.isInt() {
			t := &Tensor[int64]{Shape: s, Data: make([]int64, numel(s))}
			for b := 0; b < outer; b++ {
				copy(t.Data[b*n:(b+1)*n], x.i.Data[b*total+start:])
			}
			res[i] = intVal[T](t)
		} else {
			v := floatVal(c.alloc(s), nil)
			if c.tangent() && x.dot != nil {
				v.dot = c.alloc(s)
			}
			for b := 0; b < outer; b++ {
				copy(v.f.Data[b*n:(b+1)*n], x.f.Data[b*total+start:])
				if v.dot != nil {
					copy(v.dot.Data[b*n:(b+1)*n], x.dot.Data[b*total+start:])
				}
			}
			res[i] = v
		}
		start += n
	}
	return res, nil
}

func (k *splitKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	x := in[0].f
	ax, _ := normAxis(k.axis, len(x.Shape))
	outer, inner := blocks(x.Shape, ax)
	total := x.Shape[ax] * inner
	gx := floatVal(c.zeros(x.Shape), nil)
	anyDot := false
	for _, g := range gout {
		anyDot = anyDot || (g != nil && g.dot != nil)
	}
	if c.tangent() && anyDot {
		gx.dot = c.zeros(x.Shape)
	}
	start := 0
	for i, o := range out {
		n := o.f.Shape[ax] * inner
		if g := gout[i]; g != nil {
			for b := 0; b < outer; b++ {
				copy(gx.f.Data[b*total+start:b*total+start+n], g.f.Data[b*n:(b+1)*n])
				if gx.dot != nil && g.dot != nil {
					copy(gx.dot.Data[b*total+start:b*total+start+n], g.dot.Data[b*n:(b+1)*n])
				}
			}
		}
		start += n
	}
	res := make([]*value[T], len(in))
	res[0] = gx
	return res, nil
}
