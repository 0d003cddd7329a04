package certify

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// boundInputs returns valid inputs with an interior, stationary w* that the
// cases below modify.
func boundInputs(c, m, lambda, lambdaMin, rho float64, projected bool) BoundInputs {
	return BoundInputs{
		C: c, M: m, MSource: MDeclared, MMethod: "declared by the user",
		Lambda:      lambda,
		HessianNorm: 1.5, HessianNormMethod: "power iteration", HessianNormIterations: 50, HessianNormResidual: 1e-4,
		LambdaMin: lambdaMin, LambdaMinMethod: "Lanczos", LambdaMinIterations: 40, LambdaMinResidual: 1e-4,
		Solver:       Solver{Name: "cg", Iterations: 12, Residual: rho, HVPs: 13},
		Projected:    projected,
		Stationarity: Stationarity{GradNorm: 1e-5, WNorm: 0.5 * c},
	}
}

// TestComputeBoundHandCases checks every term against values computed by
// hand from Δ_thm = 2C(MC+λ)/(λ+λ_min), ρ/(λ+λ_min) and 2C, including which
// term is active.
func TestComputeBoundHandCases(t *testing.T) {
	for _, c := range []struct {
		name                             string
		in                               BoundInputs
		theorem, residual, trivial, sens float64
		active                           ActiveBound
	}{
		{
			// den = 2 − 0.5 = 1.5; Δ_thm = 2·1·(0.5·1 + 2)/1.5 = 10/3;
			// ρ/den = 0.03/1.5 = 0.02; 10/3 + 0.02 > 2C = 2.
			name: "deep-net-like: trivial active", in: boundInputs(1, 0.5, 2, -0.5, 0.03, true),
			theorem: 10.0 / 3, residual: 0.02, trivial: 2, sens: 2, active: ActiveTrivial,
		},
		{
			// Same numbers, not re-projected: the trivial bound is unavailable.
			name: "not projected: theorem even though larger", in: boundInputs(1, 0.5, 2, -0.5, 0.03, false),
			theorem: 10.0 / 3, residual: 0.02, trivial: 2, sens: 10.0/3 + 0.02, active: ActiveTheorem,
		},
		{
			// den = 1 + 3 = 4; Δ_thm = 2·2·(0.1·2 + 1)/4 = 1.2; ρ/den = 0.4/4 = 0.1;
			// 1.3 < 2C = 4.
			name: "theorem active", in: boundInputs(2, 0.1, 1, 3, 0.4, true),
			theorem: 1.2, residual: 0.1, trivial: 4, sens: 1.3, active: ActiveTheorem,
		},
		{
			// Strongly convex quadratic, λ = 0: M = 0 so Δ_thm = 0 and only the
			// solve error remains: 0.04/4 = 0.01.
			name: "quadratic, λ = 0", in: boundInputs(1, 0, 0, 4, 0.04, true),
			theorem: 0, residual: 0.01, trivial: 2, sens: 0.01, active: ActiveTheorem,
		},
		{
			// Tie: Δ_thm + residual = 2C exactly (den = 2, 2·1·(0 + 2)/2 = 2, ρ = 0)
			// → the trivial bound, which needs no estimate, is named.
			name: "tie goes to trivial", in: boundInputs(1, 0, 2, 0, 0, true),
			theorem: 2, residual: 0, trivial: 2, sens: 2, active: ActiveTrivial,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := ComputeBound(c.in)
			if err != nil {
				t.Fatal(err)
			}
			// 1e-15 relative: each term is two or three float64 operations.
			for _, v := range []struct {
				name      string
				got, want float64
			}{{"theorem", b.Theorem, c.theorem}, {"residual", b.Residual, c.residual}, {"trivial", b.Trivial, c.trivial}, {"sensitivity", b.Sensitivity, c.sens}} {
				if math.Abs(v.got-v.want) > 1e-15*math.Max(1, v.want) {
					t.Errorf("%s = %.17g, want %.17g", v.name, v.got, v.want)
				}
			}
			if b.Active != c.active {
				t.Errorf("active = %q, want %q", b.Active, c.active)
			}
			if !b.PremiseHolds || b.BallActive || !b.GradientSmall {
				t.Errorf("premise flags: holds=%v ball=%v grad=%v, want true false true", b.PremiseHolds, b.BallActive, b.GradientSmall)
			}
		})
	}
}

