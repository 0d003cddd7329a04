package certify_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-ml/lethe/certify"
)

// FuzzCertificate feeds arbitrary bytes to the certificate reader. Whatever
// Unmarshal accepts, Read accepts from a file too; it marshals, and the
// marshalled form reads back to the same canonical form and digest and
// marshals to the same bytes; a signature verifies (or not) alike before and
// after. Validate's problems are all *FieldError values; a valid
// certificate survives Write and Read; CheckSigma returns, whatever the
// numbers. Seeds: the golden certificates, signed and unsigned.
func FuzzCertificate(f *testing.F) {
	golden, _ := filepath.Glob(filepath.Join("testdata", "*.golden.json"))
	if len(golden) == 0 {
		f.Fatal("no golden certificates in testdata")
	}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	for _, g := range golden {
		b, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		c, err := certify.Unmarshal(b)
		if err != nil {
			f.Fatal(err)
		}
		if err := c.Sign(priv); err != nil {
			f.Fatal(err)
		}
		signed, err := c.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(signed)
	}
	f.Add([]byte(`{"schema":"lethe.certificate/v1"}`))
	f.Add([]byte(`{"schema":"lethe.certificate/v0"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := certify.Unmarshal(data)
		if err != nil {
			return
		}
		p := filepath.Join(t.TempDir(), "c.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		fromFile, err := certify.Read(p)
		if err != nil {
			t.Fatalf("Unmarshal accepts what Read refuses: %v", err)
		}
		canon := canonical(t, c)
		if !bytes.Equal(canonical(t, fromFile), canon) {
			t.Fatal("Read and Unmarshal disagree")
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal of an accepted certificate: %v", err)
		}
		again, err := certify.Unmarshal(out)
		if err != nil {
			t.Fatalf("Unmarshal of its own Marshal: %v\n%s", err, out)
		}
		if !bytes.Equal(canonical(t, again), canon) {
			t.Fatalf("canonical form changed by a Marshal round trip:\n%s\n%s", canon, canonical(t, again))
		}
		if out2, err := again.Marshal(); err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("Marshal is not stable (%v)", err)
		}
		if _, err := c.BindingDigest(); err != nil {
			t.Fatalf("BindingDigest: %v", err)
		}
		if pub, err := c.EmbeddedPublicKey(); err == nil {
			e1, e2 := c.VerifySignature(pub), again.VerifySignature(pub)
			if (e1 == nil) != (e2 == nil) {
				t.Fatalf("signature verifies %v before a round trip, %v after", e1, e2)
			}
		}
		if err := c.Validate(); err != nil {
			for _, e := range joined(err) {
				var fe *certify.FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("Validate problem %v (%T) is not a *FieldError", e, e)
				}
			}
			return
		}
		q := filepath.Join(filepath.Dir(p), "w.json")
		if err := c.Write(q); err != nil {
			t.Fatalf("Write of a valid certificate: %v", err)
		}
		written, err := certify.Read(q)
		if err != nil || !bytes.Equal(canonical(t, written), canon) {
			t.Fatalf("a written certificate reads back differently (%v)", err)
		}
		_ = certify.CheckSigma(c) // any verdict, but it must return
	})
}

// canonical is c.Canonical, failing the test on error.
func canonical(t *testing.T, c *certify.Certificate) []byte {
	t.Helper()
	b, err := c.Canonical()
	if err != nil {
		t.Fatalf("Canonical: %v", err)
	}
	return b
}

// joined splits an errors.Join error into its parts.
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// FuzzLoadKeys feeds arbitrary bytes to LoadPrivateKey and LoadPublicKey.
// No file loads as both. A private key loaded is a consistent Ed25519 key
// (its public half derives from its seed), signs what its public key
// verifies, and re-encoded as PKCS #8 PEM loads to the same key; a public
// key loaded re-encodes as PKIX PEM to the same key. Seeds: keys written by
// GenerateKeyPair, an ECDSA key pair, PEM of the wrong type, no PEM.
func FuzzLoadKeys(f *testing.F) {
	dir := f.TempDir()
	privPath, pubPath := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub")
	if _, err := certify.GenerateKeyPair(privPath, pubPath); err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{privPath, pubPath} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	ecPriv, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPub, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecPriv}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPub}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0}}))
	f.Add([]byte("not a key"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "key.pem")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		priv, privErr := certify.LoadPrivateKey(p)
		pub, pubErr := certify.LoadPublicKey(p)
		if privErr == nil && pubErr == nil {
			t.Fatal("one file loads as a private and as a public key")
		}
		if privErr == nil {
			if len(priv) != ed25519.PrivateKeySize || !priv.Equal(ed25519.NewKeyFromSeed(priv.Seed())) {
				t.Fatal("inconsistent Ed25519 private key")
			}
			msg := []byte("sha256:00")
			if !ed25519.Verify(priv.Public().(ed25519.PublicKey), msg, ed25519.Sign(priv, msg)) {
				t.Fatal("the loaded key's signature does not verify")
			}
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			again := reload(t, p, "PRIVATE KEY", der, certify.LoadPrivateKey)
			if !again.Equal(priv) {
				t.Fatal("private key changed by a PKCS #8 round trip")
			}
		}
		if pubErr == nil {
			if len(pub) != ed25519.PublicKeySize {
				t.Fatalf("public key of %d bytes", len(pub))
			}
			der, err := x509.MarshalPKIXPublicKey(pub)
			if err != nil {
				t.Fatal(err)
			}
			again := reload(t, p, "PUBLIC KEY", der, certify.LoadPublicKey)
			if !again.Equal(pub) {
				t.Fatal("public key changed by a PKIX round trip")
			}
		}
	})
}

// reload writes der as a PEM block of type typ beside p and loads it.
func reload[K any](t *testing.T, p, typ string, der []byte, load func(string) (K, error)) K {
	t.Helper()
	q := p + ".again"
	if err := os.WriteFile(q, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := load(q)
	if err != nil {
		t.Fatalf("re-encoded key does not load: %v", err)
	}
	return k
}
