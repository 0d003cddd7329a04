package autodiff

import (
	"fmt"
	"slices"
)

// MatMul and Gemm are bilinear: Y = α·op(A)·op(B) (+ β·C for Gemm). With
// that, all rules are matrix products (GEMM):
//
//	forward  Y = α·A·B + β·C            Ẏ = α(Ȧ·B + A·Ḃ) + β·Ċ
//	VJP      Ā = α·Ȳ·Bᵀ   B̄ = α·Aᵀ·Ȳ   C̄ = β·u(Ȳ)
//	tangent  Ā̇ = α(Ȳ̇·Bᵀ + Ȳ·Ḃᵀ)   B̄̇ = α(Ȧᵀ·Ȳ + Aᵀ·Ȳ̇)   C̄̇ = β·u(Ȳ̇)
//
// (transposes of op(·) folded in). Batched MatMul broadcasts the leading axes
// and sums adjoints over broadcast batches.

// mmPlan is a set of matrix products sharing dimensions: for each pair,
// Y[io] = α·op(A[ia])·op(B[ib]) with op(A) m×k and op(B) k×n.
type mmPlan struct {
	m, n, k int
	tA, tB  bool
	alpha   float64
	pairs   [][3]int // offsets into A, B, Y
}

func (p *mmPlan) lda() int {
	if p.tA {
		return p.m
	}
	return p.k
}

func (p *mmPlan) ldb() int {
	if p.tB {
		return p.k
	}
	return p.n
}

// apply computes Y = α·op(A)·op(B) + beta·Y for every pair.
func mmApply[T Float](p *mmPlan, y, a, b []T, beta T) {
	for _, q := range p.pairs {
		gemm(p.tA, p.tB, p.m, p.n, p.k, T(p.alpha), a[q[0]:], p.lda(), b[q[1]:], p.ldb(), beta, y[q[2]:], p.n)
	}
}

// mmGradA adds α·Ȳ·op(B)ᵀ (in A's storage layout) into dA.
func mmGradA[T Float](p *mmPlan, dA, g, b []T) {
	for _, q := range p.pairs {
		if !p.tA {
			gemm(false, !p.tB, p.m, p.k, p.n, T(p.alpha), g[q[2]:], p.n, b[q[1]:], p.ldb(), 1, dA[q[0]:], p.k)
		} else {
			gemm(p.tB, true, p.k, p.m, p.n, T(p.alpha), b[q[1]:], p.ldb(), g[q[2]:], p.n, 1, dA[q[0]:], p.m)
		}
	}
}

// mmGradB adds α·op(A)ᵀ·Ȳ (in B's storage layout) into dB.
func mmGradB[T Float](p *mmPlan, dB, a, g []T) {
	for _, q := range p.pairs {
		if !p.tB {
			gemm(!p.tA, false, p.k, p.n, p.m, T(p.alpha), a[q[0]:], p.lda(), g[q[2]:], p.n, 1, dB[q[1]:], p.n)
		} else {
			gemm(true, p.tA, p.n, p.k, p.m, T(p.alpha), g[q[2]:], p.n, a[q[0]:], p.lda(), 1, dB[q[1]:], p.k)
		}
	}
}

// bilinearForward computes Y = P(A, B) and, in tangent mode, Ẏ = P(Ȧ, B) + P(A, Ḃ).
func bilinearForward[T Float](c *ctx[T], p *mmPlan, a, b *value[T], y *value[T]) {
	mmApply(p, y.f.Data, a.f.Data, b.f.Data, 0)
	if !c.tangent() || (a.dot == nil && b.dot == nil) {
		return
	}
	y.dot = c.zeros(y.f.Shape)
	if a.dot != nil {
		mmApply(p, y.dot.Data, a.dot.Data, b.f.Data, 1)
	}
	if b.dot != nil {
		mmApply(p, y.dot.Data, a.f.Data, b.dot.Data, 1)
	}
}

// bilinearReads is the readsAdjoint of a bilinear op Y = P(A, B): the
// tangent terms P(Ȳ, Ḃ) of Ā̇ and P(Ȧ, Ȳ) of B̄̇ read Ȳ.
func bilinearReads(dot, need []bool) bool {
	return (dot[1] && need[0]) || (dot[0] && need[1])
}

func (matmulKernel[T]) readsAdjoint(dot, need []bool) bool { return bilinearReads(dot, need) }

