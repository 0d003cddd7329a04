package autodiff

import (
	"fmt"
	"math"
	"slices"
)

// Pooling. MaxPool copies the largest element of each window, so it is
// linear given the argmax m(o), the first element of the window equal to its
// maximum (found in the forward pass when tangents, indices or a backward
// pass need it, so that inference only takes maxima):
//
//	ẏ[o] = ẋ[m(o)]     x̄[m(o)] += ȳ[o]     x̄̇[m(o)] += ȳ̇[o]    (f'' = 0)
//
// AveragePool and GlobalAveragePool are linear: y[o] = Σ_{i∈win(o)} x[i]/|win(o)|,
// x̄[i] = Σ_{o∋i} ȳ[o]/|win(o)|, and tangents follow the same maps.
type maxPoolKernel[T Float] struct {
	attrs       windowAttrs
	global      bool
	columnMajor bool // storage_order = 1 for the Indices output
	indices     bool // the Indices output is used
}

type avgPoolKernel[T Float] struct {
	attrs      windowAttrs
	global     bool
	includePad bool
}

func init() {
	register("MaxPool", func(n *nodeInfo) (kernels, error) {
		a, err := readWindowAttrs(n)
		if err != nil {
			return kernels{}, err
		}
		if a.kernel == nil {
			return kernels{}, fmt.Errorf("kernel_shape is required")
		}
		cm := n.AttrInt("storage_order", 0) != 0
		ind := len(n.Outputs) > 1 && n.Outputs[1] != ""
		return pair(&maxPoolKernel[float32]{attrs: a, columnMajor: cm, indices: ind}, &maxPoolKernel[float64]{attrs: a, columnMajor: cm, indices: ind}), nil
	})
	register("GlobalMaxPool", func(n *nodeInfo) (kernels, error) {
		return pair(&maxPoolKernel[float32]{global: true}, &maxPoolKernel[float64]{global: true}), nil
	})
	register("AveragePool", func(n *nodeInfo) (kernels, error) {
		a, err := readWindowAttrs(n)
		if err != nil {
			return kernels{}, err
		}
		if a.kernel == nil {
			return kernels{}, fmt.Errorf("kernel_shape is required")
		}
		if a.dilations != nil && slices.ContainsFunc(a.dilations, func(d int64) bool { return d != 1 }) {
			return kernels{}, fmt.Errorf("dilated AveragePool is not supported")
		}
		inc := n.AttrInt("count_include_pad", 0) != 0
		return pair(&avgPoolKernel[float32]{attrs: a, includePad: inc}, &avgPoolKernel[float64]{attrs: a, includePad: inc}), nil
	})
	register("GlobalAveragePool", func(n *nodeInfo) (kernels, error) {
		return pair(&avgPoolKernel[float32]{global: true}, &avgPoolKernel[float64]{global: true}), nil
	})
}

// poolWindow returns the geometry for input shape s; global pools cover the
// whole spatial extent (any number of spatial axes, flattened into one).
func poolWindow(a windowAttrs, global bool, s []int) (window, []int, error) {
	if len(s) < 3 {
		return window{}, nil, fmt.Errorf("input %v must be [N, C, spatial...]", s)
	}
	if global {
		hw := numel(s[2:])
		out := slices.Clone(s)
		for i := 2; i < len(out); i++ {
			out[i] = 1
		}
		return window{h: 1, w: hw, kh: 1, kw: hw, sh: 1, sw: 1, dh: 1, dw: 1, oh: 1, ow: 1, oneD: true}, out, nil
	}
	k := make([]int, len(a.kernel))
	for i, v := range a.kernel {
		k[i] = int(v)
	}
	g, err := a.geometry(s, k)
	if err != nil {
		return g, nil, err
	}
	return g, g.outShape(s[0], s[1]), nil
}

// windows calls fn for every output position of one plane with the input
// offsets of the window's elements inside the plane (padding skipped) and the
// window's full size including padding within the padded input.
func (g window) windows(fn func(o int, idx []int, padded int)) {
	idx := make([]int, 0, g.kh*g.kw)
	for oy := 0; oy < g.oh; oy++ {
		for ox := 0; ox < g.ow; ox++ {
			idx = idx[:0]
			padded := 0
			for i := 0; i < g.kh; i++ {
				iy := oy*g.sh - g.pt + i*g.dh
				for j := 0; j < g.kw; j++ {
					ix := ox*g.sw - g.pl + j*g.dw
					if iy >= -g.pt && iy < g.h+g.pb && ix >= -g.pl && ix < g.w+g.pr {
						padded++
					}
					if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
						idx = append(idx, iy*g.w+ix)
					}
				}
			}
			fn(oy*g.ow+ox, idx, padded)
		}
	}
}

