package certify

import (
	"errors"
	"math"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckSigmaFixtures reads every golden certificate, runs CheckSigma, and
// checks its σ (or fixed-σ ε) against values computed outside this package,
// so that a bug in Sigma, which both built and checks the goldens, cannot
// pass: arbitrary-precision values computed with mpmath (Python, 60 digits)
// by bisection on the Balle–Wang condition for the analytic mechanism, and
// the closed form for the classic one; and, for the analytic σ, the
// package's own independent math/big oracle (bigref_test.go).
//
// The mpmath values came from:
//
//	delta = lambda s, eps: mp.ncdf(1/(2*s) - eps*s) - mp.e**eps * mp.ncdf(-1/(2*s) - eps*s)
//	bisection of delta(s, eps) <= d over s in [1e-3, 1e4], 400 halvings  # σ for Δ = 1
//	mp.sqrt(2*mp.log(mp.mpf("1.25")/mp.mpf("1e-5")))                     # classic factor
func TestCheckSigmaFixtures(t *testing.T) {
	const analyticUnit = "3.730631634815941832249823"       // σ(Δ = 1, ε = 1, δ = 1e-5), mpmath
	const classicFactor = "4.84480526260538942125864215759" // √(2 ln(1.25/1e-5)), mpmath
	type ref struct {
		kind  string // "analytic σ", "classic σ", "classic ε", or "none"
		value string // the reference for Δ = 1 (analytic) or the classic factor
	}
	refs := map[string]ref{
		"certified":             {"analytic σ", analyticUnit},
		"budget_full":           {"analytic σ", analyticUnit},
		"convex_head":           {"analytic σ", analyticUnit},
		"convex_linear_retrain": {"classic σ", classicFactor},
		"seeded_fixed_sigma":    {"classic ε", classicFactor},
		"no_noise":              {"none", ""},
		"no_noise_unset":        {"none", ""},
	}
	parse := func(s string) *big.Float {
		f, _, err := new(big.Float).SetPrec(200).Parse(s, 10)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, name := range fixtureNames {
		c, err := Read(filepath.Join("testdata", name+".golden.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckSigma(c); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		r, ok := refs[name]
		if !ok {
			t.Errorf("%s: no independent reference for this golden", name)
			continue
		}
		if !(c.Delta == 1e-5 || r.kind == "none") || (c.Sigma == 0) != (r.kind == "none") {
			t.Fatalf("%s: the references are for δ = 1e-5 and noise (σ = %g, δ = %g)", name, c.Sigma, c.Delta)
		}
		sens := new(big.Float).SetPrec(200).SetFloat64(c.Bound.Sensitivity)
		rel := func(got float64, want *big.Float) float64 {
			d := new(big.Float).SetPrec(200).SetFloat64(got)
			d.Sub(d, want).Quo(d, want)
			f, _ := d.Float64()
			return f
		}
		switch r.kind {
		case "analytic σ":
			// σ must not be below the exact minimum (privacy), and Sigma rounds
			// up by at most SigmaTolerance = 1e-12 plus the DeltaMargin = 1e-12
			// tightening of δ (which moves σ by less, |d ln δ/d ln σ| > 1 here):
			// 2.5e-12 bounds both.
			want := new(big.Float).SetPrec(200).Mul(parse(r.value), sens)
			if e := rel(c.Sigma, want); !(e >= 0 && e <= 2.5e-12) {
				t.Errorf("%s: σ = %.17g is %.3g relative from the mpmath value %s", name, c.Sigma, e, want.Text('g', 20))
			}
			if refAnalyticDelta(c.Bound.Sensitivity/c.Sigma, c.Epsilon).Cmp(new(big.Float).SetFloat64(c.Delta)) > 0 {
				t.Errorf("%s: the math/big oracle says σ = %.17g does not reach δ = %g", name, c.Sigma, c.Delta)
			}
		case "classic σ":
			// σ = (Δ/ε)·√(2 ln(1.25/δ)) in float64: a few roundings, 1e-15.
			want := new(big.Float).SetPrec(200).Mul(parse(r.value), sens)
			want.Quo(want, new(big.Float).SetFloat64(c.Epsilon))
			if e := rel(c.Sigma, want); math.Abs(e) > 1e-15 {
				t.Errorf("%s: classic σ = %.17g is %.3g relative from %s", name, c.Sigma, e, want.Text('g', 20))
			}
		case "classic ε":
			// ε = (Δ/σ)·√(2 ln(1.25/δ)) in float64: a few roundings, 1e-15.
			want := new(big.Float).SetPrec(200).Mul(parse(r.value), sens)
			want.Quo(want, new(big.Float).SetFloat64(c.Sigma))
			if e := rel(c.Epsilon, want); math.Abs(e) > 1e-15 {
				t.Errorf("%s: classic ε = %.17g is %.3g relative from %s", name, c.Epsilon, e, want.Text('g', 20))
			}
		}
	}
}

// TestCheckSigmaCatches edits one recorded value at a time and expects
// CheckSigma to name it.
func TestCheckSigmaCatches(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(*Certificate)
		field string // MismatchError.Field, or "" for a *SigmaError
	}{
		// σ 1e-6 smaller than calibrated: far beyond CheckRelTol = 1e-9.
		{"sigma smaller", func(c *Certificate) { c.Sigma *= 1 - 1e-6 }, ""},
		// A stronger claim (smaller ε or δ) needs more noise than recorded.
		{"epsilon smaller", func(c *Certificate) { c.Epsilon = 0.9 }, ""},
		{"delta smaller", func(c *Certificate) { c.Delta = 1e-6 }, ""},
		{"mechanism", func(c *Certificate) { c.Mechanism = Classic; c.Epsilon = 0.99 }, ""},
		{"sensitivity", func(c *Certificate) { c.Bound.Sensitivity = 9 }, "bound.sensitivity"},
		{"bound_theorem", func(c *Certificate) { c.Bound.Theorem = 9 }, "bound.bound_theorem"},
		{"C", func(c *Certificate) { c.Bound.C = 4 }, "bound.bound_trivial"},
		{"lambda_min", func(c *Certificate) { c.Bound.LambdaMin = -0.2 }, "bound.bound_theorem"},
		{"residual", func(c *Certificate) { c.Bound.Solver.Residual = 0.5 }, "bound.bound_residual"},
		{"active", func(c *Certificate) { c.Bound.Active = ActiveTheorem }, "bound.active_bound"},
		{"premise", func(c *Certificate) { c.Bound.Stationarity.WNorm = 5 }, "bound.premise_holds"},
		{"paper", func(c *Certificate) { c.Bound.HessianNorm = 13 }, "bound.paper_condition"},
		{"not private", func(c *Certificate) { c.NoisePrivate = false }, "certified"},
		{"no sigma", func(c *Certificate) { c.Sigma = 0 }, "certified"},
	} {
		cert := fixture(t, "certified")
		c.edit(cert)
		err := CheckSigma(cert)
		if c.field == "" {
			var se *SigmaError
			if !errors.As(err, &se) || !(se.Recorded < se.Required) {
				t.Errorf("%s: err = %v, want *SigmaError", c.name, err)
			}
			continue
		}
		found := false
		for _, e := range flatten(err) {
			var me *MismatchError
			if errors.As(e, &me) && me.Field == c.field {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: err = %v, want a *MismatchError for %s", c.name, err, c.field)
		}
	}
}

func TestCheckSigmaAllowsMoreNoise(t *testing.T) {
	c := fixture(t, "certified")
	c.Sigma *= 2 // more noise is a stronger guarantee, never a mismatch
	c.Epsilon = 1.5
	if err := CheckSigma(c); err != nil {
		t.Error(err)
	}
}

func TestCheckSigmaClassicRange(t *testing.T) {
	c := fixture(t, "seeded_fixed_sigma")
	c.Sigma = 10 // implies classic ε > 1
	c.Epsilon = 2
	var re *ClassicRangeError
	if err := CheckSigma(c); !errors.As(err, &re) {
		t.Errorf("classic with ε = 2: err = %v, want *ClassicRangeError", err)
	}
}

func TestCheckSigmaPremiseRefused(t *testing.T) {
	c := fixture(t, "no_noise")
	c.Bound.Stationarity.GradNorm = 1 // premise fails; not projected
	c.Bound.GradientSmall, c.Bound.PremiseHolds = false, false
	c.Bound.Active, c.Bound.Sensitivity = ActiveNone, 0
	if err := CheckSigma(c); err != nil {
		t.Errorf("an uncertified, refused bound recorded as such: %v", err)
	}
	c.Certified, c.Status = true, StatusCertified
	var pe *PremiseError
	if err := CheckSigma(c); !errors.As(err, &pe) {
		t.Errorf("certified with a refused bound: err = %v, want *PremiseError", err)
	}
	if err := CheckSigma(c); err == nil || !strings.HasPrefix(err.Error(), "certify: ") {
		t.Errorf("error %v does not start with certify:", err)
	}
}

// flatten returns the leaves of an errors.Join tree.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// TestCheckSigmaConvexCatches edits one recorded value of a convex
// certificate at a time; each edit must be caught, by name.
func TestCheckSigmaConvexCatches(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(*Certificate)
		field string // MismatchError.Field; "sigma" for a *SigmaError, "budget" for a *BudgetError
	}{
		// 1e-6 relative is far beyond CheckRelTol = 1e-9.
		{"tampered bound_posterior", func(c *Certificate) { c.Bound.Posterior.Value *= 1 - 1e-6 }, "bound.bound_posterior"},
		{"tampered grad norm", func(c *Certificate) { c.Bound.Posterior.GradNorm *= 1.5 }, "bound.bound_posterior"},
		{"tampered margin", func(c *Certificate) { c.Bound.Posterior.Margin = 1e-7 }, "bound.bound_posterior"},
		{"l2 changed", func(c *Certificate) { c.L2 = 2e-3 }, "bound.bound_posterior"},
		{"sensitivity ≠ budget", func(c *Certificate) { c.Bound.Sensitivity = 0.004 }, "bound.sensitivity"},
		{"active not posterior", func(c *Certificate) { c.Bound.Active = ActiveTrivial }, "bound.active_bound"},
		// The recorded posterior ≈ 0.0041 does not fit a budget of 0.004.
		{"budget below the posterior", func(c *Certificate) { c.Bound.Budget, c.Bound.Sensitivity = 0.004, 0.004 }, "budget"},
		// A larger budget needs more noise than was calibrated for 0.005.
		{"budget raised", func(c *Certificate) { c.Bound.Budget, c.Bound.Sensitivity = 0.006, 0.006 }, "sigma"},
		{"sigma smaller", func(c *Certificate) { c.Sigma *= 1 - 1e-6 }, "sigma"},
		{"epsilon smaller", func(c *Certificate) { c.Epsilon = 0.9 }, "sigma"},
		{"not private", func(c *Certificate) { c.NoisePrivate = false }, "certified"},
		{"no sigma", func(c *Certificate) { c.Sigma = 0 }, "certified"},
	} {
		cert := fixture(t, "convex_head")
		c.edit(cert)
		err := CheckSigma(cert)
		var se *SigmaError
		var be *BudgetError
		switch c.field {
		case "sigma":
			if !errors.As(err, &se) || !(se.Recorded < se.Required) {
				t.Errorf("%s: err = %v, want *SigmaError", c.name, err)
			}
		case "budget":
			if !errors.As(err, &be) || be.Term != ActivePosterior || !(be.Bound > be.Budget) {
				t.Errorf("%s: err = %v, want *BudgetError", c.name, err)
			}
		default:
			if !hasMismatch(err, c.field) {
				t.Errorf("%s: err = %v, want a *MismatchError for %s", c.name, err, c.field)
			}
		}
	}
	// Not certified, the same over-budget record is reported honestly: no error.
	cert := fixture(t, "convex_head")
	cert.Bound.Budget, cert.Bound.Sensitivity, cert.Sigma = 0.004, 0.004, 0.02
	cert.Certified, cert.Status = false, StatusOverBudget
	if err := CheckSigma(cert); err != nil {
		t.Errorf("an uncertified over-budget record: %v", err)
	}
}

// TestCheckSigmaBudgetFull: a full-scope budget is the sensitivity and must
// hold for a certified run.
func TestCheckSigmaBudgetFull(t *testing.T) {
	c := fixture(t, "budget_full")
	c.Bound.Sensitivity = 9
	if err := CheckSigma(c); !hasMismatch(err, "bound.sensitivity") {
		t.Errorf("sensitivity ≠ budget: err = %v", err)
	}
	// Not re-projected: only the theorem term 13.69 + 0.0017 remains, above
	// the budget 2C = 10.
	c = fixture(t, "budget_full")
	c.Bound.Projected, c.Bound.Active = false, ActiveTheorem
	var be *BudgetError
	if err := CheckSigma(c); !errors.As(err, &be) || be.Term != ActiveTheorem {
		t.Errorf("theorem above the budget, certified: err = %v, want *BudgetError", err)
	}
	// A budget below 2C that the trivial bound cannot meet.
	c = fixture(t, "budget_full")
	c.Bound.Budget, c.Bound.Sensitivity = 8, 8
	if err := CheckSigma(c); !errors.As(err, &be) || be.Term != ActiveTrivial || be.Bound != 10 {
		t.Errorf("2C above the budget, certified: err = %v, want *BudgetError{trivial, 10, 8}", err)
	}
}

func TestTakenOnTrust(t *testing.T) {
	convex := strings.Join(TakenOnTrust(fixture(t, "convex_head")), "\n")
	for _, must := range []string{"posterior_grad_norm", "noise-free point", "never stored", "taken on trust", "1 Newton step(s) from w*"} {
		if !strings.Contains(convex, must) {
			t.Errorf("convex: %q missing from %q", must, convex)
		}
	}
	full := strings.Join(TakenOnTrust(fixture(t, "certified")), "\n")
	for _, must := range []string{"λ_min", "taken on trust", "re-projected"} {
		if !strings.Contains(full, must) {
			t.Errorf("full: %q missing from %q", must, full)
		}
	}
}

// hasMismatch reports whether err holds a *MismatchError for field.
func hasMismatch(err error, field string) bool {
	for _, e := range flatten(err) {
		var me *MismatchError
		if errors.As(e, &me) && me.Field == field {
			return true
		}
	}
	return false
}