// readsAdjoint: C's rules β·u(Ȳ), β·u(Ȳ̇) read Ȳ only for C's primal adjoint.
func (k *gemmKernel[T]) readsAdjoint(dot, need []bool) bool { return bilinearReads(dot, need) }

// bilinearBackward returns Ā, B̄ (where needed) and their tangents; a
// primal adjoint that ctx.primal says nobody reads is left uncomputed.
func bilinearBackward[T Float](c *ctx[T], p *mmPlan, a, b, g *value[T], needA, needB bool) (*value[T], *value[T]) {
	var ga, gb *value[T]
	if needA {
		ga = floatVal(c.zeros(a.f.Shape), nil)
		if c.primal(0) {
			mmGradA(p, ga.f.Data, g.f.Data, b.f.Data)
		}
		if c.tangent() && (g.dot != nil || b.dot != nil) {
			ga.dot = c.zeros(a.f.Shape)
			if g.dot != nil {
				mmGradA(p, ga.dot.Data, g.dot.Data, b.f.Data)
			}
			if b.dot != nil {
				mmGradA(p, ga.dot.Data, g.f.Data, b.dot.Data)
			}
		}
	}
	if needB {
		gb = floatVal(c.zeros(b.f.Shape), nil)
		if c.primal(1) {
			mmGradB(p, gb.f.Data, a.f.Data, g.f.Data)
		}
		if c.tangent() && (g.dot != nil || a.dot != nil) {
			gb.dot = c.zeros(b.f.Shape)
			if g.dot != nil {
				mmGradB(p, gb.dot.Data, a.f.Data, g.dot.Data)
			}
			if a.dot != nil {
				mmGradB(p, gb.dot.Data, a.dot.Data, g.f.Data)
			}
		}
	}
	return ga, gb
}

func init() {
	register("MatMul", func(*nodeInfo) (kernels, error) {
		return pair(matmulKernel[float32]{}, matmulKernel[float64]{}), nil
	})
	register("Gemm", func(n *nodeInfo) (kernels, error) {
		g := gemmAttrs{
			alpha: float64(n.AttrFloat("alpha", 1)),
			beta:  float64(n.AttrFloat("beta", 1)),
			tA:    n.AttrInt("transA", 0) != 0,
			tB:    n.AttrInt("transB", 0) != 0,
		}
		return pair(&gemmKernel[float32]{g}, &gemmKernel[float64]{g}), nil
	})
}

type matmulKernel[T Float] struct{}

// matmulPlan promotes 1-D operands, broadcasts batch axes and returns the
// plan and the output shape.
func matmulPlan(sa, sb []int) (*mmPlan, []int, error) {
	if len(sa) == 0 || len(sb) == 0 {
		return nil, nil, fmt.Errorf("MatMul operands must not be scalars")
	}
	a, b := sa, sb
	if len(a) == 1 {
		a = []int{1, a[0]}
	}
	if len(b) == 1 {
		b = []int{b[0], 1}
	}
	m, k, k2, n := a[len(a)-2], a[len(a)-1], b[len(b)-2], b[len(b)-1]
	if k != k2 {
		return nil, nil, fmt.Errorf("MatMul shapes %v and %v do not match", sa, sb)
	}
	p := &mmPlan{m: m, n: n, k: k, alpha: 1}
	var out []int
	if len(b) == 2 {
		// The common case: a weight matrix. Fold A's batch axes into its rows.
		p.m = numel(a[:len(a)-1])
		p.pairs = [][3]int{{0, 0, 0}}
		out = slices.Concat(a[:len(a)-1], []int{n})
	} else {
		batch, err := broadcastShape(a[:len(a)-2], b[:len(b)-2])
		if err != nil {
			return nil, nil, err
		}
		sta := broadcastStrides(a[:len(a)-2], batch)
		stb := broadcastStrides(b[:len(b)-2], batch)
		idx := make([]int, len(batch))
		for o := 0; o < numel(batch); o++ {
			ia, ib := 0, 0
			for i, v := range idx {
				ia += v * sta[i]
				ib += v * stb[i]
			}
			p.pairs = append(p.pairs, [3]int{ia * m * k, ib * k * n, o * m * n})
			for ax := len(idx) - 1; ax >= 0; ax-- {
				if idx[ax]++; idx[ax] < batch[ax] {
					break
				}
				idx[ax] = 0
			}
		}
		out = slices.Concat(batch, []int{m, n})
	}
	// Remove the axes that promotion of 1-D operands added.
	if len(sb) == 1 {
		out = out[:len(out)-1]
	}
	if len(sa) == 1 {
		i := len(out) - 2
		if len(sb) == 1 {
			i = len(out) - 1
		}
		out = append(out[:i:i], out[i+1:]...)
	}
	return p, out, nil
}

