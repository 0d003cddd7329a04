package parity

import (
	"testing"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// TestSplitMatchesOnnxruntime checks the split evaluator on the models whose
// backbone lethe's engine cannot run (an LSTM, a ConvTranspose): onnxruntime
// on the whole file agrees with onnxruntime's backbone followed by the
// engine's head, and a perturbed recorded output fails.
func TestSplitMatchesOnnxruntime(t *testing.T) {
	testenv.Missing(t, "onnxruntime", ort.Init())
	for name, sample := range map[string][]int{"lstm_head": {5, 4}, "convt_head": {2, 3, 3}} {
		path := testenv.Testdata("models/" + name + ".onnx")
		m, err := onnxio.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := autodiff.Compile(m, autodiff.Options{}); err == nil {
			t.Fatalf("%s: the engine compiles the whole model; the split is not exercised", name)
		}
		head, err := autodiff.LastAffineLayer(m, autodiff.CrossEntropy)
		if err != nil {
			t.Fatal(err)
		}
		proof, err := autodiff.ProveAffine(m, head, autodiff.CrossEntropy)
		if err != nil {
			t.Fatal(err)
		}
		in := m.Graph().DataInputs()[0].Name
		backbone, err := m.Extract([]string{in}, proof.Features)
		if err != nil {
			t.Fatal(err)
		}
		headModel, err := m.Extract(proof.Features, []string{proof.Output})
		if err != nil {
			t.Fatal(err)
		}
		split, err := NewSplit(backbone, headModel)
		if err != nil {
			t.Fatal(err)
		}
		defer split.Close()
		const n = 16
		x := RandomProbe(3, append([]int{n}, sample...))
		r, err := CheckWith(m, split.Evaluate, x, sample, n, DefaultTolerance)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: max abs diff %.3g, head rounding %.3g", name, r.MaxAbs, r.MaxRounding)
		if !r.Pass {
			t.Errorf("%s: outside tolerance at %s", name, r.Worst)
		}
		bad := []Output{r.Native[0]}
		bad[0].Values = append([]float32(nil), bad[0].Values...)
		bad[0].Values[3] += 0.01
		r2, err := CheckRecordedWith(path, m, split.Evaluate, x, sample, n, bad, DefaultTolerance)
		if err != nil || r2.Pass {
			t.Errorf("%s: a perturbed recorded output passed (err %v)", name, err)
		}
	}
}
