package autodiff

import (
	"fmt"

	"github.com/lethe-ml/lethe/internal/simd"
)

// run holds the buffers of one evaluation worker: values, adjoints, kernel
// state and the arena. A run is used by one goroutine at a time and reused
// across passes, so steady-state passes allocate almost nothing.
type run[T Float] struct {
	p            *program[T]
	vals         []*value[T]
	adj          []*value[T]
	owned        []bool // adj[s] was allocated by accumulate and may be added into
	state        []any
	inBuf        [][]*value[T]
	outBuf       [][]*value[T]
	need         [][]bool
	ar           arena[T]
	tangent      bool
	wantGrad     bool         // parameters' primal adjoints are wanted (see ctx.primal)
	withBackward bool         // a backward pass follows the forward pass (see ctx.keep)
	acc          [2][]float64 // gradient and HVP accumulators, reused across calls
	bufX         []float32
	bufY         []int64
}

// scratch returns accumulator i with n entries, not cleared.
func (r *run[T]) scratch(i, n int) []float64 {
	if cap(r.acc[i]) < n {
		r.acc[i] = make([]float64, n)
	}
	return r.acc[i][:n]
}

// inputBuffers returns reusable buffers for a batch's features and labels.
func (r *run[T]) inputBuffers(nx, ny int) ([]float32, []int64) {
	if cap(r.bufX) < nx {
		r.bufX = make([]float32, nx)
	}
	if cap(r.bufY) < ny {
		r.bufY = make([]int64, ny)
	}
	return r.bufX[:nx], r.bufY[:ny]
}

func (p *program[T]) newRun() *run[T] {
	r := &run[T]{
		p:      p,
		vals:   make([]*value[T], p.nslots),
		adj:    make([]*value[T], p.nslots),
		owned:  make([]bool, p.nslots),
		state:  make([]any, len(p.nodes)),
		inBuf:  make([][]*value[T], len(p.nodes)),
		outBuf: make([][]*value[T], len(p.nodes)),
		need:   make([][]bool, len(p.nodes)),
	}
	for i, n := range p.nodes {
		r.inBuf[i] = make([]*value[T], len(n.in))
		r.outBuf[i] = make([]*value[T], len(n.out))
		r.need[i] = make([]bool, len(n.in))
	}
	return r
}

// begin starts a pass: it frees the previous pass's memory and loads the
// constants and parameters. With tangents (one per parameter, nil entries
// meaning zero) the pass is in tangent mode and carries JVPs.
func (r *run[T]) begin(tangents []*Tensor[T], wantGrad bool) {
	r.ar.reset()
	r.wantGrad = wantGrad
	r.withBackward = false
	copy(r.vals, r.p.consts)
	clear(r.adj)
	clear(r.owned)
	r.tangent = tangents != nil
	for i, ps := range r.p.params {
		v := &value[T]{f: r.p.values[i]}
		if tangents != nil {
			v.dot = tangents[i]
		}
		r.vals[ps.slot] = v
	}
}

// forward evaluates every node in order.
func (r *run[T]) forward() error {
	for i := range r.p.nodes {
		n := &r.p.nodes[i]
		in := r.inBuf[i]
		for j, s := range n.in {
			in[j] = nil
			if s >= 0 {
				if in[j] = r.vals[s]; in[j] == nil {
					return &NodeError{Op: n.op, Node: n.name, Err: fmt.Errorf("input %q has no value (is it a graph input that was not fed?)", r.p.slotName[s])}
				}
			}
		}
		out, err := n.k.forward(&ctx[T]{r: r, node: i}, in)
		if err != nil {
			return &NodeError{Op: n.op, Node: n.name, Err: err}
		}
		for j, s := range n.out {
			if s < 0 {
				continue
			}
			if j >= len(out) || out[j] == nil {
				return &NodeError{Op: n.op, Node: n.name, Err: fmt.Errorf("output %d is not produced", j)}
			}
			r.vals[s] = out[j]
		}
	}
	return nil
}

// backward propagates the seed adjoint of the loss slot to every value that
// depends on a parameter, in reverse node order.
func (r *run[T]) backward(seed *value[T]) error {
	r.adj[r.p.lossSlot] = seed
	for i := len(r.p.nodes) - 1; i >= 0; i-- {
		n := &r.p.nodes[i]
		if !n.need {
			continue
		}
		gout := r.outBuf[i]
		reached := false
		for j, s := range n.out {
			gout[j] = nil
			if s >= 0 && r.adj[s] != nil {
				gout[j] = r.adj[s]
				reached = true
			}
		}
		if !reached {
			continue
		}
		need, in := r.need[i], r.inBuf[i]
		anyNeed := false
		for j, s := range n.in {
			in[j] = nil
			if s >= 0 {
				in[j] = r.vals[s]
			}
			need[j] = s >= 0 && r.p.needGrad[s] && !in[j].isInt()
			anyNeed = anyNeed || need[j]
		}
		if !anyNeed {
			continue
		}
		out := make([]*value[T], len(n.out))
		for j, s := range n.out {
			if s >= 0 {
				out[j] = r.vals[s]
			}
		}
		gin, err := n.k.backward(&ctx[T]{r: r, node: i}, in, out, gout, need)
		if err != nil {
			return &NodeError{Op: n.op, Node: n.name, Err: fmt.Errorf("backward: %w", err)}
		}
		for j, s := range n.in {
			if need[j] && j < len(gin) && gin[j] != nil {
				r.accumulate(s, gin[j])
			}
		}
	}
	return nil
}

// accumulate adds an adjoint contribution to slot s. The first contribution
// is kept as it is (it may alias another tensor); a second one is summed into
// fresh memory that later contributions add into.
func (r *run[T]) accumulate(s int, g *value[T]) {
	cur := r.adj[s]
	if cur == nil {
		r.adj[s] = g
		return
	}
	if !r.owned[s] {
		sum := &value[T]{f: &Tensor[T]{Shape: cur.f.Shape, Data: r.ar.alloc(len(cur.f.Data))}}
		copy(sum.f.Data, cur.f.Data)
		if cur.dot != nil {
			sum.dot = &Tensor[T]{Shape: cur.f.Shape, Data: r.ar.alloc(len(cur.f.Data))}
			copy(sum.dot.Data, cur.dot.Data)
		}
		cur = sum
		r.adj[s], r.owned[s] = cur, true
	}
	addTo(cur.f.Data, g.f.Data)
	if g.dot != nil {
		if cur.dot == nil {
			cur.dot = &Tensor[T]{Shape: cur.f.Shape, Data: r.ar.alloc(len(cur.f.Data))}
			copy(cur.dot.Data, g.dot.Data)
		} else {
			addTo(cur.dot.Data, g.dot.Data)
		}
	}
}

// addTo computes dst += src; float32 runs 8 lanes at a time where the CPU
// has AVX2 (internal/simd), with the same results bit for bit.
func addTo[T Float](dst, src []T) {
	src = src[:len(dst)]
	done := 0
	if d, ok := any(dst).([]float32); ok {
		done = simd.Add(d, any(src).([]float32))
	}
	for i, v := range src[done:] {
		dst[done+i] += v
	}
}
