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