// poolPlan caches, per input shape, each output's window for a plane.
type poolPlan struct {
	shape  []int
	win    window
	out    []int
	starts []int // offsets into idx per output, len plane+1
	idx    []int
	counts []int // padded window sizes
}

func cachedPoolPlan[T Float](c *ctx[T], a windowAttrs, global bool, s []int) (*poolPlan, error) {
	if p, ok := (*c.state()).(*poolPlan); ok && p.fits(s) {
		p = p.withBatch(s[0])
		*c.state() = p
		return p, nil
	}
	g, out, err := poolWindow(a, global, s)
	if err != nil {
		return nil, err
	}
	p := &poolPlan{shape: slices.Clone(s), win: g, out: out, starts: []int{0}}
	g.windows(func(o int, idx []int, padded int) {
		p.idx = append(p.idx, idx...)
		p.starts = append(p.starts, len(p.idx))
		p.counts = append(p.counts, padded)
	})
	*c.state() = p
	return p, nil
}

// fits reports whether the plan's windows are those of input shape s: all
// but the batch size agree.
func (p *poolPlan) fits(s []int) bool {
	return len(s) == len(p.shape) && slices.Equal(s[1:], p.shape[1:])
}

// withBatch returns the plan for a batch of n samples: the windows are the
// same, so passes over chunks of different sizes share them.
func (p *poolPlan) withBatch(n int) *poolPlan {
	if p.shape[0] == n {
		return p
	}
	q := *p
	q.shape, q.out = slices.Clone(p.shape), slices.Clone(p.out)
	q.shape[0], q.out[0] = n, n
	return &q
}

func (p *poolPlan) planes() int  { return p.shape[0] * p.shape[1] }
func (p *poolPlan) inPlane() int { return numel(p.shape[2:]) }
func (p *poolPlan) outPlane() int {
	return len(p.counts)
}

// maxPoolState extends the plan with the last forward pass's argmax.
type maxPoolState struct {
	*poolPlan
	arg    []int32 // absolute input offset per output element, −1 if none
	argSet bool    // arg belongs to the last forward pass
}

func (k *maxPoolKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x := in[0]
	if x.isInt() {
		return nil, unsupported("integer MaxPool")
	}
	st, _ := (*c.state()).(*maxPoolState)
	var p *poolPlan
	if st != nil && st.fits(x.f.Shape) {
		p = st.withBatch(x.f.Shape[0])
		st.poolPlan = p
	} else {
		*c.state() = nil
		var err error
		if p, err = cachedPoolPlan(c, k.attrs, k.global, x.f.Shape); err != nil {
			return nil, err
		}
		st = &maxPoolState{poolPlan: p}
	}
	if len(x.f.Data) > math.MaxInt32 {
		return nil, fmt.Errorf("input of %d elements: MaxPool indexes at most %d", len(x.f.Data), math.MaxInt32)
	}
	y := floatVal(c.alloc(p.out), nil)
	if cap(st.arg) < len(y.f.Data) {
		st.arg = make([]int32, len(y.f.Data))
	}
	st.arg = st.arg[:len(y.f.Data)]
	tangent := c.tangent() && x.dot != nil
	st.argSet = tangent || k.indices || c.keep()
	switch {
	case st.argSet && p.win.inside() && p.win.is2x2():
		maxPool2x2Arg(y.f.Data, st.arg, x.f.Data, p.win, p.planes())
	case st.argSet && p.win.inside():
		maxPoolInside(y.f.Data, x.f.Data, p.win, p.planes())
		maxPoolRecoverInside(st.arg, x.f.Data, y.f.Data, p.win, p.planes())
	case st.argSet:
		maxPoolArg(y.f.Data, st.arg, x.f.Data, p)
	case p.win.inside():
		maxPoolInside(y.f.Data, x.f.Data, p.win, p.planes())
	default:
		maxPoolPlanned(y.f.Data, x.f.Data, p)
	}
	*c.state() = st
	if tangent {
		y.dot = c.alloc(p.out)
		gatherInto(y.dot.Data, x.dot.Data, st.arg, 0)
	}
	res := []*value[T]{y}
	if k.indices {
		res = append(res, intVal[T](k.indexOutput(st)))
	}
	return res, nil
}

// indexOutput is MaxPool's second output: flat input indices, row- or column-major per plane.
func (k *maxPoolKernel[T]) indexOutput(st *maxPoolState) *Tensor[int64] {
	t := &Tensor[int64]{Shape: st.out, Data: make([]int64, len(st.arg))}
	ip := st.inPlane()
	g := st.win
	for o, a := range st.arg {
		v := int64(a)
		if k.columnMajor && a >= 0 {
			plane, off := int(a)/ip, int(a)%ip
			v = int64(plane*ip + (off%g.w)*g.h + off/g.w)
		}
		t.Data[o] = v
	}
	return t
}

