package autodiff

import (
	"fmt"
	"math"
	"slices"

	"github.com/lethe-ml/lethe/internal/simd"
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
// A pass that goes on to a backward pass keeps col(X) and col(Ẋ) from its
// forward pass (convState), so im2col runs once per pass and operand.
//
// A Relu that alone reads a Conv's output is fused into it (fuse.go): the
// kernel then outputs y = max(Y, 0) and applies the Relu's rules where it
// copies results out and adjoints in: ẏ = [y>0]·Ẏ, Ȳ = [y>0]·ȳ and
// Ȳ̇ = [y>0]·ȳ̇, with [y > 0] = [Y > 0]. The Relu's own passes over memory
// disappear.
type convKernel[T Float] struct {
	attrs windowAttrs
	group int
	relu  bool // a Relu is fused in
}

// convState is what a pass's forward leaves for its backward: the column
// matrices of the input and of its tangent (nil when there is none), all
// blocks and groups back to back (see colBlock). They live in the pass's
// arena.
type convState[T Float] struct {
	col, colDot []T
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
		return pair(&convKernel[float32]{attrs: a, group: g}, &convKernel[float64]{attrs: a, group: g}), nil
	})
}

// convShape checks shapes and returns the window and sizes.
type convDims struct {
	win         window
	n, c, m, cg int // batch, input channels, output channels, input channels per group
	groups      int
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
	d.groups = k.group
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
	if g.same() {
		im2colSame(col, x, cg, g, ld)
		return
	}
	im2colAny(col, x, cg, g, ld)
}

// same reports whether the window has unit strides and dilations and
// keeps the input's size (oh = h, ow = w, every kernel offset shifting the
// input by less than its width), as a 3×3 convolution padded by 1 does.
// Then column row (c, i, j) of im2col is channel c shifted by
// (i − pt)·w + (j − pl) as a flat array, with zeros where the shift leaves
// it and in the columns that wrap around a row's end.
func (g window) same() bool {
	return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.oh == g.h && g.ow == g.w &&
		g.pl < g.w && g.kw-1-g.pl < g.w
}

// sameShift returns, for kernel offset (i, j) of a same window, the flat
// shift off of the input it reads and the output rows' columns [lo, hi)
// that stay inside the input's row; the others read padding.
func (g window) sameShift(i, j int) (off, lo, hi int) {
	dx := j - g.pl
	return (i-g.pt)*g.w + dx, max(0, -dx), min(g.w, g.w-dx)
}

// eachSameRow calls fn for every channel and kernel offset of a same
// window with the channel's flat input xc, the offset's column row (hw
// elements) and its shift (see sameShift).
func eachSameRow[T Float](col, x []T, cg int, g window, ld int, fn func(xc, row []T, off, lo, hi int)) {
	hw := g.h * g.w
	for c := 0; c < cg; c++ {
		xc := x[c*hw : (c+1)*hw]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				off, lo, hi := g.sameShift(i, j)
				fn(xc, col[((c*g.kh+i)*g.kw+j)*ld:][:hw], off, lo, hi)
			}
		}
	}
}

// im2colSame is im2col for a same window: per channel and kernel offset
// one copy of the flat channel, then zeros in the wrapping columns.
func im2colSame[T Float](col, x []T, cg int, g window, ld int) {
	eachSameRow(col, x, cg, g, ld, func(xc, row []T, off, lo, hi int) {
		// row[p] = xc[p+off] where 0 ≤ p+off < hw.
		hw := len(row)
		a, b := min(max(0, -off), hw), max(min(hw, hw-off), 0)
		clear(row[:a])
		if a < b {
			copy(row[a:b], xc[a+off:])
		}
		clear(row[max(a, b):])
		zeroWrapped(row, g.w, lo, hi)
	})
}

