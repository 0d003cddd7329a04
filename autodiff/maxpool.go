package autodiff

// The loops behind MaxPool: maxima with or without the argmax, the fast
// paths for windows that stay inside the input (2×2 unrolled), and the
// argmax recovered after a forward pass that took maxima only.

// maxPoolArg writes each window's maximum and its argmax (the first index
// of the largest element) from the plan's index lists.
func maxPoolArg[T Float](y []T, arg []int, x []T, p *poolPlan) {
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
			y[pl*op+o], arg[pl*op+o] = best, base+at
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
	if g.kh == 2 && g.kw == 2 && g.dh == 1 && g.dw == 1 {
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
// dilation, unrolled.
func maxPool2x2[T Float](y []T, x []T, g window, planes int) {
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

// maxPoolRecoverArg finds, after a forward pass that took maxima only, each
// window's argmax: the first element equal to the maximum y (the first NaN
// when y is NaN, as max propagates NaN).
func maxPoolRecoverArg[T Float](arg []int, x, y []T, p *poolPlan) {
	if p.win.inside() {
		maxPoolRecoverInside(arg, x, y, p.win, p.planes())
		return
	}
	op, ip := p.outPlane(), p.inPlane()
	for pl := 0; pl < p.planes(); pl++ {
		base := pl * ip
		for o := 0; o < op; o++ {
			a, want := -1, y[pl*op+o]
			for _, i := range p.idx[p.starts[o]:p.starts[o+1]] {
				if v := x[base+i]; v == want || (v != v && want != want) {
					a = base + i
					break
				}
			}
			arg[pl*op+o] = a
		}
	}
}

// maxPoolRecoverInside is maxPoolRecoverArg for windows inside the input.
// It scans each window backwards so that the first match wins without a
// data-dependent branch (the compiler emits conditional moves).
func maxPoolRecoverInside[T Float](arg []int, x, y []T, g window, planes int) {
	if g.kh == 2 && g.kw == 2 && g.dh == 1 && g.dw == 1 {
		maxPoolRecover2x2(arg, x, y, g, planes)
		return
	}
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
				arg[o] = pl*ip + at + a
			}
		}
	}
}

// maxPoolRecover2x2 is maxPoolRecoverInside for 2×2 windows without
// dilation, unrolled so that every select is a conditional move.
func maxPoolRecover2x2[T Float](arg []int, x, y []T, g window, planes int) {
	ip, op := g.h*g.w, g.oh*g.ow
	for pl := 0; pl < planes; pl++ {
		xs := x[pl*ip : (pl+1)*ip]
		ys := y[pl*op : (pl+1)*op]
		as := arg[pl*op : (pl+1)*op]
		for oy := 0; oy < g.oh; oy++ {
			t := oy * g.sh * g.w // offset of the window row's top-left element
			top, bottom := xs[t:], xs[t+g.w:]
			row := ys[oy*g.ow : (oy+1)*g.ow]
			for ox, want := range row {
				i := ox * g.sw
				v0, v1, v2 := top[i], top[i+1], bottom[i] // else bottom[i+1]
				at := pl*ip + t + i
				a := at + g.w + 1
				if v2 == want {
					a = at + g.w
				}
				if v1 == want {
					a = at + 1
				}
				if v0 == want {
					a = at
				}
				if want != want { // max propagated a NaN: route to the first NaN
					a = at + g.w + 1
					if v2 != v2 {
						a = at + g.w
					}
					if v1 != v1 {
						a = at + 1
					}
					if v0 != v0 {
						a = at
					}
				}
				as[oy*g.ow+ox] = a
			}
		}
	}
}
