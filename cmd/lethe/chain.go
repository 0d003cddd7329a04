package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/onnxio"
)

// certPathFor returns the certificate path beside a model: MODEL with
// .cert.json in place of .onnx (appended when the name has no .onnx).
func certPathFor(model string) string {
	return strings.TrimSuffix(model, ".onnx") + ".cert.json"
}

// previousCertificate finds the certificate of an already unlearned model:
// the model's metadata carries its binding digest. It returns nil for a model
// lethe never unlearned. The certificate must match the model file exactly.
func previousCertificate(m *onnxio.Model, modelPath, given string) (*certify.Certificate, error) {
	binding, ok := m.Metadata()[metaCertificate]
	if !ok {
		if given != "" {
			return nil, usageErrorf("unlearn: --prev-cert %s: %s was not produced by lethe unlearn (no %s metadata)", given, modelPath, metaCertificate)
		}
		return nil, nil
	}
	path := given
	if path == "" {
		path = certPathFor(modelPath)
	}
	c, err := certify.Read(path)
	if err != nil {
		if os.IsNotExist(err) || given == "" {
			return nil, badInput(fmt.Errorf("%s was unlearned before (it carries certificate %s), so this request chains on that certificate; pass it with --prev-cert (looked for %s): %w", modelPath, binding, path, err))
		}
		return nil, badInput(err)
	}
	if b, err := c.BindingDigest(); err != nil || b != binding {
		return nil, badInput(fmt.Errorf("%s: certificate %s does not belong to %s (binding %s, model carries %s)", path, path, modelPath, b, binding))
	}
	sha, err := certify.FileSHA256(modelPath)
	if err != nil {
		return nil, badInput(err)
	}
	if sha != c.Output.SHA256 {
		return nil, badInput(fmt.Errorf("%s: the model file changed after certificate %s was issued (sha256 %s, certified %s)", modelPath, path, sha, c.Output.SHA256))
	}
	return c, nil
}
