package certify

import (
	"fmt"
	"math"
	"strings"
)

// MSource says where the Hessian Lipschitz constant M came from.
type MSource string

const (
	// MDeclared means the user declared M (--hessian-lipschitz); the bound is
	// as good as that declaration.
	MDeclared MSource = "declared"
	// MEstimated means M was estimated numerically (e.g. from Hessian
	// differences at random points in the ball); it is not a proven upper bound.
	MEstimated MSource = "estimated"
	// MUnneeded means M was not computed because it cannot change Δ (see
	// NeedsM); M is then recorded as 0, so bound_theorem understates Δ_thm,
	// which is at least 2C in that case.
	MUnneeded MSource = "unneeded"
)

// ActiveBound names the term that the certified sensitivity Δ equals.
type ActiveBound string

const (
	// ActiveTheorem: Δ = Δ_thm + ρ/(λ + λ_min), the paper's bound plus the
	// inexact-solve term.
	ActiveTheorem ActiveBound = "theorem"
	// ActiveTrivial: Δ = 2C, the diameter of the ball, which holds for any two
	// points in it and so requires the output to be re-projected onto the ball.
	ActiveTrivial ActiveBound = "trivial"
	// ActiveNone: no bound is rigorous (the theorem's premise fails and the
	// output was not re-projected); nothing can be certified.
	ActiveNone ActiveBound = "none"
	// ActivePosterior: the convex scope's a-posteriori bound
	// ‖w̃ − w̃*‖ ≤ (‖ĝ‖ + margin)/μ at the released noise-free point (see
	// PosteriorBound). Only convex-scope certificates use it.
	ActivePosterior ActiveBound = "posterior"
)

const (
	// DefaultBallTol is the default Stationarity.BallTol: the ball constraint
	// counts as active when ‖w*‖ ≥ (1 − 1e-3)·C.
	DefaultBallTol = 1e-3
	// DefaultGradTol is the default Stationarity.GradTol: the model counts as
	// trained to convergence when ‖∇L(w*, D)‖ ≤ 1e-3.
	DefaultGradTol = 1e-3
)

// Solver records how (H + λI)u = g was solved and how well. Residual is
// ρ = ‖(H + λI)u − g‖₂, measured with full-D_r Hessian-vector products; it
// is the only field that enters the bound. Fields that do not apply to a
// solver (LiSSA's depth, repetitions, batch size and scale for CG) are 0.
type Solver struct {
	Name        string  `json:"name"`
	Iterations  int     `json:"iterations"`
	Repetitions int     `json:"repetitions"`
	Depth       int     `json:"depth"`
	BatchSize   int     `json:"batch_size"`
	Scale       float64 `json:"scale"`
	Residual    float64 `json:"residual"`
	HVPs        int     `json:"hvps"`
}

// Stationarity holds the measurements that test the theorem's premise that
// the minimisers are interior stationary points. GradNorm is ‖∇L(w*, D)‖ of
// the full training objective (including any ℓ2 term) and WNorm is ‖w*‖, both
// at the constrained optimum before the update. A zero tolerance means the
// default (DefaultGradTol, DefaultBallTol); ComputeBound records the value it
// used.
type Stationarity struct {
	GradNorm float64 `json:"grad_norm"`
	GradTol  float64 `json:"grad_tol"`
	WNorm    float64 `json:"w_norm"`
	BallTol  float64 `json:"ball_tol"`
}

