package simd

//go:noescape
func maxPool2x2AVX2(y *float32, arg *int32, x *float32, planes, ip, oh, ow, w, rowStep int)

// Pool2x2 describes 2×2 max-pooling with horizontal stride 2 over planes
// of IP elements each: output row oy (of OH, OW outputs each) takes its
// windows from the row at oy·RowStep in the plane and the one W after it.
type Pool2x2 struct {
	Planes, IP, OH, OW, W, RowStep int
}

// check panics unless every window lies inside its plane and x, y (and
// arg) hold all planes.
func (p Pool2x2) check(x, y int) {
	n := p.Planes * p.OH * p.OW
	if p.Planes < 0 || p.OH < 0 || p.OW < 0 || 2*p.OW > p.W || (p.OH > 0 && (p.OH-1)*p.RowStep+2*p.W > p.IP) ||
		p.Planes*p.IP > x || n > y || p.Planes*p.IP > 1<<31-1 {
		panic("simd: max-pooling windows outside the input or the output too short")
	}
}

// MaxPool2x2 sets every output to max(max(t0, t1), max(b0, b1)), with Go's
// max, over its window's top (t) and bottom (b) elements, y in row-major
// order, and reports whether it did (false without AVX2: then it does
// nothing).
func MaxPool2x2(y, x []float32, p Pool2x2) bool {
	if !AVX2 {
		return false
	}
	p.check(len(x), len(y))
	if p.Planes*p.OH*p.OW == 0 {
		return true
	}
	maxPool2x2AVX2(&y[0], nil, &x[0], p.Planes, p.IP, p.OH, p.OW, p.W, p.RowStep)
	return true
}

// MaxPool2x2Arg is MaxPool2x2 that also sets each output's arg to the
// offset in x of its window's first element equal to the maximum (of the
// first NaN when the maximum is NaN), in the order t0, t1, b0, b1, as
// autodiff's maxPool2x2Arg does.
func MaxPool2x2Arg(y []float32, arg []int32, x []float32, p Pool2x2) bool {
	if !AVX2 {
		return false
	}
	p.check(len(x), min(len(y), len(arg)))
	if p.Planes*p.OH*p.OW == 0 {
		return true
	}
	maxPool2x2AVX2(&y[0], &arg[0], &x[0], p.Planes, p.IP, p.OH, p.OW, p.W, p.RowStep)
	return true
}
