package demo

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/audit"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/unlearn"
)

// assumptionPrefix starts the notes that repeat the certificate's stated
// assumptions.
const assumptionPrefix = "Certificate assumption: "

// notes are the report's "Notes and assumptions": what the numbers mean,
// honestly and with the measured numbers, then the certificate's own
// assumptions.
func (r *run) notes() []string {
	c := r.unlearned.Certificate
	var n []string
	if r.convex() {
		n = append(n, r.scopeNote(), r.budgetNote())
		if r.full != nil {
			n = append(n, r.fullNote())
		}
	} else {
		n = append(n, r.fullScopeNotes()...)
	}
	if len(r.canaries) > 0 {
		n = append(n, r.canaryNote())
	}
	n = append(n, r.noiseFreeNote(), r.timeNote())
	if r.setup.Baselines {
		s := fmt.Sprintf("Fine-tune (projected Adam on D_r from w*, %d epoch(s) at lr %g) and negative gradient (projected SGD ascent on D_u from w*, lr %g) are heuristic baselines with no guarantee of any kind",
			r.fineTuneEpochs(), fineTuneRecipe.LearningRate, cmp.Or(r.setup.NegGradLR, negGradRecipe.LearningRate))
		if fp := c.FrozenParameters; r.convex() && fp != nil && fp.Count > 0 {
			s += "; like lethe they change only the certified parameters (the backbone stays frozen)"
		}
		n = append(n, s+".")
	}
	n = append(n, r.miaNote())
	if !r.convex() {
		n = append(n, "Theorem premise: "+c.Bound.Premise+".")
	}
	if r.verify != nil {
		var names []string
		for _, c := range r.verify.Checks {
			names = append(names, c.Name+" "+c.Status)
		}
		n = append(n, fmt.Sprintf("lethe verify on the released model and certificate: %s.", strings.Join(names, ", ")))
	}
	for _, a := range c.Assumptions {
		n = append(n, assumptionPrefix+a)
	}
	return n
}

// fineTuneEpochs is the fine-tune baseline's epochs.
func (r *run) fineTuneEpochs() int {
	if r.o.Quick {
		return 1
	}
	return fineTuneRecipe.Epochs
}

// scopeName is how the notes name the certified row's convex scope.
func (r *run) scopeName() string {
	if r.setup.Scope == lethe.ScopeHead {
		return "head"
	}
	return "convex"
}

// exactRetrainText says how the convex scope's exact retrain was made.
func (r *run) exactRetrainText() string {
	return fmt.Sprintf("Newton steps from zeros until ‖∇L(w, D_r)‖ ≤ 1e-9 (%d steps; ‖∇‖ = %.3g as stored in float32)", r.retrained.NewtonSteps, r.retrained.Final.GradNorm)
}

// referenceText says how the retrain reference was made.
func (r *run) referenceText() string {
	if r.convex() {
		what := "exact retrain on D_r"
		if fp := r.unlearned.Certificate.FrozenParameters; fp != nil && fp.Count > 0 {
			what = "exact retrain of the certified parameters on D_r, the others fixed"
		}
		return what + ": " + r.exactRetrainText()
	}
	rc := r.recipe
	return fmt.Sprintf("retrain from a fresh initialisation (seed %d) on D_r: projected Adam, lr %g, batch %d, %d epochs, in the ball C = %g", r.o.RetrainSeed, rc.LR, rc.BatchSize, rc.Epochs, r.C)
}