func TestComputeBoundPremise(t *testing.T) {
	// Ball active: ‖w*‖ = C ≥ (1 − 1e-3)·C. Projected → Δ = 2C from the trivial
	// bound even though the theorem bound (1.3, see above) is smaller.
	in := boundInputs(2, 0.1, 1, 3, 0.4, true)
	in.Stationarity.WNorm = 2
	b, err := ComputeBound(in)
	if err != nil {
		t.Fatal(err)
	}
	if b.Sensitivity != 4 || b.Active != ActiveTrivial || b.PremiseHolds || !b.BallActive {
		t.Errorf("ball active: Δ = %g (%s), premise %v, ball %v; want 4 (trivial), false, true", b.Sensitivity, b.Active, b.PremiseHolds, b.BallActive)
	}
	if !strings.Contains(b.Premise, "ball constraint is active") {
		t.Errorf("premise text %q does not name the active ball", b.Premise)
	}

	// Gradient above tolerance and not projected: nothing is rigorous.
	in = boundInputs(2, 0.1, 1, 3, 0.4, false)
	in.Stationarity.GradNorm = 0.05
	b, err = ComputeBound(in)
	var pe *PremiseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "not stationary") {
		t.Fatalf("err = %v, want *PremiseError naming the gradient", err)
	}
	if b.Active != ActiveNone || b.Sensitivity != 0 || b.GradientSmall {
		t.Errorf("refused bound: active %q, Δ = %g, gradient_small %v", b.Active, b.Sensitivity, b.GradientSmall)
	}

	// Just inside both tolerances (given explicitly) the premise holds.
	in = boundInputs(10, 0.1, 1, 3, 0.4, false)
	in.Stationarity = Stationarity{GradNorm: 0.01, GradTol: 0.01, WNorm: 9.8, BallTol: 0.01}
	if b, err := ComputeBound(in); err != nil || !b.PremiseHolds {
		t.Errorf("premise at the tolerances: %v, %v", b.PremiseHolds, err)
	}
}

func TestComputeBoundDefaultsRecorded(t *testing.T) {
	b, err := ComputeBound(boundInputs(1, 0.5, 2, -0.5, 0.03, true))
	if err != nil {
		t.Fatal(err)
	}
	if b.Stationarity.GradTol != DefaultGradTol || b.Stationarity.BallTol != DefaultBallTol {
		t.Errorf("recorded tolerances %g, %g; want the defaults", b.Stationarity.GradTol, b.Stationarity.BallTol)
	}
}

func TestComputeBoundRefusesIndefinite(t *testing.T) {
	for _, c := range []struct{ lambda, lambdaMin float64 }{{0.5, -0.5}, {0, -1}, {1, -3}, {0, 0}} {
		_, err := ComputeBound(boundInputs(1, 0.5, c.lambda, c.lambdaMin, 0.01, true))
		var npd *NotPositiveDefiniteError
		if !errors.As(err, &npd) || npd.Lambda != c.lambda || npd.LambdaMin != c.lambdaMin {
			t.Errorf("λ=%g λ_min=%g: err = %v, want *NotPositiveDefiniteError", c.lambda, c.lambdaMin, err)
		}
	}
}

func TestPaperCondition(t *testing.T) {
	for _, c := range []struct {
		lambda, hnorm, lambdaMin float64
		method                   string
		want                     bool
	}{
		{2, 1.5, -0.5, "power iteration", true},
		{1, 3, 0.5, "power iteration", false},
		// ‖H‖ ≥ |λ_min| = 2.5 > λ even though the (unconverged) power-iteration
		// estimate says 1.
		{2, 1, 2.5, "power iteration", false},
		// Not estimated: not established.
		{100, 0, 0.5, "", false},
	} {
		in := boundInputs(1, 0.5, c.lambda, c.lambdaMin, 0, true)
		in.HessianNorm, in.HessianNormMethod = c.hnorm, c.method
		b, err := ComputeBound(in)
		if err != nil {
			t.Fatal(err)
		}
		if b.PaperCondition != c.want {
			t.Errorf("λ=%g ‖H‖=%g λ_min=%g method=%q: paper_condition %v, want %v", c.lambda, c.hnorm, c.lambdaMin, c.method, b.PaperCondition, c.want)
		}
	}
}

