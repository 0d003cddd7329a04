package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// badModels makes one broken model per error case in dir and returns, for
// each, its path and words its error message must contain.
func badModels(t *testing.T, dir string) map[string]struct {
	path  string
	words []string
} {
	t.Helper()
	good := onnxtest.MLP(1, onnxtest.Raw, 784, 4, 10)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	build := func(name string, b *onnxtest.Builder) string {
		p := filepath.Join(dir, name)
		if err := b.Write(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := make([]byte, 1000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	data := good.Bytes()
	escaping := onnxtest.MLP(1, onnxtest.External, 784, 4, 10)
	escaping.ExternalLocation = "../outside.data"
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	type bad = struct {
		path  string
		words []string
	}
	return map[string]bad{
		"missing":     {filepath.Join(dir, "missing.onnx"), []string{"no such file"}},
		"not onnx":    {write("garbage.onnx", garbage), []string{"not an ONNX model"}},
		"truncated":   {write("truncated.onnx", data[:len(data)/2]), []string{"truncated"}},
		"IR version":  {build("ir99.onnx", onnxtest.New(99, 13).Output("y", onnxio.Float)), []string{"IR version 99"}},
		"initializer": {build("short.onnx", onnxtest.New(8, 13).Float("w", []int64{3, 3}, make([]float32, 8), onnxtest.Raw)), []string{`initializer "w"`, "[3 3]"}},
		"external":    {build(filepath.Join("sub", "escape.onnx"), escaping), []string{`initializer "fc1.weight"`, "outside.data", `".."`}},
	}
}

// TestBadInputs checks that every kind of bad model gives exit code 2, a
// message naming the file and the problem, no stdout and no output file.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	data := fixture(t, "fixtures/mlp.npz")
	for name, bad := range badModels(t, dir) {
		out := filepath.Join(dir, "out.npy")
		for _, args := range [][]string{
			{"inspect", bad.path},
			{"inspect", "--json", bad.path},
			{"run", bad.path, "--data", data, "--out", out},
		} {
			code, stdout, errs := cli(t, args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("%s: %v: exit %d, stdout %q; want 2 and nothing", name, args[0], code, stdout)
			}
			if !strings.Contains(errs, bad.path) {
				t.Errorf("%s: %v: stderr %q does not name the file", name, args[0], errs)
			}
			for _, w := range bad.words {
				if !strings.Contains(errs, w) {
					t.Errorf("%s: %v: stderr %q lacks %q", name, args[0], errs, w)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s: run wrote %s", name, out)
				os.Remove(out)
			}
		}
	}
}