// BoundInputs is everything the sensitivity bound depends on, as measured by
// the unlearning run. Estimated quantities carry their method, iteration
// count and residual so that the certificate can state them as assumptions.
// An empty HessianNormMethod means ‖H‖ was not estimated; the paper's
// condition λ > ‖H‖ is then recorded as not established.
type BoundInputs struct {
	// C is the radius of the ball ‖w‖₂ ≤ C.
	C float64 `json:"C"`
	// M is the Lipschitz constant of the Hessian of L(·, D_r) on the ball.
	M        float64 `json:"M"`
	MSource  MSource `json:"M_source"`
	MMethod  string  `json:"M_method"`
	MSamples int     `json:"M_samples"`
	// Lambda is the damping λ ≥ 0 of the Newton step; LambdaAuto says lethe
	// chose it.
	Lambda     float64 `json:"lambda"`
	LambdaAuto bool    `json:"lambda_auto"`
	// HessianNorm is the estimate of ‖H‖₂, H = ∇²L(w*, D_r).
	HessianNorm           float64 `json:"hessian_norm"`
	HessianNormMethod     string  `json:"hessian_norm_method"`
	HessianNormIterations int     `json:"hessian_norm_iterations"`
	HessianNormResidual   float64 `json:"hessian_norm_residual"`
	// LambdaMin is the estimate of the smallest (possibly negative)
	// eigenvalue of H.
	LambdaMin           float64 `json:"lambda_min"`
	LambdaMinMethod     string  `json:"lambda_min_method"`
	LambdaMinIterations int     `json:"lambda_min_iterations"`
	LambdaMinResidual   float64 `json:"lambda_min_residual"`
	// Solver describes the linear solve; Solver.Residual is ρ.
	Solver Solver `json:"solver"`
	// Projected says the updated parameters were re-projected onto the ball
	// before noise was added, which makes the trivial 2C bound available.
	Projected bool `json:"projected"`
	// Stationarity holds the premise diagnostics.
	Stationarity Stationarity `json:"stationarity"`
	// Budget is the sensitivity budget Δ_max that σ is calibrated to, fixed
	// before anything data-dependent was computed (lethe's full scope uses
	// 2C, which depends on the radius alone). 0 means no budget: the
	// pre-budget semantics, Δ = the computed bound (certificates written
	// before budgets existed have none). See ComputeBound.
	Budget float64 `json:"budget,omitempty"`
}

// Bound is the certified ℓ2 sensitivity with all of its terms (DESIGN §1
// "Bound"). It embeds its inputs, so it is also the certificate's "bound"
// object.
type Bound struct {
	BoundInputs
	// PaperCondition records whether λ > ‖H‖ holds, the paper's condition;
	// lethe only needs λ + λ_min > 0. Because ‖H‖ ≥ |λ_min|, the larger of
	// the two estimates stands for ‖H‖.
	PaperCondition bool `json:"paper_condition"`
	// Theorem is Δ_thm = 2C(MC + λ)/(λ + λ_min).
	Theorem float64 `json:"bound_theorem"`
	// Residual is ρ/(λ + λ_min), the inexact-solve term.
	Residual float64 `json:"bound_residual"`
	// Trivial is 2C. It applies only when Projected is set.
	Trivial float64 `json:"bound_trivial"`
	// Active names the term Sensitivity equals.
	Active ActiveBound `json:"active_bound"`
	// Sensitivity is Δ, the ℓ2 sensitivity σ is calibrated to: Budget when
	// a budget is set, otherwise the active term, and 0 when Active is
	// ActiveNone.
	Sensitivity float64 `json:"sensitivity"`
	// BallActive: ‖w*‖ ≥ (1 − BallTol)·C.
	BallActive bool `json:"ball_active"`
	// GradientSmall: ‖∇L(w*, D)‖ ≤ GradTol.
	GradientSmall bool `json:"gradient_small"`
	// PremiseHolds: !BallActive && GradientSmall, so the theorem's
	// interior-stationarity premise is taken to hold.
	PremiseHolds bool `json:"premise_holds"`
	// Premise explains PremiseHolds in one sentence.
	Premise string `json:"premise"`
	// Posterior holds the convex scope's a-posteriori bound; it is nil in
	// the full scope. A convex-scope Bound (Active = ActivePosterior, made
	// by PosteriorBound) computes none of the full scope's terms: M, ‖H‖,
	// λ_min, the stationarity measurements, the theorem, residual and
	// trivial bounds and the premise are zero in Go and absent from its
	// JSON, so that the certificate claims no value that was not computed
	// (see MarshalJSON).
	Posterior *Posterior `json:"-"`
}

// Prefixes of Bound.Premise; the rest of the sentence is the evidence.
const (
	premiseHolds = "interior stationary point assumed: "
	premiseFails = "the theorem's interior-stationarity premise fails: "
)