// im2colAny is im2col for any window.
func im2colAny[T Float](col, x []T, cg int, g window, ld int) {
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
// block: the adjoint of im2col. It may overwrite col's padding entries.
func col2im[T Float](x, col []T, cg int, g window, ld int) {
	if g.same() {
		col2imSame(x, col, cg, g, ld)
		return
	}
	if g.kw == 3 && g.sw == 1 && g.dw == 1 {
		col2im3(x, col, cg, g, ld)
		return
	}
	col2imAny(x, col, cg, g, ld)
}

// zeroWrapped zeroes the columns outside [lo, hi) of every w-wide row of
// row: a few elements each, set one by one.
func zeroWrapped[T Float](row []T, w, lo, hi int) {
	for p := 0; p+w <= len(row); p += w {
		r := row[p : p+w]
		for k := 0; k < lo; k++ {
			r[k] = 0
		}
		for k := hi; k < w; k++ {
			r[k] = 0
		}
	}
}

// col2imSame is col2im for a same window: it zeroes the wrapping columns
// of col (which therefore must be scratch) and adds each column row into
// the flat channel in one pass, kernel offset after kernel offset, the
// order col2imAny adds in.
func col2imSame[T Float](x, col []T, cg int, g window, ld int) {
	eachSameRow(col, x, cg, g, ld, func(xc, row []T, off, lo, hi int) {
		zeroWrapped(row, g.w, lo, hi)
		if a, b := max(0, -off), min(len(row), len(row)-off); a < b {
			addTo(xc[a+off:b+off], row[a:b])
		}
	})
}

// col2imAny is col2im for any window.
func col2imAny[T Float](x, col []T, cg int, g window, ld int) {
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

// col2im3 is col2im for windows three columns wide with unit stride and
// dilation across (the common 3×3 convolution): the three rows of a kernel
// row go into an input row in one pass, each element's contributions added
// in the same order as col2im adds them (kernel row, then column).
func col2im3[T Float](x, col []T, cg int, g window, ld int) {
	hw, ow, w := g.oh*g.ow, g.ow, g.w
	x0 := -g.pl // input column of output column 0 in the window's first column
	// Input columns [lo, hi) receive from all three window columns.
	lo, hi := max(x0+2, 0), min(x0+ow, w)
	for c := 0; c < cg; c++ {
		xc := x[c*g.h*w : (c+1)*g.h*w]
		for i := 0; i < g.kh; i++ {
			r := (c*g.kh + i) * 3 * ld
			r0, r1, r2 := col[r:r+hw], col[r+ld:r+ld+hw], col[r+2*ld:r+2*ld+hw]
			for oy := 0; oy < g.oh; oy++ {
				iy := oy*g.sh - g.pt + i*g.dh
				if iy < 0 || iy >= g.h {
					continue
				}
				dst := xc[iy*w : (iy+1)*w]
				s0, s1, s2 := r0[oy*ow:(oy+1)*ow], r1[oy*ow:(oy+1)*ow], r2[oy*ow:(oy+1)*ow]
				for ix := 0; ix < min(lo, w); ix++ {
					dst[ix] = add3(dst[ix], s0, s1, s2, ix-x0)
				}
				if lo < hi {
					d := dst[lo:hi]
					a, b, e := s0[lo-x0:hi-x0], s1[lo-x0-1:hi-x0-1], s2[lo-x0-2:hi-x0-2]
					a, b, e = a[:len(d)], b[:len(d)], e[:len(d)]
					for k := range d {
						d[k] = ((d[k] + a[k]) + b[k]) + e[k]
					}
				}
				for ix := max(hi, lo); ix < w; ix++ {
					dst[ix] = add3(dst[ix], s0, s1, s2, ix-x0)
				}
			}
		}
	}
}

// add3 adds to v the contributions s_j[o−j] (j = 0, 1, 2, in order) that
// exist.
func add3[T Float](v T, s0, s1, s2 []T, o int) T {
	if o >= 0 && o < len(s0) {
		v += s0[o]
	}
	if o >= 1 && o-1 < len(s1) {
		v += s1[o-1]
	}
	if o >= 2 && o-2 < len(s2) {
		v += s2[o-2]
	}
	return v
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

// colBlock returns the column matrix [kk, nb·hw] of the block of nb samples
// starting at s0, group g: in a buffer holding every block (kept for the
// backward pass) it starts at (s0·groups + g·nb)·kk·hw; otherwise the buffer
// holds one block at a time.
func colBlock[T Float](d convDims, buf []T, all bool, s0, nb, g int) []T {
	size := d.kk * nb * d.hw
	if !all {
		return buf[:size]
	}
	off := (s0*d.groups + g*nb) * d.kk * d.hw
	return buf[off : off+size]
}

// store copies the block result src ([mg, nb·hw]) of samples s0.. and group
// g into the output y[s, g·mg+m, p], adding the bias b (nil: none). With a
// fused Relu it then applies the mask [y > 0] of the primal output mask, or
// of the stored values themselves when mask is nil (the primal: y = max(·, 0)).
func (k *convKernel[T]) store(d convDims, y, mask, src, b []T, s0, nb, g int) {
	ld := nb * d.hw
	for s := 0; s < nb; s++ {
		for m := 0; m < d.mg; m++ {
			ch := g*d.mg + m
			at := ((s0+s)*d.m + ch) * d.hw
			row, in := y[at:at+d.hw], src[m*ld+s*d.hw:][:d.hw]
			var bv T
			if b != nil {
				bv = b[ch]
			}
			switch {
			case k.relu && mask == nil:
				biasRelu(row, in, nil, bv)
			case k.relu:
				biasRelu(row, in, mask[at:at+d.hw], bv)
			case b == nil:
				copy(row, in)
			default:
				for i, v := range in {
					row[i] = v + bv
				}
			}
		}
	}
}

// biasRelu sets dst[i] = src[i] + b where the Relu passes and 0 elsewhere:
// where mask[i] > 0, or with mask nil (the primal) where src[i] + b > 0, in
// one pass. Like reluMask it selects on bit patterns, so that the comparison
// compiles to a conditional move; float32 runs 8 lanes at a time where the
// CPU has AVX2 (internal/simd), with the same results bit for bit.
func biasRelu[T Float](dst, src, mask []T, b T) {
	switch src := any(src).(type) {
	case []float32:
		d, bv := any(dst).([]float32)[:len(src)], float32(b)
		if mask == nil {
			done := simd.ReluAdd(d, src, bv)
			for i, v := range src[done:] {
				v += bv
				u := math.Float32bits(v)
				if !(v > 0) {
					u = 0
				}
				d[done+i] = math.Float32frombits(u)
			}
			return
		}
		m := any(mask).([]float32)[:len(src)]
		done := simd.MaskAdd(d, m, src, bv)
		for i, v := range src[done:] {
			u := math.Float32bits(v + bv)
			if !(m[done+i] > 0) {
				u = 0
			}
			d[done+i] = math.Float32frombits(u)
		}
	case []float64:
		d, bv := any(dst).([]float64)[:len(src)], float64(b)
		if mask == nil {
			for i, v := range src {
				v += bv
				u := math.Float64bits(v)
				if !(v > 0) {
					u = 0
				}
				d[i] = math.Float64frombits(u)
			}
			return
		}
		m := any(mask).([]float64)[:len(src)]
		for i, v := range src {
			u := math.Float64bits(v + bv)
			if !(m[i] > 0) {
				u = 0
			}
			d[i] = math.Float64frombits(u)
		}
	}
}

// load gathers the output adjoint g[s, g·mg+m, p] of samples s0.. and group
// g into dst as [mg, nb·hw], masked by [y > 0] with a fused Relu.
func (k *convKernel[T]) load(d convDims, dst, g, y []T, s0, nb, grp int) {
	ld := nb * d.hw
	for s := 0; s < nb; s++ {
		for m := 0; m < d.mg; m++ {
			at := ((s0+s)*d.m + grp*d.mg + m) * d.hw
			row := dst[m*ld+s*d.hw:][:d.hw]
			if k.relu {
				reluMask(row, y[at:at+d.hw], g[at:at+d.hw])
			} else {
				copy(row, g[at:at+d.hw])
			}
		}
	}
}

// sumBlock adds to db[g·mg+m] the sum of each sample's row of the block
// adjoint src ([mg, nb·hw]), sample after sample, as a bias adjoint
// accumulates over samples.
func sumBlock[T Float](d convDims, db, src []T, nb, g int) {
	ld := nb * d.hw
	for s := 0; s < nb; s++ {
		for m := 0; m < d.mg; m++ {
			db[g*d.mg+m] += sum4(src[m*ld+s*d.hw:][:d.hw])
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

// forward computes Y = W·col(X) + b block by block, and in tangent mode
// Ẏ = W·col(Ẋ) + Ẇ·col(X) + ḃ while the block's col(X) is still in cache.
func (k *convKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x, w := in[0], in[1]
	if x.isInt() || w.isInt() {
		return nil, fmt.Errorf("integer Conv is not supported")
	}
	d, err := k.dims(x.f.Shape, w.f.Shape)
	if err != nil {
		return nil, err
	}
	var b, bDot []T
	if len(in) > 2 && in[2] != nil {
		if b = in[2].f.Data; len(b) != d.m {
			return nil, fmt.Errorf("bias has %d entries for %d output channels", len(b), d.m)
		}
		if in[2].dot != nil {
			bDot = in[2].dot.Data
		}
	}
	out := d.win.outShape(d.n, d.m)
	y := floatVal(c.alloc(out), nil)
	tangent := c.tangent() && (x.dot != nil || w.dot != nil || bDot != nil)
	if tangent {
		y.dot = c.alloc(out)
	}
	keep, sb := c.keep(), d.group()
	colSize := d.kk * sb * d.hw
	if keep {
		colSize = d.kk * d.groups * d.n * d.hw
	}
	col := c.r.ar.alloc(colSize)
	var colDot []T
	if tangent && x.dot != nil {
		colDot = c.r.ar.alloc(colSize)
	}
	tmp := c.r.ar.alloc(d.mg * sb * d.hw)
	for s0 := 0; s0 < d.n; s0 += sb {
		nb := min(sb, d.n-s0)
		ld := nb * d.hw
		for g := 0; g < k.group; g++ {
			cx := colBlock(d, col, keep, s0, nb, g)
			convCols(d, cx, x.f.Data, s0, nb, g)
			wg := w.f.Data[g*d.mg*d.kk:]
			gemm(false, false, d.mg, ld, d.kk, 1, wg, d.kk, cx, ld, 0, tmp, ld)
			k.store(d, y.f.Data, nil, tmp, b, s0, nb, g)
			if !tangent {
				continue
			}
			var beta T
			if x.dot != nil {
				cxd := colBlock(d, colDot, keep, s0, nb, g)
				convCols(d, cxd, x.dot.Data, s0, nb, g)
				gemm(false, false, d.mg, ld, d.kk, 1, wg, d.kk, cxd, ld, 0, tmp, ld)
				beta = 1
			}
			if w.dot != nil {
				gemm(false, false, d.mg, ld, d.kk, 1, w.dot.Data[g*d.mg*d.kk:], d.kk, cx, ld, beta, tmp, ld)
				beta = 1
			}
			if beta == 0 {
				clear(tmp[:d.mg*ld])
			}
			k.store(d, y.dot.Data, y.f.Data, tmp, bDot, s0, nb, g)
		}
	}
	st, _ := (*c.state()).(*convState[T])
	if st == nil {
		st = &convState[T]{}
		*c.state() = st
	}
	st.col, st.colDot = nil, nil
	if keep {
		st.col, st.colDot = col, colDot
	}
	return []*value[T]{y}, nil
}

// readsAdjoint: the tangent terms Ẇᵀ·Ȳ of X̄̇ and Ȳ·col(Ẋ)ᵀ of W̄̇ read Ȳ.
func (k *convKernel[T]) readsAdjoint(dot, need []bool) bool { return bilinearReads(dot, need) }

// backward gathers each block's output adjoint (and its tangent) once and
// derives from it the bias, input and weight adjoints, reusing the forward
// pass's col(X) and col(Ẋ).
func (k *convKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	x, w, gy := in[0], in[1], gout[0]
	d, err := k.dims(x.f.Shape, w.f.Shape)
	if err != nil {
		return nil, err
	}
	st, _ := (*c.state()).(*convState[T])
	if need[1] && (st == nil || st.col == nil) {
		return nil, fmt.Errorf("backward without a forward pass that kept its columns")
	}
	tan := c.tangent()
	res := make([]*value[T], len(in))
	var gx, gw, gb *value[T]
	primalX := need[0] && c.primal(0)
	if need[0] {
		gx = floatVal(c.alloc(x.f.Shape), nil)
		if primalX {
			clear(gx.f.Data)
		}
		if tan && (gy.dot != nil || w.dot != nil) {
			gx.dot = c.zeros(x.f.Shape)
		}
		res[0] = gx
	}
	if need[1] {
		gw = floatVal(c.zeros(w.f.Shape), nil)
		if tan && (gy.dot != nil || x.dot != nil) {
			gw.dot = c.zeros(w.f.Shape)
		}
		res[1] = gw
	}
	if len(in) > 2 && need[2] {
		gb = floatVal(c.zeros([]int{d.m}), nil)
		if tan && gy.dot != nil {
			gb.dot = c.zeros([]int{d.m})
		}
		res[2] = gb
	}
	sb := d.group()
	g := c.r.ar.alloc(d.mg * sb * d.hw)
	var gDot, colT []T
	if tan && gy.dot != nil {
		gDot = c.r.ar.alloc(d.mg * sb * d.hw)
	}
	if gx != nil {
		colT = c.r.ar.alloc(d.kk * sb * d.hw)
	}
	primalW, primalB := gw != nil && c.primal(1), gb != nil && c.primal(2)
	// In an HVP pass Ȳ may be dead (liveness.go); then nothing below reads
	// it: readsAdjoint told the analysis when the tangent terms do.
	primalG := c.outAdjoint()
	var y []T
	if k.relu {
		y = out[0].f.Data
	}
	for s0 := 0; s0 < d.n; s0 += sb {
		nb := min(sb, d.n-s0)
		ld := nb * d.hw
		for grp := 0; grp < k.group; grp++ {
			if primalG {
				k.load(d, g, gy.f.Data, y, s0, nb, grp)
			}
			if gDot != nil {
				k.load(d, gDot, gy.dot.Data, y, s0, nb, grp)
			}
			if primalB {
				sumBlock(d, gb.f.Data, g, nb, grp)
			}
			if gb != nil && gb.dot != nil {
				sumBlock(d, gb.dot.Data, gDot, nb, grp)
			}
			wg := w.f.Data[grp*d.mg*d.kk:]
			if gx != nil {
				if primalX {
					gemm(true, false, d.kk, ld, d.mg, 1, wg, d.kk, g, ld, 0, colT, ld)
					col2imBlock(d, gx.f.Data, colT, s0, nb, grp)
				}
				if gx.dot != nil {
					var beta T
					if gDot != nil {
						gemm(true, false, d.kk, ld, d.mg, 1, wg, d.kk, gDot, ld, 0, colT, ld)
						beta = 1
					}
					if w.dot != nil {
						gemm(true, false, d.kk, ld, d.mg, 1, w.dot.Data[grp*d.mg*d.kk:], d.kk, g, ld, beta, colT, ld)
					}
					col2imBlock(d, gx.dot.Data, colT, s0, nb, grp)
				}
			}
			if gw != nil {
				cx := colBlock(d, st.col, true, s0, nb, grp)
				if primalW {
					gemm(false, true, d.mg, d.kk, ld, 1, g, ld, cx, ld, 1, gw.f.Data[grp*d.mg*d.kk:], d.kk)
				}
				if gw.dot != nil {
					dwd := gw.dot.Data[grp*d.mg*d.kk:]
					if gDot != nil {
						gemm(false, true, d.mg, d.kk, ld, 1, gDot, ld, cx, ld, 1, dwd, d.kk)
					}
					if x.dot != nil {
						gemm(false, true, d.mg, d.kk, ld, 1, g, ld, colBlock(d, st.colDot, true, s0, nb, grp), ld, 1, dwd, d.kk)
					}
				}
			}
		}
	}
	return res, nil
}

// col2imBlock adds the column block col ([kk, nb·hw]) of samples s0.. and
// group g into the input adjoint dx.
func col2imBlock[T Float](d convDims, dx, col []T, s0, nb, g int) {
	ld := nb * d.hw
	for s := 0; s < nb; s++ {
		col2im(dx[((s0+s)*d.c+g*d.cg)*d.inHW:], col[s*d.hw:], d.cg, d.win, ld)
	}
}
