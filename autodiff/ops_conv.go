package autodiff

import (
	"fmt"
	"slices"
)

// Conv (1-D and 2-D, with strides, padding, dilations and groups) is
// bilinear in the input X and the weights W plus a bias b. With col(X) the
// im2col matrix of one sample and group, every rule is a GEMM:
//
//	forward  Y = W·col(X) + b          Ẏ = W·col(Ẋ) + Ẇ·col(X) + ḃ
//	VJP      W̄ = Σₙ Ȳ·col(X)ᵀ           X̄ = col⁻ᵀ(Wᵀ·Ȳ)          b̄ = Σ Ȳ
//	tangent  W̄̇ = Σₙ Ȳ̇·col(X)ᵀ + Ȳ·col(Ẋ)ᵀ   X̄̇ = col⁻ᵀ(Wᵀ·Ȳ̇ + Ẇᵀ·Ȳ)   b̄̇ = Σ Ȳ̇
//
// where col⁻ᵀ (col2im) is the adjoint of im2col: it scatter-adds columns back.
type convKernel[T Float] struct {
	attrs windowAttrs
	group int
}

func init() {
	register("Conv", func(n *nodeInfo) (kernels, error) {
		a, err := readWindowAttrs(n)
		if err != nil {
			return kernels{}, err
		}
		g := int(n.AttrInt("group", 1))
		if g < 1 {
			return kernels{}, fmt.Errorf("group %d must be positive", g)
		}
		return pair(&convKernel[float32]{a, g}, &convKernel[float64]{a, g}), nil
	})
}

// convShape checks shapes and returns the window and sizes.
type convDims struct {
	win         window
	n, c, m, cg int // batch, input channels, output channels, input channels per group
	mg, kk, hw  int // output channels per group, cg·kh·kw, oh·ow
	inHW        int
}

func (k *convKernel[T]) dims(x, w []int) (convDims, error) {
	if len(x) != len(w) || len(x) < 3 {
		return convDims{}, fmt.Errorf("input %v and weights %v must both be [N, C, spatial...]", x, w)
	}
	kernel := spatial(w)
	if k.attrs.kernel != nil && !slices.Equal(toInt64(kernel), k.attrs.kernel) {
		return convDims{}, fmt.Errorf("kernel_shape %v does not match weights %v", k.attrs.kernel, w)
	}
	win, err := k.attrs.geometry(x, kernel)
	if err != nil {
		return convDims{}, err
	}
	d := convDims{win: win, n: x[0], c: x[1], m: w[0], cg: w[1]}
	if d.c != d.cg*k.group || d.m%k.group != 0 {
		return d, fmt.Errorf("channels: input %v, weights %v and group %d do not fit", x, w, k.group)
	}
	d.mg = d.m / k.group
	d.kk = d.cg * win.kh * win.kw
	d.hw = win.oh * win.ow
	d.inHW = win.h * win.w
	return d, nil
}

func toInt64(s []int) []int64 {
	r := make([]int64, len(s))
	for i, v := range s {
		r[i] = int64(v)
	}
	return r
}

// im2col writes the [cg·kh·kw, oh·ow] column matrix of one sample's channel
// block into col, whose rows are ld elements apart (ld ≥ oh·ow, so several
// samples can share one matrix side by side).
func im2col[T Float](col, x []T, cg int, g window, ld int) {
	hw := g.oh * g.ow
	for c := 0; c < cg; c++ {
		xc := x[c*g.h*g.w:]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				row := col[((c*g.kh+i)*g.kw+j)*ld:][:hw]
				x0 := -g.pl + j*g.dw // input column of output column 0
				lo, hi := g.validCols(x0)
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.pt + i*g.dh
					dst := row[oy*g.ow : (oy+1)*g.ow]
					if iy < 0 || iy >= g.h || lo >= hi {
						clear(dst)
						continue
					}
					clear(dst[:lo])
					clear(dst[hi:])
					base := iy*g.w + x0
					if g.sw == 1 {
						copy(dst[lo:hi], xc[base+lo:])
						continue
					}
					for ox := lo; ox < hi; ox++ {
						dst[ox] = xc[base+ox*g.sw]
					}
				}
			}
		}
	}
}

// validCols returns the output columns [lo, hi) whose input column
// x0 + ox·sw falls inside the input (the rest read padding).
func (g window) validCols(x0 int) (lo, hi int) {
	if x0 < 0 {
		lo = (-x0 + g.sw - 1) / g.sw
	}
	if last := g.w - 1 - x0; last >= 0 {
		hi = min(g.ow, last/g.sw+1)
	}
	return min(lo, g.ow), hi
}

