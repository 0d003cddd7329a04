package onnxio_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// conformanceSuites are the folders of the ONNX backend conformance data whose
// models every lethe build must read.
var conformanceSuites = []string{"node", "pytorch-converted", "pytorch-operator", "simple"}

// Minimum counts of Debian's libonnx-testdata 1.12.0: every model.onnx of
// conformanceSuites must load and round-trip, and every input/output file
// holding a TensorProto must read. Fewer found means the data or the glob
// changed, and the tests would check less than they claim.
const (
	minConformanceModels  = 1072
	minConformanceTensors = 3154
)

// conformanceModels lists every model.onnx of the conformance suites.
func conformanceModels(t *testing.T) []string {
	t.Helper()
	dir := testenv.Conformance(t)
	var files []string
	for _, s := range conformanceSuites {
		m, err := filepath.Glob(filepath.Join(dir, s, "*", "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		testenv.Missing(t, "ONNX conformance models", fmt.Errorf("no model.onnx under %s", dir))
	}
	if len(files) < minConformanceModels {
		t.Fatalf("%d conformance models under %s, want at least %d", len(files), dir, minConformanceModels)
	}
	return files
}

// TestConformanceRoundTrip loads every conformance model, saves it unchanged
// and checks that the saved file reloads to an equal protobuf (unknown fields
// included) and that the saved bytes are the deterministic encoding. Every
// model found must load and round-trip.
func TestConformanceRoundTrip(t *testing.T) {
	files := conformanceModels(t)
	tmp := t.TempDir()
	loaded, roundTripped, identicalBytes := 0, 0, 0
	for i, f := range files {
		m, err := onnxio.Load(f)
		if err != nil {
			t.Errorf("load: %v", err)
			continue
		}
		loaded++
		out := filepath.Join(tmp, fmt.Sprintf("m%d.onnx", i))
		if err := m.Save(out); err != nil {
			t.Errorf("%s: save: %v", f, err)
			continue
		}
		m2, err := onnxio.Load(out)
		if err != nil {
			t.Errorf("%s: reload: %v", f, err)
			continue
		}
		if !proto.Equal(onnxio.ProtoOf(m), onnxio.ProtoOf(m2)) {
			t.Errorf("%s: the saved model reloads to a different protobuf", f)
			continue
		}
		enc, err := m.Encode()
		if err != nil {
			t.Errorf("%s: encode: %v", f, err)
			continue
		}
		saved, _ := os.ReadFile(out)
		orig, _ := os.ReadFile(f)
		if !bytes.Equal(enc, saved) {
			t.Errorf("%s: Save wrote different bytes than Encode returns", f)
			continue
		}
		if bytes.Equal(orig, saved) {
			identicalBytes++
		}
		roundTripped++
		os.Remove(out)
	}
	t.Logf("conformance models: %d found, %d loaded, %d round-tripped to an equal protobuf (%d byte-identical to the original file)",
		len(files), loaded, roundTripped, identicalBytes)
	if loaded != len(files) || roundTripped != len(files) {
		t.Errorf("%d of %d models loaded and %d round-tripped; want all", loaded, len(files), roundTripped)
	}
}

// TestConformanceTensors reads every input_N.pb/output_N.pb that holds a
// TensorProto and checks each decodes to as many values as its dims say.
func TestConformanceTensors(t *testing.T) {
	dir := testenv.Conformance(t)
	files, err := filepath.Glob(filepath.Join(dir, "*", "*", "test_data_set_*", "*.pb"))
	if err != nil || len(files) == 0 {
		testenv.Missing(t, "ONNX conformance tensors", fmt.Errorf("no .pb files under %s: %v", dir, err))
	}
	read, other := 0, 0
	for _, f := range files {
		tt, err := onnxio.ReadTensor(f)
		if err != nil {
			// Sequence and optional test values are SequenceProto or
			// OptionalProto files, which ReadTensor rightly refuses.
			other++
			continue
		}
		n := len(tt.Float32) + len(tt.Float64) + len(tt.Int64) + len(tt.Uint64) + len(tt.Bits16) + len(tt.Strings)
		want := tt.NumElements()
		if tt.Type == onnxio.Complex64 || tt.Type == onnxio.Complex128 {
			want *= 2
		}
		if n != want {
			t.Errorf("%s: %d values for dims %v", f, n, tt.Dims)
		}
		read++
	}
	t.Logf("conformance tensors: %d files, %d TensorProto read, %d other (sequence/optional/map) refused", len(files), read, other)
	if read < minConformanceTensors {
		t.Errorf("%d conformance tensors read, want at least %d", read, minConformanceTensors)
	}
}
