package unlearn

import "fmt"

// NotConvergedError is returned by an iterative method that stopped (at its
// iteration limit) without reaching its tolerance. The method still returns
// its last iterate, and the statistics it returns carry the honest residual, so
// a caller may decide to use the iterate anyway: the certificate's bound
// accounts for the residual ρ explicitly.
type NotConvergedError struct {
	Method   string  // "cg", ...
	Iter     int     // iterations performed
	Residual float64 // final residual ‖(H + λI)u − g‖₂, measured with full-data HVPs
	Target   float64 // the residual the method aimed for (Tol·‖g‖)
}

func (e *NotConvergedError) Error() string {
	return fmt.Sprintf("unlearn: %s did not converge in %d iterations: residual %.3g > target %.3g",
		e.Method, e.Iter, e.Residual, e.Target)
}

// DivergedError is returned when an iteration produced a non-finite or exploding
// value. For LiSSA (Scale > 0) this almost always means the scale s is below
// ‖H_B + λI‖ for some mini-batches; for training, that the learning rate is too
// large.
type DivergedError struct {
	Method string  // "lissa" or "train"
	Iter   int     // the step at which divergence was detected
	Value  float64 // ‖v_i‖ for LiSSA, the loss for training
	Scale  float64 // the LiSSA scale s in use (0 for training)
}

func (e *DivergedError) Error() string {
	if e.Scale > 0 {
		return fmt.Sprintf("unlearn: %s diverged at step %d (‖v‖ = %.3g): the scale s = %.3g is probably below ‖H_B + λI‖ for some mini-batches; retry with a larger scale (e.g. %.3g) or a larger batch size",
			e.Method, e.Iter, e.Value, e.Scale, 10*e.Scale)
	}
	return fmt.Sprintf("unlearn: %s diverged at step %d (value %.3g); lower the learning rate",
		e.Method, e.Iter, e.Value)
}

// NegativeCurvatureError is returned by CG when it meets a direction p with
// pᵀ(H + λI)p ≤ 0, which proves that H + λI is not positive definite:
// λ + λ_min ≤ Curvature ≤ 0. The usual cause is a λ_min estimate that was too
// optimistic; increase λ.
type NegativeCurvatureError struct {
	Iter      int
	Curvature float64 // pᵀ(H + λI)p / ‖p‖², an upper bound on λ + λ_min
	Lambda    float64
}

func (e *NegativeCurvatureError) Error() string {
	return fmt.Sprintf("unlearn: cg met curvature %.3g ≤ 0 at iteration %d: H + λI is not positive definite for λ = %g (λ_min ≤ %.3g); increase λ",
		e.Curvature, e.Iter, e.Lambda, e.Curvature-e.Lambda)
}

// IndefiniteError is returned when the damping λ does not make H + λI positive
// definite: λ + λ_min ≤ 0, with λ_min the (estimated) smallest eigenvalue of H.
type IndefiniteError struct {
	Lambda    float64
	LambdaMin float64
}

func (e *IndefiniteError) Error() string {
	return fmt.Sprintf("unlearn: λ = %g does not make H + λI positive definite: λ + λ_min = %g + (%g) = %g ≤ 0",
		e.Lambda, e.Lambda, e.LambdaMin, e.Lambda+e.LambdaMin)
}
