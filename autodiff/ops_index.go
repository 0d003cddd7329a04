package autodiff

import (
	"fmt"
	"slices"
)

// Index-map ops: Transpose, Slice, Pad, Expand, Tile and Gather move elements
// of their first input without arithmetic. Each is described by a map from
// output element to input element (−1: a constant fill), built from the input
// shapes and integer inputs. The map makes all four rules one kernel:
//
//	forward  y[o] = x[m(o)]          ẏ[o] = ẋ[m(o)]
//	VJP      x̄[i] = Σ_{m(o)=i} ȳ[o]  x̄̇ likewise from ȳ̇ (the op is linear in x)
//
// Only input 0 is differentiable; the others are indices, shapes or a fill.
type indexMap struct {
	out  []int
	src  []int   // len numel(out); −1 marks fill elements
	fill float64 // fill value unless an input gives one
}

// mapper builds the index map of one op from its inputs' shapes and, for
// integer inputs, their values (nil for floating-point inputs).
type mapper func(shapes [][]int, ints []*Tensor[int64]) (*indexMap, error)

type indexKernel[T Float] struct {
	build   mapper
	hasFill bool // input 2 is a fill value (Pad)
}

func registerIndex(op string, b func(n *nodeInfo) (mapper, error), hasFill bool) {
	register(op, func(n *nodeInfo) (kernels, error) {
		m, err := b(n)
		if err != nil {
			return kernels{}, err
		}
		return pair(&indexKernel[float32]{m, hasFill}, &indexKernel[float64]{m, hasFill}), nil
	})
}

// indexState caches the last map of a node with the key it was built for.
type indexState struct {
	shapes [][]int
	ints   [][]int64
	m      *indexMap
}

func (k *indexKernel[T]) plan(c *ctx[T], in []*value[T]) (*indexMap, error) {
	shapes := make([][]int, len(in))
	ints := make([]*Tensor[int64], len(in))
	for i, v := range in {
		if v == nil {
			continue
		}
		shapes[i] = v.shape()
		if i > 0 && v.isInt() {
			ints[i] = v.i
		}
	}
	st, _ := (*c.state()).(*indexState)
	if st != nil && slices.EqualFunc(st.shapes, shapes, slices.Equal) && slices.EqualFunc(st.ints, tensorsData(ints), slices.Equal) {
		return st.m, nil
	}
	m, err := k.build(shapes, ints)
	if err != nil {
		return nil, err
	}
	key := make([][]int, len(shapes))
	for i, s := range shapes {
		key[i] = slices.Clone(s)
	}
	*c.state() = &indexState{shapes: key, ints: cloneData(ints), m: m}
	return m, nil
}

func tensorsData(ts []*Tensor[int64]) [][]int64 {
	d := make([][]int64, len(ts))
	for i, t := range ts {
		if t != nil {
			d[i] = t.Data
		}
	}
	return d
}

func cloneData(ts []*Tensor[int64]) [][]int64 {
	d := tensorsData(ts)
	for i := range d {
		d[i] = slices.Clone(d[i])
	}
	return d
}

func (k *indexKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	m, err := k.plan(c, in)
	if err != nil {
		return nil, err
	}
	x := in[0]
	if x.isInt() {
		fill := int64(m.fill)
		if k.hasFill && len(in) > 2 && in[2] != nil && in[2].isInt() && len(in[2].i.Data) > 0 {
			fill = in[2].i.Data[0]
		}
		y := &Tensor[int64]{Shape: m.out, Data: make([]int64, len(m.src))}
		gatherInto(y.Data, x.i.Data, m.src, fill)
		return []*value[T]{intVal[T](y)}, nil
	}
	fill := T(m.fill)
	if k.hasFill && len(in) > 2 && in[2] != nil && !in[2].isInt() && len(in[2].f.Data) > 0 {
		fill = in[2].f.Data[0]
	}
	y := c.alloc(m.out)
	gatherInto(y.Data, x.f.Data, m.src, fill)
	v := floatVal(y, nil)
	if c.tangent() && x.dot != nil {
		v.dot = c.alloc(m.out)
		gatherInto(v.dot.Data, x.dot.Data, m.src, 0)
	}
	return []*value[T]{v}, nil
}

