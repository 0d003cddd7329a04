package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
)

// requireMNIST reports MNIST missing (a failure under `make test`).
func requireMNIST(t *testing.T) {
	t.Helper()
	src, err := dataset.Open("mnist:train", dataset.Options{})
	testenv.Missing(t, "MNIST", err)
	dataset.Close(src)
}

func TestDemoUsage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, args := range [][]string{
		{"--n-forget", "1"},
		{"--n-forget", "0"},
		{"--epsilon", "0"},
		{"--epsilon", "-1"},
		{"--data", "mnist:train"}, // --data applies to --model only
		{"--reproduce", "--model", "m.onnx"},
		{"--delta", "1"},
		{"--radius", "-1"},
		{"--out", file},
		{"extra-argument"},
		{"--threads", "-2"},
	} {
		code, _, stderr := cli(t, append([]string{"demo"}, args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d (want 2): %s", args, code, stderr)
		}
	}
	requireORT(t)
	// A model that is neither bundled nor carries C needs --radius; a missing
	// model is bad input.
	for _, args := range [][]string{
		{"--model", fixture(t, "models/mlp.onnx"), "--quick"},
		{"--model", filepath.Join(dir, "missing.onnx")},
	} {
		if testing.Short() {
			break
		}
		requireMNIST(t)
		code, _, stderr := cli(t, append([]string{"demo", "--out", filepath.Join(dir, "o")}, args...)...)
		if code != exitUsage || !strings.Contains(stderr, "radius") && !strings.Contains(stderr, "missing.onnx") {
			t.Errorf("%v: exit %d (want 2): %s", args, code, stderr)
		}
	}
}

func TestDemoAndEvalHelp(t *testing.T) {
	for _, cmd := range []string{"demo", "eval"} {
		code, out, _ := cli(t, cmd, "--help")
		if code != exitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "lethe "+cmd) {
			t.Errorf("%s --help: exit %d, no example in %q", cmd, code, out)
		}
	}
}
