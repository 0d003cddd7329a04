package unlearn

import (
	"context"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
)

// counter accumulates the cost of Hessian-vector products: calls, and
// per-sample HVPs (a full-data HVP counts Len() samples).
type counter struct {
	calls   int
	samples int
}

// hvp writes (∇²L(w, S_idx) + shift·I)v into dst and counts the call.
func hvp(ctx context.Context, obj Objective, w []float64, idx []int, shift float64, v, dst []float64, c *counter) error {
	if err := obj.HVP(ctx, w, idx, v, dst); err != nil {
		return err
	}
	if shift != 0 {
		floats.AddScaled(dst, shift, v)
	}
	if c != nil {
		c.calls++
		if idx == nil {
			c.samples += obj.Len()
		} else {
			c.samples += len(idx)
		}
	}
	return nil
}

// linop is a symmetric linear operator dst ← A·v. dst and v never alias.
type linop func(dst, v []float64) error

// hessianOp returns v ↦ (∇²L(w, all samples) + shift·I)v.
func hessianOp(ctx context.Context, obj Objective, w []float64, shift float64, c *counter) linop {
	return func(dst, v []float64) error {
		return hvp(ctx, obj, w, nil, shift, v, dst, c)
	}
}

// Stream constants keep the generators of different consumers of one seed
// independent of each other.
const (
	streamPower uint64 = 0x706f776572 + iota
	streamLanczos
	streamLissa
	streamLipschitz
	streamTrain
	streamSubsample
	streamLissaScale
)

func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// randomUnit fills v with a uniformly distributed unit vector.
func randomUnit(rnd *rand.Rand, v []float64) {
	for {
		for i := range v {
			v[i] = rnd.NormFloat64()
		}
		n := Norm(v)
		if n > 0 {
			floats.Scale(1/n, v)
			return
		}
	}
}
