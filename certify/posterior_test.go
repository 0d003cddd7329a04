package certify

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
)

// posteriorInputs returns valid inputs that the cases below modify.
func posteriorInputs() PosteriorInputs {
	return PosteriorInputs{
		Mu: 1e-3, GradNorm: 4.1e-6, Margin: 3.2e-11, MarginMethod: "γ_k·Σ|a_i|",
		Budget: 0.005, NewtonSteps: 1, Start: StartOriginal,
		Solver: Solver{Name: "cg", Iterations: 41, Residual: 2.1e-9, HVPs: 41},
	}
}

// TestPosteriorBoundValue compares bound_posterior with (‖ĝ‖ + margin)/μ
// evaluated exactly in big.Float: the float64 result must be an upper bound
// and within 2⁻⁴⁸ relative (the 2⁻⁵⁰ round-up plus three roundings).
func TestPosteriorBoundValue(t *testing.T) {
	for _, in := range []PosteriorInputs{
		posteriorInputs(),
		func() PosteriorInputs {
			p := posteriorInputs()
			p.GradNorm, p.Margin, p.Mu, p.Budget = 0.1, 1e-17, 3, 1
			return p
		}(),
		func() PosteriorInputs {
			p := posteriorInputs()
			p.GradNorm, p.Margin, p.Mu, p.Budget = 1/3.0, 1/7.0, 1/11.0, 10
			return p
		}(),
	} {
		b, err := PosteriorBound(in)
		if err != nil {
			t.Fatal(err)
		}
		exact := new(big.Float).SetPrec(200).SetFloat64(in.GradNorm)
		exact.Add(exact, new(big.Float).SetFloat64(in.Margin))
		exact.Quo(exact, new(big.Float).SetFloat64(in.Mu))
		got := new(big.Float).SetPrec(200).SetFloat64(b.Posterior.Value)
		if got.Cmp(exact) < 0 {
			t.Errorf("(%g + %g)/%g: bound_posterior %.17g is below the exact value %s", in.GradNorm, in.Margin, in.Mu, b.Posterior.Value, exact.Text('g', 20))
		}
		if rel := refRelErr(b.Posterior.Value, exact); rel > 0x1p-48 {
			t.Errorf("(%g + %g)/%g: bound_posterior %.17g is %.3g relative above the exact value", in.GradNorm, in.Margin, in.Mu, b.Posterior.Value, rel)
		}
		if b.Active != ActivePosterior || b.Sensitivity != in.Budget || b.Budget != in.Budget || b.Lambda != 0 || b.Computed() != b.Posterior.Value {
			t.Errorf("bound %+v: want active posterior, Δ = budget = %g, λ = 0", b, in.Budget)
		}
		if b.Theorem != 0 || b.Trivial != 0 || b.MSource != "" || b.LambdaMinMethod != "" || b.Premise != "" {
			t.Errorf("the convex bound carries a full-scope term: %+v", b)
		}
	}
}

func TestPosteriorBoundOverBudget(t *testing.T) {
	in := posteriorInputs()
	in.Budget = 0.004 // below (4.1e-6 + 3.2e-11)/1e-3 ≈ 0.0041
	b, err := PosteriorBound(in)
	var be *BudgetError
	if !errors.As(err, &be) || be.Term != ActivePosterior || be.Budget != 0.004 || !(be.Bound > 0.0041) {
		t.Fatalf("err = %v, want *BudgetError{posterior, >0.0041, 0.004}", err)
	}
	if b.Posterior == nil || b.Posterior.Value != be.Bound || b.Sensitivity != 0.004 {
		t.Errorf("the bound returned with the error is not filled in: %+v", b)
	}
	if !strings.HasPrefix(err.Error(), "certify: ") {
		t.Errorf("error %q does not start with certify:", err)
	}
}

