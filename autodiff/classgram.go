package autodiff

import (
	"context"
	"fmt"
)

// ClassGrams returns, for every class k, the Gram matrix of the rows'
// extended features φ̃ = (φ, 1) weighted by p_k(1 − p_k) at the parameters w,
//
//	G_k = (1/|rows|)·Σ_{i ∈ rows} p_ik(1 − p_ik)·φ̃_i φ̃_iᵀ,
//
// (D+1)×(D+1), row-major: the class-diagonal blocks of the data term's
// Hessian, as a preconditioner wants them. They are summed by the BLAS in
// float32 and returned in float64.
func (h *SoftmaxHead) ClassGrams(ctx context.Context, w []float64, rows []int) ([][]float64, error) {
	if len(rows) == 0 {
		return nil, fmt.Errorf("autodiff: SoftmaxHead.ClassGrams: no rows")
	}
	probs, err := h.Probabilities(ctx, w)
	if err != nil {
		return nil, err
	}
	d1, n := h.D+1, len(rows)
	x := make([]float32, n*d1) // φ̃ of the rows
	for i, r := range rows {
		copy(x[i*d1:], h.Features[r*h.D:(r+1)*h.D])
		x[i*d1+h.D] = 1
	}
	scaled := make([]float32, n*d1)
	g := make([]float32, d1*d1)
	grams := make([][]float64, h.K)
	for k := range grams {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i, r := range rows {
			p := probs[r*h.K+k]
			s := p * (1 - p) / float32(n)
			for j, v := range x[i*d1 : (i+1)*d1] {
				scaled[i*d1+j] = s * v
			}
		}
		gemm(true, false, d1, d1, n, 1, x, d1, scaled, d1, 0, g, d1)
		grams[k] = make([]float64, d1*d1)
		for i, v := range g {
			grams[k][i] = float64(v)
		}
	}
	return grams, nil
}
