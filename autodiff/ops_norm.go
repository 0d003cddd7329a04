package autodiff

import (
	"fmt"
	"math"
	"slices"
)

// BatchNormalization in inference form, per channel c with r = 1/√(var+ε),
// x̂ = (x − mean)·r and k = scale·r (mean and var are constants):
//
//	forward  y = scale·x̂ + B            ẏ = k·ẋ + ṡcale·x̂ + Ḃ
//	VJP      x̄ = k·ȳ   scalē = Σ ȳ·x̂   B̄ = Σ ȳ
//	tangent  x̄̇ = k·ȳ̇ + ṡcale·r·ȳ   scalē̇ = Σ (ȳ̇·x̂ + ȳ·ẋ·r)   B̄̇ = Σ ȳ̇
type batchNormKernel[T Float] struct{ eps float64 }

func init() {
	register("BatchNormalization", func(n *nodeInfo) (kernels, error) {
		training := n.AttrInt("training_mode", 0) != 0
		for _, o := range n.Outputs[1:] {
			training = training || o != ""
		}
		if training {
			return kernels{}, fmt.Errorf("training-mode batch normalisation is not supported")
		}
		if n.opset < 9 && n.AttrInt("spatial", 1) != 1 {
			return kernels{}, fmt.Errorf("spatial=0 is not supported")
		}
		eps := float64(n.AttrFloat("epsilon", 1e-5))
		return pair(&batchNormKernel[float32]{eps}, &batchNormKernel[float64]{eps}), nil
	})
	register("LayerNormalization", func(n *nodeInfo) (kernels, error) {
		a := int(n.AttrInt("axis", -1))
		eps := float64(n.AttrFloat("epsilon", 1e-5))
		return pair(&layerNormKernel[float32]{a, eps}, &layerNormKernel[float64]{a, eps}), nil
	})
}

// bnLayout returns N, C and the per-channel inner size of x.
func bnLayout(s []int) (n, c, inner int, err error) {
	if len(s) < 2 {
		return 0, 0, 0, fmt.Errorf("input %v must be [N, C, ...]", s)
	}
	return s[0], s[1], numel(s[2:]), nil
}

func (k *batchNormKernel[T]) inv(v []T) []float64 {
	r := make([]float64, len(v))
	for i, x := range v {
		r[i] = 1 / math.Sqrt(float64(x)+k.eps)
	}
	return r
}

func (k *batchNormKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x, scale, b, mean, vr := in[0], in[1], in[2], in[3], in[4]
	n, ch, inner, err := bnLayout(x.f.Shape)
	if err != nil {
		return nil, err
	}
	for _, p := range in[1:5] {
		if len(p.f.Data) != ch {
			return nil, fmt.Errorf("per-channel input has %d entries for %d channels", len(p.f.Data), ch)
		}
	}
	if mean.dot != nil || vr.dot != nil {
		return nil, fmt.Errorf("running mean and variance must not depend on trainable parameters")
	}
	r := k.inv(vr.f.Data)
	y := floatVal(c.alloc(x.f.Shape), nil)
	tan := c.tangent() && (x.dot != nil || scale.dot != nil || b.dot != nil)
	if tan {
		y.dot = c.alloc(x.f.Shape)
	}
	for s := 0; s < n; s++ {
		for j := 0; j < ch; j++ {
			off := (s*ch + j) * inner
			xs, ys := x.f.Data[off:off+inner], y.f.Data[off:off+inner]
			m, rj, sc, bj := mean.f.Data[j], T(r[j]), scale.f.Data[j], b.f.Data[j]
			for i, v := range xs {
				ys[i] = sc*(v-m)*rj + bj
			}
			if !tan {
				continue
			}
			yd := y.dot.Data[off : off+inner]
			var sd, bd T
			if scale.dot != nil {
				sd = scale.dot.Data[j]
			}
			if b.dot != nil {
				bd = b.dot.Data[j]
			}
			for i, v := range xs {
				d := sd*(v-m)*rj + bd
				if x.dot != nil {
					d += sc * rj * x.dot.Data[off+i]
				}
				yd[i] = d
			}
		}
	}
	return []*value[T]{y}, nil
}