// scopeNote says what the convex scope's guarantee is relative to, and why
// it covers the forget set.
func (r *run) scopeNote() string {
	c := r.unlearned.Certificate
	cp, fp := c.CertifiedParameters, c.FrozenParameters
	if fp == nil || fp.Count == 0 {
		return fmt.Sprintf("What the convex scope guarantees: every parameter of the model (%s: %s) enters its output affinely (%s) and μ = %g > 0, so the training objective is μ-strongly convex, which the graph proves; lethe certified all of them. The (ε, δ) = (%s, %g) guarantee is relative to retraining the model exactly on D_r, which the \"retrain (reference)\" row does: %s.",
			strings.Join(cp.Names, ", "), thousands(cp.Count), strings.Join(c.StrongConvexity.Ops, ", "), r.mu, formatEpsilon(c.Epsilon), c.Delta, r.exactRetrainText())
	}
	s := fmt.Sprintf("What the %s scope guarantees: lethe certified the model's last affine layer (%s: %s parameters), whose objective is μ-strongly convex (μ = %g, proven from the graph), and kept the other %s parameters (the backbone) frozen, their digest in the certificate. The (ε, δ) = (%s, %g) guarantee is relative to retraining the head on D_r with the backbone fixed, which the \"retrain (reference)\" row does: %s. ",
		r.scopeName(), strings.Join(cp.Names, ", "), thousands(cp.Count), r.mu, thousands(fp.Count), formatEpsilon(c.Epsilon), c.Delta, r.exactRetrainText())
	if p := r.setup.Private; p != nil {
		return s + fmt.Sprintf("It covers the forget set because the backbone never saw it: the model card (%s) states that the backbone was trained only on %s, and every forgotten sample comes from the private split %s[%d:%d].",
			p.Card, p.Public, r.trainSpec, p.From, p.To)
	}
	return s + "It covers the forget set only if the backbone never saw it (e.g. a backbone trained on public or other data): lethe cannot check that, and the certificate says so."
}

// budgetNote explains σ, the budget and the a-posteriori bound, with the
// measured distances and accuracies.
func (r *run) budgetNote() string {
	u, c := r.unlearned, r.unlearned.Certificate
	start := "from the original parameters (w*)"
	if u.Start == string(certify.StartRetrainZeros) {
		start = "from zeros (the steps from the original did not reach the budget, so lethe retrained the certified parameters from a data-independent start, as the method prescribes)"
	}
	cert, clean, rt := r.row(kindCertified), r.row(kindNoNoise), r.row(kindRetrain)
	return fmt.Sprintf("Budget and bound: σ = %.4g is the %s Gaussian mechanism's for (ε, δ) = (%s, %g) and the budget Δ_max = %.3g, a constant fixed before any data were read (σ is published, so it must not depend on the forgotten samples). lethe then took %d Newton step(s) on D_r, %s, until the a-posteriori bound ‖∇L_r(w̃)‖/μ plus a float64 rounding margin, %.3g, was within the budget: strong convexity makes that a proof that w̃ lies within %.3g of the exactly retrained parameters, with no Lipschitz constant, eigenvalue estimate or stationarity premise. Measured: the noise-free w̃ is %.3g from the retrain reference, the released model %.3g (noise of norm ≈ σ√P = %.3g over P = %s certified parameters); test accuracy %s certified against %s for the exact retrain (%+.2f points).",
		c.Sigma, c.Mechanism, formatEpsilon(c.Epsilon), c.Delta, c.Bound.Budget, u.NewtonSteps, start, u.PosteriorBound, u.PosteriorBound,
		*clean.DistanceToRetrain, *cert.DistanceToRetrain, c.Sigma*math.Sqrt(float64(u.CertifiedParameters)), thousands(u.CertifiedParameters),
		pct(cert.Metrics.Test), pct(rt.Metrics.Test), 100*(cert.Metrics.Test.Accuracy-rt.Metrics.Test.Accuracy))
}

// fullNote explains the full-network row.
func (r *run) fullNote() string {
	u, c := r.full, r.full.Certificate
	b := c.Bound
	s := fmt.Sprintf("Full-network row: the same model and forget set with all %s parameters certified in the full scope (--scope full), the paper's method. σ is calibrated to its data-independent budget 2C = %.4g (C = %g): σ = %.4g at ε = %s, noise of norm ≈ σ√P = %.4g against ‖w‖ ≤ C = %g. ",
		thousands(u.CertifiedParameters), b.Sensitivity, b.C, c.Sigma, formatEpsilon(c.Epsilon), c.Sigma*math.Sqrt(float64(u.CertifiedParameters)), b.C)
	if b.PremiseHolds {
		s += fmt.Sprintf("The theorem cannot do better here: its bound plus the solver term is %.4g (M ≈ %.3g, %s; λ = %.3g, λ_min ≈ %.3g), above 2C. ", b.Theorem+b.Residual, b.M, b.MSource, b.Lambda, b.LambdaMin)
	} else {
		s += fmt.Sprintf("The theorem's bound is not available here (its premise test: %s), so only the trivial bound 2C is rigorous. ", b.Premise)
	}
	full, rt := r.row(kindFull).Metrics.Test, r.row(kindRetrain).Metrics.Test
	s += fmt.Sprintf("Its test accuracy is %s against the retrain's %s", pct(full), pct(rt))
	if pts := r.curve(string(certify.ScopeFull)); len(pts) > 0 {
		last := pts[len(pts)-1]
		s += fmt.Sprintf(" (%.2f%% at ε = %g, σ = %.4g)", 100*last.TestAccuracy, last.Epsilon, last.Sigma)
	}
	if full.Accuracy < rt.Accuracy-0.1 {
		s += ": the noise destroys the model. That is useless, and it is the honest consequence of the theorem's bound, which is at least 2C whenever λ_min ≤ MC"
	}
	return s + fmt.Sprintf(". It is why the %s scope exists: strong convexity proves there a budget %.3g times smaller than 2C.",
		r.scopeName(), b.Sensitivity/r.unlearned.Certificate.Bound.Sensitivity)
}

