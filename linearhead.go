package lethe

import (
	"context"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/unlearn"
)

// linearHead is the layout of the most common certified part: one Gemm,
// z = W·φ + b (or φ·W + b), on a flat feature vector φ of size d, with K
// outputs and the cross-entropy loss.
type linearHead struct {
	k, d   int
	transB bool // W is [K, d] (PyTorch's nn.Linear) rather than [d, K]
	// weight and bias are the offsets of W and b in the certified
	// parameter vector.
	weight, bias int
}

// findLinearHead reports whether the certified part of m is a linear head
// the class-block preconditioner handles, and its layout in the
// certified parameters cert (parameter order).
func findLinearHead(m *onnxio.Model, proof *autodiff.AffineProof, cert []onnxio.Param, loss autodiff.Loss, feats dataset.Source) (*linearHead, bool) {
	if loss != autodiff.CrossEntropy || len(proof.Features) != 1 || len(feats.SampleShape()) != 1 || len(cert) != 2 {
		return nil, false
	}
	for _, op := range proof.Ops {
		if op != "Gemm" && op != "Softmax" {
			return nil, false
		}
	}
	offset := map[string]onnxio.Param{}
	for _, p := range cert {
		offset[p.Name] = p
	}
	var gemm *onnxio.Node
	g := m.Graph()
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if n.OpType != "Gemm" || len(n.Inputs) != 3 || n.Inputs[0] != proof.Features[0] {
			continue
		}
		if _, ok := offset[n.Inputs[1]]; !ok {
			continue
		}
		if gemm != nil {
			return nil, false
		}
		gemm = n
	}
	if gemm == nil || gemm.AttrFloat("alpha", 1) != 1 || gemm.AttrFloat("beta", 1) != 1 || gemm.AttrInt("transA", 0) != 0 {
		return nil, false
	}
	w, okW := offset[gemm.Inputs[1]]
	b, okB := offset[gemm.Inputs[2]]
	if !okW || !okB || len(w.Shape) != 2 || b.Size == 0 {
		return nil, false
	}
	h := &linearHead{transB: gemm.AttrInt("transB", 0) != 0, weight: w.Offset, bias: b.Offset}
	h.k, h.d = int(w.Shape[1]), int(w.Shape[0])
	if h.transB {
		h.k, h.d = h.d, h.k
	}
	if b.Size != h.k || h.d != feats.SampleShape()[0] {
		return nil, false
	}
	return h, true
}

// at is the position of W[k][j] (j < d) or of b[k] (j = d) in the certified
// parameter vector.
func (h *linearHead) at(k, j int) int {
	switch {
	case j == h.d:
		return h.bias + k
	case h.transB:
		return h.weight + k*h.d + j
	}
	return h.weight + j*h.k + k
}

// stepSolver is what the Newton steps on a head's retained objective solve
// with: the objective whose Hessian-vector products they use, in float32
// (on a linear softmax head by dedicated matrix products with the
// probabilities kept between products, otherwise by the float32 program),
// and for a linear softmax head the class-block preconditioner.
type stepSolver struct {
	hessian unlearn.Objective
	linear  *linearHead           // nil: no preconditioner
	head    *autodiff.SoftmaxHead // the linear head's hessian
}

// newStepSolver returns the step solver of head h of m, whose certified
// parameters are cert, for its float64 retained objective on the features
// feats: a linear softmax head reads feats in place when they are in memory.
func newStepSolver(m *onnxio.Model, proof *autodiff.AffineProof, cert []onnxio.Param, loss autodiff.Loss, h *head, feats *features, retained *autodiff.Objective) (*stepSolver, error) {
	lh, ok := findLinearHead(m, proof, cert, loss, retained.Data)
	if !ok {
		h32 := *retained
		h32.Program = h.prog32
		return &stepSolver{hessian: &h32}, nil
	}
	hs := &autodiff.SoftmaxHead{Features: feats.x, Labels: feats.y, Index: retained.Index,
		K: lh.k, D: lh.d, L2: retained.L2, Position: lh.at, Threads: retained.Options.Threads}
	if feats.x == nil {
		// The certified part reads the model's input, from a file: copy
		// the retained samples.
		idx := retained.Index
		if idx == nil {
			idx = retainedIndices(retained.Len(), nil)
		}
		hs.Index = nil
		hs.Features, hs.Labels = make([]float32, len(idx)*lh.d), make([]int64, len(idx))
		if err := retained.Data.Read(idx, hs.Features, hs.Labels); err != nil {
			return nil, err
		}
	}
	return &stepSolver{hessian: hs, linear: lh, head: hs}, nil
}

// preconditioner returns what BudgetOptions.PrecondAt wants: the builder of
// the head's class-block preconditioner at a point, or nil when the head has
// none.
func (s *stepSolver) preconditioner() func(ctx context.Context, w []float64) (func(dst, r []float64) error, error) {
	if s.linear == nil {
		return nil
	}
	return func(ctx context.Context, w []float64) (func(dst, r []float64) error, error) {
		return classBlockPreconditioner(ctx, s.linear, s.head, w)
	}
}
