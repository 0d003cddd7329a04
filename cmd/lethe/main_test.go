package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
	"codeberg.org/sbinet/npyio/npz"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// cli runs the command line in-process and returns its exit code and
// output streams.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(args, &out, &errb)
	return code, out.String(), errb.String()
}

// fixture returns the path of a file under testdata/.
func fixture(t *testing.T, name string) string {
	t.Helper()
	p := testenv.Testdata(name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v (made by testdata/gen_fixtures.py)", name, err)
	}
	return p
}

// requireORT reports onnxruntime missing (a failure under `make test`).
func requireORT(t *testing.T) {
	t.Helper()
	testenv.Missing(t, "onnxruntime shared library", ort.Init())
}

// decodeJSON parses a command's --json output.
func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("stdout is not JSON (%v): %q", err, s)
	}
}

// readNpy reads a float32 .npy file as float64 with its shape.
func readNpy(t *testing.T, path string) ([]float64, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npy.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Trim(r.Header.Descr.Type, "'") != "<f4" {
		t.Fatalf("%s holds %s, want float32 (<f4)", path, r.Header.Descr.Type)
	}
	var v []float32
	if err := r.Read(&v); err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out, r.Header.Descr.Shape
}

// readNpz reads one array of a .npz fixture as float64.
func readNpz(t *testing.T, path, name string) []float64 {
	t.Helper()
	f, err := npz.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var v []float64
	if err := f.Read(name+".npy", &v); err != nil {
		t.Fatalf("%s[%s]: %v", path, name, err)
	}
	return v
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := cli(t, "--version")
	if code != exitOK || !strings.Contains(out, "lethe version") {
		t.Errorf("--version: %d %q", code, out)
	}
	for _, cmd := range []string{"inspect", "run"} {
		code, out, _ := cli(t, cmd, "--help")
		if code != exitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "lethe "+cmd+" model.onnx") {
			t.Errorf("%s --help: exit %d, no example in %q", cmd, code, out)
		}
	}
	if code, out, _ := cli(t); code != exitOK || !strings.Contains(out, "inspect") {
		t.Errorf("bare lethe: %d %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"},
		{"inspect"},
		{"inspect", "a.onnx", "b.onnx"},
		{"inspect", "--nope", "a.onnx"},
		{"inspect", "--freeze", "[", "a.onnx"},
		{"run", "a.onnx", "--out", "o.npy"},
		{"run", "a.onnx", "--data", "d.npz"},
		{"run", "a.onnx", "--data", "d.npz", "--out", "o.npy", "--engine", "gpu"},
		{"run", "a.onnx", "--data", "d.npz", "--out", "o.npy", "--batch-size", "0"},
	} {
		code, out, errs := cli(t, args...)
		if code != exitUsage || out != "" || !strings.Contains(errs, "--help") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and a pointer to --help", args, code, out, errs)
		}
	}
}

// TestPanicIsInternalError checks that a panic anywhere in a command becomes
// exit code 3 with a message, not a crash.
func TestPanicIsInternalError(t *testing.T) {
	defer func(f func(onnxio.Node) error) { nodeSupport = f }(nodeSupport)
	nodeSupport = func(onnxio.Node) error { panic("boom") }
	code, _, errs := cli(t, "inspect", fixture(t, "models/mlp.onnx"))
	if code != exitInternal || !strings.Contains(errs, "internal error") || !strings.Contains(errs, "boom") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.onnx")
	os.WriteFile(in, []byte("x"), 0o644)
	link := filepath.Join(dir, "link.onnx")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{in, link, filepath.Join(dir, ".", "in.onnx")} {
		if err := checkOutput(out, "unrelated", in); exitCode(err) != exitUsage {
			t.Errorf("checkOutput(%s): %v", out, err)
		}
	}
	if err := checkOutput(filepath.Join(dir, "missing", "o.npy"), in); exitCode(err) != exitUsage {
		t.Errorf("output in a missing folder: %v", err)
	}
	if err := checkOutput(filepath.Join(dir, "out.npy"), in); err != nil {
		t.Errorf("a fresh output: %v", err)
	}
}

// formatFloat writes a float as lethe writes it into metadata.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// retainedIndices returns 0..n−1 without the sorted indices drop.
func retainedIndices(n int, drop []int) []int {
	var out []int
	for i := range n {
		if !slices.Contains(drop, i) {
			out = append(out, i)
		}
	}
	return out
}
