package autodiff

import (
	"fmt"
	"math"
)

// Softmax and LogSoftmax along one axis (opset ≥ 13) or over the flattened
// trailing axes from axis on (opset < 13). Per vector, with s = softmax(x):
//
//	Softmax     ṡ = s⊙(ẋ − ⟨s,ẋ⟩)    x̄ = s⊙(ȳ − ⟨s,ȳ⟩)
//	            x̄̇ = ṡ⊙(ȳ − ⟨s,ȳ⟩) + s⊙(ȳ̇ − ⟨ṡ,ȳ⟩ − ⟨s,ȳ̇⟩)
//	LogSoftmax  l̇ = ẋ − ⟨s,ẋ⟩        x̄ = ȳ − s·Σȳ     x̄̇ = ȳ̇ − ṡ·Σȳ − s·Σȳ̇
type softmaxKernel[T Float] struct {
	axis   int
	legacy bool // opset < 13: softmax over the flattened axes [axis, rank)
	log    bool
}

func init() {
	for _, name := range []string{"Softmax", "LogSoftmax"} {
		log := name == "LogSoftmax"
		register(name, func(n *nodeInfo) (kernels, error) {
			legacy := n.opset < 13
			def := int64(-1)
			if legacy {
				def = 1
			}
			a := int(n.AttrInt("axis", def))
			return pair(&softmaxKernel[float32]{a, legacy, log}, &softmaxKernel[float64]{a, legacy, log}), nil
		})
	}
}

// layout returns (outer, n, inner): vectors of n elements at stride inner.
func (k *softmaxKernel[T]) layout(s []int) (int, int, int, error) {
	ax, err := normAxis(k.axis, len(s))
	if err != nil {
		return 0, 0, 0, err
	}
	if k.legacy {
		return numel(s[:ax]), numel(s[ax:]), 1, nil
	}
	return numel(s[:ax]), s[ax], numel(s[ax+1:]), nil
}

// vectors calls fn with the start offset and stride of every softmax vector.
func vectors(outer, n, inner int, fn func(off, stride int)) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			fn(o*n*inner+i, inner)
		}
	}
}

// dotAt is ⟨a, b⟩ over one vector.
func dotAt[T Float](a, b []T, off, stride, n int) T {
	var s T
	for j := 0; j < n; j++ {
		s += a[off+j*stride] * b[off+j*stride]
	}
	return s
}

func sumAt[T Float](a []T, off, stride, n int) T {
	var s T
	for j := 0; j < n; j++ {
		s += a[off+j*stride]
	}
	return s
}

// probs returns s = softmax(x) for every vector (the output itself for
// Softmax, exp of it for LogSoftmax).
func (k *softmaxKernel[T]) probs(c *ctx[T], y []T) []T {
	if !k.log {
		return y
	}
	s := c.r.ar.alloc(len(y))
	for i, v := range y {
		s[i] = T(math.Exp(float64(v)))
	}
	return s
}

func (k *softmaxKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x := in[0]
	if x.isInt() {
		return nil, fmt.Errorf("integer input is not supported")
	}
	outer, n, inner, err := k.layout(x.f.Shape)
	if err != nil {
		return nil, err
	}
	y := floatVal(c.alloc(x.f.Shape), nil)
	xd, yd := x.f.Data, y.f.Data
	vectors(outer, n, inner, func(off, st int) {
		m := xd[off]
		for j := 1; j < n; j++ {
			m = max(m, xd[off+j*st])
		}
		var sum float64
		for j := 0; j < n; j++ {
			e := math.Exp(float64(xd[off+j*st] - m))
			yd[off+j*st] = T(e)
			sum += e
		}
		if k.log {
			lse := float64(m) + math.Log(sum)
			for j := 0; j < n; j++ {
				yd[off+j*st] = T(float64(xd[off+j*st]) - lse)
			}
			return
		}
		inv := 1 / sum
		for j := 0; j < n; j++ {
			yd[off+j*st] = T(float64(yd[off+j*st]) * inv)
		}
	})
	if c.tangent() && x.dot != nil {
		s := k.probs(c, yd)
		y.dot = c.alloc(x.f.Shape)
		dd, xdot := y.dot.Data, x.dot.Data
		vectors(outer, n, inner, func(off, st int) {
			sx := dotAt(s, xdot, off, st, n)
			for j := 0; j < n; j++ {
				i := off + j*st
				if k.log {
					dd[i] = xdot[i] - sx
				} else {
					dd[i] = s[i] * (xdot[i] - sx)
				}
			}
		})
	}
	return []*value[T]{y}, nil
}

func (k *softmaxKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	x, g := in[0], gout[0]
	outer, n, inner, _ := k.layout(x.f.Shape)
	s := k.probs(c, out[0].f.Data)
	gy := g.f.Data
	gx := floatVal(c.alloc(x.f.Shape), nil)
	tan := c.tangent() && (g.dot != nil || x.dot != nil)
	var sdot []T
	if tan {
		gx.dot = c.alloc(x.f.Shape)
		if x.dot != nil {
			sdot = c.r.ar.alloc(len(s))
			vectors(outer, n, inner, func(off, st int) {
				sx := dotAt(s, x.dot.Data, off, st, n)
				for j := 0; j < n; j++ {
					i := off + j*st
					sdot[i] = s[i] * (x.dot.Data[i] - sx)
				}
			})
		}
	}
	vectors(outer, n, inner, func(off, st int) {
		if k.log {
			sg := sumAt(gy, off, st, n)
			var sgd T
			if g.dot != nil {
				sgd = sumAt(g.dot.Data, off, st, n)
			}
			for j := 0; j < n; j++ {
				i := off + j*st
				gx.f.Data[i] = gy[i] - s[i]*sg
				if tan {
					v := -s[i] * sgd
					if g.dot != nil {
						v += g.dot.Data[i]
					}
					if sdot != nil {
						v -= sdot[i] * sg
					}
					gx.dot.Data[i] = v
				}
			}
			return
		}
		sg := dotAt(s, gy, off, st, n)
		var sdg, sgd T // ⟨ṡ,ȳ⟩, ⟨s,ȳ̇⟩
		if sdot != nil {
			sdg = dotAt(sdot, gy, off, st, n)
		}
		if g.dot != nil {
			sgd = dotAt(s, g.dot.Data, off, st, n)
		}
		for j := 0; j < n; j++ {
			i := off + j*st
			gx.f.Data[i] = s[i] * (gy[i] - sg)
			if tan {
				var v T
				if sdot != nil {
					v = sdot[i] * (gy[i] - sg)
				}
				var gd T
				if g.dot != nil {
					gd = g.dot.Data[i]
				}
				v += s[i] * (gd - sdg - sgd)
				gx.dot.Data[i] = v
			}
		}
	})
	return []*value[T]{gx}, nil
}
