package dataset_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// rawNPY builds a .npy stream by hand, independently of the package's
// writer, so tests can describe any dtype, order and shape: dict fields as
// numpy writes them, padded to a multiple of 64 bytes.
func rawNPY(descr string, fortran bool, shape string, data []byte) []byte {
	order := "False"
	if fortran {
		order = "True"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, order, shape)
	pad := 64 - (10+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	dict += string(bytes.Repeat([]byte(" "), pad)) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	b.WriteString(dict)
	b.Write(data)
	return b.Bytes()
}

// le encodes values little-endian.
func le(values ...any) []byte {
	var b bytes.Buffer
	for _, v := range values {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

// writeFile writes data to name in dir and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll reads every sample of src (labels too, when it has them).
func readAll(t *testing.T, src dataset.Source) ([]float32, []int64) {
	t.Helper()
	n := src.Len()
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	size := 1
	for _, d := range src.SampleShape() {
		size *= d
	}
	x := make([]float32, n*size)
	var y []int64
	if dataset.HasLabels(src) {
		y = make([]int64, n)
	}
	if err := src.Read(idx, x, y); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return x, y
}

// mustOpen opens spec or fails the test, closing the source at cleanup.
func mustOpen(t *testing.T, spec string, opts dataset.Options) dataset.Source {
	t.Helper()
	src, err := dataset.Open(spec, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", spec, err)
	}
	t.Cleanup(func() { dataset.Close(src) })
	return src
}

// wantErr fails unless err is non-nil and its text contains every part.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !bytes.Contains([]byte(err.Error()), []byte(p)) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}

// equalBits reports whether a and b hold the same float32 bit patterns.
func equalBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
