package certify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
)

// DigestPrefix starts every digest lethe writes: "sha256:" then 64 lower-case
// hex digits.
const DigestPrefix = "sha256:"

// Canonical returns the canonical encoding of the certificate that Digest
// hashes and Sign signs: encoding/json of the Certificate struct with the
// signature omitted, fields in the struct's declaration order, no
// insignificant whitespace, no trailing newline, HTML characters not
// escaped, and numbers as encoding/json formats them (the shortest decimal
// that round-trips, so the encoding is deterministic). Because Read is
// strict, Canonical of a certificate read back from disk equals Canonical of
// the one written, whatever the file's indentation.
func (c *Certificate) Canonical() ([]byte, error) {
	unsigned := *c
	unsigned.Signature = nil
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&unsigned); err != nil {
		return nil, fmt.Errorf("certify: encoding the certificate: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Digest returns "sha256:<hex>" of Canonical: the certificate's identity,
// which chained certificates record as previous_certificate.
func (c *Certificate) Digest() (string, error) {
	b, err := c.Canonical()
	if err != nil {
		return "", err
	}
	return digestBytes(b), nil
}

// BindingDigest returns the digest that the output ONNX file carries in its
// metadata_props. It is Digest with output.sha256 blanked: the output file
// contains this digest, so its own hash cannot be part of it. `verify` checks
// the binding (this value against the file's metadata) and the file's hash
// (against output.sha256) separately.
func (c *Certificate) BindingDigest() (string, error) {
	unbound := *c
	unbound.Output.SHA256 = ""
	return unbound.Digest()
}

// DigestIndices returns the forget-set digest of sample indices: SHA-256 of
// the sorted, de-duplicated indices written in decimal, one per line, each
// line ending in "\n", as "sha256:<hex>". The order and repetition of the
// input do not matter.
func DigestIndices(indices []int) string {
	sorted := slices.Compact(slices.Sorted(slices.Values(indices)))
	h := sha256.New()
	var line []byte
	for _, i := range sorted {
		line = strconv.AppendInt(line[:0], int64(i), 10)
		line = append(line, '\n')
		h.Write(line)
	}
	return DigestPrefix + hex.EncodeToString(h.Sum(nil))
}

// FileSHA256 returns the SHA-256 of the file at path as 64 lower-case hex
// digits, the form of FileRef.SHA256.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("certify: hashing %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("certify: hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// digestBytes returns "sha256:<hex>" of b.
func digestBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return DigestPrefix + hex.EncodeToString(sum[:])
}