func (k *indexKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	for i := 1; i < len(need); i++ {
		if need[i] {
			return nil, fmt.Errorf("input %d is not differentiable", i)
		}
	}
	m, err := k.plan(c, in)
	if err != nil {
		return nil, err
	}
	g := gout[0]
	s := in[0].f.Shape
	gx := floatVal(c.zeros(s), nil)
	scatterAdd(gx.f.Data, g.f.Data, m.src)
	if c.tangent() && g.dot != nil {
		gx.dot = c.zeros(s)
		scatterAdd(gx.dot.Data, g.dot.Data, m.src)
	}
	res := make([]*value[T], len(in))
	res[0] = gx
	return res, nil
}

func gatherInto[E any, I ~int | ~int32](dst, src []E, m []I, fill E) {
	for o, i := range m {
		if i >= 0 {
			dst[o] = src[i]
		} else {
			dst[o] = fill
		}
	}
}

func scatterAdd[T Float, I ~int | ~int32](dst, src []T, m []I) {
	for o, i := range m {
		if i >= 0 {
			dst[i] += src[o]
		}
	}
}

// mapOver builds a map by visiting every output multi-index; at returns the
// input offset for it or −1.
func mapOver(out []int, at func(idx []int) int) *indexMap {
	m := &indexMap{out: out, src: make([]int, numel(out))}
	if len(m.src) == 0 {
		return m
	}
	idx := make([]int, len(out))
	for o := range m.src {
		m.src[o] = at(idx)
		for ax := len(out) - 1; ax >= 0; ax-- {
			idx[ax]++
			if idx[ax] < out[ax] {
				break
			}
			idx[ax] = 0
		}
	}
	return m
}

func init() {
	registerIndex("Transpose", buildTranspose, false)
	registerIndex("Expand", func(*nodeInfo) (mapper, error) { return expandMap, nil }, false)
	registerIndex("Tile", func(*nodeInfo) (mapper, error) { return tileMap, nil }, false)
	registerIndex("Gather", buildGather, false)
	registerIndex("Slice", buildSlice, false)
	registerIndex("Pad", buildPad, true)
}

// Transpose permutes axes: y[i_perm(0), …] = x[i_0, …]; default perm reverses.
func buildTranspose(n *nodeInfo) (mapper, error) {
	perm := n.AttrInts("perm")
	return func(shapes [][]int, _ []*Tensor[int64]) (*indexMap, error) {
		s := shapes[0]
		p := make([]int, len(s))
		for i := range p {
			p[i] = len(s) - 1 - i
			if perm != nil {
				if len(perm) != len(s) {
					return nil, fmt.Errorf("perm %v does not match rank %d", perm, len(s))
				}
				p[i] = int(perm[i])
			}
		}
		out := make([]int, len(s))
		for i, a := range p {
			if a < 0 || a >= len(s) {
				return nil, fmt.Errorf("perm %v is not a permutation", perm)
			}
			out[i] = s[a]
		}
		st := stridesOf(s)
		return mapOver(out, func(idx []int) int {
			off := 0
			for i, a := range p {
				off += idx[i] * st[a]
			}
			return off
		}), nil
	}, nil
}

// Expand broadcasts x to the broadcast of its shape and the shape input.
func expandMap(shapes [][]int, ints []*Tensor[int64]) (*indexMap, error) {
	if ints[1] == nil {
		return nil, fmt.Errorf("the shape input must be an integer tensor")
	}
	target, err := intsToShape(ints[1].Data)
	if err != nil {
		return nil, err
	}
	out, err := broadcastShape(shapes[0], target)
	if err != nil {
		return nil, err
	}
	st := broadcastStrides(shapes[0], out)
	return mapOver(out, func(idx []int) int {
		off := 0
		for i, v := range idx {
			off += v * st[i]
		}
		return off
	}), nil
}

