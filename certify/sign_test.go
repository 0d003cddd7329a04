package certify

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/internal/testenv"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	c := fixture(t, "no_noise")
	pub, priv, _ := ed25519.GenerateKey(nil)
	if err := c.VerifySignature(pub); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned: err = %v, want ErrUnsigned", err)
	}
	if err := c.Sign(priv); err != nil {
		t.Fatal(err)
	}
	if err := c.VerifySignature(pub); err != nil {
		t.Fatal(err)
	}
	// Through the file: Write, Read, verify.
	p := filepath.Join(t.TempDir(), "c.cert.json")
	if err := c.Write(p); err != nil {
		t.Fatal(err)
	}
	r, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.VerifySignature(pub); err != nil {
		t.Errorf("after Write/Read: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if err := r.VerifySignature(other); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("other key: err = %v, want ErrKeyMismatch", err)
	}
}

// TestSignatureDetectsTampering edits the signed certificate in each way an
// attacker might and expects verification to fail.
func TestSignatureDetectsTampering(t *testing.T) {
	priv := goldenKey()
	pub := priv.Public().(ed25519.PublicKey)
	flipByte := func(s string) string {
		b := []byte(s)
		if b[0] == 'a' {
			b[0] = 'b'
		} else {
			b[0] = 'a'
		}
		return string(b)
	}
	for _, c := range []struct {
		name string
		edit func(*Certificate)
		want error
	}{
		{"sigma", func(c *Certificate) { c.Sigma *= 0.5 }, ErrBadSignature},
		{"epsilon", func(c *Certificate) { c.Epsilon = 0.1 }, ErrBadSignature},
		{"output hash byte", func(c *Certificate) { c.Output.SHA256 = flipByte(c.Output.SHA256) }, ErrBadSignature},
		{"assumption dropped", func(c *Certificate) { c.Assumptions = c.Assumptions[1:] }, ErrBadSignature},
		{"signature value", func(c *Certificate) {
			sig, _ := base64.StdEncoding.DecodeString(c.Signature.Value)
			sig[10] ^= 1
			c.Signature.Value = base64.StdEncoding.EncodeToString(sig)
		}, ErrBadSignature},
		{"public key swapped", func(c *Certificate) {
			other, _, _ := ed25519.GenerateKey(nil)
			c.Signature.PublicKey = base64.StdEncoding.EncodeToString(other)
		}, ErrKeyMismatch},
	} {
		cert := fixture(t, "certified")
		if err := cert.VerifySignature(pub); err != nil {
			t.Fatal(err)
		}
		c.edit(cert)
		if err := cert.VerifySignature(pub); !errors.Is(err, c.want) {
			t.Errorf("%s edited: err = %v, want %v", c.name, err, c.want)
		}
	}
	// Byte-level tampering of the file itself.
	data, _ := os.ReadFile(filepath.Join("testdata", "certified.golden.json"))
	tampered := strings.Replace(string(data), `"n_forget": 1000`, `"n_forget": 1001`, 1)
	r, err := Unmarshal([]byte(tampered))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.VerifySignature(pub); !errors.Is(err, ErrBadSignature) {
		t.Errorf("edited file: err = %v, want ErrBadSignature", err)
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	privPath, pubPath := filepath.Join(dir, "lethe.key"), filepath.Join(dir, "lethe.pub")
	pub, err := GenerateKeyPair(privPath, pubPath)
	if err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{privPath: 0o600, pubPath: 0o644} {
		info, err := os.Stat(p)
		if err != nil || info.Mode().Perm() != mode {
			t.Errorf("%s: mode %v (%v), want %v", p, info.Mode().Perm(), err, mode)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("GenerateKeyPair left %d files, want 2", len(entries))
	}
	priv, err := LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadPublicKey(pubPath)
	if err != nil || !loaded.Equal(pub) || !priv.Public().(ed25519.PublicKey).Equal(pub) {
		t.Fatalf("loaded keys do not match the generated pair (%v)", err)
	}
	c := fixture(t, "no_noise")
	if err := c.Sign(priv); err != nil {
		t.Fatal(err)
	}
	if err := c.VerifySignature(loaded); err != nil {
		t.Error(err)
	}
	// Never overwrite a key.
	if _, err := GenerateKeyPair(privPath, filepath.Join(dir, "new.pub")); !errors.Is(err, os.ErrExist) {
		t.Errorf("overwriting a private key: err = %v, want os.ErrExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.pub")); err == nil {
		t.Error("a refused GenerateKeyPair still wrote the public key")
	}
	// Wrong block types and non-PEM files are errors.
	pubCopy := filepath.Join(dir, "pub-as-private")
	if b, err := os.ReadFile(pubPath); err != nil || os.WriteFile(pubCopy, b, 0o600) != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrivateKey(pubCopy); err == nil || !strings.Contains(err.Error(), "PUBLIC KEY") {
		t.Errorf("public key as private: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "junk"), []byte("not a key"), 0o600)
	if _, err := LoadPublicKey(filepath.Join(dir, "junk")); err == nil || !strings.HasPrefix(err.Error(), "certify: ") {
		t.Errorf("junk: %v", err)
	}
}

// TestOpenSSLInterop checks that keys written by OpenSSL load and that a
// signature made by lethe verifies with `openssl pkeyutl` over the digest
// string, as the Sign documentation promises.
func TestOpenSSLInterop(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	testenv.Missing(t, "openssl (Debian package openssl)", err)
	dir := t.TempDir()
	privPath, pubPath := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub")
	for _, args := range [][]string{
		{"genpkey", "-algorithm", "ed25519", "-out", privPath},
		{"pkey", "-in", privPath, "-pubout", "-out", pubPath},
	} {
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v: %s", args[0], err, out)
		}
	}
	priv, err := LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPublicKey(pubPath); err != nil {
		t.Fatal(err)
	}
	c := fixture(t, "no_noise")
	if err := c.Sign(priv); err != nil {
		t.Fatal(err)
	}
	digest, _ := c.Digest()
	sig, _ := base64.StdEncoding.DecodeString(c.Signature.Value)
	msgPath, sigPath := filepath.Join(dir, "msg"), filepath.Join(dir, "sig")
	if err := os.WriteFile(msgPath, []byte(digest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sigPath, sig, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", pubPath, "-rawin", "-in", msgPath, "-sigfile", sigPath).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signature Verified Successfully") {
		t.Errorf("openssl pkeyutl -verify: %v: %s", err, out)
	}
}

// TestKeyFileLimits checks that a private key others may access is refused
// before it is read, naming the file and its mode, and that key files are
// read no further than MaxKeyFileSize bytes: /dev/zero is an error, not an
// out-of-memory kill.
func TestKeyFileLimits(t *testing.T) {
	dir := t.TempDir()
	privPath, pubPath := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub")
	if _, err := GenerateKeyPair(privPath, pubPath); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o620, 0o700 | 0o001} {
		if err := os.Chmod(privPath, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadPrivateKey(privPath)
		var perm *KeyPermissionError
		if !errors.As(err, &perm) || perm.Mode != mode || !strings.Contains(err.Error(), privPath) ||
			!strings.Contains(err.Error(), fmt.Sprintf("%04o", uint32(mode))) {
			t.Errorf("mode %04o: got %v, want a *KeyPermissionError naming the file and the mode", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		os.Chmod(privPath, mode)
		if _, err := LoadPrivateKey(privPath); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	if _, err := LoadPublicKey("/dev/zero"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("/dev/zero as a public key: %v", err)
	}
	big := filepath.Join(dir, "big.key")
	if err := os.WriteFile(big, make([]byte, MaxKeyFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPrivateKey(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over the limit as a private key: %v", err)
	}
}
