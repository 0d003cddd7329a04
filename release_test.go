package lethe_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/certify"
)

// stopRelease is the panic value that stops a release at a step.
type stopRelease struct{}

// TestReleaseInvariant stops a release after each of its steps, as a
// process killed there would stop, over a previous release to the same
// paths, and checks the invariant release.go documents: a model at Out
// always has its own complete certificate, and the files on disk are
// exactly the state that step leaves.
func TestReleaseInvariant(t *testing.T) {
	requireORT(t)
	data, _, _ := mnistSubset(t, t.TempDir(), 300)
	prevDir := t.TempDir()
	prev, err := lethe.Unlearn(context.Background(), request(t, prevDir, data, "out.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	prevModel, err := os.ReadFile(prev.Out)
	if err != nil {
		t.Fatal(err)
	}
	prevCert, err := os.ReadFile(prev.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stop  string // the step after which the release stops; "" runs it to the end
		model string // "previous", "new" or "" (absent)
		cert  string
	}{
		{"staged", "previous", "previous"},
		{"removed out.onnx", "", "previous"},
		{"removed out.cert.json", "", ""},
		{"certificate", "", "new"},
		{"", "new", "new"},
	} {
		name := "stop after " + c.stop
		if c.stop == "" {
			name = "complete"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			req := request(t, dir, data, "out.onnx")
			out, cert := req.Out, lethe.CertPath(req.Out)
			if err := os.WriteFile(out, prevModel, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cert, prevCert, 0o644); err != nil {
				t.Fatal(err)
			}
			stop := ""
			switch c.stop {
			case "removed out.onnx":
				stop = "removed " + out
			case "removed out.cert.json":
				stop = "removed " + cert
			default:
				stop = c.stop
			}
			defer lethe.SetReleaseHook(func(step string) {
				if step == stop {
					panic(stopRelease{})
				}
			})()
			func() {
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(stopRelease); !ok {
							panic(r)
						}
					}
				}()
				if _, err := lethe.Unlearn(context.Background(), req); err != nil {
					t.Fatal(err)
				}
			}()
			checkReleased(t, dir, out, cert)
			state := func(path string, prev []byte) string {
				b, err := os.ReadFile(path)
				switch {
				case os.IsNotExist(err):
					return ""
				case err != nil:
					t.Fatal(err)
				case string(b) == string(prev):
					return "previous"
				}
				return "new"
			}
			if got := state(out, prevModel); got != c.model {
				t.Errorf("model: %q, want %q", got, c.model)
			}
			if got := state(cert, prevCert); got != c.cert {
				t.Errorf("certificate: %q, want %q", got, c.cert)
			}
		})
	}
}

// checkReleased checks the release invariant in dir, where a release wrote
// (or was stopped writing) the model out and the certificate cert: no other
// file, a model only with its certificate (and then Verify passes), and a
// certificate alone only if it is complete.
func checkReleased(t *testing.T, dir, out, cert string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if p := filepath.Join(dir, e.Name()); p != out && p != cert {
			t.Errorf("left %s", e.Name())
		}
	}
	_, modelErr := os.Stat(out)
	_, certErr := os.Stat(cert)
	switch {
	case modelErr == nil && certErr != nil:
		t.Errorf("a model without its certificate: %v", certErr)
	case modelErr == nil:
		if rep, err := lethe.Verify(context.Background(), lethe.VerifyRequest{Model: out, Cert: cert}); err != nil {
			t.Errorf("the model and certificate left fail verification: %v\n%+v", err, rep)
		}
	case certErr == nil:
		c, err := certify.Read(cert)
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			t.Errorf("the certificate left is not complete: %v", err)
		}
	}
}