func (k *batchNormKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	if need[3] || need[4] {
		return nil, fmt.Errorf("running mean and variance must not depend on trainable parameters")
	}
	x, scale, mean, g := in[0], in[1], in[3], gout[0]
	n, ch, inner, _ := bnLayout(x.f.Shape)
	r := k.inv(in[4].f.Data)
	tan := c.tangent()
	res := make([]*value[T], 5)
	var gx, gs, gb *value[T]
	if need[0] {
		gx = floatVal(c.alloc(x.f.Shape), nil)
		if tan && (g.dot != nil || scale.dot != nil) {
			gx.dot = c.alloc(x.f.Shape)
		}
	}
	if need[1] {
		gs = floatVal(c.zeros([]int{ch}), nil)
		if tan {
			gs.dot = c.zeros([]int{ch})
		}
	}
	if need[2] {
		gb = floatVal(c.zeros([]int{ch}), nil)
		if tan && g.dot != nil {
			gb.dot = c.zeros([]int{ch})
		}
	}
	for s := 0; s < n; s++ {
		for j := 0; j < ch; j++ {
			off := (s*ch + j) * inner
			xs, gs0 := x.f.Data[off:off+inner], g.f.Data[off:off+inner]
			m, rj, sc := mean.f.Data[j], T(r[j]), scale.f.Data[j]
			var gd []T
			if g.dot != nil {
				gd = g.dot.Data[off : off+inner]
			}
			if gx != nil {
				dst := gx.f.Data[off : off+inner]
				for i, v := range gs0 {
					dst[i] = sc * rj * v
				}
				if gx.dot != nil {
					dd := gx.dot.Data[off : off+inner]
					var sd T
					if scale.dot != nil {
						sd = scale.dot.Data[j]
					}
					for i, v := range gs0 {
						d := sd * rj * v
						if gd != nil {
							d += sc * rj * gd[i]
						}
						dd[i] = d
					}
				}
			}
			if gs != nil {
				var sum, sumDot T
				for i, v := range xs {
					xh := (v - m) * rj
					sum += gs0[i] * xh
					if tan {
						if gd != nil {
							sumDot += gd[i] * xh
						}
						if x.dot != nil {
							sumDot += gs0[i] * x.dot.Data[off+i] * rj
						}
					}
				}
				gs.f.Data[j] += sum
				if gs.dot != nil {
					gs.dot.Data[j] += sumDot
				}
			}
			if gb != nil {
				var sum, sumDot T
				for i, v := range gs0 {
					sum += v
					if gd != nil {
						sumDot += gd[i]
					}
				}
				gb.f.Data[j] += sum
				if gb.dot != nil {
					gb.dot.Data[j] += sumDot
				}
			}
		}
	}
	res[0], res[1], res[2] = gx, gs, gb
	return res, nil
}

// LayerNormalization over the axes [axis, rank). Per row of D elements, with
// μ the mean, r = 1/√(var+ε), x̂ = (x − μ)·r, y = x̂⊙s + b, and mean(·) over the row:
//
//	x̂̇ = r·(ẋ − mean(ẋ) − x̂·mean(x̂⊙ẋ))        ẏ = x̂̇⊙s + x̂⊙ṡ + ḃ
//	ḡ = ȳ⊙s    x̄ = r·(ḡ − mean(ḡ) − x̂·mean(x̂⊙ḡ))   s̄ = Σ ȳ⊙x̂   b̄ = Σ ȳ
//	ṙ = −r·mean(x̂⊙ẋ)·r    ḡ̇ = ȳ̇⊙s + ȳ⊙ṡ
//	x̄̇ = (ṙ/r)·x̄ + r·(ḡ̇ − mean(ḡ̇) − x̂̇·mean(x̂⊙ḡ) − x̂·mean(x̂̇⊙ḡ + x̂⊙ḡ̇))
//	s̄̇ = Σ (ȳ̇⊙x̂ + ȳ⊙x̂̇)    b̄̇ = Σ ȳ̇
type layerNormKernel[T Float] struct {
	axis int
	eps  float64
}

