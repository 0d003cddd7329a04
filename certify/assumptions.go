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
//
// For the convex scope they state the strong-convexity proof, that the bound
// is a-posteriori at the noise-free point with its rounding margin, the
// budget and that it was fixed before any data-dependent number, the Newton
// steps and whether the fallback retraining ran, and the scope's honesty
// clause: the guarantee is relative to retraining the certified parameters
// with the frozen ones fixed, on the same features, and covers the forget set
// only if the frozen parameters never saw it.
func Assumptions(c *Certificate) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	// What the guarantee is, or why there is none.
	switch {
	case c.SigmaMode == SigmaNone:
		add("No noise was added (--no-noise): this model is NOT certified and must not be released as unlearned.")
	case !c.NoisePrivate:
		add("Noise seeded with --seed (seed %s): anyone who knows the seed can regenerate the noise and remove it; not private, NOT certified.", seedText(c.NoiseSeed))
	case c.Certified && c.Scope == ScopeConvex:
		add("(ε, δ) = (%.4g, %.4g): the released certified parameters are (ε, δ)-indistinguishable from retraining them on the retained data, with the frozen parameters fixed, plus the same noise, under the assumptions below.", c.Epsilon, c.Delta)
	case c.Certified:
		add("(ε, δ) = (%.4g, %.4g): the released model is (ε, δ)-indistinguishable from retraining from scratch on the retained data with the same noise, under the assumptions below.", c.Epsilon, c.Delta)
	}
	if c.Scope == ScopeConvex {
		out = append(out, convexAssumptions(c)...)
	} else {
		out = append(out, theoremAssumptions(c)...)
	}
	out = append(out, noiseAssumptions(c)...)
	if c.Certified {
		add("The diagnostic numbers of this certificate (bound terms, gradient norms, step and solver statistics, timestamps) were computed from the training data and are published with it; the (ε, δ) guarantee covers the released parameters, not these numbers.")
	}

	// Chaining.
	if c.PreviousCertificate != "" {
		add("This request is chained to certificate %s (request %d of the chain, %d samples forgotten in total). (ε, δ) are for this request alone; privacy over the whole chain is not accounted for here.",
			c.PreviousCertificate, c.Cumulative.Requests, c.Cumulative.NForget)
	}
	return out
}

// theoremAssumptions states the full scope's premises, estimates and bound.
func theoremAssumptions(c *Certificate) []string {
	b := &c.Bound
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
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
		add("λ_min and ‖H‖ were not estimated because they cannot change Δ: the theorem's premise fails and the output was re-projected, so Δ = 2C. bound_theorem and bound_residual carry no meaning here (computed with λ_min = 0, and 0 when λ is 0 too). Nothing establishes that H + λI is positive definite, so the Newton step may be inaccurate; the guarantee does not depend on it.")
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
	if b.Budget > 0 {
		return append(out, budgetAssumptions(b, thm)...)
	}
	switch {
	case b.Active == ActiveTrivial && b.PremiseHolds:
		add("The certified sensitivity Δ = %.4g is the trivial bound 2C; the theorem bound Δ_thm + ρ/(λ + λ_min) = %.4g is not smaller.", b.Sensitivity, thm)
	case b.Active == ActiveTrivial:
		add("The certified sensitivity Δ = %.4g is the trivial bound 2C, because the theorem's premise fails (its bound would be %.4g).", b.Sensitivity, thm)
	case b.Active == ActiveTheorem:
		add("The certified sensitivity Δ = %.4g is the theorem bound 2C(MC + λ)/(λ + λ_min) = %.4g plus the residual term %.4g.", b.Sensitivity, b.Theorem, b.Residual)
	}
	return out
}

// budgetAssumptions states a full-scope budget and which term proves it
// holds; thm is Δ_thm + ρ/(λ + λ_min).
func budgetAssumptions(b *Bound, thm float64) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	origin := "fixed before any data-dependent number was computed"
	if b.Budget == b.Trivial {
		origin = "the trivial bound 2C, which depends on the radius C alone, fixed before any data-dependent number was computed"
	}
	add("The sensitivity budget Δ_max = %.4g is %s. σ is calibrated to it, so the noise does not depend on the data; the bounds computed from the data only decide whether the budget holds.", b.Budget, origin)
	fits := "≤"
	if !(b.Computed() <= b.Budget) {
		fits = "> (so the run is NOT certified; σ was not re-calibrated)"
	}
	switch {
	case b.Active == ActiveTrivial && b.PremiseHolds:
		add("The trivial bound 2C = %.4g proves Δ %s Δ_max; the theorem bound Δ_thm + ρ/(λ + λ_min) = %.4g is not smaller.", b.Trivial, fits, thm)
	case b.Active == ActiveTrivial:
		add("The trivial bound 2C = %.4g proves Δ %s Δ_max; the theorem's premise fails (its bound would be %.4g).", b.Trivial, fits, thm)
	case b.Active == ActiveTheorem:
		add("The theorem bound 2C(MC + λ)/(λ + λ_min) = %.4g plus the residual term %.4g, in total %.4g, proves Δ %s Δ_max.", b.Theorem, b.Residual, thm, fits)
	}
	return out
}

// noiseAssumptions states the mechanism and the noise, when there is noise.
func noiseAssumptions(c *Certificate) []string {
	b := &c.Bound
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
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
	return out
}

