package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
	"github.com/lethe-ml/lethe/parity"
)

// verifyOptions are the inputs of `lethe verify`.
type verifyOptions struct {
	io     *ioStreams
	global *globalOptions
	data   dataFlags

	Model  string
	Cert   string
	PubKey string
	Input  string
	Limit  int
}

func newVerifyCmd(streams *ioStreams, global *globalOptions, runF func(*verifyOptions) error) *cobra.Command {
	o := &verifyOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "verify MODEL [--cert CERT] [--data F] [--pub-key K]",
		Short: "Re-check an unlearned model against its certificate",
		Long: `verify re-checks everything a certificate claims about MODEL, without trusting
the run that wrote it:

  certificate  the file is a valid lethe.certificate/v1
  output       MODEL's SHA-256 equals the certified output hash
  binding      MODEL's metadata carries this certificate's binding digest
  input        the original model's hash (with --input)
  sigma        σ recomputed from the recorded Δ, ε, δ and mechanism, and Δ
               recomputed from C, M, λ, λ_min and ρ
  signature    the Ed25519 signature (against --pub-key when given; otherwise
               only against the key the certificate carries: integrity, not
               identity)
  model        MODEL loads and compiles in lethe's engine
  parity       onnxruntime reproduces the recorded outputs on the regenerated
               probe batch, and so does lethe's engine
  data parity  with --data, both engines agree on the first --limit samples

Exit code 0 when every check passes, 1 when one fails (each failure named),
2 when a file is missing or unreadable.`,
		Example: `  lethe verify mlp-unlearned.onnx
  lethe verify out.onnx --cert out.cert.json --pub-key lethe.pub --data mnist:test --json`,
		Args: exactArgs(1, "one MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			if o.Cert == "" {
				o.Cert = certPathFor(o.Model)
			}
			if o.Limit < 1 {
				return usageErrorf("verify: --limit %d: want ≥ 1", o.Limit)
			}
			if o.data.Data != "" || o.data.X != "" {
				if err := o.data.validate("verify"); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(o)
			}
			return runVerify(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.data.register(f)
	f.StringVar(&o.Cert, "cert", "", "certificate (default: MODEL with .cert.json in place of .onnx)")
	f.StringVar(&o.PubKey, "pub-key", "", "Ed25519 public key (PEM) the certificate must be signed with")
	f.StringVar(&o.Input, "input", "", "the original model, to check the certified input hash")
	f.IntVar(&o.Limit, "limit", 1024, "samples of --data to compare the engines on")
	return cmd
}

// check is one verification step.
type check struct {
	Name   string `json:"name"`
	Status string `json:"status"` // pass, fail or skip
	Detail string `json:"detail"`
}

// verifyReport is the --json output of verify.
type verifyReport struct {
	Model       string  `json:"model"`
	Certificate string  `json:"certificate"`
	Certified   bool    `json:"certified"`
	Status      string  `json:"status"`
	OK          bool    `json:"ok"`
	Checks      []check `json:"checks"`
}

func (r *verifyReport) add(name string, err error, pass string) {
	c := check{Name: name, Status: "pass", Detail: pass}
	if err != nil {
		c.Status, c.Detail = "fail", err.Error()
		r.OK = false
	}
	r.Checks = append(r.Checks, c)
}

func (r *verifyReport) skip(name, why string) {
	r.Checks = append(r.Checks, check{Name: name, Status: "skip", Detail: why})
}

func runVerify(ctx context.Context, o *verifyOptions) error {
	if _, err := os.Stat(o.Model); err != nil {
		return badInput(err)
	}
	if _, err := os.Stat(o.Cert); err != nil {
		return badInput(fmt.Errorf("certificate: %w", err))
	}
	r := &verifyReport{Model: o.Model, Certificate: o.Cert, OK: true}
	c, err := certify.Read(o.Cert)
	if err == nil {
		err = c.Validate()
	}
	r.add("certificate", err, "valid "+certify.SchemaVersion)
	if err != nil {
		return o.finish(r)
	}
	r.Certified, r.Status = c.Certified, c.Status
	sha, err := certify.FileSHA256(o.Model)
	if err != nil {
		return badInput(err)
	}
	r.add("output", mismatch("SHA-256", sha, c.Output.SHA256), "sha256 "+sha)
	m, loadErr := onnxio.Load(o.Model)
	if loadErr != nil {
		r.add("model", loadErr, "")
	} else {
		binding, err := c.BindingDigest()
		if err == nil {
			err = mismatch(metaCertificate+" metadata", m.Metadata()[metaCertificate], binding)
		}
		r.add("binding", err, binding)
	}
	if o.Input != "" {
		in, err := certify.FileSHA256(o.Input)
		if err != nil {
			return badInput(err)
		}
		r.add("input", mismatch("input SHA-256", in, c.Input.SHA256), "sha256 "+in)
	} else {
		r.skip("input", "no --input given")
	}
	r.add("sigma", certify.CheckSigma(c), fmt.Sprintf("σ = %.6g covers Δ = %.6g at (ε, δ) = (%.4g, %.3g), %s", c.Sigma, c.Bound.Sensitivity, c.Epsilon, c.Delta, c.Mechanism))
	o.checkSignature(r, c)
	if loadErr != nil {
		return o.finish(r)
	}
	prog, err := autodiff.Compile(m, autodiff.Options{})
	r.add("model", err, fmt.Sprintf("loads and compiles (%d trainable parameters)", progDim(prog)))
	if err != nil {
		return o.finish(r)
	}
	if err := ort.Init(); err != nil {
		return failed(fmt.Errorf("verify: the parity checks need onnxruntime: %w", err))
	}
	o.checkProbe(r, c, m, prog)
	if o.data.Data != "" || o.data.X != "" {
		o.checkData(ctx, r, m, prog)
	} else {
		r.skip("data parity", "no --data given")
	}
	return o.finish(r)
}

func progDim(p *autodiff.Program) int {
	if p == nil {
		return 0
	}
	return p.Dim()
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

func (o *verifyOptions) checkSignature(r *verifyReport, c *certify.Certificate) {
	switch {
	case o.PubKey != "":
		pub, err := certify.LoadPublicKey(o.PubKey)
		if err != nil {
			r.add("signature", fmt.Errorf("%s: %w", o.PubKey, err), "")
			return
		}
		r.add("signature", c.VerifySignature(pub), "signed by "+o.PubKey)
	case c.Signature == nil:
		r.skip("signature", "the certificate is not signed")
	default:
		pub, err := c.EmbeddedPublicKey()
		if err == nil {
			err = c.VerifySignature(pub)
		}
		r.add("signature", err, "intact, signed by the key it carries (give --pub-key to check who signed)")
	}
}

// checkProbe regenerates the probe batch and compares both engines with the
// recorded native outputs.
func (o *verifyOptions) checkProbe(r *verifyReport, c *certify.Certificate, m *onnxio.Model, prog *autodiff.Program) {
	p := c.Parity.Probe
	if p.Source != certify.ProbeRandom {
		r.skip("parity", "the probe was drawn from data; give the same --data to re-check")
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
	res, err := parity.CheckRecorded(o.Model, m, x, shape[1:], shape[0], recorded, tol)
	if err == nil && !res.Pass {
		err = fmt.Errorf("onnxruntime %s differs from the recorded outputs at %s", res.ORTVersion, res.Worst)
	}
	r.add("parity", err, fmt.Sprintf("onnxruntime %s reproduces the recorded outputs (max |Δ| %.3g)", ortVersion(res), maxAbs(res)))
	// lethe's engine on the same file must reproduce them too: this ties
	// the recorded outputs to the weights in the file.
	out, _, err := prog.Forward(x, shape[1:], shape[0])
	if err == nil {
		err = compareRecorded(out, recorded[0].Values, parity.Tolerance{Abs: tol.Abs, Rel: tol.Rel})
	}
	r.add("native parity", err, "lethe's engine reproduces the recorded outputs")
}

func ortVersion(r *parity.Result) string {
	if r == nil {
		return ""
	}
	return r.ORTVersion
}

func maxAbs(r *parity.Result) float64 {
	if r == nil {
		return 0
	}
	return r.MaxAbs
}

func compareRecorded(got, want []float32, tol parity.Tolerance) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d outputs, %d recorded", len(got), len(want))
	}
	for i := range got {
		d := float64(got[i]) - float64(want[i])
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

// checkData compares the engines on the first samples of --data.
func (o *verifyOptions) checkData(ctx context.Context, r *verifyReport, m *onnxio.Model, prog *autodiff.Program) {
	src, err := o.data.open()
	if err != nil {
		r.add("data parity", err, "")
		return
	}
	defer dataset.Close(src)
	fit, err := fitData(m, o.Model, src, o.data.name())
	if err != nil {
		r.add("data parity", err, "")
		return
	}
	n := min(o.Limit, fit.Len())
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
	res, err := parity.Check(m, x, sample, n, parity.DefaultTolerance)
	if err == nil && !res.Pass {
		err = fmt.Errorf("the engines disagree at %s", res.Worst)
	}
	r.add("data parity", err, fmt.Sprintf("%d samples, max |Δ| %.3g", n, maxAbs(res)))
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// finish prints the report and maps a failed check to exit code 1.
func (o *verifyOptions) finish(r *verifyReport) error {
	if o.global.JSON {
		if err := o.io.writeJSON(r); err != nil {
			return err
		}
	} else {
		w := o.io.Out
		fmt.Fprintf(w, "%s with %s\n", r.Model, r.Certificate)
		if r.Status != "" {
			fmt.Fprintf(w, "  status: %s\n", r.Status)
		}
		for _, c := range r.Checks {
			fmt.Fprintf(w, "  %-4s  %-13s %s\n", strings.ToUpper(c.Status), c.Name, c.Detail)
		}
	}
	if !r.OK {
		var names []string
		for _, c := range r.Checks {
			if c.Status == "fail" && !slices.Contains(names, c.Name) {
				names = append(names, c.Name)
			}
		}
		return failed(errors.New("verification failed: " + strings.Join(names, ", ")))
	}
	return nil
}
