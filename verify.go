package lethe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
	"github.com/lethe-ml/lethe/parity"
)

// VerifyRequest asks to re-check an unlearned model against its
// certificate (`lethe verify`), without trusting the run that wrote them.
// Model is required; the zero value of every other field is the documented
// default.
type VerifyRequest struct {
	// Model is the unlearned ONNX file.
	Model string
	// Cert is its certificate. Default: CertPath(Model).
	Cert string
	// PublicKeyFile is an Ed25519 public key (PEM) the certificate must be
	// signed with. Without it a signature is checked only against the key
	// the certificate carries: integrity, not identity.
	PublicKeyFile string
	// Input is the original model, to check the certified input hash.
	Input string
	// Chain lists the earlier certificates of a chain of sequential
	// requests, oldest first, when Model is the output of a chained
	// request: the first is a request on a model lethe had not unlearned
	// (cumulative.requests 1), and each later one, Cert last, chains on the
	// one before it (see Verify's "chain" check).
	Chain []string
	// Data, when given, adds a parity check of both engines on its first
	// Limit samples.
	Data Data
	// Limit bounds the samples of Data compared. Default 1024.
	Limit int
}

// Check is one verification step and its outcome.
type Check struct {
	// Name is the check: certificate, output, binding, input, sigma,
	// assumptions, signature, chain, convexity, frozen, posterior, model,
	// parity, native parity or data parity.
	Name string `json:"name"`
	// Status is CheckPass, CheckFail or CheckSkip.
	Status string `json:"status"`
	// Detail says what was found, or why the check failed or was skipped.
	Detail string `json:"detail"`
}

// The outcomes of a Check.
const (
	CheckPass = "pass"
	CheckFail = "fail"
	CheckSkip = "skip"
)