func (matmulKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	a, b := in[0], in[1]
	if a.isInt() || b.isInt() {
		return nil, fmt.Errorf("integer MatMul is not supported")
	}
	p, out, err := matmulPlan(a.f.Shape, b.f.Shape)
	if err != nil {
		return nil, err
	}
	y := floatVal(c.alloc(out), nil)
	bilinearForward(c, p, a, b, y)
	return []*value[T]{y}, nil
}

func (matmulKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	p, _, err := matmulPlan(in[0].f.Shape, in[1].f.Shape)
	if err != nil {
		return nil, err
	}
	ga, gb := bilinearBackward(c, p, in[0], in[1], gout[0], need[0], need[1])
	return []*value[T]{ga, gb}, nil
}

type gemmAttrs struct {
	alpha, beta float64
	tA, tB      bool
}

type gemmKernel[T Float] struct{ gemmAttrs }

func (k *gemmKernel[T]) plan(sa, sb []int) (*mmPlan, error) {
	if len(sa) != 2 || len(sb) != 2 {
		return nil, fmt.Errorf("operator Gemm needs 2-D operands, got %v and %v", sa, sb)
	}
	m, ka := sa[0], sa[1]
	if k.tA {
		m, ka = ka, m
	}
	kb, n := sb[0], sb[1]
	if k.tB {
		kb, n = n, kb
	}
	if ka != kb {
		return nil, fmt.Errorf("operator Gemm: shapes %v and %v do not match (transA=%v, transB=%v)", sa, sb, k.tA, k.tB)
	}
	return &mmPlan{m: m, n: n, k: ka, tA: k.tA, tB: k.tB, alpha: k.alpha, pairs: [][3]int{{0, 0, 0}}}, nil
}

func (k *gemmKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	a, b := in[0], in[1]
	if a.isInt() || b.isInt() {
		return nil, fmt.Errorf("integer Gemm is not supported")
	}
	p, err := k.plan(a.f.Shape, b.f.Shape)
	if err != nil {
		return nil, err
	}
	out := []int{p.m, p.n}
	y := floatVal(c.alloc(out), nil)
	bilinearForward(c, p, a, b, y)
	if len(in) > 2 && in[2] != nil && k.beta != 0 {
		cv := in[2]
		if _, err := broadcastShape(cv.f.Shape, out); err != nil {
			return nil, fmt.Errorf("operand C of shape %v does not broadcast to %v", cv.f.Shape, out)
		}
		addScaledBroadcast(y.f.Data, cv.f, out, T(k.beta))
		if c.tangent() && cv.dot != nil {
			if y.dot == nil {
				y.dot = c.zeros(out)
			}
			addScaledBroadcast(y.dot.Data, cv.dot, out, T(k.beta))
		}
	}
	return []*value[T]{y}, nil
}

// addScaledBroadcast adds s·x, broadcast to shape out, into dst.
func addScaledBroadcast[T Float](dst []T, x *Tensor[T], out []int, s T) {
	newBPlan(out, x.Shape).runs(func(o int, off, inc []int, n int) {
		src, d := off[0], inc[0]
		for j := 0; j < n; j++ {
			dst[o+j] += s * x.Data[src+j*d]
		}
	})
}

func (k *gemmKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	p, err := k.plan(in[0].f.Shape, in[1].f.Shape)
	if err != nil {
		return nil, err
	}
	g := gout[0]
	res := make([]*value[T], len(in))
	res[0], res[1] = bilinearBackward(c, p, in[0], in[1], g, need[0], need[1])
	if len(in) > 2 && need[2] {
		cs := in[2].f.Shape
		alloc := c.r.ar.alloc
		scale := func(src []T) []T {
			r := reduceTo(alloc, src, g.f.Shape, cs)
			dst := alloc(len(r))
			for i, v := range r {
				dst[i] = T(k.beta) * v
			}
			return dst
		}
		gc := floatVal(&Tensor[T]{Shape: cs}, nil)
		if c.primal(2) {
			gc.f.Data = scale(g.f.Data)
		} else {
			gc.f.Data = alloc(numel(cs))
		}
		if c.tangent() && g.dot != nil {
			gc.dot = &Tensor[T]{Shape: cs, Data: scale(g.dot.Data)}
		}
		res[2] = gc
	}
	return res, nil
}
