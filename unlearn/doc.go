// Package unlearn implements the certified Newton update of DESIGN.md §1:
// projection onto the C-ball, projected training, inverse-Hessian-vector
// solvers (LiSSA, conjugate gradient, dense), spectral estimates (power
// iteration, Lanczos), the Hessian-Lipschitz estimate and the Newton step.
//
// It works on the Objective interface and never prints, reads files or knows
// about ONNX.
//
// # The pipeline
//
// With full the objective on D and retained the one on D_r = D \ D_u:
//
//	// constrain: project and fine-tune into a constrained optimum w*
//	_, err := unlearn.Train(ctx, full, w, unlearn.TrainOptions{Radius: C, Epochs: 5})
//	// is the theorem's interior-stationarity assumption plausible?
//	diag, err := unlearn.Diagnose(ctx, full, w, C)
//	// the update w̃ = w* − (H + λI)⁻¹∇L(w*, D_r), with what the certificate
//	// needs: λ, the solver's residual ρ, M, … (and ‖H‖ and λ_min with
//	// Spectrum: unlearn.SpectrumFull)
//	res, err := unlearn.Newton(ctx, retained, w, unlearn.NewtonOptions{Radius: C})
//
// The retrain-from-scratch reference is Train on retained from a fresh
// initialisation with the same options.
//
// # The convex scope
//
// When retained is μ-strongly convex (a convex data term plus (μ/2)‖w‖²,
// with the parameters entering the model's output affinely), the distance
// to the retrained minimiser is bounded a posteriori by one gradient:
// ‖w − w̃*‖ ≤ (‖ĝ‖ + margin)/μ (PosteriorBound, with a MarginFunc bounding
// the gradient's rounding). NewtonToBudget takes Newton steps (λ = 0, a
// line search, inexact solves with Eisenstat–Walker forcing terms,
// optionally preconditioned) until that bound fits a budget; from zeros it
// is also the exact retrain.
//
// # Conventions
//
// Options structs are passed by value and their zero value is the documented
// default. Long-running functions take a context.Context first, hand it to
// every Objective call (so a cancellation interrupts a full-data gradient or
// HVP, not only the iteration after it) and return its error when it is
// cancelled. Everything random (start vectors, mini-batches,
// shuffles, point pairs) comes from a PCG generator seeded by an option, so
// results are reproducible. Misuse (mismatched lengths, a negative radius)
// panics with a message starting "unlearn:"; data-dependent failures return
// errors, typed where the caller needs the numbers:
// *NotConvergedError (the iterate is still returned), *NegativeCurvatureError,
// *IndefiniteError (λ + λ_min ≤ 0, naming both) and *DivergedError.
//
// Train updates w in place; Newton, the solvers and the estimators never
// modify their inputs and return fresh slices. Objective methods are called
// sequentially, never concurrently, and are never handed aliased slices.
//
// # What is estimated, not proven
//
// ‖H‖ (power iteration or Lanczos), λ_min (Lanczos) and M (sampled Hessian
// differences) are numerical estimates, and their result types carry the
// method, the iteration counts and the residuals so that the certificate can
// state them as assumptions; an estimate that was not computed says so in
// its Skipped field and carries no value. Power iteration and Lanczos
// approach ‖H‖ from below; Lanczos approaches λ_min from above (its Ritz
// values interlace the spectrum); an estimated M is a sample maximum and can
// only under-estimate the true constant. The solvers' residual
// ρ = ‖(H + λI)u − g‖₂ is always measured with full-data HVPs, so the bound
// term ρ/(λ + λ_min) is honest whatever the solver settings.
//
// # Defaults and why
//
// Newton computes only what can change the step (SpectrumAuto). λ is the
// smallest λ ≥ 0 that keeps H + λI safely positive definite (margin 1 % of
// ‖H‖ beyond the conservative λ_min estimate; see NewtonOptions.Lambda for
// the trade-off with Δ_thm), and the estimates it rests on are the Ritz
// values of the solve's own Krylov space: conjugate gradient runs in its
// Lanczos form, which re-reads λ from them at every iteration for free and
// stops when the step is accurate to 1 % (NewtonOptions.StepTol: the
// residual bound sharpened by Gauss–Radau quadrature). ‖H‖ and
// λ_min themselves are then reported as skipped, with the reason;
// SpectrumFull estimates them (one Lanczos run for both ends) for
// diagnostics that need them. On the MNIST MLP of the benchmarks this takes
// 17 full-data HVPs where power iteration, Lanczos and CG to 1e-6 took 193.
// LiSSA defaults to the paper's settings (depth 1000, 10 repetitions, batch
// 10) with an automatic scale of twice the largest norm of 20 sampled
// mini-batch Hessians, and starts over with a larger scale if it diverges;
// its accuracy is limited by the truncation of its series and by
// mini-batch noise. Train defaults to Adam with PyTorch's defaults (lr
// 1e-3, β = (0.9, 0.999), ε = 1e-8), batch 128, one epoch.
package unlearn