func TestComputeBoundInvalidInputs(t *testing.T) {
	for _, c := range []struct {
		name  string
		field string
		edit  func(*BoundInputs)
	}{
		{"C = 0", "C", func(in *BoundInputs) { in.C = 0 }},
		{"M NaN", "M", func(in *BoundInputs) { in.M = math.NaN() }},
		{"λ < 0", "lambda", func(in *BoundInputs) { in.Lambda = -1 }},
		{"λ_min Inf", "lambda_min", func(in *BoundInputs) { in.LambdaMin = math.Inf(-1) }},
		{"ρ < 0", "solver.residual", func(in *BoundInputs) { in.Solver.Residual = -1e-3 }},
		{"ball_tol 1", "stationarity.ball_tol", func(in *BoundInputs) { in.Stationarity.BallTol = 1 }},
		{"w_norm NaN", "stationarity.w_norm", func(in *BoundInputs) { in.Stationarity.WNorm = math.NaN() }},
		{"M_source", "M_source", func(in *BoundInputs) { in.MSource = "guessed" }},
		{"λ_min method", "lambda_min_method", func(in *BoundInputs) { in.LambdaMinMethod = "" }},
		{"solver name", "solver.name", func(in *BoundInputs) { in.Solver.Name = "" }},
	} {
		in := boundInputs(1, 0.5, 2, -0.5, 0.03, true)
		c.edit(&in)
		_, err := ComputeBound(in)
		if err == nil || !strings.HasPrefix(err.Error(), "certify: ") || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: err = %v, want a certify error naming %s", c.name, err, c.field)
		}
	}
}

func TestNeedsM(t *testing.T) {
	base := BoundInputs{C: 10, MSource: MEstimated, Lambda: 0.5, HessianNorm: 2, HessianNormMethod: "power iteration",
		LambdaMin: 0.2, LambdaMinMethod: "lanczos", Solver: Solver{Name: "cg"}, Projected: true,
		Stationarity: Stationarity{GradNorm: 1e-4, WNorm: 5}}
	indefinite := base
	indefinite.LambdaMin = -0.1
	notStationary := base
	notStationary.Stationarity.GradNorm = 0.5
	unprojected := indefinite
	unprojected.Projected = false
	for _, c := range []struct {
		name string
		in   BoundInputs
		want bool
	}{
		{"convex, premise holds", base, true},
		{"λ_min ≤ 0", indefinite, false},
		{"premise fails", notStationary, false},
		{"not projected", unprojected, true},
	} {
		needed, why := NeedsM(c.in)
		if needed != c.want || (!needed && why == "") {
			t.Errorf("%s: NeedsM = %v (%q), want %v", c.name, needed, why, c.want)
		}
		in := c.in
		in.MSource, in.M = MUnneeded, 0
		b, err := ComputeBound(in)
		switch {
		case c.want && err == nil:
			t.Errorf("%s: M_source unneeded accepted although M matters", c.name)
		case !c.want && err != nil:
			t.Errorf("%s: M_source unneeded refused: %v", c.name, err)
		case !c.want && b.Active != ActiveTrivial:
			// Whenever M cannot matter, the trivial bound must be the active one.
			t.Errorf("%s: active bound %s, want trivial", c.name, b.Active)
		}
	}
}

