package parity

import (
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

var fixtureModels = map[string][]int{
	"mlp": {784}, "logreg": {784}, "cnn_bn": {1, 28, 28}, "cnn_folded": {1, 28, 28},
	"resblock": {3, 8, 8}, "transformer": {6, 16},
}

// TestNativeMatchesOnnxruntime runs every fixture model in both engines on a
// probe batch, in float32 as onnxruntime does.
func TestNativeMatchesOnnxruntime(t *testing.T) {
	testenv.Missing(t, "onnxruntime", ort.Init())
	for name, sample := range fixtureModels {
		path := testenv.Testdata("models/" + name + ".onnx")
		m, err := onnxio.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		const n = 16
		x := RandomProbe(7, append([]int{n}, sample...))
		r, err := Check(m, x, sample, n, DefaultTolerance)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: max abs diff %.3g, max rel diff %.3g, lethe float32 rounding %.3g (onnxruntime %s)", name, r.MaxAbs, r.MaxRel, r.MaxRounding, r.ORTVersion)
		if !r.Pass {
			t.Errorf("%s: outside tolerance at %s", name, r.Worst)
		}
		// The recorded-output path (what verify uses) must agree with the live one.
		r2, err := CheckRecorded(path, m, x, sample, n, r.Native, DefaultTolerance)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !r2.Pass || r2.MaxAbs != r.MaxAbs {
			t.Errorf("%s: recorded check differs: pass %v, max abs %g vs %g", name, r2.Pass, r2.MaxAbs, r.MaxAbs)
		}
		// A changed recorded output must fail.
		bad := slices.Clone(r.Native)
		bad[0].Values = slices.Clone(bad[0].Values)
		bad[0].Values[0] += 0.01
		r3, err := CheckRecorded(path, m, x, sample, n, bad, DefaultTolerance)
		if err != nil || r3.Pass {
			t.Errorf("%s: a perturbed recorded output passed (err %v)", name, err)
		}
	}
}

func TestRandomProbeIsReproducible(t *testing.T) {
	a := RandomProbe(42, []int{3, 4})
	b := RandomProbe(42, []int{3, 4})
	c := RandomProbe(43, []int{3, 4})
	if !slices.Equal(a, b) || slices.Equal(a, c) || len(a) != 12 {
		t.Fatalf("probe not reproducible or not seed-dependent: %v %v %v", a, b, c)
	}
	for _, v := range a {
		if v < 0 || v >= 1 {
			t.Fatalf("probe value %g outside [0, 1)", v)
		}
	}
}
