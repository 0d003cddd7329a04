package autodiff

// Broadcasting helpers. An operand of shape s broadcast to shape out is read
// with stride 0 along broadcast axes; runs along the merged innermost axis
// keep loops tight.

// bplan iterates over an output shape reading operands with per-axis strides.
type bplan struct {
	shape   []int   // merged output axes
	strides [][]int // per operand, per merged axis
}

// newBPlan builds a plan for operands of the given shapes broadcast to out.
// Adjacent axes along which every operand is either contiguous or broadcast
// in the same way are merged, so that a same-shape operation is one run.
func newBPlan(out []int, shapes ...[]int) *bplan {
	st := make([][]int, len(shapes))
	for i, s := range shapes {
		st[i] = broadcastStrides(s, out)
	}
	p := &bplan{strides: make([][]int, len(shapes))}
	for ax := 0; ax < len(out); ax++ {
		if out[ax] == 1 {
			continue
		}
		if k := len(p.shape) - 1; k >= 0 {
			mergeable := true
			for i := range st {
				prev := p.strides[i][k]
				// Axis ax can be folded into the previous merged axis when the
				// operand's stride there equals this axis' stride times its length.
				if prev != st[i][ax]*out[ax] {
					mergeable = false
					break
				}
			}
			if mergeable {
				p.shape[k] *= out[ax]
				for i := range st {
					p.strides[i][k] = st[i][ax]
				}
				continue
			}
		}
		p.shape = append(p.shape, out[ax])
		for i := range st {
			p.strides[i] = append(p.strides[i], st[i][ax])
		}
	}
	return p
}

// runs calls fn for every run along the innermost merged axis with the output
// offset, each operand's offset and stride, and the run length.
func (p *bplan) runs(fn func(o int, off, inc []int, n int)) {
	k := len(p.shape)
	nops := len(p.strides)
	off := make([]int, nops)
	inc := make([]int, nops)
	if k == 0 {
		fn(0, off, inc, 1)
		return
	}
	for _, d := range p.shape {
		if d == 0 {
			return
		}
	}
	n := p.shape[k-1]
	for i := range inc {
		inc[i] = p.strides[i][k-1]
	}
	idx := make([]int, k-1)
	o := 0
	for {
		fn(o, off, inc, n)
		o += n
		ax := k - 2
		for ; ax >= 0; ax-- {
			idx[ax]++
			for i := range off {
				off[i] += p.strides[i][ax]
			}
			if idx[ax] < p.shape[ax] {
				break
			}
			for i := range off {
				off[i] -= p.strides[i][ax] * p.shape[ax]
			}
			idx[ax] = 0
		}
		if ax < 0 {
			return
		}
	}
}

// expandTo returns x's data broadcast to shape out: x itself when the shapes
// match, a materialised copy otherwise.
func expandTo[E any](alloc func(int) []E, x *Tensor[E], out []int) []E {
	if sameShape(x.Shape, out) {
		return x.Data
	}
	dst := alloc(numel(out))
	newBPlan(out, x.Shape).runs(func(o int, off, inc []int, n int) {
		src, d := off[0], inc[0]
		for j := 0; j < n; j++ {
			dst[o+j] = x.Data[src+j*d]
		}
	})
	return dst
}

// reduceTo sums g (of shape out) over the axes along which an operand of shape
// s was broadcast, returning data of shape s: the adjoint of broadcasting.
func reduceTo[T Float](alloc func(int) []T, g []T, out, s []int) []T {
	if sameShape(s, out) {
		return g
	}
	dst := alloc(numel(s))
	clear(dst)
	newBPlan(out, s).runs(func(o int, off, inc []int, n int) {
		i, d := off[0], inc[0]
		if d == 0 {
			var sum T
			for _, v := range g[o : o+n] {
				sum += v
			}
			dst[i] += sum
			return
		}
		for j, v := range g[o : o+n] {
			dst[i+j*d] += v
		}
	})
	return dst
}
