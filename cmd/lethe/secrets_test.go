package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestKeygenModes checks that keygen writes the private key readable by its
// owner alone (0600, whatever the umask) and the public key 0644.
func TestKeygenModes(t *testing.T) {
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub")
	if code, _, stderr := cli(t, "keygen", "--private", priv, "--public", pub); code != exitOK {
		t.Fatal(stderr)
	}
	for path, want := range map[string]os.FileMode{priv: 0o600, pub: 0o644} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %04o", path, st.Mode().Perm(), err, want)
		}
	}
}
