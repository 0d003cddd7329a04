package unlearn_test

import (
	"testing"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// mnistSetup is the first n MNIST training samples as 784-vectors and a
// testdata model compiled in float64 with its stored parameters.
type mnistSetup struct {
	data dataset.Source
	prog *autodiff.Program
	w    []float64
}

// newMNISTSetup loads the data and testdata/models/<model>.onnx; it skips
// (or, in CI, fails) when MNIST is not installed.
func newMNISTSetup(t *testing.T, n int, model string) mnistSetup {
	t.Helper()
	src, err := dataset.Open("mnist:train", dataset.Options{})
	testenv.Missing(t, "MNIST", err)
	t.Cleanup(func() { dataset.Close(src) })
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	data, err := dataset.Reshape(dataset.Subset(src, idx), []int{784})
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnxio.Load(testenv.Testdata("models/" + model + ".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := autodiff.Compile(m, autodiff.Options{Precision: autodiff.Float64})
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.ParamVector(p.Params())
	if err != nil {
		t.Fatal(err)
	}
	return mnistSetup{data: data, prog: p, w: w}
}

// keptSamples lists 0..n−1 without every hundredth sample from 7 on: the 1%
// the MNIST tests forget.
func keptSamples(n int) []int {
	var keep []int
	for i := 0; i < n; i++ {
		if i%100 != 7 {
			keep = append(keep, i)
		}
	}
	return keep
}
