package lethe

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
)

// CertPath returns the certificate path beside a model: model with
// .cert.json in place of .onnx (appended when the name has no .onnx).
func CertPath(model string) string {
	return strings.TrimSuffix(model, ".onnx") + ".cert.json"
}

// previousCertificate finds the certificate of an already unlearned model:
// the model's metadata carries its binding digest. It returns nil for a
// model lethe never unlearned. The certificate must match the model file
// exactly.
func previousCertificate(m *onnxio.Model, modelPath, given string) (*certify.Certificate, error) {
	binding, ok := m.Metadata()[MetaCertificate]
	if !ok {
		if given != "" {
			return nil, badField("PrevCert", "%s: %s was not produced by lethe unlearn (no %s metadata)", given, modelPath, MetaCertificate)
		}
		return nil, nil
	}
	path := given
	if path == "" {
		path = CertPath(modelPath)
	}
	c, err := certify.Read(path)
	if err != nil {
		if os.IsNotExist(err) || given == "" {
			return nil, badField("PrevCert", "%s was unlearned before (it carries certificate %s), so this request chains on that certificate; give its certificate (looked for %s): %w", modelPath, binding, path, err)
		}
		return nil, badInput("PrevCert", err)
	}
	if b, err := c.BindingDigest(); err != nil || b != binding {
		return nil, badField("PrevCert", "%s: certificate %s does not belong to %s (binding %s, model carries %s)", path, path, modelPath, b, binding)
	}
	sha, err := certify.FileSHA256(modelPath)
	if err != nil {
		return nil, badInput("Model", err)
	}
	if sha != c.Output.SHA256 {
		return nil, badField("PrevCert", "%s: the model file changed after certificate %s was issued (sha256 %s, certified %s)", modelPath, path, sha, c.Output.SHA256)
	}
	return c, nil
}

// certificate fills everything but the output file, parity and
// assumptions (and the convex scope's fields, convexFields).
func (r *UnlearnRequest) certificate(ws *workspace, forget *dataset.ForgetSet, mech certify.Mechanism, noise noiseDrawn, bound certify.Bound,
	obj objective, prev *certify.Certificate, started time.Time) (*certify.Certificate, error) {
	inSHA, err := certify.FileSHA256(r.Model)
	if err != nil {
		return nil, badInput("Model", err)
	}
	kind, digest := forgetDigest(forget)
	c := &certify.Certificate{
		Schema:       certify.SchemaVersion,
		Tool:         certify.Tool{Name: "lethe", Version: toolVersion()},
		Input:        certify.FileRef{Path: r.Model, SHA256: inSHA},
		Forget:       certify.Forget{Digest: digest, Kind: kind, N: ws.data.Len(), NForget: len(forget.Indices)},
		Epsilon:      noise.epsilon,
		Delta:        r.Delta,
		Mechanism:    mech,
		Sigma:        noise.sigma,
		SigmaMode:    noise.mode,
		NoisePrivate: noise.private,
		NoiseSource:  noise.source,
		NoiseSeed:    noise.seed,
		Certified:    noise.certified,
		Status:       noise.status,
		Bound:        bound,
		L2:           obj.l2,
		Loss:         obj.name,
		Cumulative:   certify.Cumulative{Requests: 1, NForget: len(forget.Indices)},
		StartedAt:    certify.Timestamp(started),
	}
	if prev != nil {
		d, err := prev.Digest()
		if err != nil {
			return nil, badInput("PrevCert", err)
		}
		c.PreviousCertificate = d
		c.Cumulative = certify.Cumulative{Requests: prev.Cumulative.Requests + 1, NForget: prev.Cumulative.NForget + len(forget.Indices)}
	}
	return c, nil
}

// convexFields records the convex scope in c: the certified and frozen
// parameters, the strong-convexity proof and where the features came from.
func (r *UnlearnRequest) convexFields(c *certify.Certificate, plan *scopePlan, feats *features, out *convexUpdated, obj objective) {
	c.Scope = certify.ScopeConvex
	names := func(ps []onnxio.Param) ([]string, int) {
		out, n := []string{}, 0
		for _, p := range ps {
			out, n = append(out, p.Name), n+p.Size
		}
		return out, n
	}
	cn, cc := names(out.certified)
	fn, fc := names(out.frozen)
	c.CertifiedParameters = &certify.CertifiedParameters{Names: cn, Count: cc}
	c.FrozenParameters = &certify.FrozenParameters{Names: fn, Count: fc, Digest: out.frozenDigest}
	c.StrongConvexity = &certify.StrongConvexity{Mu: obj.l2, Loss: obj.name, Ops: plan.proof.Ops, Statement: plan.proof.String()}
	c.Features = feats.record()
}

// certificateError is a certificate that certify refuses to write: a bug
// in lethe's assembly, not the user's input.
func certificateError(path string, err error) error {
	return fmt.Errorf("lethe: writing the certificate %s: %w", path, err)
}
