package certify

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckSigmaFixtures(t *testing.T) {
	for _, name := range fixtureNames {
		if err := CheckSigma(fixture(t, name)); err != nil {
			t.Errorf("%s: %v", name, err)
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