// fullScopeNotes explain the full scope's certified and fixed-σ rows and
// its retrain reference.
func (r *run) fullScopeNotes() []string {
	c := r.unlearned.Certificate
	b := c.Bound
	var n []string
	P := len(r.w0)
	if cert := r.row(kindCertified); cert != nil && c.Sigma > 0 {
		noiseNorm := c.Sigma * math.Sqrt(float64(P))
		var what string
		switch {
		case b.Active == certify.ActiveTrivial && !b.PremiseHolds:
			what = fmt.Sprintf("Δ = %.4g is the trivial bound 2C (C = %g), because the theorem's interior-stationarity premise fails (see below) and only 2C is then rigorous", b.Sensitivity, b.C)
			if b.LambdaMinMethod != certify.LambdaMinUnneeded && b.LambdaMin <= 0 && b.Lambda+b.LambdaMin > 0 {
				what += fmt.Sprintf("; the theorem's bound would not be smaller anyway: λ_min ≈ %.3g ≤ 0, so 2C(MC + λ)/(λ + λ_min) ≥ 2Cλ/(λ + λ_min) = %.4g ≥ 2C for every M ≥ 0 (λ = %.3g), as is typical for a deep network whose Hessian is not positive definite",
					b.LambdaMin, 2*b.C*b.Lambda/(b.Lambda+b.LambdaMin), b.Lambda)
			}
		case b.Active == certify.ActiveTrivial:
			what = fmt.Sprintf("Δ = %.4g is the trivial bound 2C (C = %g): the theorem's bound plus the solver term, %.4g (M ≈ %.3g, %s; λ = %.3g, λ_min ≈ %.3g), is larger",
				b.Sensitivity, b.C, b.Theorem+b.Residual, b.M, b.MSource, b.Lambda, b.LambdaMin)
		default:
			what = fmt.Sprintf("Δ = %.4g is the theorem's bound plus the solver's residual term (M ≈ %.3g, %s)", b.Sensitivity, b.M, b.MSource)
		}
		n = append(n, fmt.Sprintf("Certified row: %s. At (ε, δ) = (%s, %g) the analytic Gaussian mechanism needs σ = %.4g; over %s parameters the noise has norm ≈ σ√P = %.4g, against ‖w‖ ≤ C = %g. Its test accuracy is %s: this is the honest price of the guarantee when 2C carries it, not a bug.",
			what, formatEpsilon(c.Epsilon), r.o.Delta, c.Sigma, thousands(P), noiseNorm, b.C, pct(cert.Metrics.Test)))
	}
	if !math.IsNaN(r.fixedEpsilon) {
		n = append(n, fmt.Sprintf("The paper's fixed σ = %g is not calibrated to any privacy budget: with the same Δ = %.4g and δ = %g it gives ε = %s, a vacuous guarantee. Its row shows what the Newton step with a little noise achieves, with no certification claim.",
			PaperSigma, b.Sensitivity, r.o.Delta, formatEpsilon(r.fixedEpsilon)))
	}
	if rt := r.row(kindRetrain); rt != nil {
		n = append(n, fmt.Sprintf("The retrained reference follows the retrain recipe from a fresh initialisation (projected Adam, lr %g, batch %d, %d epochs, in the same ball); it ends at ‖∇L(w, D_r)‖ = %.3g with test accuracy %s against the original's %s. It is a different local minimum, so every model's distance to it is of the order of the ball's size; the distance measures closeness to this one retrained model, not to the unlearning target.",
			r.recipe.LR, r.recipe.BatchSize, r.recipe.Epochs, r.retrained.Final.GradNorm, pct(rt.Metrics.Test), pct(r.row(kindOriginal).Metrics.Test)))
	}
	return n
}

