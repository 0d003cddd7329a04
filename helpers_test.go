package lethe_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// requireORT reports onnxruntime missing (a failure under `make test`).
func requireORT(t *testing.T) {
	t.Helper()
	testenv.Missing(t, "onnxruntime shared library", ort.Init())
}

// mnistSubset writes the first n MNIST training samples to dir/train.npz
// and returns the path with the arrays.
func mnistSubset(t *testing.T, dir string, n int) (string, []float32, []int64) {
	t.Helper()
	src, err := dataset.Open("mnist:train", dataset.Options{})
	testenv.Missing(t, "MNIST", err)
	defer dataset.Close(src)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x := make([]float32, n*784)
	y := make([]int64, n)
	if err := src.Read(idx, x, y); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "train.npz")
	if err := dataset.WriteNPZ(path, x, []int{784}, y); err != nil {
		t.Fatal(err)
	}
	return path, x, y
}

// logreg is the logistic-regression fixture: convex, so λ can be 0 with L2.
func logreg(t *testing.T) string {
	t.Helper()
	p := testenv.Testdata("models/logreg.onnx")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture: %v (made by testdata/gen_fixtures.py)", err)
	}
	return p
}

// captureStderr runs f and returns what it wrote to os.Stderr.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	done := make(chan []byte)
	go func() {
		var buf []byte
		b := make([]byte, 4096)
		for {
			n, err := r.Read(b)
			buf = append(buf, b[:n]...)
			if err != nil {
				done <- buf
				return
			}
		}
	}()
	defer func() {
		os.Stderr = saved
	}()
	f()
	w.Close()
	os.Stderr = saved
	return string(<-done)
}

// writeNPZ writes MNIST-shaped samples.
func writeNPZ(path string, x []float32, y []int64) error {
	return dataset.WriteNPZ(path, x, []int{784}, y)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