// readsAdjoint: MaxPool's tangent rule routes ȳ̇ and does not read ȳ.
func (k *maxPoolKernel[T]) readsAdjoint(dot, need []bool) bool { return false }

func (k *maxPoolKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	st, ok := (*c.state()).(*maxPoolState)
	if !ok {
		return nil, fmt.Errorf("backward before forward")
	}
	if !st.argSet {
		return nil, fmt.Errorf("backward without a forward pass that kept the argmax")
	}
	g := gout[0]
	s := in[0].f.Shape
	gx := floatVal(c.alloc(s), nil)
	if c.outAdjoint() {
		clear(gx.f.Data)
		scatterAdd(gx.f.Data, g.f.Data, st.arg)
	}
	if c.tangent() && g.dot != nil {
		gx.dot = c.zeros(s)
		scatterAdd(gx.dot.Data, g.dot.Data, st.arg)
	}
	return []*value[T]{gx}, nil
}

func (k *avgPoolKernel[T]) divisor(p *poolPlan, o int) T {
	if k.includePad {
		return T(p.counts[o])
	}
	return T(p.starts[o+1] - p.starts[o])
}

// avgApply computes y = A·x for the pooling matrix A.
func (k *avgPoolKernel[T]) apply(p *poolPlan, y, x []T) {
	op, ip := p.outPlane(), p.inPlane()
	for pl := 0; pl < p.planes(); pl++ {
		xs := x[pl*ip:]
		for o := 0; o < op; o++ {
			var sum T
			for _, i := range p.idx[p.starts[o]:p.starts[o+1]] {
				sum += xs[i]
			}
			y[pl*op+o] = sum / k.divisor(p, o)
		}
	}
}

// applyT adds Aᵀ·g into dx.
func (k *avgPoolKernel[T]) applyT(p *poolPlan, dx, g []T) {
	op, ip := p.outPlane(), p.inPlane()
	for pl := 0; pl < p.planes(); pl++ {
		xs := dx[pl*ip:]
		for o := 0; o < op; o++ {
			v := g[pl*op+o] / k.divisor(p, o)
			for _, i := range p.idx[p.starts[o]:p.starts[o+1]] {
				xs[i] += v
			}
		}
	}
}

func (k *avgPoolKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	x := in[0]
	if x.isInt() {
		return nil, fmt.Errorf("integer AveragePool is not supported")
	}
	p, err := cachedPoolPlan(c, k.attrs, k.global, x.f.Shape)
	if err != nil {
		return nil, err
	}
	y := floatVal(c.alloc(p.out), nil)
	k.apply(p, y.f.Data, x.f.Data)
	if c.tangent() && x.dot != nil {
		y.dot = c.alloc(p.out)
		k.apply(p, y.dot.Data, x.dot.Data)
	}
	return []*value[T]{y}, nil
}

func (k *avgPoolKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	s := in[0].f.Shape
	p, err := cachedPoolPlan(c, k.attrs, k.global, s)
	if err != nil {
		return nil, err
	}
	g := gout[0]
	gx := floatVal(c.zeros(s), nil)
	k.applyT(p, gx.f.Data, g.f.Data)
	if c.tangent() && g.dot != nil {
		gx.dot = c.zeros(s)
		k.applyT(p, gx.dot.Data, g.dot.Data)
	}
	return []*value[T]{gx}, nil
}

// windowMax returns the largest x[i] over the window and its first index.
// Like reluMask it selects on bit patterns so that the comparisons compile to
// conditional moves instead of unpredictable branches.
func windowMax[T Float](x []T, win []int) (T, int) {
	arg := win[0]
	switch x := any(x).(type) {
	case []float32:
		bb := math.Float32bits(x[arg])
		for _, i := range win[1:] {
			v := x[i]
			better := v > math.Float32frombits(bb)
			nb := math.Float32bits(v)
			if better {
				bb = nb
			}
			if better {
				arg = i
			}
		}
		return T(math.Float32frombits(bb)), arg
	case []float64:
		bb := math.Float64bits(x[arg])
		for _, i := range win[1:] {
			v := x[i]
			better := v > math.Float64frombits(bb)
			nb := math.Float64bits(v)
			if better {
				bb = nb
			}
			if better {
				arg = i
			}
		}
		return T(math.Float64frombits(bb)), arg
	}
	panic("autodiff: unreachable")
}
