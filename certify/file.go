package certify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/lethe-ml/lethe/internal/atomicfile"
)

// MaxCertificateSize bounds what Read accepts (64 MiB), so that a hostile
// file cannot exhaust memory.
const MaxCertificateSize = 64 << 20

// SchemaError reports a certificate whose "schema" is not SchemaVersion.
type SchemaError struct {
	Got string
}

// Error implements the error interface.
func (e *SchemaError) Error() string {
	return fmt.Sprintf("certify: certificate schema %q is not %q", e.Got, SchemaVersion)
}

// Marshal returns the certificate as written to disk: JSON indented by two
// spaces, HTML characters not escaped, ending in a newline.
func (c *Certificate) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("certify: encoding the certificate: %w", err)
	}
	return buf.Bytes(), nil
}

// Write validates the certificate and writes it to path atomically (a
// temporary file in the same directory, synced, then renamed), mode 0644.
func (c *Certificate) Write(path string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	b, err := c.Marshal()
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b, 0o644, false)
}

// Read reads a certificate strictly: the "schema" must be SchemaVersion
// (else a *SchemaError), and unknown fields, trailing data or a wrong type
// are errors. Strictness is deliberate: the digest and signature cover the
// certificate as lethe's types hold it, so a reader that dropped fields it
// did not know would verify something other than what was signed. Fields
// added to v1 since its first release are omitted when unused, so older
// certificates read unchanged (see the package documentation). Read does not
// call Validate or CheckSigma; `verify` does.
func Read(path string) (*Certificate, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("certify: reading certificate: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxCertificateSize+1))
	if err != nil {
		return nil, fmt.Errorf("certify: reading certificate %s: %w", path, err)
	}
	if len(data) > MaxCertificateSize {
		return nil, fmt.Errorf("certify: certificate %s is larger than %d bytes", path, MaxCertificateSize)
	}
	c, err := Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return c, nil
}

// Unmarshal decodes a certificate with the same strictness as Read.
func Unmarshal(data []byte) (*Certificate, error) {
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&head); err != nil {
		return nil, fmt.Errorf("certify: certificate is not JSON: %w", err)
	}
	if head.Schema != SchemaVersion {
		return nil, &SchemaError{Got: head.Schema}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Certificate
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("certify: decoding certificate: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("certify: decoding certificate: data after the JSON object")
	}
	return &c, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory (unnamed on Linux, so a killed process leaves nothing), synced
// before it replaces path, so that readers see the old file or the new one,
// never a part. With noClobber an existing path is an error wrapping
// fs.ErrExist and is left untouched.
func writeFileAtomic(path string, data []byte, perm fs.FileMode, noClobber bool) error {
	if err := atomicfile.WriteFile(path, data, perm, !noClobber); err != nil {
		return fmt.Errorf("certify: writing %s: %w", path, err)
	}
	return nil
}
