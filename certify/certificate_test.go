package certify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGolden compares each fixture, written by Write, byte for byte with
// testdata/<name>.golden.json. Refresh with `go test ./certify -update`.
func TestGolden(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			c := fixture(t, name)
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := c.Write(golden); err != nil {
					t.Fatal(err)
				}
			}
			tmp := filepath.Join(t.TempDir(), "cert.json")
			if err := c.Write(tmp); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(tmp)
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./certify -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the fixture; if the change is intended, run go test ./certify -update\ngot:\n%s", golden, got)
			}

			// Reading the golden back gives the same certificate, digest and all,
			// and it passes every check.
			r, err := Read(golden)
			if err != nil {
				t.Fatal(err)
			}
			d1, _ := c.Digest()
			d2, err := r.Digest()
			if err != nil || d1 != d2 {
				t.Errorf("digest after Read %s, want %s (%v)", d2, d1, err)
			}
			if err := r.Validate(); err != nil {
				t.Error(err)
			}
			if err := CheckSigma(r); err != nil {
				t.Error(err)
			}
			if r.Signature != nil {
				if err := r.VerifySignature(goldenKey().Public().(ed25519.PublicKey)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestFixtureContents(t *testing.T) {
	c := fixture(t, "certified")
	if c.Bound.Active != ActiveTrivial || c.Bound.Sensitivity != 10 {
		t.Errorf("certified fixture: active %s, Δ = %g; want trivial, 10", c.Bound.Active, c.Bound.Sensitivity)
	}
	c = fixture(t, "no_noise")
	if c.Bound.Active != ActiveTheorem || c.Certified {
		t.Errorf("no_noise fixture: active %s, certified %v", c.Bound.Active, c.Certified)
	}
	c = fixture(t, "seeded_fixed_sigma")
	if c.Bound.PremiseHolds || c.Bound.Sensitivity != 6 || !(c.Epsilon > 0 && c.Epsilon < 1) {
		t.Errorf("seeded fixture: premise %v, Δ = %g, ε = %g", c.Bound.PremiseHolds, c.Bound.Sensitivity, c.Epsilon)
	}
}

func TestAssumptionsNameEstimates(t *testing.T) {
	joined := strings.Join(fixture(t, "certified").Assumptions, "\n")
	for _, must := range []string{
		"λ_min = -0.31 (smallest eigenvalue of H = ∇²L(w*, D_r)) was estimated by Lanczos (40 iterations, residual 0.0001)",
		"the bound assumes the true λ_min is not smaller",
		"M = 0.8 (Lipschitz constant of the Hessian on the ball) was estimated by Hessian differences at random points in the ball at 8 points",
		"not a proven upper bound",
		"‖H‖ = 9.7 was estimated by power iteration (60 iterations",
		"the paper's condition λ > ‖H‖ holds",
		"trivial bound 2C",
		"does not affect Δ",
		"crypto/rand",
		"chained to certificate sha256:",
	} {
		if !strings.Contains(joined, must) {
			t.Errorf("assumptions do not say %q:\n%s", must, joined)
		}
	}
	joined = strings.Join(fixture(t, "seeded_fixed_sigma").Assumptions, "\n")
	for _, must := range []string{"Noise seeded with --seed (seed 42): anyone who knows the seed can regenerate the noise and remove it; not private", "ball constraint is active", "--sigma"} {
		if !strings.Contains(joined, must) {
			t.Errorf("seeded assumptions do not say %q:\n%s", must, joined)
		}
	}
}

func TestReadStrict(t *testing.T) {
	good, err := fixture(t, "no_noise").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name, data, want string
	}{
		{"unknown field", strings.Replace(string(good), `"sigma": 0,`, `"sigma": 0, "sigma_extra": 1,`, 1), "unknown field"},
		{"wrong type", strings.Replace(string(good), `"epsilon": 1,`, `"epsilon": "1",`, 1), "epsilon"},
		{"trailing data", string(good) + "{}", "after the JSON object"},
		{"not JSON", "sigma = 1", "not JSON"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
		os.WriteFile(p, []byte(c.data), 0o644)
		if _, err := Read(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	p := filepath.Join(dir, "v2")
	os.WriteFile(p, bytes.Replace(good, []byte(SchemaVersion), []byte("lethe.certificate/v2"), 1), 0o644)
	var se *SchemaError
	if _, err := Read(p); !errors.As(err, &se) || se.Got != "lethe.certificate/v2" {
		t.Errorf("schema v2: err = %v, want *SchemaError", err)
	}
}

func TestValidateCatches(t *testing.T) {
	for _, c := range []struct {
		field string
		edit  func(*Certificate)
	}{
		{"schema", func(c *Certificate) { c.Schema = "lethe.certificate/v0" }},
		{"input.sha256", func(c *Certificate) { c.Input.SHA256 = strings.ToUpper(c.Input.SHA256) }},
		{"forget.digest", func(c *Certificate) { c.Forget.Digest = "md5:abc" }},
		{"forget.n_forget", func(c *Certificate) { c.Forget.NForget = c.Forget.N + 1 }},
		{"delta", func(c *Certificate) { c.Delta = 1 }},
		{"mechanism", func(c *Certificate) { c.Mechanism = "" }},
		{"certified", func(c *Certificate) { c.NoisePrivate, c.NoiseSource, c.NoiseSeed = false, NoiseSourceSeeded, u64(1) }},
		{"status", func(c *Certificate) { c.Status = "ok" }},
		{"sigma", func(c *Certificate) { c.Sigma = 0 }},
		{"noise_private", func(c *Certificate) { c.NoiseSeed = u64(3) }},
		{"previous_certificate", func(c *Certificate) { c.PreviousCertificate = "" }},
		{"created_at", func(c *Certificate) { c.CreatedAt = "2025-03-01T12:03:17+01:00" }},
		{"created_at", func(c *Certificate) { c.CreatedAt = "2025-03-01T11:00:00Z" }},
		{"assumptions", func(c *Certificate) { c.Assumptions = nil }},
		{"parity.probe", func(c *Certificate) { c.Parity.Probe.Seed = nil }},
		{"signature.algorithm", func(c *Certificate) { c.Signature.Algorithm = "rsa" }},
	} {
		cert := fixture(t, "certified")
		c.edit(cert)
		err := cert.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: Validate = %v, want a *FieldError naming it", c.field, err)
		}
		if err := cert.Write(filepath.Join(t.TempDir(), "c.json")); err == nil {
			t.Errorf("%s: Write accepted an invalid certificate", c.field)
		}
	}
}

func TestDigestProperties(t *testing.T) {
	c := fixture(t, "certified")
	d, err := c.Digest()
	if err != nil {
		t.Fatal(err)
	}
	canon, _ := c.Canonical()
	sum := sha256.Sum256(canon)
	if d != DigestPrefix+hex.EncodeToString(sum[:]) || bytes.Contains(canon, []byte(`"signature"`)) || bytes.Contains(canon, []byte("\n")) {
		t.Errorf("digest %s is not sha256 of the compact, unsigned canonical form", d)
	}
	if !bytes.Contains(canon, []byte(`"assumptions":["`)) || bytes.Contains(canon, []byte(`\u003e`)) {
		t.Errorf("canonical form is not compact with HTML left unescaped")
	}
	unsigned := *c
	unsigned.Signature = nil
	if d2, _ := unsigned.Digest(); d2 != d {
		t.Error("the signature changes the digest")
	}
	bind, _ := c.BindingDigest()
	other := *c
	other.Output.SHA256 = hexOf("another output")
	if d3, _ := other.Digest(); d3 == d {
		t.Error("the output hash does not change the digest")
	}
	if b2, _ := other.BindingDigest(); b2 != bind || bind == d {
		t.Error("the binding digest depends on the output hash, or equals the digest")
	}
	other = *c
	other.Sigma = c.Sigma * (1 + 1e-15)
	if d4, _ := other.Digest(); d4 == d {
		t.Error("a 1-ulp change of σ does not change the digest")
	}
}

func TestDigestIndices(t *testing.T) {
	// sha256 of "1\n2\n3\n", computed outside Go: printf '1\n2\n3\n' | sha256sum.
	const want = "sha256:14c5e74c4b96ccef41cd94db73a9ec3348038ac094feca4fd897cecffa07cdae"
	got := DigestIndices([]int{3, 1, 2, 2})
	if got != want {
		t.Errorf("DigestIndices([3 1 2 2]) = %s, want %s", got, want)
	}
	if DigestIndices([]int{1, 2, 3}) != want {
		t.Error("DigestIndices depends on order or repetition")
	}
}

func TestFileSHA256(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("abc"), 0o644)
	got, err := FileSHA256(p)
	// The FIPS 180-2 test vector for "abc".
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; err != nil || got != want {
		t.Errorf("FileSHA256(abc) = %s, %v", got, err)
	}
	if _, err := FileSHA256(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.HasPrefix(err.Error(), "certify: ") {
		t.Errorf("missing file: %v", err)
	}
}

func TestWriteAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.cert.json")
	os.WriteFile(p, []byte("old"), 0o644)
	c := fixture(t, "no_noise")
	if err := c.Write(p); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("Write left %d files in the directory, want 1", len(entries))
	}
	info, _ := os.Stat(p)
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
	if _, err := Read(p); err != nil {
		t.Error(err)
	}
}

// TestValidateConvexCatches: every rule of the convex scope and the budget,
// one edit at a time, each named by its field.
func TestValidateConvexCatches(t *testing.T) {
	for _, c := range []struct {
		fixture, field string
		edit           func(*Certificate)
	}{
		{"convex_head", "scope", func(c *Certificate) { c.Scope = "head" }},
		{"convex_head", "certified_parameters", func(c *Certificate) { c.CertifiedParameters = nil }},
		{"convex_head", "certified_parameters", func(c *Certificate) { c.CertifiedParameters.Names = nil }},
		{"convex_head", "certified_parameters.names", func(c *Certificate) { c.CertifiedParameters.Names[1] = c.CertifiedParameters.Names[0] }},
		{"convex_head", "frozen_parameters", func(c *Certificate) { c.FrozenParameters = nil }},
		{"convex_head", "frozen_parameters", func(c *Certificate) { c.FrozenParameters.Count = 0 }},
		{"convex_head", "frozen_parameters.digest", func(c *Certificate) { c.FrozenParameters.Digest = "sha256:abc" }},
		{"convex_head", "frozen_parameters.names", func(c *Certificate) { c.FrozenParameters.Names[0] = "layers.4.bias" }},
		{"convex_linear_retrain", "frozen_parameters", func(c *Certificate) { c.FrozenParameters.Names = nil }},
		{"convex_head", "strong_convexity", func(c *Certificate) { c.StrongConvexity = nil }},
		{"convex_head", "strong_convexity.mu", func(c *Certificate) { c.StrongConvexity.Mu = 2e-3 }},
		{"convex_head", "strong_convexity.mu", func(c *Certificate) { c.StrongConvexity.Mu, c.L2 = 0, 0 }},
		{"convex_head", "strong_convexity.loss", func(c *Certificate) { c.StrongConvexity.Loss = "mse" }},
		{"convex_head", "strong_convexity.loss", func(c *Certificate) { c.StrongConvexity.Loss, c.Loss = "hinge", "hinge" }},
		{"convex_head", "strong_convexity.ops", func(c *Certificate) { c.StrongConvexity.Ops = []string{"Gemm", "Relu"} }},
		{"convex_head", "strong_convexity.ops", func(c *Certificate) { c.StrongConvexity.Ops = nil }},
		{"convex_head", "strong_convexity.statement", func(c *Certificate) { c.StrongConvexity.Statement = "" }},
		{"convex_head", "features", func(c *Certificate) { c.Features = nil }},
		{"convex_head", "features.tensor", func(c *Certificate) { c.Features.Tensor = "" }},
		{"convex_head", "features.engine", func(c *Certificate) { c.Features.Engine = "ort" }},
		{"convex_head", "features.precision", func(c *Certificate) { c.Features.Precision = "float16" }},
		{"convex_head", "bound.active_bound", func(c *Certificate) { c.Bound.Active = ActiveTrivial }},
		{"convex_head", "bound.bound_posterior", func(c *Certificate) { c.Bound.Posterior = nil }},
		{"convex_head", "bound.sensitivity", func(c *Certificate) { c.Bound.Sensitivity = 0.004 }},
		{"convex_head", "certified", func(c *Certificate) { c.Bound.Budget, c.Bound.Sensitivity = 0.004, 0.004 }},
		{"convex_head", "bound.posterior_margin", func(c *Certificate) { c.Bound.Posterior.Margin = 0 }},
		{"convex_head", "bound.budget", func(c *Certificate) { c.Bound.Budget, c.Bound.Sensitivity = 0, 0 }},
		{"convex_head", "bound", func(c *Certificate) { c.Bound.Posterior.Start = "zeros" }},
		{"convex_head", "bound", func(c *Certificate) { c.Bound.Posterior.NewtonSteps = 0 }},
		{"convex_head", "bound", func(c *Certificate) { c.Bound.Projected = true }},
		// The convex scope computes none of the full scope's terms, and λ = 0.
		{"convex_head", "bound", func(c *Certificate) { c.Bound.M = 0.8 }},
		{"convex_head", "bound", func(c *Certificate) { c.Bound.Trivial = 10 }},
		{"convex_head", "bound", func(c *Certificate) { c.Bound.LambdaMinMethod = "Lanczos" }},
		{"convex_head", "bound", func(c *Certificate) { c.Bound.Lambda = 0.1 }},
		// A full-scope certificate carries none of the convex fields.
		{"budget_full", "strong_convexity", func(c *Certificate) { c.StrongConvexity = &StrongConvexity{Mu: c.L2, Loss: c.Loss} }},
		{"certified", "features", func(c *Certificate) { c.Features = &Features{} }},
		{"certified", "bound.active_bound", func(c *Certificate) { c.Bound.Posterior = &Posterior{} }},
		{"budget_full", "bound.sensitivity", func(c *Certificate) { c.Bound.Sensitivity = 9 }},
		{"budget_full", "certified", func(c *Certificate) { c.Bound.Budget, c.Bound.Sensitivity = 8, 8 }},
		{"budget_full", "bound.budget", func(c *Certificate) { c.Bound.Budget = -1 }},
	} {
		cert := fixture(t, c.fixture)
		c.edit(cert)
		err := cert.Validate()
		found := false
		for _, e := range flatten(err) {
			var fe *FieldError
			if errors.As(e, &fe) && fe.Field == c.field {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: edit for %s: Validate = %v, want a *FieldError for it", c.fixture, c.field, err)
		}
	}
}

// TestValidateNoNoiseEpsilon: ε = δ = 0 (none requested) is valid only
// without noise; a value given must still be in its domain.
func TestValidateNoNoiseEpsilon(t *testing.T) {
	if err := fixture(t, "no_noise_unset").Validate(); err != nil {
		t.Errorf("no noise, ε = δ = 0: %v", err)
	}
	for _, c := range []struct {
		fixture, field string
		eps, delta     float64
	}{
		{"certified", "epsilon", 0, 1e-5},
		{"certified", "delta", 1, 0},
		{"no_noise_unset", "epsilon", -1, 0},
		{"no_noise_unset", "delta", 0, 1},
	} {
		cert := fixture(t, c.fixture)
		cert.Epsilon, cert.Delta = c.eps, c.delta
		if err := cert.Validate(); err == nil || !strings.Contains(err.Error(), "field "+c.field) {
			t.Errorf("%s with (ε, δ) = (%g, %g): Validate = %v, want it to name %s", c.fixture, c.eps, c.delta, err, c.field)
		}
	}
}

func TestFixtureContentsConvex(t *testing.T) {
	c := fixture(t, "convex_head")
	want, _ := Sigma(Analytic, 0.005, 1, 1e-5)
	if c.Bound.Active != ActivePosterior || c.Bound.Sensitivity != 0.005 || c.Sigma != want || !(c.Bound.Posterior.Value < 0.005) {
		t.Errorf("convex_head: active %s, Δ = %g, σ = %g, posterior %g", c.Bound.Active, c.Bound.Sensitivity, c.Sigma, c.Bound.Posterior.Value)
	}
	c = fixture(t, "convex_linear_retrain")
	if c.Bound.Posterior.Start != StartRetrainZeros || len(c.FrozenParameters.Names) != 0 || c.FrozenParameters.Names == nil || c.Bound.C != 10 {
		t.Errorf("convex_linear_retrain: %+v %+v", c.Bound.Posterior, c.FrozenParameters)
	}
	c = fixture(t, "budget_full")
	if c.Bound.Sensitivity != 10 || c.Bound.Budget != 10 || c.Bound.Active != ActiveTrivial {
		t.Errorf("budget_full: Δ = %g, budget %g, active %s", c.Bound.Sensitivity, c.Bound.Budget, c.Bound.Active)
	}
}

// TestOldCertificatesUnchanged: the goldens written before budgets and
// scopes existed read, validate, check and re-encode to the same bytes.
// TestGolden covers the same files; this pins their absence of new fields.
func TestOldCertificatesUnchanged(t *testing.T) {
	for _, name := range []string{"certified", "no_noise", "seeded_fixed_sigma"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".golden.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{`"scope"`, `"budget"`, `"bound_posterior"`, `"certified_parameters"`} {
			if bytes.Contains(data, []byte(key)) {
				t.Errorf("%s: an old certificate has %s", name, key)
			}
		}
		c, err := Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		if c.Scope != "" || c.Bound.Budget != 0 || c.Bound.Posterior != nil {
			t.Errorf("%s: read back with scope %q, budget %g, posterior %v", name, c.Scope, c.Bound.Budget, c.Bound.Posterior)
		}
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
		if err := CheckSigma(c); err != nil {
			t.Error(err)
		}
		again, _ := c.Marshal()
		if !bytes.Equal(again, data) {
			t.Errorf("%s: re-encoding changed the bytes", name)
		}
	}
}

func TestAssumptionsConvex(t *testing.T) {
	joined := strings.Join(fixture(t, "convex_head").Assumptions, "\n")
	for _, must := range []string{
		"relative to retraining the certified parameters on the retained data with the frozen ones fixed",
		"covers the forget set only if the frozen parameters never saw it (e.g. a backbone pretrained on public or other data)",
		"output of the frozen part as computed by the native engine in float64; the reference retraining is taken on the same features",
		"affine ops (Gemm)", "xent loss is convex in the output", "μ = l2 = 0.001",
		"A-posteriori bound at the released noise-free point", "59000 retained samples",
		"posterior_margin = 3.2e-11 bounds the float64 rounding error", testMarginMethod,
		"Δ_max = 0.005 was fixed before any data-dependent number was computed", "0.0041 ≤ Δ_max",
		"1 undamped Newton step(s) (λ = 0) from the original model w*", "The fallback retraining did not run",
		"analytic Gaussian mechanism", "crypto/rand",
	} {
		if !strings.Contains(joined, must) {
			t.Errorf("convex_head assumptions do not say %q:\n%s", must, joined)
		}
	}
	joined = strings.Join(fixture(t, "convex_linear_retrain").Assumptions, "\n")
	for _, must := range []string{
		"every trainable parameter is certified", "none is frozen",
		"ball ‖w‖₂ ≤ C = 10", "re-projected onto the ball after the last step",
		"the fallback ran: the certified parameters were retrained on the retained data from zeros, a data-independent start, with 9 undamped Newton step(s)",
		"classic Gaussian mechanism",
	} {
		if !strings.Contains(joined, must) {
			t.Errorf("convex_linear_retrain assumptions do not say %q:\n%s", must, joined)
		}
	}
	joined = strings.Join(fixture(t, "budget_full").Assumptions, "\n")
	for _, must := range []string{
		"Δ_max = 10 is the trivial bound 2C, which depends on the radius C alone, fixed before any data-dependent number was computed",
		"σ is calibrated to it, so the noise does not depend on the data",
		"The trivial bound 2C = 10 proves Δ ≤ Δ_max",
	} {
		if !strings.Contains(joined, must) {
			t.Errorf("budget_full assumptions do not say %q:\n%s", must, joined)
		}
	}
	// Over budget, the assumptions say so.
	c := fixture(t, "convex_head")
	c.Bound.Budget, c.Bound.Sensitivity, c.Certified, c.Status = 0.004, 0.004, false, StatusOverBudget
	if joined := strings.Join(Assumptions(c), "\n"); !strings.Contains(joined, "NOT certified (σ was not re-calibrated)") {
		t.Errorf("over-budget assumptions do not say it is not certified:\n%s", joined)
	}
}

// TestReadStrictConvex: the convex bound's layout is read as strictly as
// the rest: a full-scope term in it, or a convex term in a full bound, is
// refused.
func TestReadStrictConvex(t *testing.T) {
	good, err := fixture(t, "convex_head").Marshal()
	if err != nil {
		t.Fatal(err)
	}
	full, _ := fixture(t, "budget_full").Marshal()
	for _, c := range []struct{ name, data string }{
		{"M in a convex bound", strings.Replace(string(good), `"lambda": 0,`, `"lambda": 0, "M": 0,`, 1)},
		{"premise in a convex bound", strings.Replace(string(good), `"lambda": 0,`, `"lambda": 0, "premise": "holds",`, 1)},
		{"posterior in a full bound", strings.Replace(string(full), `"budget": 10,`, `"budget": 10, "bound_posterior": 1,`, 1)},
		{"unknown field in strong_convexity", strings.Replace(string(good), `"mu": 0.001,`, `"mu": 0.001, "mu2": 1,`, 1)},
	} {
		if c.data == string(good) || c.data == string(full) {
			t.Fatalf("%s: edit did not apply", c.name)
		}
		if _, err := Unmarshal([]byte(c.data)); err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%s: err = %v, want an unknown field", c.name, err)
		}
	}
}