// col2im adds a column matrix (rows ld apart) back into one sample's channel
// block: the adjoint of im2col.
func col2im[T Float](x, col []T, cg int, g window, ld int) {
	hw := g.oh * g.ow
	for c := 0; c < cg; c++ {
		xc := x[c*g.h*g.w:]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				row := col[((c*g.kh+i)*g.kw+j)*ld:][:hw]
				x0 := -g.pl + j*g.dw
				lo, hi := g.validCols(x0)
				if lo >= hi {
					continue
				}
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.pt + i*g.dh
					if iy < 0 || iy >= g.h {
						continue
					}
					base := iy*g.w + x0
					src := row[oy*g.ow : (oy+1)*g.ow]
					if g.sw == 1 {
						addTo(xc[base+lo:base+hi], src[lo:hi])
						continue
					}
					for ox := lo; ox < hi; ox++ {
						xc[base+ox*g.sw] += src[ox]
					}
				}
			}
		}
	}
}

// convColumns is the number of output positions one GEMM covers: samples are
// grouped so that each product has at least this many columns, which keeps
// OpenBLAS efficient when a layer has few channels.
const convColumns = 2048

// group returns how many samples share one column matrix.
func (d convDims) group() int { return max(1, min(d.n, convColumns/max(d.hw, 1))) }

// convCols fills the column matrix [kk, sb·hw] of samples s0..s0+sb and group g.
func convCols[T Float](d convDims, col, x []T, s0, sb, g int) {
	ld := sb * d.hw
	for s := 0; s < sb; s++ {
		im2col(col[s*d.hw:], x[((s0+s)*d.c+g*d.cg)*d.inHW:], d.cg, d.win, ld)
	}
}

// gatherOut copies the output block of samples s0..s0+sb and group g,
// y[s, g·mg+m, p], into dst as [mg, sb·hw].
func gatherOut[T Float](d convDims, dst, y []T, s0, sb, g int) {
	ld := sb * d.hw
	for s := 0; s < sb; s++ {
		for m := 0; m < d.mg; m++ {
			copy(dst[m*ld+s*d.hw:][:d.hw], y[((s0+s)*d.m+g*d.mg+m)*d.hw:])
		}
	}
}

// scatterOut is the inverse of gatherOut.
func scatterOut[T Float](d convDims, y, src []T, s0, sb, g int) {
	ld := sb * d.hw
	for s := 0; s < sb; s++ {
		for m := 0; m < d.mg; m++ {
			copy(y[((s0+s)*d.m+g*d.mg+m)*d.hw:][:d.hw], src[m*ld+s*d.hw:])
		}
	}
}

// convTerm is one product of a sum of convolutions: weights w with the
// samples' data (inputs for apply, output adjoints for gradX).
type convTerm[T Float] struct{ w, data []T }

// apply computes y = Σ_t W_t·col(x_t) for every sample and group: one GEMM
// per term accumulating in the column block, one copy out.
func (k *convKernel[T]) apply(c *ctx[T], d convDims, y []T, terms ...convTerm[T]) {
	sb := d.group()
	col := c.r.ar.alloc(d.kk * sb * d.hw)
	tmp := c.r.ar.alloc(d.mg * sb * d.hw)
	for s0 := 0; s0 < d.n; s0 += sb {
		nb := min(sb, d.n-s0)
		for g := 0; g < k.group; g++ {
			for i, t := range terms {
				convCols(d, col, t.data, s0, nb, g)
				gemm(false, false, d.mg, nb*d.hw, d.kk, 1, t.w[g*d.mg*d.kk:], d.kk, col, nb*d.hw, beta[T](i), tmp, nb*d.hw)
			}
			scatterOut(d, y, tmp, s0, nb, g)
		}
	}
}

// beta is the GEMM accumulation factor of the i-th term of a sum.
func beta[T Float](i int) T {
	if i == 0 {
		return 0
	}
	return 1
}

// gradW adds Σₙ G[n]·col(x[n])ᵀ into dw.
func (k *convKernel[T]) gradW(c *ctx[T], d convDims, dw, x, gy []T) {
	sb := d.group()
	col := c.r.ar.alloc(d.kk * sb * d.hw)
	tmp := c.r.ar.alloc(d.mg * sb * d.hw)
	for s0 := 0; s0 < d.n; s0 += sb {
		nb := min(sb, d.n-s0)
		for g := 0; g < k.group; g++ {
			convCols(d, col, x, s0, nb, g)
			gatherOut(d, tmp, gy, s0, nb, g)
			gemm(false, true, d.mg, d.kk, nb*d.hw, 1, tmp, nb*d.hw, col, nb*d.hw, 1, dw[g*d.mg*d.kk:], d.kk)
		}
	}
}

// gradX adds col2im(Σ_t W_tᵀ·G_t[n]) into dx.
func (k *convKernel[T]) gradX(c *ctx[T], d convDims, dx []T, terms ...convTerm[T]) {
	sb := d.group()
	col := c.r.ar.alloc(d.kk * sb * d.hw)
	tmp := c.r.ar.alloc(d.mg * sb * d.hw)
	for s0 := 0; s0 < d.n; s0 += sb {
		nb := min(sb, d.n-s0)
		ld := nb * d.hw
		for g := 0; g < k.group; g++ {
			for i, t := range terms {
				gatherOut(d, tmp, t.data, s0, nb, g)
				gemm(true, false, d.kk, ld, d.mg, 1, t.w[g*d.mg*d.kk:], d.kk, tmp, ld, beta[T](i), col, ld)
			}
			for s := 0; s < nb; s++ {
				col2im(dx[((s0+s)*d.c+g*d.cg)*d.inHW:], col[s*d.hw:], d.cg, d.win, ld)
			}
		}
	}
}

