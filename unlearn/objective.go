package unlearn

import "context"

// Objective is a data-dependent loss L(w, S) = (1/|S|) Σ ℓ(w; x, y) (+ any
// regulariser the implementation documents) with exact first and second
// derivatives. Every method takes the parameters w explicitly, so one Objective
// can be evaluated at several points (the Hessian-Lipschitz estimate needs that).
//
// idx selects a subset of the objective's samples, by position in 0..Len()-1;
// nil means all of them. Implementations must be safe for sequential reuse but
// need not be safe for concurrent calls.
//
// Eval and HVP may pass over many samples, so they watch ctx: once it is done
// they return promptly (an implementation that works in batches checks ctx
// before each) with an error that wraps ctx.Err(); the loss is then 0 and
// what was written to grad or dst is meaningless.
type Objective interface {
	// Dim is the number of parameters P.
	Dim() int
	// Len is the number of samples |S|.
	Len() int
	// Eval returns L(w, S_idx) and, when grad is not nil, writes ∇L(w, S_idx) into grad.
	Eval(ctx context.Context, w []float64, idx []int, grad []float64) (float64, error)
	// HVP writes ∇²L(w, S_idx)·v into dst.
	HVP(ctx context.Context, w []float64, idx []int, v, dst []float64) error
}