// noiseFreeNote explains the noise-free row.
func (r *run) noiseFreeNote() string {
	u := r.unlearned
	s := "The noise-free row is w̃, the update before noise: NOT certified (whoever holds w̃ and the retrained model can tell them apart, and whoever holds it can subtract the noise from the release); it separates what the update does from what the noise does, and is never written to a file. "
	if r.convex() {
		return s + fmt.Sprintf("The Newton steps moved the certified parameters by %.4g from the original's; the released noise has norm ≈ %.3g.",
			u.StepNorm, u.Sigma*math.Sqrt(float64(u.CertifiedParameters)))
	}
	return s + fmt.Sprintf("The step moved the parameters by ‖u‖ = %.4g (‖w*‖ = %.4g): removing %s of %s samples moves the optimum little, while the certified noise has norm ≈ %.4g.",
		u.StepNorm, unlearn.Norm(r.w0), thousands(r.nForget), thousands(r.train.Len()), u.Sigma*math.Sqrt(float64(len(r.w0))))
}

// canaryNote reads the canary columns.
func (r *run) canaryNote() string {
	orig, rt, cert := r.row(kindOriginal).Metrics.Canaries, r.row(kindRetrain).Metrics.Canaries, r.row(kindCertified).Metrics.Canaries
	var parts []string
	for _, row := range r.rows {
		if m := row.Metrics; m != nil && m.Canaries != nil {
			parts = append(parts, fmt.Sprintf("%s %.4g", row.Method, m.Canaries.Loss))
		}
	}
	s := fmt.Sprintf("Canaries: %d samples of D (every %d-th) carry a wrong label, (y + 1) mod the number of classes, and all of them are in the forget set. Their mean cross-entropy against that label measures memorisation (nats; higher is less memorised): %s. ",
		len(r.canaries), r.setup.Private.CanaryEvery, strings.Join(parts, "; "))
	gap := rt.Loss - orig.Loss
	switch {
	case gap <= 0:
		s += fmt.Sprintf("Here the original, trained on them, does not give them a lower loss than the exact retrain without them (%.4g against %.4g): these canaries show no memorisation. ", orig.Loss, rt.Loss)
	case math.Abs(cert.Loss-rt.Loss) <= 0.05*gap:
		s += fmt.Sprintf("The original, trained on them, memorised them: %.4g nats against %.4g for the exact retrain without them. lethe certified gives %.4g, at the retrain's level (within 5%% of the gap). ", orig.Loss, rt.Loss, cert.Loss)
	default:
		s += fmt.Sprintf("The original, trained on them, memorised them: %.4g nats against %.4g for the exact retrain without them. lethe certified gives %.4g: it closes %.0f%% of that gap. ", orig.Loss, rt.Loss, cert.Loss, 100*(cert.Loss-orig.Loss)/gap)
	}
	if orig.Accuracy == rt.Accuracy {
		return s + fmt.Sprintf("The canary-label accuracy is %s for both the original and the retrain: the model does not flip its prediction to the wrong label for more canaries than a model that never saw them, so the memorisation shows in the loss, not in the accuracy.", pct(orig))
	}
	return s + fmt.Sprintf("The original predicts the wrong label for %s of them, the retrain for %s, lethe certified for %s.", pct(orig), pct(rt), pct(cert))
}

