package autodiff

import "github.com/lethe-ml/lethe/internal/simd"

// The loops behind MaxPool: maxima only for inference passes (2×2 unrolled
// when the windows stay inside the input), and maxima with their argmax for
// passes that need it (tangents, or a backward pass to follow): 2×2 in one
// pass, other windows inside the input by recovering the argmax after the
// maxima, the rest from the plan's index lists.

// maxPoolArg writes each window's maximum and its argmax (the first index
// of the largest element) from the plan's index lists.
func maxPoolArg[T Float](y []T, arg []int32, x []T, p *poolPlan) {
	op, ip := p.outPlane(), p.inPlane()
	for pl := 0; pl < p.planes(); pl++ {
		base := pl * ip
		xs := x[base : base+ip]
		for o := 0; o < op; o++ {
			win := p.idx[p.starts[o]:p.starts[o+1]]
			if len(win) == 0 {
				y[pl*op+o], arg[pl*op+o] = 0, -1
				continue
			}
			best, at := windowMax(xs, win)
			y[pl*op+o], arg[pl*op+o] = best, int32(base+at)
		}
	}
}

// maxPoolPlanned writes each window's maximum from the plan's index lists
// (padding and partial windows included); empty windows give 0.
func maxPoolPlanned[T Float](y []T, x []T, p *poolPlan) {
	op, ip := p.outPlane(), p.inPlane()
	for pl := 0; pl < p.planes(); pl++ {
		xs := x[pl*ip : (pl+1)*ip]
		for o := 0; o < op; o++ {
			win := p.idx[p.starts[o]:p.starts[o+1]]
			var best T
			if len(win) > 0 {
				best = xs[win[0]]
			}
			for _, i := range win {
				best = max(best, xs[i])
			}
			y[pl*op+o] = best
		}
	}
}

// maxPoolInside writes each window's maximum when no window leaves the input
// (no padding, no partial windows): every window has the same offsets from
// its corner, and the builtin max compiles without branches.
func maxPoolInside[T Float](y []T, x []T, g window, planes int) {
	if g.is2x2() {
		maxPool2x2(y, x, g, planes)
		return
	}
	rel := g.offsets()
	ip, op := g.h*g.w, g.oh*g.ow
	for pl := 0; pl < planes; pl++ {
		xs := x[pl*ip : (pl+1)*ip]
		ys := y[pl*op : (pl+1)*op]
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				w := xs[oy*g.sh*g.w+ox*g.sw:]
				best := w[0]
				for _, r := range rel[1:] {
					best = max(best, w[r])
				}
				ys[oy*g.ow+ox] = best
			}
		}
	}
}

// maxPool2x2 is maxPoolInside for the most common window, 2×2 without
// dilation, unrolled; with stride 2 in float32, 8 windows at a time where
// the CPU has AVX2 (internal/simd), with the same results bit for bit.
func maxPool2x2[T Float](y []T, x []T, g window, planes int) {
	if y32, ok := any(y).([]float32); ok && g.sw == 2 && simd.MaxPool2x2(y32, any(x).([]float32), g.pool2x2(planes)) {
		return
	}
	ip, op := g.h*g.w, g.oh*g.ow
	for pl := 0; pl < planes; pl++ {
		xs := x[pl*ip : (pl+1)*ip]
		ys := y[pl*op : (pl+1)*op]
		for oy := 0; oy < g.oh; oy++ {
			top := xs[oy*g.sh*g.w:]
			bottom := top[g.w:]
			row := ys[oy*g.ow : (oy+1)*g.ow]
			for ox := range row {
				i := ox * g.sw
				row[ox] = max(max(top[i], top[i+1]), max(bottom[i], bottom[i+1]))
			}
		}
	}
}

// maxPoolRecoverInside finds, after maxPoolInside, each window's argmax:
// the first element equal to the maximum y (the first NaN when y is NaN, as
// max propagates NaN). It scans each window backwards so that the first
// match wins without a data-dependent branch (the compiler emits
// conditional moves).
func maxPoolRecoverInside[T Float](arg []int32, x, y []T, g window, planes int) {
	rel := g.offsets()
	ip, op := g.h*g.w, g.oh*g.ow
	for pl := 0; pl < planes; pl++ {
		xs := x[pl*ip : (pl+1)*ip]
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				o := pl*op + oy*g.ow + ox
				at := oy*g.sh*g.w + ox*g.sw
				w, want := xs[at:], y[o]
				a := -1
				if want == want {
					for k := len(rel) - 1; k >= 0; k-- {
						if w[rel[k]] == want {
							a = rel[k]
						}
					}
				} else { // max propagated a NaN: route to the first NaN
					for k := len(rel) - 1; k >= 0; k-- {
						if v := w[rel[k]]; v != v {
							a = rel[k]
						}
					}
				}
				arg[o] = int32(pl*ip + at + a)
			}
		}
	}
}

// maxPool2x2Arg is maxPool2x2 with the argmax of maxPoolRecoverInside, in
// one pass (vectorized as maxPool2x2 is).
func maxPool2x2Arg[T Float](y []T, arg []int32, x []T, g window, planes int) {
	if y32, ok := any(y).([]float32); ok && g.sw == 2 && simd.MaxPool2x2Arg(y32, arg, any(x).([]float32), g.pool2x2(planes)) {
		return
	}
	w, sw, ow := g.w, g.sw, g.ow
	ip, op := g.h*w, g.oh*ow
	for pl := 0; pl < planes; pl++ {
		xs := x[pl*ip : (pl+1)*ip]
		for oy := 0; oy < g.oh; oy++ {
			t := oy * g.sh * w // offset of the window row's top-left element
			top, bottom := xs[t:t+w], xs[t+w:t+2*w]
			o := pl*op + oy*ow
			ys, as := y[o:o+ow], arg[o:o+ow]
			base := pl*ip + t
			for ox := range ys {
				i := ox * sw
				if i+1 >= len(top) {
					break // never: the windows are inside; this spares bounds checks
				}
				v0, v1, v2, v3 := top[i], top[i+1], bottom[i], bottom[i+1]
				m := max(max(v0, v1), max(v2, v3))
				a := w + 1
				if v2 == m {
					a = w
				}
				if v1 == m {
					a = 1
				}
				if v0 == m {
					a = 0
				}
				if m != m { // max propagated a NaN: route to the first NaN
					a = firstNaN2x2(v0, v1, v2, w)
				}
				ys[ox], as[ox] = m, int32(base+i+a)
			}
		}
	}
}

// firstNaN2x2 returns the offset in its window of the first NaN among the
// top-left, top-right and bottom-left elements, else of the bottom-right.
func firstNaN2x2[T Float](v0, v1, v2 T, w int) int {
	switch {
	case v0 != v0:
		return 0
	case v1 != v1:
		return 1
	case v2 != v2:
		return w
	}
	return w + 1
}

// pool2x2 is the 2×2 window with horizontal stride 2 as internal/simd takes it.
func (g window) pool2x2(planes int) simd.Pool2x2 {
	return simd.Pool2x2{Planes: planes, IP: g.h * g.w, OH: g.oh, OW: g.ow, W: g.w, RowStep: g.sh * g.w}
}

// is2x2 reports whether the window is 2×2 without dilation.
func (g window) is2x2() bool { return g.kh == 2 && g.kw == 2 && g.dh == 1 && g.dw == 1 }
