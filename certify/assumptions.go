package certify

import (
	"fmt"
	"strings"
)

// Assumptions returns the certificate's "assumptions": plain-English
// statements, generated from its fields, of every premise the guarantee
// rests on and every quantity that was estimated rather than proven, with
// its method, iteration count and residual. Call it after every other field
// is filled in (the signature excepted). The statements are for people; the
// numbers they quote are rounded, the fields hold the exact values.
func Assumptions(c *Certificate) []string {
	b := &c.Bound
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	// What the guarantee is, or why there is none.
	switch {
	case c.SigmaMode == SigmaNone:
		add("No noise was added (--no-noise): this model is NOT certified and must not be released as unlearned.")
	case !c.NoisePrivate:
		add("Noise seeded with --seed (seed %s): anyone who knows the seed can regenerate the noise and remove it; not private, NOT certified.", seedText(c.NoiseSeed))
	case c.Certified:
		add("(ε, δ) = (%.4g, %.4g): the released model is (ε, δ)-indistinguishable from retraining from scratch on the retained data with the same noise, under the assumptions below.", c.Epsilon, c.Delta)
	}
	if b.Active == ActiveNone {
		add("No sensitivity bound is rigorous: %s, and the output was not re-projected onto the ball.", b.Premise)
	}

	// The model class and the optimisation premise.
	add("C = %.4g: both the original model w* and the model retrained from scratch w̃* are assumed to be minimisers (local minima allowed) of the training objective within the ball ‖w‖₂ ≤ C.", b.C)
	add("The objective is the mean %s loss plus (μ/2)‖w‖² with μ = %.4g; the original model must have been trained (constrained) with this objective, and the reference retraining uses it too.", c.Loss, c.L2)
	if b.PremiseHolds {
		add("The theorem assumes w̃* is an interior stationary point (∇L(w̃*, D_r) = 0). Evidence, measured on w* and D because w̃* is never computed: %s.", strings.TrimPrefix(b.Premise, premiseHolds))
	} else {
		add("%s: only the trivial bound 2C is rigorous.", capitalise(b.Premise))
	}

	// Estimated quantities; say when they do not matter.
	affects := ""
	if b.Active != ActiveTheorem {
		affects = " It does not affect Δ, because the theorem bound is not the active one."
	}
	switch b.MSource {
	case MUnneeded:
		_, why := NeedsM(b.BoundInputs)
		add("M (Lipschitz constant of the Hessian on the ball) was not estimated because it cannot change Δ: %s. bound_theorem is computed with M = 0 and understates Δ_thm.", why)
	case MDeclared:
		add("M = %.4g (Lipschitz constant of the Hessian on the ball) was declared by the user; the theorem bound is only as valid as that declaration.%s", b.M, affects)
	default:
		add("M = %.4g (Lipschitz constant of the Hessian on the ball) was estimated by %s at %d points; it is an estimate, not a proven upper bound, and the true constant may be larger.%s",
			b.M, orUnknown(b.MMethod), b.MSamples, affects)
	}
	if b.LambdaMinMethod == LambdaMinUnneeded {
		add("λ_min and ‖H‖ were not estimated because they cannot change Δ: the theorem's premise fails and the output was re-projected, so Δ = 2C. bound_theorem and bound_residual are computed with λ_min = 0 and mean nothing here. Nothing establishes that H + λI is positive definite, so the Newton step may be inaccurate; the guarantee does not depend on it.")
	} else {
		add("λ_min = %.4g (smallest eigenvalue of H = ∇²L(w*, D_r)) was estimated by %s (%d iterations, residual %.2g); the bound assumes the true λ_min is not smaller. Ritz values approach λ_min from above, so an unconverged estimate errs on the unsafe side.%s",
			b.LambdaMin, b.LambdaMinMethod, b.LambdaMinIterations, b.LambdaMinResidual, affects)
	}
	if b.HessianNormMethod != "" {
		holds := "holds"
		if !b.PaperCondition {
			holds = "does not hold"
		}
		add("‖H‖ = %.4g was estimated by %s (%d iterations, residual %.2g); by that estimate the paper's condition λ > ‖H‖ %s (λ = %.4g). lethe needs only λ + λ_min > 0.",
			b.HessianNorm, b.HessianNormMethod, b.HessianNormIterations, b.HessianNormResidual, holds, b.Lambda)
	} else {
		add("‖H‖ was not estimated, so whether the paper's condition λ > ‖H‖ holds is unknown (λ = %.4g). lethe needs only λ + λ_min > 0.", b.Lambda)
	}
	lambdaHow := "given by the user"
	if b.LambdaAuto {
		lambdaHow = "chosen automatically"
	}
	if b.LambdaMinMethod != LambdaMinUnneeded {
		add("λ = %.4g was %s; λ + λ_min = %.4g > 0 is the smallest eigenvalue of H + λI the bound relies on.", b.Lambda, lambdaHow, b.Lambda+b.LambdaMin)
	} else {
		add("λ = %.4g was %s.", b.Lambda, lambdaHow)
	}
	add("(H + λI)⁻¹g was computed by %s (%d iterations, %d Hessian-vector products) with residual ρ = ‖(H + λI)u − g‖ = %.4g measured with full-D_r Hessian-vector products; the bound adds ρ/(λ + λ_min) = %.4g for the inexact solve.",
		c.Bound.Solver.Name, b.Solver.Iterations, b.Solver.HVPs, b.Solver.Residual, b.Residual)

	// Which bound carries the guarantee.
	thm := b.Theorem + b.Residual
	switch {
	case b.Projected:
		add("The output was re-projected onto the ball before noise, so the trivial bound ‖P(w̃) − w̃*‖ ≤ 2C = %.4g holds too.", b.Trivial)
	default:
		add("The output was not re-projected onto the ball, so the trivial bound 2C does not apply.")
	}
	switch {
	case b.Active == ActiveTrivial && b.PremiseHolds:
		add("The certified sensitivity Δ = %.4g is the trivial bound 2C; the theorem bound Δ_thm + ρ/(λ + λ_min) = %.4g is not smaller.", b.Sensitivity, thm)
	case b.Active == ActiveTrivial:
		add("The certified sensitivity Δ = %.4g is the trivial bound 2C, because the theorem's premise fails (its bound would be %.4g).", b.Sensitivity, thm)
	case b.Active == ActiveTheorem:
		add("The certified sensitivity Δ = %.4g is the theorem bound 2C(MC + λ)/(λ + λ_min) = %.4g plus the residual term %.4g.", b.Sensitivity, b.Theorem, b.Residual)
	}

	// The mechanism and the noise.
	if c.SigmaMode != SigmaNone {
		name := "the analytic Gaussian mechanism (Balle & Wang, ICML 2018)"
		rule := "Φ(Δ/(2σ) − εσ/Δ) − e^ε Φ(−Δ/(2σ) − εσ/Δ) ≤ δ"
		if c.Mechanism == Classic {
			name = "the classic Gaussian mechanism (proven for ε < 1)"
			rule = "σ ≥ (Δ/ε)√(2 ln(1.25/δ))"
		}
		if c.SigmaMode == SigmaFixed {
			add("σ = %.4g was fixed with --sigma; ε = %.4g is the smallest ε (rounded up) with %s for Δ = %.4g and δ = %.4g: %s.", c.Sigma, c.Epsilon, rule, b.Sensitivity, c.Delta, name)
		} else {
			add("σ = %.4g is the smallest σ (rounded up) with %s for Δ = %.4g and (ε, δ) = (%.4g, %.4g): %s.", c.Sigma, rule, b.Sensitivity, c.Epsilon, c.Delta, name)
		}
		if c.NoisePrivate {
			add("The noise was drawn from ChaCha8 keyed with 32 bytes from the operating system's CSPRNG (crypto/rand); the key was never stored, so the noise cannot be regenerated.")
		}
		add("Noise is sampled in float64 and the parameters are stored as float32; rounding the noisy parameters is post-processing and keeps (ε, δ), but floating-point artefacts of Gaussian sampling (Mironov 2012) are not addressed.")
	}

	// Chaining.
	if c.PreviousCertificate != "" {
		add("This request is chained to certificate %s (request %d of the chain, %d samples forgotten in total). (ε, δ) are for this request alone; privacy over the whole chain is not accounted for here.",
			c.PreviousCertificate, c.Cumulative.Requests, c.Cumulative.NForget)
	}
	return out
}

// seedText formats an optional seed.
func seedText(seed *uint64) string {
	if seed == nil {
		return "unknown"
	}
	return fmt.Sprint(*seed)
}

// orUnknown returns s, or "an unnamed method" when s is empty.
func orUnknown(s string) string {
	if s == "" {
		return "an unnamed method"
	}
	return s
}

// capitalise upper-cases the first letter of an ASCII-initial sentence.
func capitalise(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