// timeNote says how long the updates and the retrain took.
func (r *run) timeNote() string {
	u, b := r.unlearned, r.unlearned.Certificate.Bound
	if r.convex() {
		s := fmt.Sprintf("Time: lethe unlearn took %s in all: %d Newton step(s) with %d Hessian-vector products in %s, the rest being the features of the certified part, the parity check and the release; the exact retrain took %s",
			formatSeconds(u.Seconds), u.NewtonSteps, u.HVPs, formatSeconds(u.UpdateSeconds), formatSeconds(r.retrained.TrainSeconds))
		if r.full != nil {
			s += fmt.Sprintf(", the full-network update %s (%d Hessian-vector products on all parameters)", formatSeconds(r.full.UpdateSeconds), r.full.HVPs)
		}
		return s + "."
	}
	var stages []string
	if b.LambdaMinMethod != certify.LambdaMinUnneeded {
		stages = append(stages, "power iteration for ‖H‖", "Lanczos for λ_min")
	}
	stages = append(stages, "the "+b.Solver.Name+" solve")
	if b.MSource == certify.MEstimated {
		stages = append(stages, "the M estimate")
	}
	return fmt.Sprintf("Time: the certified update took %s for %d full-data Hessian-vector products (%s), retraining from scratch %s with lethe's engine.",
		formatSeconds(u.UpdateSeconds), u.HVPs, strings.Join(stages, ", "), formatSeconds(r.retrained.TrainSeconds))
}

// miaNote reads the attack numbers against retraining.
func (r *run) miaNote() string {
	var parts []string
	for _, k := range []rowKind{kindOriginal, kindRetrain, kindCertified, kindNoNoise} {
		row := r.row(k)
		if row == nil || row.Metrics.MIALoss == nil {
			continue
		}
		s := fmt.Sprintf("%s %.3g", row.Method, row.Metrics.MIALoss.AUC)
		if row.Metrics.MIAPosterior != nil {
			s += fmt.Sprintf("/%.3g", row.Metrics.MIAPosterior.AUC)
		}
		parts = append(parts, s)
	}
	_, nf, nt := r.ev.Sizes()
	noise := aucNoise(min(nf, nt) / 2)
	s := fmt.Sprintf("Membership inference (AUC loss/posterior; 0.5 is chance; members: %d forgotten samples, non-members: %d test samples, half fitted and half scored, so ±%.2f is sampling noise): %s. "+
		"The forgotten samples should look like test samples to an unlearned model, as they do to the retrained one; a model whose AUC equals retrain's leaks no more than retraining, which is the most any unlearning can promise.",
		nf, nt, noise, strings.Join(parts, "; "))
	if o := r.row(kindOriginal); o != nil && o.Metrics.MIALoss != nil && o.Metrics.MIAPosterior != nil &&
		math.Abs(o.Metrics.MIALoss.AUC-0.5) <= noise && math.Abs(o.Metrics.MIAPosterior.AUC-0.5) <= noise {
		s += " Here even the original model, which trained on the forgotten samples, is within sampling noise of chance: these attacks cannot detect its members, so they cannot tell good unlearning from bad in this setting either"
		if len(r.canaries) > 0 {
			s += "; the canary columns can."
		} else {
			s += "; the accuracies and the certificate carry the comparison."
		}
	}
	return s
}

// aucNoise is about two standard errors of an AUC near 0.5 with n scored
// samples per class (Hanley–McNeil: SE ≈ √((n+n+1)/(12n²))).
func aucNoise(n int) float64 {
	if n < 1 {
		return math.NaN()
	}
	f := float64(n)
	return 2 * math.Sqrt((2*f+1)/(12*f*f))
}

// curveName is the legend of a release's privacy–utility curve.
func (r *run) curveName(u *lethe.UnlearnResult, sens float64) string {
	switch {
	case u.Scope == string(certify.ScopeConvex):
		return fmt.Sprintf("lethe %s scope, σ(ε) for the budget Δ_max = %.3g", r.scopeName(), sens)
	case u == r.full:
		return fmt.Sprintf("lethe full network, σ(ε) for 2C = %.4g", sens)
	}
	return fmt.Sprintf("lethe certified, σ(ε) for Δ = %.4g (%s)", sens, u.Certificate.Bound.Active)
}

