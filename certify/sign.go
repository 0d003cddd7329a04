package certify

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
)

// SignatureAlgorithm is the only signature algorithm of schema v1.
const SignatureAlgorithm = "ed25519"

var (
	// ErrUnsigned: the certificate carries no signature.
	ErrUnsigned = errors.New("certify: the certificate is not signed")
	// ErrKeyMismatch: the signature was made with a key other than the one
	// the verifier trusts.
	ErrKeyMismatch = errors.New("certify: the certificate was signed with a different public key")
	// ErrBadSignature: the signature does not match the certificate's
	// content; the certificate or its signature was altered.
	ErrBadSignature = errors.New("certify: signature verification failed: the certificate was modified after signing")
)

// Sign signs the certificate with priv and sets its Signature. The signed
// message is the ASCII text of Digest ("sha256:<hex>"), so that anyone can
// check a signature with standard Ed25519 tools from the digest alone.
// Any later change to a field other than the signature invalidates it.
func (c *Certificate) Sign(priv ed25519.PrivateKey) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("certify: Ed25519 private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	digest, err := c.Digest()
	if err != nil {
		return err
	}
	pub := priv.Public().(ed25519.PublicKey)
	c.Signature = &Signature{
		Algorithm: SignatureAlgorithm,
		PublicKey: base64.StdEncoding.EncodeToString(pub),
		Value:     base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(digest))),
	}
	return nil
}

// VerifySignature checks that the certificate is signed by pub and unchanged
// since. It returns an error wrapping ErrUnsigned, ErrKeyMismatch or
// ErrBadSignature. The public key embedded in the certificate is only
// compared with pub, never trusted on its own: a certificate that verifies
// against its own embedded key proves integrity, not who signed it (use
// EmbeddedPublicKey for that weaker check, knowingly).
func (c *Certificate) VerifySignature(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("certify: Ed25519 public key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	embedded, err := c.EmbeddedPublicKey()
	if err != nil {
		return err
	}
	if !embedded.Equal(pub) {
		return ErrKeyMismatch
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature.Value)
	if err != nil {
		return fmt.Errorf("%w: signature value is not base64: %v", ErrBadSignature, err)
	}
	digest, err := c.Digest()
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, []byte(digest), sig) {
		return ErrBadSignature
	}
	return nil
}

// EmbeddedPublicKey returns the public key recorded in the signature.
func (c *Certificate) EmbeddedPublicKey() (ed25519.PublicKey, error) {
	s := c.Signature
	if s == nil {
		return nil, ErrUnsigned
	}
	if s.Algorithm != SignatureAlgorithm {
		return nil, fmt.Errorf("certify: signature algorithm %q, want %q", s.Algorithm, SignatureAlgorithm)
	}
	key, err := base64.StdEncoding.DecodeString(s.PublicKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("certify: signature public_key is not a base64 Ed25519 public key")
	}
	return ed25519.PublicKey(key), nil
}