// NotPositiveDefiniteError reports λ + λ_min ≤ 0: H + λI is then not
// positive definite and neither the Newton step nor the bound is defined.
type NotPositiveDefiniteError struct {
	Lambda, LambdaMin float64
}

// Error implements the error interface.
func (e *NotPositiveDefiniteError) Error() string {
	return fmt.Sprintf("certify: λ + λ_min = %g ≤ 0 (λ = %g, λ_min = %g): H + λI is not positive definite; choose λ > %g",
		e.Lambda+e.LambdaMin, e.Lambda, e.LambdaMin, -e.LambdaMin)
}

// PremiseError reports that the theorem's interior-stationarity premise
// fails and the output was not re-projected onto the ball, so that not even
// the trivial bound holds: nothing can be certified. Reason says which
// measurement failed.
type PremiseError struct {
	Reason string
}

// Error implements the error interface.
func (e *PremiseError) Error() string {
	return "certify: " + e.Reason + "; only the trivial 2C bound is rigorous, and it needs the output re-projected onto the ball: refusing to certify"
}

// BudgetError reports a computed sensitivity bound that exceeds the
// budget σ was calibrated to: the run is not certified (it is never
// re-calibrated to the larger bound, which would make the noise depend on the
// data). Term names the bound: ActiveTheorem or ActiveTrivial in the full
// scope, ActivePosterior in the convex scope.
type BudgetError struct {
	Term   ActiveBound
	Bound  float64
	Budget float64
}

// Error implements the error interface.
func (e *BudgetError) Error() string {
	return fmt.Sprintf("certify: the %s bound %.6g exceeds the sensitivity budget %.6g that σ is calibrated to: not certified", e.Term, e.Bound, e.Budget)
}

// ComputeBound computes the full scope's sensitivity from in:
//
//	Δ_thm = 2C(MC + λ)/(λ + λ_min),  bound_residual = ρ/(λ + λ_min),  bound_trivial = 2C,
//	Δ_c = min(Δ_thm + ρ/(λ + λ_min), 2C)  if the output was re-projected,
//	Δ_c = Δ_thm + ρ/(λ + λ_min)           otherwise,
//
// and Active names the term Δ_c equals. Without a budget the sensitivity is
// Δ = Δ_c. With a budget (in.Budget > 0) the sensitivity is the budget,
// whatever the data, and Δ_c only decides whether it holds: when Δ_c > budget
// ComputeBound returns a *BudgetError together with the filled Bound (the
// run is then not certified).
//
// When the premise fails (ball active, or gradient above tolerance) only 2C
// is rigorous: Δ_c = 2C for a re-projected output, and a *PremiseError
// otherwise. It returns a *NotPositiveDefiniteError when λ + λ_min ≤ 0 and a
// *ParameterError for inputs outside their domain. On a *PremiseError the
// returned Bound is filled in for reporting, with Active = ActiveNone and
// Sensitivity = 0, or the budget if one is set.
func ComputeBound(in BoundInputs) (Bound, error) {
	if in.Stationarity.GradTol == 0 {
		in.Stationarity.GradTol = DefaultGradTol
	}
	if in.Stationarity.BallTol == 0 {
		in.Stationarity.BallTol = DefaultBallTol
	}
	if err := in.validate(); err != nil {
		return Bound{}, err
	}
	// Without a λ_min estimate (LambdaMinUnneeded: the premise fails and the
	// output is re-projected, so Δ = 2C) the theorem's terms are computed
	// with λ_min = 0 for the record, and left at 0 when λ is 0 too.
	den := in.Lambda + in.LambdaMin
	unneeded := in.LambdaMinMethod == LambdaMinUnneeded
	if !(den > 0) && !unneeded {
		return Bound{}, &NotPositiveDefiniteError{Lambda: in.Lambda, LambdaMin: in.LambdaMin}
	}
	b := Bound{BoundInputs: in}
	b.PaperCondition = in.HessianNormMethod != "" && in.Lambda > math.Max(in.HessianNorm, math.Abs(in.LambdaMin))
	b.Trivial = 2 * in.C
	if den > 0 {
		b.Theorem = 2 * in.C * (in.M*in.C + in.Lambda) / den
		b.Residual = in.Solver.Residual / den
	}
	if math.IsInf(b.Theorem+b.Residual, 0) {
		return Bound{}, &ParameterError{Name: "lambda+lambda_min", Value: den, Reason: "too small: the theorem bound overflows float64"}
	}

	st := in.Stationarity
	b.BallActive = st.WNorm >= (1-st.BallTol)*in.C
	b.GradientSmall = st.GradNorm <= st.GradTol
	b.PremiseHolds = !b.BallActive && b.GradientSmall
	var failed []string
	if b.BallActive {
		failed = append(failed, fmt.Sprintf("the ball constraint is active (‖w*‖ = %.6g ≥ (1 − %g)·C = %.6g)", st.WNorm, st.BallTol, (1-st.BallTol)*in.C))
	}
	if !b.GradientSmall {
		failed = append(failed, fmt.Sprintf("the model is not stationary (‖∇L(w*, D)‖ = %.6g > %g)", st.GradNorm, st.GradTol))
	}
	if b.PremiseHolds {
		b.Premise = premiseHolds + fmt.Sprintf("‖w*‖ = %.6g < (1 − %g)·C = %.6g and ‖∇L(w*, D)‖ = %.6g ≤ %g",
			st.WNorm, st.BallTol, (1-st.BallTol)*in.C, st.GradNorm, st.GradTol)
	} else {
		b.Premise = premiseFails + strings.Join(failed, " and ")
	}

	thm := b.Theorem + b.Residual
	switch {
	case !b.PremiseHolds && !in.Projected:
		b.Active, b.Sensitivity = ActiveNone, in.Budget
		return b, &PremiseError{Reason: b.Premise}
	case !b.PremiseHolds:
		b.Active, b.Sensitivity = ActiveTrivial, b.Trivial
	case in.Projected && b.Trivial <= thm:
		b.Active, b.Sensitivity = ActiveTrivial, b.Trivial
	default:
		b.Active, b.Sensitivity = ActiveTheorem, thm
	}
	if in.Budget > 0 {
		computed := b.Sensitivity
		b.Sensitivity = in.Budget
		if computed > in.Budget {
			return b, &BudgetError{Term: b.Active, Bound: computed, Budget: in.Budget}
		}
	}
	return b, nil
}

