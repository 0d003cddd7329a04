package unlearn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
)

// LipschitzEstimate records the Hessian-Lipschitz constant M used by the
// certificate (‖∇²L(a) − ∇²L(b)‖₂ ≤ M‖a − b‖₂ on the C-ball) and where it came
// from.
//
// An estimated M is NOT a bound. It is the largest ratio observed over a few
// random pairs, so it can only under-estimate the true constant; the
// certificate must list it as a stated assumption, with Method, Pairs and
// Iterations. A declared M is the user's claim and is recorded as such.
type LipschitzEstimate struct {
	Value float64
	// Source is "declared" or "estimated".
	Source string
	// Note says in words what kind of number Value is (copy it into reports).
	Note string
	// Method describes the sampling and the norm computation.
	Method string
	// Pairs is the number of point pairs sampled.
	Pairs int
	// Iterations is the total number of power iterations over all pairs.
	Iterations int
	// HVPs is the number of full-data Hessian-vector products used.
	HVPs int
	// Ratios holds ‖H_a − H_b‖₂/‖a − b‖ for each pair, in sampling order.
	Ratios []float64
}

// Notes used in LipschitzEstimate.Note.
const (
	noteDeclared  = "declared by the user; not checked"
	noteEstimated = "empirical estimate: the maximum of ‖H_a − H_b‖₂/‖a − b‖ over random pairs, which can only under-estimate the true constant; not a proven bound"
)

// DeclaredLipschitz returns the record of a Hessian-Lipschitz constant m
// declared by the user. It panics if m is negative or NaN.
func DeclaredLipschitz(m float64) LipschitzEstimate {
	if !(m >= 0) {
		panic("unlearn: negative Hessian-Lipschitz constant")
	}
	return LipschitzEstimate{Value: m, Source: "declared", Note: noteDeclared, Method: "declared"}
}

// PairSampling selects where EstimateHessianLipschitz draws its point pairs.
type PairSampling int

const (
	// MixedPairs draws half the pairs uniformly in the C-ball and half near w
	// (the default): the first probe the global constant the theorem asks for,
	// the second the region where the Taylor argument is actually used.
	MixedPairs PairSampling = iota
	// BallPairs draws both points of every pair uniformly in the C-ball.
	BallPairs
	// NearPairs draws both points uniformly in the ball of radius
	// NearRadius·C around w, projected onto the C-ball.
	NearPairs
)

// LipschitzOptions configures EstimateHessianLipschitz. The zero value is the
// documented default.
type LipschitzOptions struct {
	// Pairs is the number of random pairs (a, b). Default 8.
	Pairs int
	// Sampling selects where pairs are drawn. Default MixedPairs.
	Sampling PairSampling
	// NearRadius is the radius of the neighbourhood of w as a fraction of C.
	// Default 0.05.
	NearRadius float64
	// MaxIter bounds the power iterations per pair (2 full-data HVPs each).
	// Default 20: the ratio only needs to be accurate to a few digits, and
	// power iteration approaches the norm from below.
	MaxIter int
	// Tol is the relative residual at which a pair's power iteration stops.
	// Default 1e-4.
	Tol float64
	// Seed seeds the pair sampling and the power iterations.
	Seed uint64
}

func (o LipschitzOptions) defaults() LipschitzOptions {
	if o.Pairs <= 0 {
		o.Pairs = 8
	}
	if o.NearRadius <= 0 {
		o.NearRadius = 0.05
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 20
	}
	if o.Tol <= 0 {
		o.Tol = 1e-4
	}
	return o
}

// EstimateHessianLipschitz estimates the Hessian-Lipschitz constant M of obj
// (on all its samples) over the ball ‖x‖ ≤ radius: it samples pairs (a, b) in
// the ball and/or near w, computes ‖H_a − H_b‖₂ by power iteration on the
// difference operator v ↦ H_a·v − H_b·v, and returns the largest ratio
// ‖H_a − H_b‖₂/‖a − b‖. The result is an estimate and says so (see
// LipschitzEstimate). It panics if radius is not positive and finite.
func EstimateHessianLipschitz(ctx context.Context, obj Objective, w []float64, radius float64, opts LipschitzOptions) (LipschitzEstimate, error) {
	checkLen(w, obj)
	if !(radius > 0) || math.IsInf(radius, 1) {
		panic(errRadius)
	}
	opts = opts.defaults()
	n := obj.Dim()
	rnd := newRand(opts.Seed, streamLipschitz)
	est := LipschitzEstimate{Source: "estimated", Note: noteEstimated}
	var where string
	switch opts.Sampling {
	case MixedPairs:
		where = fmt.Sprintf("%d in the C-ball, %d within %g·C of w", (opts.Pairs+1)/2, opts.Pairs/2, opts.NearRadius)
	case BallPairs:
		where = "uniform in the C-ball"
	case NearPairs:
		where = fmt.Sprintf("within %g·C of w", opts.NearRadius)
	default:
		panic("unlearn: unknown pair sampling")
	}
	est.Method = fmt.Sprintf("max over %d random pairs (%s) of ‖H_a − H_b‖₂/‖a − b‖, norm by power iteration (≤ %d iterations, tol %g)",
		opts.Pairs, where, opts.MaxIter, opts.Tol)

	a := make([]float64, n)
	b := make([]float64, n)
	tmp := make([]float64, n)
	var c counter
	for k := 0; k < opts.Pairs; k++ {
		near := opts.Sampling == NearPairs || (opts.Sampling == MixedPairs && k%2 == 1)
		for {
			if near {
				nearPoint(rnd, a, w, opts.NearRadius*radius, radius)
				nearPoint(rnd, b, w, opts.NearRadius*radius, radius)
			} else {
				ballPoint(rnd, a, radius)
				ballPoint(rnd, b, radius)
			}
			if Distance(a, b) > 0 {
				break
			}
		}
		op := func(dst, v []float64) error {
			if err := hvp(ctx, obj, a, nil, 0, v, dst, &c); err != nil {
				return err
			}
			if err := hvp(ctx, obj, b, nil, 0, v, tmp, &c); err != nil {
				return err
			}
			floats.Sub(dst, tmp)
			return nil
		}
		pe, err := powerIteration(ctx, op, n, SpectralOptions{MaxIter: opts.MaxIter, Tol: opts.Tol, Seed: opts.Seed + uint64(k)})
		est.Iterations += pe.Iterations
		est.HVPs = c.calls
		if err != nil {
			return est, fmt.Errorf("unlearn: hessian-lipschitz pair %d: %w", k+1, err)
		}
		ratio := pe.Value / Distance(a, b)
		est.Ratios = append(est.Ratios, ratio)
		est.Pairs++
		est.Value = math.Max(est.Value, ratio)
	}
	return est, nil
}

// ballPoint draws x uniformly from the ball ‖x‖ ≤ radius.
func ballPoint(rnd *rand.Rand, x []float64, radius float64) {
	randomUnit(rnd, x)
	// radius·U^(1/n) makes the radial density ∝ r^(n−1).
	floats.Scale(radius*math.Exp(math.Log(1-rnd.Float64())/float64(len(x))), x)
}

// nearPoint draws x uniformly from the ball of radius r around w, projected
// onto the ball of radius c.
func nearPoint(rnd *rand.Rand, x, w []float64, r, c float64) {
	ballPoint(rnd, x, r)
	floats.Add(x, w)
	Project(x, c)
}