// addBias adds b[m] to every output position of channel m.
func addBias[T Float](y, b []T, n, m, hw int) {
	for s := 0; s < n; s++ {
		for ch := 0; ch < m; ch++ {
			bv := b[ch]
			row := y[(s*m+ch)*hw : (s*m+ch+1)*hw]
			for i := range row {
				row[i] += bv
			}
		}
	}
}

// sumBias returns Σ over samples and positions of g, per channel.
func sumBias[T Float](dst, g []T, n, m, hw int) {
	clear(dst)
	for s := 0; s < n; s++ {
		for ch := 0; ch < m; ch++ {
			dst[ch] += sum4(g[(s*m+ch)*hw : (s*m+ch+1)*hw])
		}
	}
}

// sum4 sums v with four independent accumulators, so that the additions
// overlap instead of waiting on each other.
func sum4[T Float](v []T) T {
	var a, b, c, d T
	i := 0
	for ; i+4 <= len(v); i += 4 {
		a += v[i]
		b += v[i+1]
		c += v[i+2]
		d += v[i+3]
	}
	for ; i < len(v); i++ {
		a += v[i]
	}
	return (a + b) + (c + d)
}

func (k *convKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x, w := in[0], in[1]
	if x.isInt() || w.isInt() {
		return nil, fmt.Errorf("integer Conv is not supported")
	}
	d, err := k.dims(x.f.Shape, w.f.Shape)
	if err != nil {
		return nil, err
	}
	var b *value[T]
	if len(in) > 2 && in[2] != nil {
		if b = in[2]; len(b.f.Data) != d.m {
			return nil, fmt.Errorf("bias has %d entries for %d output channels", len(b.f.Data), d.m)
		}
	}
	out := d.win.outShape(d.n, d.m)
	y := floatVal(c.alloc(out), nil)
	k.apply(c, d, y.f.Data, convTerm[T]{w.f.Data, x.f.Data})
	if b != nil {
		addBias(y.f.Data, b.f.Data, d.n, d.m, d.hw)
	}
	if c.tangent() && (x.dot != nil || w.dot != nil || (b != nil && b.dot != nil)) {
		var terms []convTerm[T]
		if x.dot != nil {
			terms = append(terms, convTerm[T]{w.f.Data, x.dot.Data})
		}
		if w.dot != nil {
			terms = append(terms, convTerm[T]{w.dot.Data, x.f.Data})
		}
		if terms != nil {
			y.dot = c.alloc(out)
			k.apply(c, d, y.dot.Data, terms...)
		} else {
			y.dot = c.zeros(out)
		}
		if b != nil && b.dot != nil {
			addBias(y.dot.Data, b.dot.Data, d.n, d.m, d.hw)
		}
	}
	return []*value[T]{y}, nil
}

func (k *convKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	x, w, g := in[0], in[1], gout[0]
	d, err := k.dims(x.f.Shape, w.f.Shape)
	if err != nil {
		return nil, err
	}
	tan := c.tangent()
	res := make([]*value[T], len(in))
	if need[0] {
		gx := floatVal(c.zeros(x.f.Shape), nil)
		k.gradX(c, d, gx.f.Data, convTerm[T]{w.f.Data, g.f.Data})
		if tan && (g.dot != nil || w.dot != nil) {
			gx.dot = c.zeros(x.f.Shape)
			var terms []convTerm[T]
			if g.dot != nil {
				terms = append(terms, convTerm[T]{w.f.Data, g.dot.Data})
			}
			if w.dot != nil {
				terms = append(terms, convTerm[T]{w.dot.Data, g.f.Data})
			}
			k.gradX(c, d, gx.dot.Data, terms...)
		}
		res[0] = gx
	}
	if need[1] {
		gw := floatVal(c.zeros(w.f.Shape), nil)
		if c.primal(1) {
			k.gradW(c, d, gw.f.Data, x.f.Data, g.f.Data)
		}
		if tan && (g.dot != nil || x.dot != nil) {
			gw.dot = c.zeros(w.f.Shape)
			if g.dot != nil {
				k.gradW(c, d, gw.dot.Data, x.f.Data, g.dot.Data)
			}
			if x.dot != nil {
				k.gradW(c, d, gw.dot.Data, x.dot.Data, g.f.Data)
			}
		}
		res[1] = gw
	}
	if len(in) > 2 && need[2] {
		gb := floatVal(c.alloc([]int{d.m}), nil)
		sumBias(gb.f.Data, g.f.Data, d.n, d.m, d.hw)
		if tan && g.dot != nil {
			gb.dot = c.alloc([]int{d.m})
			sumBias(gb.dot.Data, g.dot.Data, d.n, d.m, d.hw)
		}
		res[2] = gb
	}
	return res, nil
}