// summary is the report's run summary.
func (r *run) summary() audit.RunSummary {
	u, c := r.unlearned, r.unlearned.Certificate
	s := audit.RunSummary{
		Model:       r.setup.Model,
		Data:        fmt.Sprintf("%s (%d samples); test %s (%d)", r.dataName, r.train.Len(), r.testSpec, r.test.Len()),
		Forget:      fmt.Sprintf("%d samples (%s, seed %d)", r.nForget, r.forgetPath, r.o.ForgetSeed),
		Mechanism:   string(c.Mechanism),
		Epsilon:     c.Epsilon,
		Delta:       c.Delta,
		Sigma:       c.Sigma,
		Sensitivity: c.Bound.Sensitivity,
		Timings:     r.timings,
	}
	if !c.Certified {
		s.Epsilon = math.NaN()
	}
	s.Extra = []audit.Field{
		{Name: "status", Value: c.Status},
		{Name: "scope", Value: u.Scope + ": " + u.ScopeReason},
		{Name: "radius C", Value: fmt.Sprintf("%g (%s)", r.C, r.cSource)},
		{Name: "L2 weight μ", Value: fmt.Sprintf("%g (%s)", r.mu, r.muSource)},
	}
	if r.convex() {
		s.ActiveBound = fmt.Sprintf("posterior: ‖∇L_r(w̃)‖/μ + margin = %.3g ≤ budget %.3g", u.PosteriorBound, c.Bound.Budget)
		s.Extra = append(s.Extra,
			audit.Field{Name: "Newton steps", Value: fmt.Sprintf("%d from %s, %d Hessian-vector products", u.NewtonSteps, u.Start, u.HVPs)},
			audit.Field{Name: "certified parameters", Value: fmt.Sprintf("%s (%d)", strings.Join(c.CertifiedParameters.Names, ", "), c.CertifiedParameters.Count)},
			audit.Field{Name: "frozen parameters", Value: fmt.Sprintf("%d, digest %s", c.FrozenParameters.Count, c.FrozenParameters.Digest)},
			audit.Field{Name: "features", Value: fmt.Sprintf("%s (%s, %s)", c.Features.Tensor, c.Features.Engine, c.Features.Precision)})
	} else {
		s.ActiveBound = fmt.Sprintf("%s (Δ_thm + ρ-term = %.4g, 2C = %.4g)", c.Bound.Active, c.Bound.Theorem+c.Bound.Residual, c.Bound.Trivial)
		mValue := fmt.Sprintf("%.4g", c.Bound.M)
		if c.Bound.MSource == certify.MUnneeded {
			mValue = "not estimated (cannot change Δ)"
		}
		lminValue, hValue := fmt.Sprintf("%.4g", u.LambdaMin), fmt.Sprintf("%.4g", u.HessianNorm)
		if !u.SpectrumEstimated {
			lminValue, hValue = certify.LambdaMinUnneeded, certify.LambdaMinUnneeded
		}
		s.Extra = append(s.Extra,
			audit.Field{Name: "λ", Value: fmt.Sprintf("%.4g (auto: %v)", u.Lambda, c.Bound.LambdaAuto)},
			audit.Field{Name: "λ_min (Lanczos)", Value: lminValue},
			audit.Field{Name: "‖H‖ (power iteration)", Value: hValue},
			audit.Field{Name: "M (" + string(c.Bound.MSource) + ")", Value: mValue},
			audit.Field{Name: "solver", Value: fmt.Sprintf("%s, %d iterations, ρ = %.3g", c.Bound.Solver.Name, c.Bound.Solver.Iterations, c.Bound.Solver.Residual)},
			audit.Field{Name: "‖∇L(w*, D)‖", Value: fmt.Sprintf("%.4g", c.Bound.Stationarity.GradNorm)},
			audit.Field{Name: "Newton step ‖u‖", Value: fmt.Sprintf("%.4g", u.StepNorm)})
	}
	s.Extra = append(s.Extra,
		audit.Field{Name: "parity", Value: fmt.Sprintf("onnxruntime %s, max |Δ| %.3g", c.Parity.OnnxruntimeVersion, c.Parity.MaxAbsDiff)},
		audit.Field{Name: "released model", Value: u.Out},
		audit.Field{Name: "certificate", Value: u.CertPath},
		audit.Field{Name: "retrained model", Value: r.retrainPath},
		audit.Field{Name: "retrain reference", Value: r.referenceText()})
	if r.full != nil {
		s.Extra = append(s.Extra, audit.Field{Name: "full-network release", Value: r.full.Out})
	}
	if r.unlearnArgs != nil {
		s.Extra = append(s.Extra, audit.Field{Name: "command", Value: "lethe " + strings.Join(r.unlearnArgs, " ")})
	}
	return s
}

// thousands writes n with comma thousands separators.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
