package certify

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
)

// SchemaVersion is the certificate's "schema" value. A reader of v1 rejects
// any other value.
const SchemaVersion = "lethe.certificate/v1"

// Status strings. A certified certificate's status starts with "certified",
// an uncertified one's with "not certified:"; Validate enforces this.
const (
	StatusCertified           = "certified"
	StatusCertifiedFixedSigma = "certified: fixed sigma (epsilon derived from sigma)"
	StatusNoNoise             = "not certified: --no-noise"
	StatusSeeded              = "not certified: noise seeded with --seed is not private"
	StatusPremiseFails        = "not certified: the theorem's premise fails and the output was not re-projected"
	StatusOverBudget          = "not certified: the computed sensitivity bound exceeds the budget sigma is calibrated to"
)

// SigmaMode says how σ was chosen.
type SigmaMode string

const (
	// SigmaCalibrated: σ = Sigma(mechanism, Δ, ε, δ) for the requested ε.
	SigmaCalibrated SigmaMode = "calibrated"
	// SigmaFixed: σ was given (--sigma) and ε = EpsilonForSigma(mechanism, σ, Δ, δ).
	SigmaFixed SigmaMode = "fixed"
	// SigmaNone: no noise was added (--no-noise); σ = 0. ε and δ may then be
	// 0, meaning none was requested.
	SigmaNone SigmaMode = "none"
)

// Forget kinds.
const (
	// ForgetIndices: the forget set was given as sample indices; the digest
	// is DigestIndices of them.
	ForgetIndices = "indices"
	// ForgetSamples: the forget set was given as samples (an .npz); the
	// digest is the SHA-256 of that file.
	ForgetSamples = "samples"
)

// Parity probe sources.
const (
	// ProbeRandom: the probe batch is regenerated from Probe.Seed and Probe.Shape.
	ProbeRandom = "random"
	// ProbeData: the probe batch is rows Probe.Indices of the --data set.
	ProbeData = "data"
)

// Certificate is the sidecar a certified unlearning run writes beside its
// output model (DESIGN §5). Its JSON field names are a public contract; see
// certificate.schema.json. The zero value is not valid: fill every field,
// then Validate (Write does).
type Certificate struct {
	Schema string `json:"schema"`
	Tool   Tool   `json:"tool"`
	// Input and Output are the ONNX files before and after unlearning.
	Input  FileRef `json:"input"`
	Output FileRef `json:"output"`
	Forget Forget  `json:"forget"`
	// Epsilon and Delta are the (ε, δ) of the guarantee: requested, or with
	// SigmaFixed derived from σ. With SigmaNone there is no guarantee and
	// both may be 0 (not requested); any other mode needs ε > 0 and
	// δ ∈ (0, 1).
	Epsilon   float64   `json:"epsilon"`
	Delta     float64   `json:"delta"`
	Mechanism Mechanism `json:"mechanism"`
	// Sigma is the standard deviation of the noise actually added.
	Sigma     float64   `json:"sigma"`
	SigmaMode SigmaMode `json:"sigma_mode"`
	// NoisePrivate is false for seeded noise and for no noise.
	NoisePrivate bool   `json:"noise_private"`
	NoiseSource  string `json:"noise_source"`
	// NoiseSeed is recorded for seeded noise only. Seeded noise is not
	// private, so recording the seed discloses nothing that was secret and
	// lets anyone reproduce the test run.
	NoiseSeed *uint64 `json:"noise_seed,omitempty"`
	Certified bool    `json:"certified"`
	Status    string  `json:"status"`
	// Scope is ScopeFull or ScopeConvex; empty (absent) means full, as in
	// certificates written before scopes existed.
	Scope Scope `json:"scope,omitempty"`
	Bound Bound `json:"bound"`
	// L2 is μ of the objective L(w, S) + (μ/2)‖w‖²; Loss names ℓ.
	L2   float64 `json:"l2"`
	Loss string  `json:"loss"`
	// CertifiedParameters, FrozenParameters, StrongConvexity and Features
	// describe the convex scope; all four are set exactly when Scope is
	// ScopeConvex.
	CertifiedParameters *CertifiedParameters `json:"certified_parameters,omitempty"`
	FrozenParameters    *FrozenParameters    `json:"frozen_parameters,omitempty"`
	StrongConvexity     *StrongConvexity     `json:"strong_convexity,omitempty"`
	Features            *Features            `json:"features,omitempty"`
	// Assumptions states, in words, every estimated quantity and every
	// premise the guarantee rests on (see Assumptions).
	Assumptions []string `json:"assumptions"`
	Parity      Parity   `json:"parity"`
	// PreviousCertificate is the Digest of the previous certificate when
	// deletion requests are chained; empty for the first.
	PreviousCertificate string     `json:"previous_certificate,omitempty"`
	Cumulative          Cumulative `json:"cumulative"`
	// StartedAt and CreatedAt are RFC 3339 UTC timestamps (see Timestamp).
	StartedAt string `json:"started_at"`
	CreatedAt string `json:"created_at"`
	// Signature is set by Sign and excluded from the Digest.
	Signature *Signature `json:"signature,omitempty"`
}

