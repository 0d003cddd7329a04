package autodiff

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/lethe-ml/lethe/internal/testenv"
)

// TestBatchesAreNeverWritten evaluates every model of the repository that
// the engine compiles (those with LSTM or ConvTranspose are backbones that
// onnxruntime runs) on
// features in read-only memory, served in place by Rows: a kernel that wrote
// into its input would fault and crash the test. Evaluation reads in-memory
// data sets in place on the strength of this (Data).
func TestBatchesAreNeverWritten(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"models/*.onnx", "testdata/models/*.onnx"} {
		found, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), pattern))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, found...)
	}
	if len(paths) < 10 {
		t.Fatalf("found %d models, want the repository's (at least 10)", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			rel, _ := filepath.Rel(testenv.RepoRoot(), path)
			m := loadModel(t, rel)
			p, err := Compile(m, Options{})
			var unsupported *UnsupportedOpError
			if errors.As(err, &unsupported) {
				t.Skipf("a backbone: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			var sample []int
			for _, d := range m.Graph().DataInputs()[0].Shape[1:] {
				sample = append(sample, int(d.Value))
			}
			const n = 40
			d := &rowsData{labelled: labelled{x: readOnly(t, vals(n*numel(sample))), y: make([]int64, n), shape: sample}}
			v := make([]float64, p.Dim())
			for i := range v {
				v[i] = 1e-3 * float64(i%5-2)
			}
			g, hv := make([]float64, p.Dim()), make([]float64, p.Dim())
			ctx, opts := context.Background(), EvalOptions{BatchSize: 16, Threads: 2}
			if _, err := p.Loss(ctx, d, nil, opts); err != nil {
				t.Fatal(err)
			}
			if _, err := p.HVP(ctx, d, nil, opts, v, hv, g); err != nil {
				t.Fatal(err)
			}
			sink := func(int, []float32, []int) error { return nil }
			if err := p.Predict(ctx, d, nil, opts, sink); err != nil {
				t.Fatal(err)
			}
			if n := d.reads.Load(); n != 0 {
				t.Errorf("%d batches were copied, want all read in place", n)
			}
		})
	}
}

// readOnly returns a copy of x in memory that faults on any write.
func readOnly(t *testing.T, x []float32) []float32 {
	t.Helper()
	size := max(4*len(x), 1)
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	ro := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), len(x))
	copy(ro, x)
	if err := syscall.Mprotect(mem, syscall.PROT_READ); err != nil {
		t.Fatal(err)
	}
	return ro
}
