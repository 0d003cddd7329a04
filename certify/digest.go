package certify

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
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

// DigestParameters returns "sha256:<hex>" of the parameters' values, the
// digest of FrozenParameters. The hashed bytes are, for each parameter in the
// given order:
//
//	uint64 little-endian: the length of the name in bytes
//	the name, UTF-8
//	uint64 little-endian: the number of values
//	each value as IEEE 754 binary64, little-endian
//
// Values are the parameter's elements in row-major order; float32
// initializers are widened exactly to float64. The length prefixes make the
// encoding unambiguous. In Python:
//
//	h = hashlib.sha256()
//	for name, a in params:
//	    b = name.encode(); v = np.asarray(a, dtype="<f8").ravel()
//	    h.update(struct.pack("<Q", len(b)) + b + struct.pack("<Q", v.size) + v.tobytes())
//	"sha256:" + h.hexdigest()
//
// It panics if names and values differ in length.
func DigestParameters(names []string, values [][]float64) string {
	if len(names) != len(values) {
		panic("certify: DigestParameters: names and values differ in length")
	}
	h := sha256.New()
	var buf []byte
	for i, name := range names {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(len(name)))
		buf = append(buf, name...)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(values[i])))
		for _, v := range values[i] {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
		h.Write(buf)
	}
	return DigestPrefix + hex.EncodeToString(h.Sum(nil))
}
