package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// cliEnv, set in a subprocess's environment, makes the test binary run
// the command line on its arguments instead of the tests: the kill test's
// subprocesses.
const cliEnv = "LETHE_TEST_RUN_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// killRounds is the number of kills per command: LETHE_KILL_ROUNDS, by
// default 3 (`make fuzz` sets 100, the long mode).
func killRounds(t *testing.T) int {
	s := os.Getenv("LETHE_KILL_ROUNDS")
	if s == "" {
		return 3
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("LETHE_KILL_ROUNDS=%q: want a count ≥ 1", s)
	}
	return n
}

// TestKillDuringWrites starts `lethe unlearn` (full and convex scope),
// `constrain` and `retrain` as subprocesses and SIGKILLs each at random
// moments, LETHE_KILL_ROUNDS times per command. After every kill the
// output folder must satisfy what lethe promises: no temporary file, the
// model absent or complete, and for unlearn the release invariant of
// release.go (a model only with its own complete certificate, and then
// `lethe verify` passes on the pair; a certificate alone only complete).
// Half of the kills fall anywhere in a run, half near its end, where the
// files are written.
func TestKillDuringWrites(t *testing.T) {
	requireORT(t)
	rounds := killRounds(t)
	dir, data, forget := unlearnSetup(t)
	mlp, mlpData := fixture(t, "models/mlp.onnx"), fixtureSamples(t, "mlp", 0)
	mlpForget := filepath.Join(dir, "mlp-forget.txt")
	if err := os.WriteFile(mlpForget, []byte("3\n0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logreg := testenv.Testdata("models/logreg.onnx")
	for _, c := range []struct {
		name string
		args func(out string) []string
		cert bool // writes a certificate beside the model
	}{
		{"unlearn full", func(out string) []string { return unlearnArgs(data, forget, out) }, true},
		{"unlearn convex", func(out string) []string {
			return []string{"unlearn", logreg, "--data", data, "--forget", forget, "--epsilon", "1", "--delta", "1e-5", "--l2", "0.01", "-o", out, "--quiet"}
		}, true},
		{"constrain", func(out string) []string {
			return []string{"constrain", mlp, "--data", mlpData, "--radius", "4", "--l2", "0.001", "--epochs", "20", "--lr", "0.01", "--batch-size", "8", "-o", out, "--quiet"}
		}, false},
		{"retrain", func(out string) []string {
			return append([]string{"retrain", mlp, "--data", mlpData, "--forget", mlpForget, "-o", out, "--radius", "4", "--l2", "0.001", "--quiet"}, retrainArgs...)
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Two complete runs first: each must leave a valid output, and
			// the faster (the first warms caches) scales the kill times.
			var full time.Duration
			for i := range 2 {
				calib := t.TempDir()
				start := time.Now()
				if err := runCLI(c.args(filepath.Join(calib, "out.onnx")), -1); err != nil {
					t.Fatalf("a complete run: %v", err)
				}
				if d := time.Since(start); i == 0 || d < full {
					full = d
				}
				if got := checkKilled(t, calib, c.cert); got != "complete" {
					t.Fatalf("a complete run left %s", got)
				}
			}
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 12))
			outcomes := map[string]int{}
			for i := range rounds {
				at := time.Duration(rng.Float64() * 1.2 * float64(full))
				if i%2 == 1 {
					at = time.Duration((0.8 + 0.3*rng.Float64()) * float64(full))
				}
				out := t.TempDir()
				if err := runCLI(c.args(filepath.Join(out, "out.onnx")), at); err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
				outcomes[checkKilled(t, out, c.cert)]++
				if t.Failed() {
					t.Fatalf("round %d, killed after %v of a %v run", i, at, full)
				}
			}
			t.Logf("%d kills over a %v run: %v", rounds, full.Round(time.Millisecond), outcomes)
		})
	}
}

// runCLI runs the command line args in a subprocess and SIGKILLs it after
// at (never when at < 0). A run that ends by itself must succeed.
func runCLI(args []string, at time.Duration) error {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), cliEnv+"=1")
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if at >= 0 {
		timer = time.After(at)
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%v: %v: %s", args, err, stderr.b)
		}
		return nil
	case <-timer:
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return nil
	}
}

// limitedBuffer keeps the first 64 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// checkKilled checks the output folder of a run that may have been killed
// and returns what it found: "nothing", "certificate only" or "complete".
func checkKilled(t *testing.T, dir string, withCert bool) string {
	t.Helper()
	model, cert := filepath.Join(dir, "out.onnx"), filepath.Join(dir, "out.cert.json")
	allowed := []string{"out.onnx"}
	if withCert {
		allowed = append(allowed, "out.cert.json")
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if !slices.Contains(allowed, e.Name()) {
			t.Errorf("left %s", e.Name())
		}
	}
	_, modelErr := os.Stat(model)
	_, certErr := os.Stat(cert)
	switch {
	case modelErr == nil && !withCert:
		if _, err := onnxio.Load(model); err != nil {
			t.Errorf("the model left is not complete: %v", err)
		}
		return "complete"
	case modelErr == nil && certErr != nil:
		t.Errorf("a model without its certificate")
		return "model only"
	case modelErr == nil:
		if code, stdout, stderr := cli(t, "verify", model); code != exitOK {
			t.Errorf("verify on the pair left: exit %d\n%s%s", code, stdout, stderr)
		}
		return "complete"
	case withCert && certErr == nil:
		c, err := certify.Read(cert)
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			t.Errorf("the certificate left alone is not complete: %v", err)
		}
		return "certificate only"
	}
	return "nothing"
}