// Tile repeats x along each axis.
func tileMap(shapes [][]int, ints []*Tensor[int64]) (*indexMap, error) {
	s := shapes[0]
	if ints[1] == nil || len(ints[1].Data) != len(s) {
		return nil, fmt.Errorf("repeats must be an integer tensor with one entry per axis")
	}
	out := make([]int, len(s))
	for i, r := range ints[1].Data {
		if r < 0 {
			return nil, fmt.Errorf("negative repeat %d", r)
		}
		out[i] = s[i] * int(r)
	}
	st := stridesOf(s)
	return mapOver(out, func(idx []int) int {
		off := 0
		for i, v := range idx {
			off += (v % s[i]) * st[i]
		}
		return off
	}), nil
}

// Gather picks slices of x along axis at the given (possibly negative) indices.
func buildGather(n *nodeInfo) (mapper, error) {
	axis := int(n.AttrInt("axis", 0))
	return func(shapes [][]int, ints []*Tensor[int64]) (*indexMap, error) {
		s := shapes[0]
		ax, err := normAxis(axis, len(s))
		if err != nil {
			return nil, err
		}
		ind := ints[1]
		if ind == nil {
			return nil, fmt.Errorf("indices must be an integer tensor")
		}
		out := slices.Concat(s[:ax], ind.Shape, s[ax+1:])
		st := stridesOf(s)
		ir := len(ind.Shape)
		ist := stridesOf(ind.Shape)
		var bad error
		m := mapOver(out, func(idx []int) int {
			off := 0
			for i := 0; i < ax; i++ {
				off += idx[i] * st[i]
			}
			k := 0
			for i := 0; i < ir; i++ {
				k += idx[ax+i] * ist[i]
			}
			j := int(ind.Data[k])
			if j < 0 {
				j += s[ax]
			}
			if j < 0 || j >= s[ax] {
				bad = fmt.Errorf("index %d out of range for axis of size %d", ind.Data[k], s[ax])
				return -1
			}
			off += j * st[ax]
			for i := ax + 1; i < len(s); i++ {
				off += idx[ir+i-1] * st[i]
			}
			return off
		})
		return m, bad
	}, nil
}

// Slice takes x[starts:ends:steps] along axes, clamping as ONNX specifies.
func buildSlice(n *nodeInfo) (mapper, error) {
	legacy := n.opset < 10
	aStarts, aEnds, aAxes := n.AttrInts("starts"), n.AttrInts("ends"), n.AttrInts("axes")
	return func(shapes [][]int, ints []*Tensor[int64]) (*indexMap, error) {
		s := shapes[0]
		starts, ends, axes := aStarts, aEnds, aAxes
		var steps []int64
		if !legacy {
			get := func(i int) ([]int64, error) {
				if i >= len(ints) || shapes[i] == nil {
					return nil, nil
				}
				if ints[i] == nil {
					return nil, fmt.Errorf("slice input %d must be an integer tensor", i)
				}
				return ints[i].Data, nil
			}
			var err error
			if starts, err = get(1); err != nil {
				return nil, err
			}
			if ends, err = get(2); err != nil {
				return nil, err
			}
			if axes, err = get(3); err != nil {
				return nil, err
			}
			if steps, err = get(4); err != nil {
				return nil, err
			}
		}
		if len(starts) != len(ends) {
			return nil, fmt.Errorf("starts and ends differ in length")
		}
		begin := make([]int, len(s))
		step := make([]int, len(s))
		out := slices.Clone(s)
		for i := range step {
			step[i] = 1
		}
		for i := range starts {
			ax := i
			if axes != nil {
				ax = int(axes[i])
			}
			ax, err := normAxis(ax, len(s))
			if err != nil {
				return nil, err
			}
			st := int64(1)
			if steps != nil {
				st = steps[i]
			}
			if st == 0 {
				return nil, fmt.Errorf("slice step must not be 0")
			}
			b, e, cnt := sliceRange(starts[i], ends[i], st, int64(s[ax]))
			begin[ax], step[ax], out[ax] = int(b), int(st), int(cnt)
			_ = e
		}
		str := stridesOf(s)
		return mapOver(out, func(idx []int) int {
			off := 0
			for i, v := range idx {
				off += (begin[i] + v*step[i]) * str[i]
			}
			return off
		}), nil
	}, nil
}

