package certify

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// PEM block types of the key files: PKCS #8 for the private key, PKIX
// (SubjectPublicKeyInfo) for the public key, the forms `openssl genpkey
// -algorithm ed25519` and `openssl pkey -pubout` write.
const (
	pemPrivate = "PRIVATE KEY"
	pemPublic  = "PUBLIC KEY"
)

// GenerateKeyPair creates a new Ed25519 key pair from crypto/rand and writes
// the private key to privPath (mode 0600) and the public key to pubPath
// (mode 0644), each atomically. It refuses to overwrite an existing file, so
// that a key cannot be lost by accident.
func GenerateKeyPair(privPath, pubPath string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certify: generating an Ed25519 key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("certify: encoding the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("certify: encoding the public key: %w", err)
	}
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("certify: key file %s: %w", p, os.ErrExist)
		}
	}
	if err := writeFileAtomic(privPath, pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: privDER}), 0o600, true); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(pubPath, pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: pubDER}), 0o644, true); err != nil {
		os.Remove(privPath) // written just above; a private key without its public half is useless
		return nil, err
	}
	return pub, nil
}

// MaxKeyFileSize bounds the key files LoadPrivateKey and LoadPublicKey read
// (64 KiB; a PEM Ed25519 key takes about 120 bytes), so that a path such as
// /dev/zero cannot exhaust memory.
const MaxKeyFileSize = 64 << 10

// KeyPermissionError reports a private key file that users other than its
// owner may access: a signing key anyone on the machine can read signs for
// anyone.
type KeyPermissionError struct {
	Path string
	Mode fs.FileMode // the file's permission bits
}

// Error names the file and its mode, and the fix.
func (e *KeyPermissionError) Error() string {
	return fmt.Sprintf("certify: private key %s has mode %04o: group or others may access it; make it private with chmod 600 %s",
		e.Path, uint32(e.Mode), e.Path)
}

// LoadPrivateKey reads a PEM "PRIVATE KEY" (PKCS #8) Ed25519 key. A file
// that group or others may read, write or execute (any of the mode bits
// 0o077) is a *KeyPermissionError and is not read, as OpenSSH refuses such
// keys; GenerateKeyPair and `openssl genpkey` write mode 0600.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("certify: reading key: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, &KeyPermissionError{Path: path, Mode: perm}
	}
	der, err := readPEM(path, pemPrivate)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("certify: private key %s: %w", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("certify: private key %s is a %T, not Ed25519", path, key)
	}
	return priv, nil
}

// LoadPublicKey reads a PEM "PUBLIC KEY" (PKIX) Ed25519 key.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	der, err := readPEM(path, pemPublic)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("certify: public key %s: %w", path, err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("certify: public key %s is a %T, not Ed25519", path, key)
	}
	return pub, nil
}

// readPEM returns the bytes of the single PEM block of type typ in path,
// which may hold at most MaxKeyFileSize bytes.
func readPEM(path, typ string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("certify: reading key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("certify: reading key %s: %w", path, err)
	}
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("certify: key file %s is larger than %d bytes: not a key", path, MaxKeyFileSize)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("certify: %s is not PEM", path)
	}
	if block.Type != typ {
		return nil, fmt.Errorf("certify: %s holds a PEM %q block, want %q", path, block.Type, typ)
	}
	return block.Bytes, nil
}