// lnStats holds a pass's per-row statistics for the backward rule.
type lnStats[T Float] struct {
	xhat []T
	r    []T
}

func (k *layerNormKernel[T]) layout(s []int) (rows, d int, err error) {
	ax, err := normAxis(k.axis, len(s))
	if err != nil {
		return 0, 0, err
	}
	return numel(s[:ax]), numel(s[ax:]), nil
}

func (k *layerNormKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x, s := in[0], in[1]
	var b *value[T]
	if len(in) > 2 && in[2] != nil {
		b = in[2]
	}
	rows, d, err := k.layout(x.f.Shape)
	if err != nil {
		return nil, err
	}
	ax, _ := normAxis(k.axis, len(x.f.Shape))
	norm := x.f.Shape[ax:]
	sd := expandTo(c.r.ar.alloc, s.f, norm)
	var bd []T
	if b != nil {
		bd = expandTo(c.r.ar.alloc, b.f, norm)
	}
	st := &lnStats[T]{xhat: c.r.ar.alloc(rows * d), r: c.r.ar.alloc(rows)}
	y := floatVal(c.alloc(x.f.Shape), nil)
	meanShape := slices.Clone(x.f.Shape)
	for i := ax; i < len(meanShape); i++ {
		meanShape[i] = 1
	}
	meanOut, invOut := &Tensor[T]{Shape: meanShape, Data: make([]T, rows)}, &Tensor[T]{Shape: meanShape, Data: make([]T, rows)}
	for row := 0; row < rows; row++ {
		xs := x.f.Data[row*d : (row+1)*d]
		var mu float64
		for _, v := range xs {
			mu += float64(v)
		}
		mu /= float64(d)
		var vr float64
		for _, v := range xs {
			dv := float64(v) - mu
			vr += dv * dv
		}
		r := 1 / math.Sqrt(vr/float64(d)+k.eps)
		st.r[row] = T(r)
		meanOut.Data[row], invOut.Data[row] = T(mu), T(r)
		xh, ys := st.xhat[row*d:(row+1)*d], y.f.Data[row*d:(row+1)*d]
		for i, v := range xs {
			xh[i] = T((float64(v) - mu) * r)
			ys[i] = xh[i] * sd[i]
			if bd != nil {
				ys[i] += bd[i]
			}
		}
	}
	*c.state() = st
	if c.tangent() && (x.dot != nil || s.dot != nil || (b != nil && b.dot != nil)) {
		y.dot = c.zeros(x.f.Shape)
		var sdot, bdot []T
		if s.dot != nil {
			sdot = expandTo(c.r.ar.alloc, s.dot, norm)
		}
		if b != nil && b.dot != nil {
			bdot = expandTo(c.r.ar.alloc, b.dot, norm)
		}
		xhd := k.xhatDot(c, x, st, rows, d)
		for row := 0; row < rows; row++ {
			xh, yd := st.xhat[row*d:(row+1)*d], y.dot.Data[row*d:(row+1)*d]
			for i := range yd {
				var v T
				if xhd != nil {
					v = xhd[row*d+i] * sd[i]
				}
				if sdot != nil {
					v += xh[i] * sdot[i]
				}
				if bdot != nil {
					v += bdot[i]
				}
				yd[i] = v
			}
		}
	}
	return []*value[T]{y, floatVal(meanOut, nil), floatVal(invOut, nil)}, nil
}

// xhatDot returns x̂̇ for every row, or nil when ẋ = 0.
func (k *layerNormKernel[T]) xhatDot(c *ctx[T], x *value[T], st *lnStats[T], rows, d int) []T {
	if x.dot == nil {
		return nil
	}
	out := c.r.ar.alloc(rows * d)
	for row := 0; row < rows; row++ {
		xd, xh := x.dot.Data[row*d:(row+1)*d], st.xhat[row*d:(row+1)*d]
		var m, mx T
		for i, v := range xd {
			m += v
			mx += xh[i] * v
		}
		m /= T(d)
		mx /= T(d)
		r := st.r[row]
		for i, v := range xd {
			out[row*d+i] = r * (v - m - xh[i]*mx)
		}
	}
	return out
}

