package lethe

import (
	"context"
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/mat"

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
// the Kronecker-factored preconditioner handles, and its layout in the
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

// kfacPreconditioner returns M⁻¹ for M = A ⊗ B + μI, the Kronecker-factored
// approximation of the Hessian (1/N)Σ_i (diag(p_i) − p_i·p_iᵀ) ⊗ φ̃_i·φ̃_iᵀ
// + μI of the linear head h's objective hs (μ = hs.L2), with φ̃ = [φ; 1]: B = (1/N)Σ
// φ̃·φ̃ᵀ and A = (1/N)Σ (diag(p_i) − p_i·p_iᵀ) over hs's samples, with the
// softmax probabilities at the parameters w (which hs keeps for the
// Hessian-vector products at w). It is exact when the probabilities do not
// vary with the sample, and inverted exactly through the eigenvectors of A
// and B, so applying it costs O(K·d·(K + d)), far below a Hessian-vector
// product.
func kfacPreconditioner(ctx context.Context, h *linearHead, hs *autodiff.SoftmaxHead, w []float64) (func(dst, r []float64) error, error) {
	k, d1, mu := h.k, h.d+1, hs.L2
	probs, err := hs.Probabilities(ctx, w)
	if err != nil {
		return nil, err
	}
	rowsOf := hs.Index
	if rowsOf == nil {
		rowsOf = retainedIndices(len(hs.Labels), nil)
	}
	// The sums over samples, in two halves at once when there are threads
	// for it.
	halves := [][]int{rowsOf}
	if hs.Threads != 1 && len(rowsOf) >= 2*kfacChunk {
		halves = [][]int{rowsOf[:len(rowsOf)/2], rowsOf[len(rowsOf)/2:]}
	}
	sums := make([]kfacSums, len(halves))
	var wg sync.WaitGroup
	for i, rows := range halves {
		wg.Go(func() { sums[i] = kfacSum(ctx, h, hs, probs, rows) })
	}
	wg.Wait()
	bsum, asum := sums[0].b, sums[0].a
	for _, sm := range sums {
		if sm.err != nil {
			return nil, sm.err
		}
	}
	for _, sm := range sums[1:] {
		bsum.AddSym(bsum, sm.b)
		asum.AddSym(asum, sm.a)
	}
	n := float64(len(rowsOf))
	bsum.ScaleSym(1/n, bsum)
	asum.ScaleSym(1/n, asum)
	var eb, ea mat.EigenSym
	if !eb.Factorize(bsum, true) || !ea.Factorize(asum, true) {
		return nil, fmt.Errorf("the Kronecker factors' eigendecomposition failed")
	}
	lb, la := eb.Values(nil), ea.Values(nil)
	var ub, ua mat.Dense
	eb.VectorsTo(&ub)
	ea.VectorsTo(&ua)
	r := mat.NewDense(k, d1, nil)
	var t1, t2 mat.Dense
	return func(dst, res []float64) error {
		for a := 0; a < k; a++ {
			for j := 0; j < d1; j++ {
				r.Set(a, j, res[h.at(a, j)])
			}
		}
		t1.Mul(ua.T(), r) // in the eigenbases: U_Aᵀ·R·U_B
		t2.Mul(&t1, &ub)
		for a := 0; a < k; a++ {
			for j := 0; j < d1; j++ {
				t2.Set(a, j, t2.At(a, j)/(math.Max(la[a], 0)*math.Max(lb[j], 0)+mu))
			}
		}
		t1.Mul(&ua, &t2)
		t2.Mul(&t1, ub.T())
		for a := 0; a < k; a++ {
			for j := 0; j < d1; j++ {
				dst[h.at(a, j)] = t2.At(a, j)
			}
		}
		return nil
	}, nil
}

// kfacChunk is how many samples' augmented features kfacSum adds to B in
// one rank-k update.
const kfacChunk = 2048

// kfacSums are the unscaled sums of B's φ̃·φ̃ᵀ and A's diag(p) − p·pᵀ over
// some samples.
type kfacSums struct {
	b, a *mat.SymDense
	err  error
}

// kfacSum adds up the Kronecker factors' terms over the samples rows.
func kfacSum(ctx context.Context, h *linearHead, hs *autodiff.SoftmaxHead, probs []float32, rows []int) kfacSums {
	k, d1 := h.k, h.d+1
	bsum := mat.NewSymDense(d1, nil)
	asum := mat.NewSymDense(k, nil)
	buf := mat.NewDense(kfacChunk, d1, nil)
	for start := 0; start < len(rows); start += kfacChunk {
		if err := ctx.Err(); err != nil {
			return kfacSums{err: err}
		}
		b := rows[start:min(len(rows), start+kfacChunk)]
		part := buf.Slice(0, len(b), 0, d1).(*mat.Dense)
		for i, r := range b {
			for j, v := range hs.Features[r*h.d : (r+1)*h.d] {
				part.Set(i, j, float64(v))
			}
			part.Set(i, h.d, 1)
			p := probs[r*k : (r+1)*k]
			for a := 0; a < k; a++ {
				for c := a; c < k; c++ {
					v := -float64(p[a]) * float64(p[c])
					if a == c {
						v += float64(p[a])
					}
					asum.SetSym(a, c, asum.At(a, c)+v)
				}
			}
		}
		bsum.SymRankK(bsum, 1, part.T())
	}
	return kfacSums{b: bsum, a: asum}
}

// stepSolver is what the Newton steps on a head's retained objective solve
// with: the objective whose Hessian-vector products they use, in float32
// (on a linear softmax head by dedicated matrix products with the
// probabilities kept between products, otherwise by the float32 program),
// and for a linear softmax head the Kronecker-factored preconditioner.
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

// precondAt returns the preconditioner for steps from w, or nil when the
// head has none.
func (s *stepSolver) precondAt(ctx context.Context, w []float64) (func(dst, r []float64) error, error) {
	if s.linear == nil {
		return nil, nil
	}
	return kfacPreconditioner(ctx, s.linear, s.head, w)
}
