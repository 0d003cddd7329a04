package unlearn

import (
	"context"
	"fmt"
	"math"
)

// Posterior is the a-posteriori distance bound of a μ-strongly convex
// objective at a point w (DESIGN.md §1, "Convex scope"):
//
//	‖w − w̃*‖₂ ≤ ‖∇L(w)‖₂ / μ ≤ (‖ĝ‖₂ + Margin) / μ = Bound
//
// for the minimiser w̃* of L over any convex set that contains w (all of
// space, or a ball). Strong convexity gives μ‖w − w̃*‖² ≤ ⟨∇L(w) − ∇L(w̃*),
// w − w̃*⟩ and optimality ⟨∇L(w̃*), w − w̃*⟩ ≥ 0. ĝ is the gradient computed
// in floating point and Margin bounds ‖ĝ − ∇L(w)‖₂, its rounding error.
type Posterior struct {
	// GradNorm is ‖ĝ‖₂.
	GradNorm float64
	// Margin bounds the rounding error ‖ĝ − ∇L(w)‖₂.
	Margin float64
	// Mu is the strong-convexity modulus μ > 0.
	Mu float64
	// Bound is (GradNorm + Margin)/Mu.
	Bound float64
}

// MarginFunc bounds the rounding error of the gradient an objective computes
// at w: it returns m with ‖ĝ − ∇L(w)‖₂ ≤ m. Objectives evaluated in exact
// arithmetic (tests) may return 0.
type MarginFunc func(ctx context.Context, w []float64) (float64, error)

// RoundingGamma returns γ_k = k·u/(1 − k·u) with u = 2⁻⁵³, the factor of the
// classic worst-case bound on the error of a float64 computation of k
// operations (Higham, Accuracy and Stability of Numerical Algorithms, §3.1):
// summing k terms a_i in any order errs by at most γ_{k−1}·Σ|a_i|,
// componentwise. It panics if k·u ≥ 1.
func RoundingGamma(k int) float64 {
	ku := float64(k) * 0x1p-53
	if !(ku < 1) {
		panic("unlearn: rounding gamma undefined for k·u ≥ 1")
	}
	return ku / (1 - ku)
}

// PosteriorBound evaluates the bound at w: one gradient of obj (which must
// be μ-strongly convex, e.g. a convex data term plus (μ/2)‖w‖²) and the
// rounding margin. It returns the gradient it computed in grad when grad is
// not nil. It panics if mu ≤ 0 or margin is nil.
func PosteriorBound(ctx context.Context, obj Objective, w []float64, mu float64, margin MarginFunc, grad []float64) (Posterior, error) {
	checkLen(w, obj)
	if !(mu > 0) || math.IsInf(mu, 0) {
		panic("unlearn: posterior bound needs a finite μ > 0")
	}
	if margin == nil {
		panic("unlearn: posterior bound needs a rounding margin")
	}
	if err := ctx.Err(); err != nil {
		return Posterior{}, err
	}
	if grad == nil {
		grad = make([]float64, len(w))
	}
	if _, err := obj.Eval(ctx, w, nil, grad); err != nil {
		return Posterior{}, fmt.Errorf("unlearn: posterior bound: %w", err)
	}
	return posteriorFrom(ctx, w, Norm(grad), mu, margin)
}

// posteriorFrom completes the bound from a gradient norm already computed.
func posteriorFrom(ctx context.Context, w []float64, gradNorm, mu float64, margin MarginFunc) (Posterior, error) {
	if !isFinite(gradNorm) {
		return Posterior{}, fmt.Errorf("unlearn: posterior bound: non-finite gradient norm %g", gradNorm)
	}
	m, err := margin(ctx, w)
	if err != nil {
		return Posterior{}, fmt.Errorf("unlearn: posterior bound: rounding margin: %w", err)
	}
	if !(m >= 0) || math.IsInf(m, 0) {
		return Posterior{}, fmt.Errorf("unlearn: posterior bound: rounding margin %g is not finite and ≥ 0", m)
	}
	// The addition and the division round too (half an ulp each); a relative
	// 2⁻⁵⁰ on top keeps the result an upper bound.
	b := (gradNorm + m) / mu * (1 + 0x1p-50)
	return Posterior{GradNorm: gradNorm, Margin: m, Mu: mu, Bound: b}, nil
}