func (k *layerNormKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	st, ok := (*c.state()).(*lnStats[T])
	if !ok {
		return nil, fmt.Errorf("backward before forward")
	}
	x, s, g := in[0], in[1], gout[0]
	if g == nil {
		return nil, nil
	}
	rows, d, _ := k.layout(x.f.Shape)
	ax, _ := normAxis(k.axis, len(x.f.Shape))
	norm := x.f.Shape[ax:]
	alloc := c.r.ar.alloc
	sd := expandTo(alloc, s.f, norm)
	var sdot []T
	if s.dot != nil {
		sdot = expandTo(alloc, s.dot, norm)
	}
	tan := c.tangent()
	xhd := k.xhatDot(c, x, st, rows, d)
	res := make([]*value[T], len(in))
	if need[0] {
		gx := floatVal(c.alloc(x.f.Shape), nil)
		if tan {
			gx.dot = c.alloc(x.f.Shape)
		}
		gb, gbd := make([]T, d), make([]T, d)
		for row := 0; row < rows; row++ {
			xh, gy := st.xhat[row*d:(row+1)*d], g.f.Data[row*d:(row+1)*d]
			r := st.r[row]
			var mg, mxg T
			for i := range gb {
				gb[i] = gy[i] * sd[i]
				mg += gb[i]
				mxg += xh[i] * gb[i]
			}
			mg /= T(d)
			mxg /= T(d)
			dst := gx.f.Data[row*d : (row+1)*d]
			for i := range dst {
				dst[i] = r * (gb[i] - mg - xh[i]*mxg)
			}
			if !tan {
				continue
			}
			var mxx T // mean(x̂⊙ẋ)
			if x.dot != nil {
				for i, v := range x.dot.Data[row*d : (row+1)*d] {
					mxx += xh[i] * v
				}
				mxx /= T(d)
			}
			var mgd, mcross T
			for i := range gbd {
				var v T
				if g.dot != nil {
					v = g.dot.Data[row*d+i] * sd[i]
				}
				if sdot != nil {
					v += gy[i] * sdot[i]
				}
				gbd[i] = v
				mgd += v
				mcross += xh[i] * v
				if xhd != nil {
					mcross += xhd[row*d+i] * gb[i]
				}
			}
			mgd /= T(d)
			mcross /= T(d)
			rdotOverR := -r * mxx // ṙ/r
			dd := gx.dot.Data[row*d : (row+1)*d]
			for i := range dd {
				v := gbd[i] - mgd - xh[i]*mcross
				if xhd != nil {
					v -= xhd[row*d+i] * mxg
				}
				dd[i] = rdotOverR*dst[i] + r*v
			}
		}
		res[0] = gx
	}
	// Scale and bias adjoints: sums over rows, reduced to their own shapes.
	for i, which := range []int{1, 2} {
		if which >= len(in) || in[which] == nil || !need[which] {
			continue
		}
		sum, sumDot := alloc(d), alloc(d)
		clear(sum)
		clear(sumDot)
		for row := 0; row < rows; row++ {
			xh, gy := st.xhat[row*d:(row+1)*d], g.f.Data[row*d:(row+1)*d]
			for j := range sum {
				if i == 0 {
					sum[j] += gy[j] * xh[j]
					if tan {
						if g.dot != nil {
							sumDot[j] += g.dot.Data[row*d+j] * xh[j]
						}
						if xhd != nil {
							sumDot[j] += gy[j] * xhd[row*d+j]
						}
					}
				} else {
					sum[j] += gy[j]
					if tan && g.dot != nil {
						sumDot[j] += g.dot.Data[row*d+j]
					}
				}
			}
		}
		shape := in[which].f.Shape
		v := floatVal(&Tensor[T]{Shape: shape, Data: reduceTo(alloc, sum, norm, shape)}, nil)
		if tan {
			v.dot = &Tensor[T]{Shape: shape, Data: reduceTo(alloc, sumDot, norm, shape)}
		}
		res[which] = v
	}
	return res, nil
}