// sliceRange clamps start and end for a dimension of size d and returns the
// first index, the end and the element count.
func sliceRange(start, end, step, d int64) (int64, int64, int64) {
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	if step > 0 {
		start = min(max(start, 0), d)
		end = min(max(end, 0), d)
		if end <= start {
			return start, end, 0
		}
		return start, end, (end - start + step - 1) / step
	}
	start = min(max(start, -1), d-1)
	end = min(max(end, -1), d-1)
	if end >= start {
		return start, end, 0
	}
	return start, end, (start - end - step - 1) / -step
}

// Pad adds borders: constant (fill from input 2 or attr value), reflect or edge.
func buildPad(n *nodeInfo) (mapper, error) {
	mode := n.AttrString("mode", "constant")
	if mode != "constant" && mode != "reflect" && mode != "edge" {
		return nil, fmt.Errorf("mode %q is not supported", mode)
	}
	legacy := n.opset < 11
	attrPads := padsAttr(n)
	attrFill := float64(n.AttrFloat("value", 0))
	return func(shapes [][]int, ints []*Tensor[int64]) (*indexMap, error) {
		s := shapes[0]
		pads := attrPads
		if !legacy {
			if ints[1] == nil {
				return nil, fmt.Errorf("pads must be an integer tensor")
			}
			pads = ints[1].Data
		}
		r := len(s)
		before, after := make([]int, r), make([]int, r)
		axes := make([]int, r)
		for i := range axes {
			axes[i] = i
		}
		if len(ints) > 3 && ints[3] != nil {
			axes = axes[:0]
			for _, a := range ints[3].Data {
				ax, err := normAxis(int(a), r)
				if err != nil {
					return nil, err
				}
				axes = append(axes, ax)
			}
		}
		if len(pads) != 2*len(axes) {
			return nil, fmt.Errorf("pads has %d entries for %d axes", len(pads), len(axes))
		}
		out := slices.Clone(s)
		for i, ax := range axes {
			before[ax], after[ax] = int(pads[i]), int(pads[i+len(axes)])
			out[ax] += before[ax] + after[ax]
			if out[ax] < 0 {
				return nil, fmt.Errorf("negative output size on axis %d", ax)
			}
			if mode == "reflect" && (before[ax] >= s[ax] || after[ax] >= s[ax]) && s[ax] > 0 {
				return nil, fmt.Errorf("reflect padding %d/%d needs an axis longer than %d", before[ax], after[ax], s[ax])
			}
		}
		st := stridesOf(s)
		m := mapOver(out, func(idx []int) int {
			off := 0
			for i, v := range idx {
				j := v - before[i]
				if j < 0 || j >= s[i] {
					switch mode {
					case "constant":
						return -1
					case "edge":
						j = min(max(j, 0), s[i]-1)
					case "reflect":
						if j < 0 {
							j = -j
						} else {
							j = 2*(s[i]-1) - j
						}
					}
				}
				off += j * st[i]
			}
			return off
		})
		if legacy {
			m.fill = attrFill
		}
		return m, nil
	}, nil
}

// padsAttr returns the pads attribute (called paddings before opset 2).
func padsAttr(n *nodeInfo) []int64 {
	if p := n.AttrInts("pads"); p != nil {
		return p
	}
	return n.AttrInts("paddings")
}