// Tool identifies the program that wrote the certificate.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// FileRef names a file and its SHA-256 (64 lower-case hex digits, see FileSHA256).
type FileRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Forget describes the forgotten samples without revealing them: a digest,
// how the set was given, the training-set size N and the number forgotten.
type Forget struct {
	Digest  string `json:"digest"`
	Kind    string `json:"kind"`
	N       int    `json:"n"`
	NForget int    `json:"n_forget"`
}

// Cumulative counts the chain of deletion requests this certificate ends:
// Requests is 1 for an unchained request, NForget the samples forgotten over
// the whole chain.
type Cumulative struct {
	Requests int `json:"requests"`
	NForget  int `json:"n_forget"`
}

// Parity records the onnxruntime parity check of the output model, with
// enough detail for `lethe verify` to re-run onnxruntime without the data.
type Parity struct {
	OnnxruntimeVersion string `json:"onnxruntime_version"`
	Probe              Probe  `json:"probe"`
	// NativeOutputs are lethe's own outputs on the probe batch.
	NativeOutputs []ParityOutput `json:"native_outputs"`
	MaxAbsDiff    float64        `json:"max_abs_diff"`
	MaxRelDiff    float64        `json:"max_rel_diff"`
	Tolerance     Tolerance      `json:"tolerance"`
	Pass          bool           `json:"pass"`
}

// Probe says how the parity probe batch is obtained: with Source
// ProbeRandom from Seed and Shape, with ProbeData as rows Indices of the data.
type Probe struct {
	Source  string  `json:"source"`
	Seed    *uint64 `json:"seed,omitempty"`
	Shape   []int64 `json:"shape"`
	Indices []int64 `json:"indices,omitempty"`
}

// ParityOutput is one output tensor of the model on the probe batch.
type ParityOutput struct {
	Name   string    `json:"name"`
	Shape  []int64   `json:"shape"`
	Values []float32 `json:"values"`
}

// Tolerance is the parity tolerance: an output element passes when
// |ort − native| ≤ Abs + Rel·|native| + Slack·e, with e the largest rounding
// error of lethe's float32 outputs in the same sample, measured against its
// float64 evaluation (see package parity).
type Tolerance struct {
	Abs   float64 `json:"abs"`
	Rel   float64 `json:"rel"`
	Slack float64 `json:"slack"`
}

// Signature is an Ed25519 signature of the certificate's Digest; PublicKey
// and Value are standard base64.
type Signature struct {
	Algorithm string `json:"algorithm"`
	PublicKey string `json:"public_key"`
	Value     string `json:"value"`
}

// Timestamp formats t as the certificate records times: RFC 3339, UTC,
// whole seconds.
func Timestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// FieldError reports one invalid certificate field; Field is its JSON path.
type FieldError struct {
	Field  string
	Reason string
}