// convexAssumptions states the convex scope's proof, bound, budget, steps
// and honesty clause.
func convexAssumptions(c *Certificate) []string {
	b := &c.Bound
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	cp, fp, sc, f, p := c.CertifiedParameters, c.FrozenParameters, c.StrongConvexity, c.Features, b.Posterior
	if cp == nil || fp == nil || sc == nil || f == nil || p == nil {
		// Validate refuses such a certificate; say so rather than guess.
		add("The convex-scope description is incomplete (certified_parameters, frozen_parameters, strong_convexity, features and the posterior bound are all required): nothing below can be relied on.")
		return out
	}

	// What is certified, relative to what, and on which features.
	if len(fp.Names) > 0 {
		add("Convex scope: only the certified parameters %s (%d scalars) were updated; the frozen parameters %s (%d scalars, values digest %s) were kept fixed. The guarantee is relative to retraining the certified parameters on the retained data with the frozen ones fixed. It covers the forget set only if the frozen parameters never saw it (e.g. a backbone pretrained on public or other data); if the forget set was used to train them, they may still carry its influence and this certificate does not remove it.",
			strings.Join(cp.Names, ", "), cp.Count, strings.Join(fp.Names, ", "), fp.Count, fp.Digest)
		add("The certified parameters act on the features %q, the output of the frozen part as computed by the %s engine in %s; the reference retraining is taken on the same features, computed the same way.", f.Tensor, f.Engine, f.Precision)
	} else {
		add("Convex scope: every trainable parameter is certified (%s, %d scalars) and none is frozen, so the guarantee is relative to retraining the whole model on the retained data.", strings.Join(cp.Names, ", "), cp.Count)
		add("The certified parameters act on %q directly (nothing is frozen), evaluated by the %s engine in %s; the reference retraining uses the same inputs.", f.Tensor, f.Engine, f.Precision)
	}

	// Why the objective is strongly convex, and what the reference minimises.
	add("Strong convexity is proven from the graph, not estimated: every path from a certified parameter to the output passes only through affine ops (%s) with no other certified parameter as a factor, and the %s loss is convex in the output, so L_r(w) = mean ℓ + (μ/2)‖w‖² is μ-strongly convex in the certified parameters with μ = l2 = %.4g and has a unique minimiser w̃*. The proof: %s",
		strings.Join(sc.Ops, ", "), sc.Loss, sc.Mu, sc.Statement)
	if b.C > 0 {
		where := "it was not re-projected after the last step, so it is assumed to lie in the ball"
		if b.Projected {
			where = "it was re-projected onto the ball after the last step"
		}
		add("The reference retraining minimises L_r over the ball ‖w‖₂ ≤ C = %.4g of the certified parameters; the bound needs the released noise-free point in the same ball (%s). The original model need not be a minimiser: the bound is measured at the released point.", b.C, where)
	} else {
		add("The reference retraining minimises L_r over all values of the certified parameters (no ball constraint). The original model need not be a minimiser: the bound is measured at the released point.")
	}

	// The a-posteriori bound and its rounding margin.
	add("A-posteriori bound at the released noise-free point w̃ (before noise): ‖w̃ − w̃*‖ ≤ (‖ĝ‖ + margin)/μ = %.4g, where ĝ = ∇L_r(w̃) was computed in float64 on all %d retained samples and ‖ĝ‖ = %.4g. It follows from strong convexity and the optimality of w̃*; it needs no Hessian-Lipschitz constant, eigenvalue estimate, stationarity premise or 2C, and none of those was computed. w̃ is never stored (it would reveal the noise), so ‖ĝ‖ cannot be re-checked later.",
		p.Value, c.Forget.N-c.Forget.NForget, p.GradNorm)
	add("posterior_margin = %.4g bounds the float64 rounding error ‖ĝ − ∇L_r(w̃)‖; it was computed as %s.", p.Margin, p.MarginMethod)

	// The budget and how the steps reached it.
	fits := "≤ Δ_max"
	if !(p.Value <= b.Budget) {
		fits = "> Δ_max, so the run is NOT certified (σ was not re-calibrated)"
	}
	add("The sensitivity budget Δ_max = %.4g was fixed before any data-dependent number was computed; σ is calibrated to it, so the noise does not depend on the data, and the bound only decides when the steps stop: %.4g %s.", b.Budget, p.Value, fits)
	solve := fmt.Sprintf("the last step's solve: %s, %d iterations, %d Hessian-vector products, residual %.2g; the bound does not depend on it", b.Solver.Name, b.Solver.Iterations, b.Solver.HVPs, b.Solver.Residual)
	switch {
	case p.Start == StartOriginal && p.NewtonSteps == 0:
		add("No Newton step was needed: the bound already held at the original model w*, which was released with noise. The fallback retraining did not run.")
	case p.Start == StartOriginal:
		add("%d undamped Newton step(s) (λ = 0) from the original model w* brought the bound under the budget (%s). The fallback retraining did not run.", p.NewtonSteps, solve)
	default:
		steps := fmt.Sprintf("%d undamped Newton step(s) (λ = 0; %s)", p.NewtonSteps, solve)
		if p.NewtonSteps == 0 {
			steps = "no Newton step"
		}
		add("The Newton steps from the original model w* did not bring the bound under the budget within the allowed number, so the fallback ran: the certified parameters were retrained on the retained data from zeros, a data-independent start, with %s until the bound held; the released point is that retrained model.", steps)
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
