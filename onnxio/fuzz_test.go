package onnxio_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// fuzzLimit keeps each fuzz input's decode small.
const fuzzLimit = 1 << 20

// FuzzLoad feeds arbitrary bytes to Decode. It must never panic or allocate
// without bound; whatever it accepts must encode, and the encoding must decode
// again to the same encoding. Seeds: lethe's own fixtures in every storage
// form and a few conformance models (when installed); crashers found earlier
// live in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, enc := range []onnxtest.Encoding{onnxtest.Raw, onnxtest.Typed} {
		f.Add(onnxtest.MLP(1, enc, 4, 3, 2).Bytes())
	}
	f.Add(ruleModel().Bytes())
	seeds := []string{"node/test_if/model.onnx", "node/test_loop11/model.onnx", "node/test_constant/model.onnx",
		"pytorch-converted/test_Conv2d/model.onnx", "simple/test_sequence_model1/model.onnx"}
	for _, s := range seeds {
		if b, err := os.ReadFile(filepath.Join(testenv.ConformanceDir, s)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnxio.Decode(data, onnxio.DecodeOptions{MaxBytes: fuzzLimit})
		if err != nil {
			return
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded but cannot encode: %v", err)
		}
		m2, err := onnxio.Decode(enc, onnxio.DecodeOptions{})
		if err != nil {
			t.Fatalf("its own encoding does not decode: %v", err)
		}
		enc2, err := m2.Encode()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable (%v)", err)
		}
		if ps, err := m.Params(onnxio.ParamOptions{}); err == nil { // float16 parameters are a legitimate error
			if _, err := m.ParamVector(ps); err != nil {
				t.Fatalf("ParamVector of its own Params: %v", err)
			}
		}
	})
}