// VerifyReport is what Verify found. Its JSON encoding is the output of
// `lethe verify --json` (schemas/verify.schema.json).
type VerifyReport struct {
	// Model and Certificate are the files checked.
	Model       string `json:"model"`
	Certificate string `json:"certificate"`
	// Certified and Status are the certificate's claims.
	Certified bool   `json:"certified"`
	Status    string `json:"status"`
	// OK reports that no check failed.
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// Failed lists the names of the checks that failed, each once.
func (r *VerifyReport) Failed() []string {
	var names []string
	for _, c := range r.Checks {
		if c.Status == CheckFail && !slices.Contains(names, c.Name) {
			names = append(names, c.Name)
		}
	}
	return names
}

// Tally counts the checks by outcome, e.g. "9 pass, 1 skipped".
func (r *VerifyReport) Tally() string {
	var pass, fail, skip int
	for _, c := range r.Checks {
		switch c.Status {
		case CheckPass:
			pass++
		case CheckFail:
			fail++
		default:
			skip++
		}
	}
	s := fmt.Sprintf("%d pass", pass)
	if skip > 0 {
		s += fmt.Sprintf(", %d skipped", skip)
	}
	if fail > 0 {
		s += fmt.Sprintf(", %d FAIL", fail)
	}
	return s
}

func (r *VerifyReport) add(name string, err error, pass string) {
	c := Check{Name: name, Status: CheckPass, Detail: pass}
	if err != nil {
		c.Status, c.Detail = CheckFail, err.Error()
		r.OK = false
	}
	r.Checks = append(r.Checks, c)
}

func (r *VerifyReport) skip(name, why string) {
	r.Checks = append(r.Checks, Check{Name: name, Status: CheckSkip, Detail: why})
}

// Verify re-checks everything a certificate claims about a model:
//
//	certificate  the file is a valid lethe.certificate/v1
//	output       the model's SHA-256 equals the certified output hash
//	binding      the model's metadata carries this certificate's binding digest
//	input        the original model's hash (with Input)
//	sigma        σ recomputed from the recorded Δ, ε, δ and mechanism, and Δ
//	             recomputed from its terms
//	assumptions  the assumptions in words are those the certificate's
//	             numbers imply (certify.Assumptions)
//	signature    the Ed25519 signature
//	chain        (with Chain) every earlier certificate is valid and each
//	             link chains on the one before: its previous_certificate is
//	             that one's digest, its input SHA-256 that one's output
//	             SHA-256, and its cumulative counts that one's plus its own;
//	             the first link is a first request. A certificate that
//	             chains on another is skipped without Chain. A reordered
//	             chain, a gap or a link of another model's chain fails.
//	convexity    (convex scope) the convexity pass, re-run on the model for
//	             the certified parameters and the loss, proves the scope again
//	frozen       (convex scope) the frozen parameters' names and digest
//	posterior    (convex scope, skipped) what is taken on trust: the
//	             a-posteriori bound was computed at the noise-free point,
//	             which is never stored
//	model        the model loads and compiles in lethe's engine (in the
//	             convex scope with onnxruntime features: its certified part)
//	parity       onnxruntime reproduces the recorded outputs on the
//	             regenerated probe batch, and so does lethe's engine
//	data parity  with Data, both engines agree on its first samples
//
// It returns the report, and with it a *CheckError naming the failed checks
// when one failed. A model or certificate that cannot be read is an
// *InputError (and no report); a missing onnxruntime another error.
func Verify(ctx context.Context, req VerifyRequest) (*VerifyReport, error) {
	switch {
	case req.Model == "":
		return nil, badField("Model", "no model given")
	case req.Limit < 0:
		return nil, badField("Limit", "%d: want ≥ 1 (or 0 for the default)", req.Limit)
	}
	if !req.Data.IsZero() {
		if err := req.Data.validate("Data"); err != nil {
			return nil, err
		}
	}
	if req.Cert == "" {
		req.Cert = CertPath(req.Model)
	}
	if req.Limit == 0 {
		req.Limit = 1024
	}
	if _, err := os.Stat(req.Model); err != nil {
		return nil, badInput("Model", err)
	}
	if _, err := os.Stat(req.Cert); err != nil {
		return nil, badInput("Cert", fmt.Errorf("certificate: %w", err))
	}
	for _, p := range req.Chain {
		if _, err := os.Stat(p); err != nil {
			return nil, badInput("Chain", fmt.Errorf("certificate: %w", err))
		}
	}
	r := &VerifyReport{Model: req.Model, Certificate: req.Cert, OK: true}
	c, err := certify.Read(req.Cert)
	if err == nil {
		err = c.Validate()
	}
	r.add("certificate", err, "valid "+certify.SchemaVersion)
	if err != nil {
		return finish(r)
	}
	r.Certified, r.Status = c.Certified, c.Status
	sha, err := certify.FileSHA256(req.Model)
	if err != nil {
		return nil, badInput("Model", err)
	}
	r.add("output", mismatch("SHA-256", sha, c.Output.SHA256), "sha256 "+sha)
	m, loadErr := onnxio.Load(req.Model)
	if loadErr != nil {
		r.add("model", loadErr, "")
	} else {
		binding, err := c.BindingDigest()
		if carried := m.Metadata()[MetaCertificate]; err == nil && carried != binding {
			if carried == "" {
				carried = "none"
			}
			err = fmt.Errorf("the model carries certificate binding %s, this certificate's is %s: the certificate was edited after its release, or it belongs to another model", carried, binding)
		}
		r.add("binding", err, binding)
	}
	if req.Input != "" {
		in, err := certify.FileSHA256(req.Input)
		if err != nil {
			return nil, badInput("Input", err)
		}
		r.add("input", mismatch("input SHA-256", in, c.Input.SHA256), "sha256 "+in)
	} else {
		r.skip("input", "no original model given")
	}
	r.add("sigma", certify.CheckSigma(c), fmt.Sprintf("σ = %.6g covers Δ = %.6g at (ε, δ) = (%.4g, %.3g), %s", c.Sigma, c.Bound.Sensitivity, c.Epsilon, c.Delta, c.Mechanism))
	r.add("assumptions", checkAssumptions(c), fmt.Sprintf("%d statements, as the certificate's numbers imply", len(c.Assumptions)))
	checkSignature(r, c, req.PublicKeyFile)
	checkChain(r, c, req.Chain)
	if loadErr != nil {
		return finish(r)
	}
	if c.Scope == certify.ScopeConvex {
		checkConvex(r, c, m)
	}
	var sp *split
	if c.Features != nil && c.Features.Engine == certify.FeaturesOnnxruntime && c.StrongConvexity != nil {
		out := m.Graph().Outputs
		if len(out) > 0 {
			sp = &split{cut: c.Features.Tensor, output: out[0].Name}
		}
	}
	prog, err := autodiff.Compile(m, autodiff.Options{})
	switch {
	case err == nil:
		r.add("model", nil, fmt.Sprintf("loads and compiles (%d trainable parameters)", prog.Dim()))
	case sp != nil:
		r.add("model", nil, fmt.Sprintf("loads; lethe's engine runs the certified part on onnxruntime's features %s (it cannot compile the backbone: %v)", sp.cut, err))
	default:
		r.add("model", err, "")
		return finish(r)
	}
	if err := ort.Init(); err != nil {
		return nil, fmt.Errorf("lethe: verify: the parity checks need onnxruntime: %w", err)
	}
	ev, closeEv, err := sp.evaluator(m)
	if err != nil {
		r.add("parity", err, "")
		return finish(r)
	}
	defer closeEv()
	checkProbe(r, req.Model, c, m, ev)
	if !req.Data.IsZero() {
		checkData(ctx, r, req, m, ev)
	} else {
		r.skip("data parity", "no data given")
	}
	return finish(r)
}

// checkConvex re-checks a convex-scope certificate's structural claims on
// the released model: the convexity proof (re-run on the model, for the
// certified parameters and the loss), the frozen parameters' names and
// digest, and says what is taken on trust.
func checkConvex(r *VerifyReport, c *certify.Certificate, m *onnxio.Model) {
	loss, err := autodiff.ParseLoss(c.Loss)
	var proof *autodiff.AffineProof
	if err == nil {
		proof, err = autodiff.ProveAffine(m, c.CertifiedParameters.Names, loss)
	}
	if err == nil && proof.Size != c.CertifiedParameters.Count {
		err = fmt.Errorf("the certified parameters have %d values in the model, the certificate says %d", proof.Size, c.CertifiedParameters.Count)
	}
	if err == nil && !slices.Equal(proof.Ops, c.StrongConvexity.Ops) {
		err = fmt.Errorf("the affine region has ops %v, the certificate says %v", proof.Ops, c.StrongConvexity.Ops)
	}
	detail := ""
	if proof != nil {
		detail = fmt.Sprintf("re-proven on the model: %d certified values reach %s through %s only", proof.Size, proof.Output, strings.Join(proof.Ops, ", "))
	}
	r.add("convexity", err, detail)
	_, frozen, err := splitParams(m, c.CertifiedParameters.Names)
	var digest string
	if err == nil {
		var w []float64
		if w, err = m.ParamVector(frozen); err == nil {
			digest = digestParams(frozen, w)
		}
	}
	if err == nil {
		names := make([]string, len(frozen))
		for i, p := range frozen {
			names[i] = p.Name
		}
		switch {
		case !slices.Equal(names, c.FrozenParameters.Names):
			err = fmt.Errorf("the model's other parameters are %v, the certificate's frozen ones %v", names, c.FrozenParameters.Names)
		default:
			err = mismatch("frozen parameters' digest", digest, c.FrozenParameters.Digest)
		}
	}
	r.add("frozen", err, fmt.Sprintf("%d frozen parameters unchanged (%s)", len(c.FrozenParameters.Names), digest))
	r.skip("posterior", "taken on trust: "+strings.Join(certify.TakenOnTrust(c), " "))
}

// checkAssumptions compares the certificate's assumptions in words with
// those its numbers imply.
func checkAssumptions(c *certify.Certificate) error {
	want := certify.Assumptions(c)
	for i := range max(len(want), len(c.Assumptions)) {
		switch {
		case i >= len(c.Assumptions):
			return fmt.Errorf("statement %d is missing: %q", i+1, want[i])
		case i >= len(want):
			return fmt.Errorf("statement %d is not one the certificate's numbers imply: %q", i+1, c.Assumptions[i])
		case c.Assumptions[i] != want[i]:
			return fmt.Errorf("statement %d reads %q; the certificate's numbers imply %q", i+1, c.Assumptions[i], want[i])
		}
	}
	return nil
}

// checkChain checks the chain of earlier certificates (paths, oldest first)
// that c ends.
func checkChain(r *VerifyReport, c *certify.Certificate, paths []string) {
	if len(paths) == 0 {
		if c.PreviousCertificate != "" {
			r.skip("chain", fmt.Sprintf("request %d of a chain: give the earlier certificates, oldest first, to check it", c.Cumulative.Requests))
		} else {
			r.skip("chain", "a first request: no earlier certificate")
		}
		return
	}
	links := make([]*certify.Certificate, 0, len(paths)+1)
	names := append(slices.Clone(paths), r.Certificate)
	for i, p := range paths {
		l, err := certify.Read(p)
		if err == nil {
			err = l.Validate()
		}
		if err == nil {
			err = certify.CheckSigma(l)
		}
		if err != nil {
			r.add("chain", fmt.Errorf("link %d (%s) is not a valid certificate: %w", i+1, p, err), "")
			return
		}
		links = append(links, l)
	}
	links = append(links, c)
	if first := links[0]; first.Cumulative.Requests != 1 || first.PreviousCertificate != "" {
		r.add("chain", fmt.Errorf("link 1 (%s) is request %d of a chain, not a first request: give every earlier certificate, oldest first", names[0], first.Cumulative.Requests), "")
		return
	}
	for i := 1; i < len(links); i++ {
		prev, l := links[i-1], links[i]
		d, err := prev.Digest()
		if err != nil {
			r.add("chain", fmt.Errorf("link %d (%s): %w", i, names[i-1], err), "")
			return
		}
		var bad error
		switch {
		case l.PreviousCertificate != d:
			prevText := l.PreviousCertificate
			if prevText == "" {
				prevText = "none (a first request)"
			}
			bad = fmt.Errorf("chains on certificate %s, but link %d (%s) is %s: the chain is out of order, has a gap, or mixes chains", prevText, i, names[i-1], d)
		case l.Input.SHA256 != prev.Output.SHA256:
			bad = fmt.Errorf("unlearned a model with sha256 %s, but link %d (%s) released %s: the links are of different models", l.Input.SHA256, i, names[i-1], prev.Output.SHA256)
		case l.Cumulative.Requests != prev.Cumulative.Requests+1:
			bad = fmt.Errorf("counts %d requests, link %d (%s) %d: want one more", l.Cumulative.Requests, i, names[i-1], prev.Cumulative.Requests)
		case l.Cumulative.NForget != prev.Cumulative.NForget+l.Forget.NForget:
			bad = fmt.Errorf("counts %d samples forgotten in all, but link %d (%s) counts %d and this request forgot %d", l.Cumulative.NForget, i, names[i-1], prev.Cumulative.NForget, l.Forget.NForget)
		}
		if bad != nil {
			r.add("chain", fmt.Errorf("link %d (%s) %w", i+1, names[i], bad), "")
			return
		}
	}
	r.add("chain", nil, fmt.Sprintf("%d requests, each chained on the one before, %d samples forgotten in all", len(links), c.Cumulative.NForget))
}

// finish returns the report with a *CheckError when a check failed.
func finish(r *VerifyReport) (*VerifyReport, error) {
	if r.OK {
		return r, nil
	}
	failed := r.Failed()
	return r, &CheckError{Checks: failed, Err: errors.New("verification failed: " + strings.Join(failed, ", "))}
}

// mismatch reports got != want.
func mismatch(what, got, want string) error {
	if got != want {
		if got == "" {
			got = "(none)"
		}
		return fmt.Errorf("%s is %s, the certificate says %s", what, got, want)
	}
	return nil
}

func checkSignature(r *VerifyReport, c *certify.Certificate, pubKey string) {
	switch {
	case pubKey != "":
		pub, err := certify.LoadPublicKey(pubKey)
		if err != nil {
			r.add("signature", fmt.Errorf("%s: %w", pubKey, err), "")
			return
		}
		r.add("signature", c.VerifySignature(pub), "signed by "+pubKey)
	case c.Signature == nil:
		r.skip("signature", "the certificate is not signed")
	default:
		pub, err := c.EmbeddedPublicKey()
		if err == nil {
			err = c.VerifySignature(pub)
		}
		r.add("signature", err, "intact, signed by the key it carries (give a public key to check who signed)")
	}
}

// checkProbe regenerates the probe batch and compares both engines with the
// recorded outputs of lethe's engine; ev is lethe's side.
func checkProbe(r *VerifyReport, path string, c *certify.Certificate, m *onnxio.Model, ev parity.Evaluator) {
	p := c.Parity.Probe
	if p.Source != certify.ProbeRandom {
		r.skip("parity", "the probe was drawn from data; give the same data to re-check")
		return
	}
	shape := make([]int, len(p.Shape))
	for i, d := range p.Shape {
		shape[i] = int(d)
	}
	x := parity.RandomProbe(*p.Seed, shape)
	recorded := make([]parity.Output, len(c.Parity.NativeOutputs))
	for i, out := range c.Parity.NativeOutputs {
		recorded[i] = parity.Output{Name: out.Name, Shape: out.Shape, Values: out.Values}
	}
	tol := parity.Tolerance{Abs: c.Parity.Tolerance.Abs, Rel: c.Parity.Tolerance.Rel, Slack: c.Parity.Tolerance.Slack}
	res, err := parity.CheckRecordedWith(path, m, ev, x, shape[1:], shape[0], recorded, tol)
	if err == nil && !res.Pass {
		err = fmt.Errorf("onnxruntime %s differs from the recorded outputs at %s", res.ORTVersion, res.Worst)
	}
	version, maxAbs := "", 0.0
	if res != nil {
		version, maxAbs = res.ORTVersion, res.MaxAbs
	}
	r.add("parity", err, fmt.Sprintf("onnxruntime %s reproduces the recorded outputs (max |Δ| %.3g)", version, maxAbs))
	// lethe's engine on the same file must reproduce them too: this ties
	// the recorded outputs to the weights in the file.
	in := &onnxio.Tensor{Name: m.Graph().DataInputs()[0].Name, Type: onnxio.Float, Dims: p.Shape, Float32: x}
	out, err := ev(in, autodiff.Float32)
	if err == nil {
		var got []float64
		if got, err = out[0].Float64s(); err == nil {
			err = compareRecorded(got, recorded[0].Values, parity.Tolerance{Abs: tol.Abs, Rel: tol.Rel})
		}
	}
	r.add("native parity", err, "lethe's engine reproduces the recorded outputs")
}

func compareRecorded(got []float64, want []float32, tol parity.Tolerance) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d outputs, %d recorded", len(got), len(want))
	}
	for i := range got {
		d := got[i] - float64(want[i])
		if d < 0 {
			d = -d
		}
		w := float64(want[i])
		if w < 0 {
			w = -w
		}
		if !(d <= tol.Abs+tol.Rel*w) {
			return fmt.Errorf("output %d is %g, recorded %g", i, got[i], want[i])
		}
	}
	return nil
}

// checkData compares the engines on the first samples of the data.
func checkData(ctx context.Context, r *VerifyReport, req VerifyRequest, m *onnxio.Model, ev parity.Evaluator) {
	src, closeSrc, err := req.Data.open("Data")
	if err != nil {
		r.add("data parity", err, "")
		return
	}
	defer closeSrc()
	fit, err := fitData(m, req.Model, src, req.Data.String())
	if err != nil {
		r.add("data parity", err, "")
		return
	}
	n := min(req.Limit, fit.Len())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sample := fit.SampleShape()
	x := make([]float32, n*numel(sample))
	if err := fit.Read(idx, x, nil); err != nil {
		r.add("data parity", err, "")
		return
	}
	res, err := parity.CheckWith(m, ev, x, sample, n, parity.DefaultTolerance)
	maxAbs := 0.0
	if err == nil {
		maxAbs = res.MaxAbs
		if !res.Pass {
			err = fmt.Errorf("the engines disagree at %s", res.Worst)
		}
	}
	r.add("data parity", err, fmt.Sprintf("%d samples, max |Δ| %.3g", n, maxAbs))
}