// Computed returns the bound the recorded terms prove, before any budget:
// Δ_thm + ρ/(λ + λ_min) or 2C as Active says in the full scope, bound_posterior
// in the convex scope, and 0 when Active is ActiveNone. Without a budget it
// equals Sensitivity; with one, a certified run has Computed() ≤ Budget.
func (b *Bound) Computed() float64 {
	switch b.Active {
	case ActiveTheorem:
		return b.Theorem + b.Residual
	case ActiveTrivial:
		return b.Trivial
	case ActivePosterior:
		if b.Posterior != nil {
			return b.Posterior.Value
		}
	}
	return 0
}

// LambdaMinUnneeded is the lambda_min_method of a certificate whose ‖H‖ and
// λ_min were not estimated because they cannot change Δ: the theorem's
// premise fails and the output is re-projected, so Δ = 2C. λ_min is then
// recorded as 0 and bound_theorem and bound_residual carry no meaning.
const LambdaMinUnneeded = "not estimated (cannot change Δ)"

// PremiseHolds applies the stationarity test of ComputeBound (with its
// default tolerances for zero ones): the ball constraint is inactive and the
// gradient is small.
func PremiseHolds(st Stationarity, c float64) bool {
	if st.GradTol == 0 {
		st.GradTol = DefaultGradTol
	}
	if st.BallTol == 0 {
		st.BallTol = DefaultBallTol
	}
	return st.WNorm < (1-st.BallTol)*c && st.GradNorm <= st.GradTol
}

