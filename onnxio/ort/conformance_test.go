package ort_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// conformanceModels lists every model.onnx of the conformance suites lethe
// must read.
func conformanceModels(t *testing.T) []string {
	t.Helper()
	dir := testenv.Conformance(t)
	var files []string
	for _, s := range []string{"node", "pytorch-converted", "pytorch-operator", "simple"} {
		m, err := filepath.Glob(filepath.Join(dir, s, "*", "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		testenv.Missing(t, "ONNX conformance models", fmt.Errorf("no model.onnx under %s", dir))
	}
	return files
}

// runOne runs the model file on the inputs of its first conformance test
// data set (named after the session's inputs, input_0.pb ...).
func runOne(path, dataDir string) ([]*onnxio.Tensor, error) {
	s, err := ort.NewSession(path, ort.Options{IntraOpThreads: 1})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var in []*onnxio.Tensor
	for i := range s.Inputs() {
		t, err := onnxio.ReadTensor(filepath.Join(dataDir, fmt.Sprintf("input_%d.pb", i)))
		if err != nil {
			return nil, err
		}
		in = append(in, t)
	}
	return s.Run(in)
}

func allSameBits(a, b []*onnxio.Tensor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameBits(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestConformanceORTIdentical saves every conformance model unchanged and
// checks that onnxruntime computes bit-identical outputs from the original and
// the saved file on the model's test inputs. Where onnxruntime (or
// onnxruntime_go) cannot run the original, the saved file must fail the same
// way.
func TestConformanceORTIdentical(t *testing.T) {
	requireORT(t)
	files := conformanceModels(t)
	tmp := t.TempDir()
	identical, bothFail, random := 0, 0, 0
	for i, f := range files {
		m, err := onnxio.Load(f)
		if err != nil {
			t.Errorf("load: %v", err)
			continue
		}
		out := filepath.Join(tmp, fmt.Sprintf("m%d.onnx", i))
		if err := m.Save(out); err != nil {
			t.Fatal(err)
		}
		data := filepath.Join(filepath.Dir(f), "test_data_set_0")
		want, werr := runOne(f, data)
		got, gerr := runOne(out, data)
		switch {
		case werr != nil || gerr != nil:
			norm := func(err error, path string) string {
				if err == nil {
					return "<nil>"
				}
				return strings.ReplaceAll(err.Error(), path, "MODEL")
			}
			if a, b := norm(werr, f), norm(gerr, out); a != b {
				t.Errorf("%s: original fails with %q, saved with %q", f, a, b)
				continue
			}
			bothFail++
		case allSameBits(want, got):
			identical++
		default:
			// Models with random operators differ from run to run.
			if again, err := runOne(f, data); err == nil && !allSameBits(want, again) {
				random++
				continue
			}
			t.Errorf("%s: onnxruntime outputs of the saved model differ from the original's", f)
		}
	}
	t.Logf("onnxruntime %s on %d conformance models: %d bit-identical after save, %d nondeterministic (random ops), %d that onnxruntime/onnxruntime_go cannot run (same failure before and after save)",
		ort.Version(), len(files), identical, random, bothFail)
	if identical == 0 {
		t.Error("no conformance model ran")
	}
}