// TestComputeBoundBudget: with a budget the sensitivity is the budget
// whatever the data, and the computed bound only decides whether it holds.
func TestComputeBoundBudget(t *testing.T) {
	// Re-projected deep-net case (Δ_thm + ρ-term = 10/3 + 0.02 > 2C = 2): the
	// trivial bound proves Δ ≤ 2C = budget.
	b, err := ComputeBound(withBudget(boundInputs(1, 0.5, 2, -0.5, 0.03, true), 2))
	if err != nil || b.Sensitivity != 2 || b.Active != ActiveTrivial || b.Computed() != 2 {
		t.Errorf("projected, budget 2C: Δ = %g, active %s, computed %g, err %v; want 2, trivial, 2, nil", b.Sensitivity, b.Active, b.Computed(), err)
	}
	// Theorem active (1.3 < 2C = 4) with budget 2C: σ is still calibrated to
	// 4, and the theorem term is what proves it.
	b, err = ComputeBound(withBudget(boundInputs(2, 0.1, 1, 3, 0.4, true), 4))
	if err != nil || b.Sensitivity != 4 || b.Active != ActiveTheorem || math.Abs(b.Computed()-1.3) > 1e-15 {
		t.Errorf("theorem under budget: Δ = %g, active %s, computed %g, err %v", b.Sensitivity, b.Active, b.Computed(), err)
	}
	// Not re-projected: the theorem term 10/3 + 0.02 exceeds the budget 2C = 2:
	// not certified, and Δ stays the budget (never re-calibrated).
	b, err = ComputeBound(withBudget(boundInputs(1, 0.5, 2, -0.5, 0.03, false), 2))
	var be *BudgetError
	if !errors.As(err, &be) || be.Term != ActiveTheorem || be.Budget != 2 || math.Abs(be.Bound-(10.0/3+0.02)) > 1e-15 {
		t.Fatalf("theorem over budget: err = %v, want *BudgetError{theorem, 10/3 + 0.02, 2}", err)
	}
	if b.Sensitivity != 2 || b.Active != ActiveTheorem {
		t.Errorf("over budget: the returned bound has Δ = %g, active %s; want the budget 2 and theorem", b.Sensitivity, b.Active)
	}
	// Premise fails, not projected: a *PremiseError, Δ = the budget.
	in := withBudget(boundInputs(1, 0.5, 2, -0.5, 0.03, false), 2)
	in.Stationarity.GradNorm = 1
	b, err = ComputeBound(in)
	var pe *PremiseError
	if !errors.As(err, &pe) || b.Active != ActiveNone || b.Sensitivity != 2 {
		t.Errorf("premise fails with budget: err = %v, active %s, Δ = %g", err, b.Active, b.Sensitivity)
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		var pe *ParameterError
		if _, err := ComputeBound(withBudget(boundInputs(1, 0.5, 2, -0.5, 0.03, true), bad)); !errors.As(err, &pe) || pe.Name != "budget" {
			t.Errorf("budget %g: err = %v, want *ParameterError for budget", bad, err)
		}
	}
}

func withBudget(in BoundInputs, budget float64) BoundInputs {
	in.Budget = budget
	return in
}

// TestComputeBoundWithoutSpectrum: when λ_min was not estimated because it
// cannot change Δ (the premise fails, the output is re-projected), even
// λ = 0 gives the trivial bound, with the theorem's terms left at 0; a
// λ_min that was estimated still refuses λ + λ_min ≤ 0.
func TestComputeBoundWithoutSpectrum(t *testing.T) {
	in := boundInputs(5, 0, 0, 0, 0.01, true)
	in.MSource, in.MMethod = MUnneeded, ""
	in.HessianNorm, in.HessianNormMethod, in.HessianNormIterations, in.HessianNormResidual = 0, "", 0, 0
	in.LambdaMinMethod, in.LambdaMinIterations, in.LambdaMinResidual = LambdaMinUnneeded, 0, 0
	in.Stationarity.GradNorm = 1 // not stationary: the premise fails
	b, err := ComputeBound(in)
	if err != nil || b.Active != ActiveTrivial || b.Sensitivity != 10 || b.Theorem != 0 || b.Residual != 0 {
		t.Fatalf("bound %+v, err %v", b, err)
	}
	in.Lambda = 0.5
	if b, err = ComputeBound(in); err != nil || b.Theorem != 10 || b.Active != ActiveTrivial {
		t.Fatalf("λ = 0.5: bound %+v, err %v", b, err)
	}
	in.LambdaMinMethod, in.Lambda = "Lanczos", 0
	in.MSource, in.M, in.MMethod = MDeclared, 0.5, "declared by the user"
	var npd *NotPositiveDefiniteError
	if _, err := ComputeBound(in); !errors.As(err, &npd) {
		t.Fatalf("an estimated λ_min = 0 with λ = 0: err %v, want *NotPositiveDefiniteError", err)
	}
}