func TestPosteriorBoundRefuses(t *testing.T) {
	for _, c := range []struct {
		name, want string // want: ParameterError.Name, or a substring of the error
		edit       func(*PosteriorInputs)
	}{
		{"mu 0", "mu", func(p *PosteriorInputs) { p.Mu = 0 }},
		{"mu NaN", "mu", func(p *PosteriorInputs) { p.Mu = math.NaN() }},
		{"grad NaN", "posterior_grad_norm", func(p *PosteriorInputs) { p.GradNorm = math.NaN() }},
		{"grad Inf", "posterior_grad_norm", func(p *PosteriorInputs) { p.GradNorm = math.Inf(1) }},
		{"no margin", "posterior_margin", func(p *PosteriorInputs) { p.Margin = 0 }},
		{"no budget", "budget", func(p *PosteriorInputs) { p.Budget = 0 }},
		{"negative C", "C", func(p *PosteriorInputs) { p.C = -1 }},
		{"negative steps", "newton_steps", func(p *PosteriorInputs) { p.NewtonSteps = -1 }},
		{"no margin method", "posterior_margin_method", func(p *PosteriorInputs) { p.MarginMethod = "" }},
		{"bad start", "start", func(p *PosteriorInputs) { p.Start = "zeros" }},
		{"projected without ball", "no ball", func(p *PosteriorInputs) { p.Projected = true }},
		{"steps without solver", "solver.name", func(p *PosteriorInputs) { p.Solver.Name = SolverNone }},
		{"no steps with solver", "solver.name", func(p *PosteriorInputs) { p.NewtonSteps = 0 }},
		{"overflow", "mu", func(p *PosteriorInputs) { p.Mu, p.GradNorm = 1e-300, 1e300 }},
	} {
		in := posteriorInputs()
		c.edit(&in)
		_, err := PosteriorBound(in)
		var pe *ParameterError
		switch {
		case err == nil:
			t.Errorf("%s: accepted", c.name)
		case errors.As(err, &pe):
			if pe.Name != c.want {
				t.Errorf("%s: *ParameterError for %s, want %s", c.name, pe.Name, c.want)
			}
		case !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: err = %v, want one naming %s", c.name, err, c.want)
		}
	}
	// No Newton step at all is fine with the solver named "none".
	in := posteriorInputs()
	in.NewtonSteps, in.Solver = 0, Solver{Name: SolverNone}
	if _, err := PosteriorBound(in); err != nil {
		t.Errorf("no step, solver none: %v", err)
	}
}

// TestBoundJSONLayouts: a convex bound's JSON carries none of the full
// scope's terms, round-trips exactly, and each layout refuses the other's
// fields.
func TestBoundJSONLayouts(t *testing.T) {
	b, err := PosteriorBound(posteriorInputs())
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{`"M"`, `"M_source"`, `"hessian_norm"`, `"lambda_min"`, `"stationarity"`, `"bound_theorem"`, `"bound_residual"`, `"bound_trivial"`, `"premise"`, `"lambda_auto"`, `"paper_condition"`} {
		if strings.Contains(string(data), absent) {
			t.Errorf("convex bound JSON has %s: %s", absent, data)
		}
	}
	var back Bound
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Posterior == nil || *back.Posterior != *b.Posterior || back.BoundInputs != b.BoundInputs || back.Active != b.Active || back.Sensitivity != b.Sensitivity {
		t.Errorf("round trip: %+v, want %+v", back, b)
	}
	again, _ := json.Marshal(back)
	if string(again) != string(data) {
		t.Errorf("round trip changed the bytes:\n%s\n%s", data, again)
	}
	for _, c := range []struct{ name, data string }{
		{"M in a convex bound", strings.Replace(string(data), `"C":0,`, `"C":0,"M":0,`, 1)},
		{"posterior in a full bound", strings.Replace(string(data), `"active_bound":"posterior"`, `"active_bound":"trivial"`, 1)},
	} {
		if err := json.Unmarshal([]byte(c.data), &back); err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%s: err = %v, want an unknown field", c.name, err)
		}
	}
}

// TestDigestParameters checks the documented byte layout against a digest
// computed outside Go (Python's hashlib and struct, no numpy):
//
//	h = hashlib.sha256()
//	for name, v in [("w", [1.5, -0.0]), ("b", [0.1])]:
//	    b = name.encode()
//	    h.update(struct.pack("<Q", len(b)) + b + struct.pack("<Q", len(v)) + struct.pack("<%dd" % len(v), *v))
//	print("sha256:" + h.hexdigest())
func TestDigestParameters(t *testing.T) {
	const want = "sha256:" + pyParamDigest
	if got := DigestParameters([]string{"w", "b"}, [][]float64{{1.5, math.Copysign(0, -1)}, {0.1}}); got != want {
		t.Errorf("DigestParameters = %s, want %s", got, want)
	}
	// The lengths make the encoding unambiguous: moving a value across the
	// boundary of two parameters, or renaming, changes the digest.
	a := DigestParameters([]string{"w", "b"}, [][]float64{{1, 2}, {3}})
	for _, other := range []string{
		DigestParameters([]string{"w", "b"}, [][]float64{{1}, {2, 3}}),
		DigestParameters([]string{"b", "w"}, [][]float64{{1, 2}, {3}}),
		DigestParameters([]string{"w"}, [][]float64{{1, 2, 3}}),
	} {
		if other == a {
			t.Error("two different parameter sets have the same digest")
		}
	}
	if got := DigestParameters(nil, nil); got != "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("no parameters: %s, want the SHA-256 of the empty string", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("DigestParameters with mismatched lengths did not panic")
		}
	}()
	DigestParameters([]string{"w"}, nil)
}

// pyParamDigest is the hex digest the Python snippet in TestDigestParameters prints.
const pyParamDigest = "916ef18cc6060aa0fc32be8e2cc958c233c0dd99564c0d10f01746c67b61f07a"
