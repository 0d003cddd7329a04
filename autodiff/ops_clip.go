package autodiff

import (
	"fmt"
	"math"
)

// Clip limits x to [lo, hi]; its derivative is the indicator of the open
// interior, so ẏ = [lo<x<hi]·ẋ, x̄ = [lo<x<hi]·ȳ, x̄̇ = [lo<x<hi]·ȳ̇. The bounds
// (attributes before opset 11, inputs 1 and 2 after) are not differentiated.
type clipKernel[T Float] struct {
	lo, hi float64 // attribute bounds (opset < 11)
	legacy bool
}

func init() {
	register("Clip", func(n *nodeInfo) (kernels, error) {
		lo, hi := math.Inf(-1), math.Inf(1)
		legacy := n.opset < 11
		if legacy {
			lo, hi = float64(n.AttrFloat("min", float32(math.Inf(-1)))), float64(n.AttrFloat("max", float32(math.Inf(1))))
		}
		return pair(&clipKernel[float32]{lo, hi, legacy}, &clipKernel[float64]{lo, hi, legacy}), nil
	})
}

func (k *clipKernel[T]) bounds(in []*value[T]) (float64, float64) {
	lo, hi := k.lo, k.hi
	if !k.legacy {
		if len(in) > 1 && in[1] != nil {
			lo = scalarAt(in[1], 0)
		}
		if len(in) > 2 && in[2] != nil {
			hi = scalarAt(in[2], 0)
		}
	}
	return lo, hi
}

func (k *clipKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x := in[0]
	lo, hi := k.bounds(in)
	if x.isInt() {
		t := &Tensor[int64]{Shape: x.i.Shape, Data: make([]int64, len(x.i.Data))}
		for i, v := range x.i.Data {
			t.Data[i] = int64(min(max(float64(v), lo), hi))
		}
		return []*value[T]{intVal[T](t)}, nil
	}
	y := floatVal(c.alloc(x.f.Shape), nil)
	for i, v := range x.f.Data {
		y.f.Data[i] = T(min(max(float64(v), lo), hi))
	}
	if c.tangent() && x.dot != nil {
		y.dot = c.alloc(x.f.Shape)
		clipMask(y.dot.Data, x.f.Data, x.dot.Data, lo, hi)
	}
	return []*value[T]{y}, nil
}

func clipMask[T Float](dst, x, src []T, lo, hi float64) {
	for i, v := range x {
		if f := float64(v); f > lo && f < hi {
			dst[i] = src[i]
		} else {
			dst[i] = 0
		}
	}
}

func (k *clipKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	for i := 1; i < len(need); i++ {
		if need[i] {
			return nil, fmt.Errorf("the bounds of Clip must not depend on trainable parameters")
		}
	}
	x, g := in[0], gout[0]
	lo, hi := k.bounds(in)
	gx := floatVal(c.alloc(x.f.Shape), nil)
	clipMask(gx.f.Data, x.f.Data, g.f.Data, lo, hi)
	if c.tangent() && g.dot != nil {
		gx.dot = c.alloc(x.f.Shape)
		clipMask(gx.dot.Data, x.f.Data, g.dot.Data, lo, hi)
	}
	res := make([]*value[T], len(in))
	res[0] = gx
	return res, nil
}
