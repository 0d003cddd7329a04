//go:build linux

package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/lethe-ml/lethe/internal/noisekey"
	"github.com/lethe-ml/lethe/internal/testenv"
)

// keyForms are the ways a 32-byte key could be written out: raw, hex,
// base64 (every alphabet, padded or not), Go's formatting of the array and
// of a slice, and its 64- and 32-bit words (ChaCha8's state) in decimal and
// hex, either byte order.
func keyForms(k [32]byte) map[string][]byte {
	forms := map[string][]byte{
		"raw":           k[:],
		"hex":           []byte(hex.EncodeToString(k[:])),
		"HEX":           []byte(strings.ToUpper(hex.EncodeToString(k[:]))),
		"base64":        []byte(base64.StdEncoding.EncodeToString(k[:])),
		"base64 url":    []byte(base64.URLEncoding.EncodeToString(k[:])),
		"base64 raw":    []byte(base64.RawStdEncoding.EncodeToString(k[:])),
		"base64 rawurl": []byte(base64.RawURLEncoding.EncodeToString(k[:])),
		"%v":            fmt.Appendf(nil, "%v", k),
		"%v slice":      fmt.Appendf(nil, "%v", k[:]),
	}
	for name, order := range map[string]binary.ByteOrder{"le": binary.LittleEndian, "be": binary.BigEndian} {
		for i := 0; i < 32; i += 8 {
			w := order.Uint64(k[i:])
			forms[fmt.Sprintf("uint64 %d %s", i/8, name)] = []byte(strconv.FormatUint(w, 10))
			forms[fmt.Sprintf("uint64 %d %s hex", i/8, name)] = fmt.Appendf(nil, "%016x", w)
		}
		// 32-bit words in hex (8 digits: one occurs by chance in a few
		// kilobytes of hex digests with probability ~1e-6).
		for i := 0; i < 32; i += 4 {
			forms[fmt.Sprintf("uint32 %d %s hex", i/4, name)] = fmt.Appendf(nil, "%08x", order.Uint32(k[i:]))
		}
	}
	return forms
}

// TestNoiseKeyNeverLeaves runs unlearn in both scopes, with human and JSON
// output, progress on stderr and a signed certificate, then verify, and
// searches everything they printed (to their streams, and to the process's
// file descriptors 1 and 2, which catches stray writes of lethe or of
// onnxruntime) and wrote for the key of the private noise they drew (which
// lethe's tests alone can see, through internal/noisekey): whoever had it
// could subtract the noise.
func TestNoiseKeyNeverLeaves(t *testing.T) {
	requireORT(t)
	dir, data, forget := unlearnSetup(t)
	sign, pub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub")
	if code, _, stderr := cli(t, "keygen", "--private", sign, "--public", pub); code != exitOK {
		t.Fatal(stderr)
	}
	var keys [][32]byte
	noisekey.Hook = func(k [32]byte) { keys = append(keys, k) }
	defer func() { noisekey.Hook = nil }()
	logreg := testenv.Testdata("models/logreg.onnx")
	outputs := map[string][]byte{}
	runs := 0
	outputs["file descriptors 1 and 2"] = captureFDs(t, func() {
		for _, c := range []struct {
			name string
			args func(out string) []string
		}{
			{"full", func(out string) []string {
				var args []string // unlearnArgs without --quiet: progress on stderr
				for _, a := range unlearnArgs(data, forget, out, "--sign-key", sign) {
					if a != "--quiet" {
						args = append(args, a)
					}
				}
				return args
			}},
			{"full json", func(out string) []string { return unlearnArgs(data, forget, out, "--json") }},
			{"convex", func(out string) []string {
				return []string{"unlearn", logreg, "--data", data, "--forget", forget, "--epsilon", "1", "--delta", "1e-5", "--l2", "0.01", "-o", out, "--sign-key", sign}
			}},
			{"convex json", func(out string) []string {
				return []string{"unlearn", logreg, "--data", data, "--forget", forget, "--epsilon", "1", "--delta", "1e-5", "--l2", "0.01", "-o", out, "--json"}
			}},
		} {
			outDir := t.TempDir()
			out := filepath.Join(outDir, "out.onnx")
			code, stdout, stderr := cli(t, c.args(out)...)
			if code != exitOK {
				t.Fatalf("%s: exit %d: %s", c.name, code, stderr)
			}
			runs++
			outputs[c.name+" stdout"], outputs[c.name+" stderr"] = []byte(stdout), []byte(stderr)
			_, vout, verr := cli(t, "verify", out, "--pub-key", pub, "--json")
			outputs[c.name+" verify stdout"], outputs[c.name+" verify stderr"] = []byte(vout), []byte(verr)
			es, _ := os.ReadDir(outDir)
			for _, e := range es {
				b, err := os.ReadFile(filepath.Join(outDir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				outputs[c.name+" "+e.Name()] = b
			}
		}
	})
	if len(keys) != runs {
		t.Fatalf("%d private noise keys drawn in %d runs, want one each: the test would search for nothing", len(keys), runs)
	}
	if len(outputs) < 4*runs {
		t.Fatalf("only %d outputs collected", len(outputs))
	}
	for _, k := range keys {
		for form, needle := range keyForms(k) {
			for name, hay := range outputs {
				if bytes.Contains(hay, needle) {
					t.Errorf("the noise key (%s: %q) appears in %s", form, needle, name)
				}
			}
		}
	}
}

// captureFDs runs f with the process's file descriptors 1 and 2 (os.Stdout
// and os.Stderr, and whatever C code writes there) sent to a file, and
// returns what was written to them.
func captureFDs(t *testing.T, f func()) []byte {
	t.Helper()
	tmp, err := os.CreateTemp(t.TempDir(), "fds")
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	var saved [3]int
	for _, fd := range []int{1, 2} {
		if saved[fd], err = syscall.Dup(fd); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Dup3(int(tmp.Fd()), fd, 0); err != nil {
			t.Fatal(err)
		}
	}
	func() {
		defer func() {
			for _, fd := range []int{1, 2} {
				syscall.Dup3(saved[fd], fd, 0)
				syscall.Close(saved[fd])
			}
		}()
		f()
	}()
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(tmp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