// Error implements the error interface.
func (e *FieldError) Error() string {
	return fmt.Sprintf("certify: certificate field %s: %s", e.Field, e.Reason)
}

var (
	hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)
	digestRE  = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// Validate checks the certificate's structure: the schema string, formats of
// hashes, digests and timestamps, value domains, and the consistency of
// certified, status, noise, chain, budget and scope fields (see
// validateScope). It returns all problems joined, each a *FieldError. It does
// not recompute σ or the bound: that is CheckSigma.
func (c *Certificate) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if c.Schema != SchemaVersion {
		bad("schema", "got %q, want %q", c.Schema, SchemaVersion)
	}
	if c.Tool.Name == "" || c.Tool.Version == "" {
		bad("tool", "name and version are required")
	}
	for _, f := range []struct {
		field string
		ref   FileRef
	}{{"input", c.Input}, {"output", c.Output}} {
		field, ref := f.field, f.ref
		if ref.Path == "" {
			bad(field+".path", "is empty")
		}
		if !hexSHA256.MatchString(ref.SHA256) {
			bad(field+".sha256", "%q is not 64 lower-case hex digits", ref.SHA256)
		}
	}
	if !digestRE.MatchString(c.Forget.Digest) {
		bad("forget.digest", "%q is not sha256:<64 hex>", c.Forget.Digest)
	}
	if c.Forget.Kind != ForgetIndices && c.Forget.Kind != ForgetSamples {
		bad("forget.kind", "%q is not %q or %q", c.Forget.Kind, ForgetIndices, ForgetSamples)
	}
	if c.Forget.NForget < 1 || c.Forget.NForget > c.Forget.N {
		bad("forget.n_forget", "%d is not in [1, n = %d]", c.Forget.NForget, c.Forget.N)
	}
	// Without noise there is no guarantee, so ε and δ may be 0 (none
	// requested); any value given must still be in its domain.
	unset := c.SigmaMode == SigmaNone
	if !(c.Epsilon > 0 || unset && c.Epsilon == 0) || math.IsInf(c.Epsilon, 1) {
		bad("epsilon", "%g is not finite and > 0 (0 is allowed only with sigma_mode %q)", c.Epsilon, SigmaNone)
	}
	if !(c.Delta > 0 && c.Delta < 1 || unset && c.Delta == 0) {
		bad("delta", "%g is not in (0, 1) (0 is allowed only with sigma_mode %q)", c.Delta, SigmaNone)
	}
	if _, err := ParseMechanism(string(c.Mechanism)); err != nil {
		bad("mechanism", "%q is not %q or %q", c.Mechanism, Analytic, Classic)
	}
	if !(c.Sigma >= 0) || math.IsInf(c.Sigma, 1) {
		bad("sigma", "%g is not finite and ≥ 0", c.Sigma)
	}
	switch c.SigmaMode {
	case SigmaCalibrated, SigmaFixed:
		if c.Sigma == 0 {
			bad("sigma", "is 0 with sigma_mode %q", c.SigmaMode)
		}
	case SigmaNone:
		if c.Sigma != 0 || c.NoiseSource != NoiseSourceNone {
			bad("sigma_mode", "%q needs sigma 0 and noise_source %q", SigmaNone, NoiseSourceNone)
		}
	default:
		bad("sigma_mode", "%q is not %q, %q or %q", c.SigmaMode, SigmaCalibrated, SigmaFixed, SigmaNone)
	}
	switch c.NoiseSource {
	case NoiseSourcePrivate:
		if !c.NoisePrivate || c.NoiseSeed != nil {
			bad("noise_private", "noise_source %q needs noise_private true and no noise_seed", c.NoiseSource)
		}
	case NoiseSourceSeeded:
		if c.NoisePrivate || c.NoiseSeed == nil {
			bad("noise_private", "noise_source %q needs noise_private false and a noise_seed", c.NoiseSource)
		}
	case NoiseSourceNone:
		if c.NoisePrivate || c.NoiseSeed != nil {
			bad("noise_private", "noise_source %q needs noise_private false and no noise_seed", c.NoiseSource)
		}
	default:
		bad("noise_source", "%q is not %q, %q or %q", c.NoiseSource, NoiseSourcePrivate, NoiseSourceSeeded, NoiseSourceNone)
	}
	if c.Certified {
		if c.Status != StatusCertified && !strings.HasPrefix(c.Status, StatusCertified+":") {
			bad("status", "%q does not start with %q although certified is true", c.Status, StatusCertified)
		}
		if !c.NoisePrivate {
			bad("certified", "is true but noise_private is false")
		}
	} else if !strings.HasPrefix(c.Status, "not certified:") {
		bad("status", "%q does not start with \"not certified:\" although certified is false", c.Status)
	}
	if c.Loss == "" {
		bad("loss", "is empty")
	}
	if !(c.L2 >= 0) || math.IsInf(c.L2, 1) {
		bad("l2", "%g is not finite and ≥ 0", c.L2)
	}
	if len(c.Assumptions) == 0 {
		bad("assumptions", "is empty: every certificate rests on stated assumptions")
	}
	if len(c.Parity.Probe.Shape) == 0 {
		bad("parity.probe.shape", "is empty")
	}
	if len(c.Parity.NativeOutputs) == 0 {
		bad("parity.native_outputs", "is empty")
	}
	for i, o := range c.Parity.NativeOutputs {
		if o.Shape == nil || len(o.Values) == 0 {
			bad(fmt.Sprintf("parity.native_outputs[%d]", i), "needs a shape and values")
		}
	}
	switch c.Parity.Probe.Source {
	case ProbeRandom:
		if c.Parity.Probe.Seed == nil {
			bad("parity.probe", "source %q needs a seed", ProbeRandom)
		}
	case ProbeData:
		if len(c.Parity.Probe.Indices) == 0 {
			bad("parity.probe", "source %q needs indices", ProbeData)
		}
	default:
		bad("parity.probe.source", "%q is not %q or %q", c.Parity.Probe.Source, ProbeRandom, ProbeData)
	}
	if c.Cumulative.Requests < 1 {
		bad("cumulative.requests", "%d < 1", c.Cumulative.Requests)
	}
	if c.Cumulative.NForget < c.Forget.NForget {
		bad("cumulative.n_forget", "%d < forget.n_forget = %d", c.Cumulative.NForget, c.Forget.NForget)
	}
	if chained := c.PreviousCertificate != ""; chained != (c.Cumulative.Requests > 1) {
		bad("previous_certificate", "must be set exactly when cumulative.requests > 1 (requests = %d)", c.Cumulative.Requests)
	} else if chained && !digestRE.MatchString(c.PreviousCertificate) {
		bad("previous_certificate", "%q is not sha256:<64 hex>", c.PreviousCertificate)
	}
	started, errStarted := parseUTC(c.StartedAt)
	if errStarted != nil {
		bad("started_at", "%q is not an RFC 3339 UTC timestamp", c.StartedAt)
	}
	if created, err := parseUTC(c.CreatedAt); err != nil {
		bad("created_at", "%q is not an RFC 3339 UTC timestamp", c.CreatedAt)
	} else if errStarted == nil && created.Before(started) {
		bad("created_at", "%s is before started_at %s", c.CreatedAt, c.StartedAt)
	}
	if s := c.Signature; s != nil && s.Algorithm != SignatureAlgorithm {
		bad("signature.algorithm", "%q is not %q", s.Algorithm, SignatureAlgorithm)
	}
	c.validateScope(bad)
	return errors.Join(errs...)
}

// parseUTC parses an RFC 3339 timestamp that must be in UTC ("Z").
func parseUTC(ts string) (time.Time, error) {
	if !strings.HasSuffix(ts, "Z") {
		return time.Time{}, fmt.Errorf("certify: timestamp %q is not in UTC", ts)
	}
	return time.Parse(time.RFC3339, ts)
}