// NeedsM reports whether the Hessian-Lipschitz constant M can change the
// computed bound Δ_c for these inputs (M, MSource, MMethod and Budget are
// ignored), and when it cannot, why. It cannot when the output is
// re-projected and either the premise fails (Δ = 2C) or λ_min ≤ 0: the
// estimate of λ_min is a Rayleigh quotient, which is never below the true
// λ_min, so then λ_min ≤ 0 truly and Δ_thm = 2C(MC + λ)/(λ + λ_min) ≥ 2C for
// every M ≥ 0, leaving the trivial bound active.
func NeedsM(in BoundInputs) (bool, string) {
	if !in.Projected {
		return true, ""
	}
	in.MSource, in.M, in.Budget = MDeclared, 0, 0
	b, err := ComputeBound(in)
	switch {
	case err != nil:
		return true, ""
	case !b.PremiseHolds:
		return false, "the theorem's premise fails, so Δ = 2C whatever M is"
	case in.LambdaMin <= 0:
		return false, fmt.Sprintf("λ_min ≤ %.4g ≤ 0 (a Rayleigh quotient bounds it from above), so Δ_thm ≥ 2C for every M ≥ 0", in.LambdaMin)
	}
	return true, ""
}

// validate checks the domain of every numerical input and the M source.
func (in *BoundInputs) validate() error {
	checks := []struct {
		name string
		v    float64
		ok   bool
		why  string
	}{
		{"C", in.C, in.C > 0, "must be finite and > 0"},
		{"M", in.M, in.M >= 0, "must be finite and ≥ 0"},
		{"lambda", in.Lambda, in.Lambda >= 0, "must be finite and ≥ 0"},
		{"lambda_min", in.LambdaMin, true, "must be finite"},
		{"hessian_norm", in.HessianNorm, in.HessianNorm >= 0, "must be finite and ≥ 0"},
		{"hessian_norm_residual", in.HessianNormResidual, in.HessianNormResidual >= 0, "must be finite and ≥ 0"},
		{"lambda_min_residual", in.LambdaMinResidual, in.LambdaMinResidual >= 0, "must be finite and ≥ 0"},
		{"solver.residual", in.Solver.Residual, in.Solver.Residual >= 0, "must be finite and ≥ 0"},
		{"solver.scale", in.Solver.Scale, in.Solver.Scale >= 0, "must be finite and ≥ 0"},
		{"stationarity.grad_norm", in.Stationarity.GradNorm, in.Stationarity.GradNorm >= 0, "must be finite and ≥ 0"},
		{"stationarity.grad_tol", in.Stationarity.GradTol, in.Stationarity.GradTol > 0, "must be finite and > 0"},
		{"stationarity.w_norm", in.Stationarity.WNorm, in.Stationarity.WNorm >= 0, "must be finite and ≥ 0"},
		{"stationarity.ball_tol", in.Stationarity.BallTol, in.Stationarity.BallTol > 0 && in.Stationarity.BallTol < 1, "must be in (0, 1)"},
		{"budget", in.Budget, in.Budget >= 0, "must be finite and ≥ 0 (0: no budget)"},
	}
	for _, c := range checks {
		if !c.ok || math.IsNaN(c.v) || math.IsInf(c.v, 0) {
			return &ParameterError{Name: c.name, Value: c.v, Reason: c.why}
		}
	}
	switch in.MSource {
	case MDeclared, MEstimated:
	case MUnneeded:
		if in.M != 0 {
			return fmt.Errorf("certify: M_source %q needs M = 0, got %g", MUnneeded, in.M)
		}
		if needed, _ := NeedsM(*in); needed {
			return fmt.Errorf("certify: M_source %q, but M can change Δ here: it must be declared or estimated", MUnneeded)
		}
	default:
		return fmt.Errorf("certify: M_source %q: must be %q, %q or %q", in.MSource, MDeclared, MEstimated, MUnneeded)
	}
	if in.Solver.Name == "" {
		return fmt.Errorf("certify: solver.name is empty: the certificate must say how (H + λI)u = g was solved")
	}
	if in.LambdaMinMethod == "" {
		return fmt.Errorf("certify: lambda_min_method is empty: λ_min is an estimate and must name its method")
	}
	if in.LambdaMinMethod == LambdaMinUnneeded && (in.LambdaMin != 0 || !in.Projected || PremiseHolds(in.Stationarity, in.C)) {
		return fmt.Errorf("certify: lambda_min_method %q needs λ_min = 0, a re-projected output and a failed premise", LambdaMinUnneeded)
	}
	return nil
}
