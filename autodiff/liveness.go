package autodiff

// A pass that computes H·v without the gradient needs the tangents of all
// adjoints but not every primal adjoint ȳ: a parameter's primal adjoint is
// the gradient, and an activation's is read only where a tangent rule reads
// it (the bilinear terms Ẇᵀ·Ȳ and Ȳ·Ẋᵀ, a nonlinearity's f”·ẋ·ȳ) or where it
// is propagated to an input whose primal adjoint is needed. In a CNN the
// first convolution's rules never read its output's ȳ (its input, the data,
// has neither tangent nor adjoint), so the Relu and MaxPool after it, and the
// second convolution's input adjoint Wᵀ·Ȳ, are dead in an HVP pass: a GEMM
// and a col2im per sample.

// tangentAdjoint is implemented by kernels that know when their tangent
// rules read the primal output adjoint ȳ, given which inputs carry a tangent
// in an HVP pass (dot) and which inputs' adjoints are needed (need). Reading
// ȳ to derive the inputs' primal adjoints does not count. Kernels without
// it are taken to read ȳ always.
type tangentAdjoint interface {
	readsAdjoint(dot, need []bool) bool
}

// primalAdjoints returns, by slot, whether a pass that computes H·v but not
// the gradient needs the slot's primal adjoint: its producer's tangent rules
// read it, or the producer derives from it the primal adjoint of an input
// that is needed. A value no node produces (data, constants, parameters)
// needs none. ctx.primal and ctx.outAdjoint read the result.
func primalAdjoints[T Float](p *program[T]) []bool {
	live := make([]bool, p.nslots)
	for _, n := range p.nodes {
		dot := make([]bool, len(n.in))
		for i, s := range n.in {
			dot[i] = s >= 0 && p.needGrad[s]
		}
		reads := true
		if r, ok := n.k.(tangentAdjoint); ok {
			reads = r.readsAdjoint(dot, dot)
		}
		for i, s := range n.in {
			reads = reads || (dot[i] && !p.isParam[s] && live[s])
		}
		for _, s := range n.out {
			if s >= 0 {
				live[s] = reads
			}
		}
	}
	return live
}
