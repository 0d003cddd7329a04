package ort_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// perturbAndSave replaces every trainable parameter of m with w+δ (distinct
// small δ per element), saves to out, reloads the saved file and checks that
// its parameters read back exactly as float32(w+δ).
func perturbAndSave(t *testing.T, m *onnxio.Model, out string) *onnxio.Model {
	t.Helper()
	ps, err := m.Params(onnxio.ParamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.ParamVector(ps)
	if err != nil {
		t.Fatal(err)
	}
	for i := range w {
		w[i] += 1e-2 * float64(i%7+1)
	}
	if err := m.SetParamVector(ps, w); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(out); err != nil {
		t.Fatal(err)
	}
	m2, err := onnxio.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m2.ParamVector(ps)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		for i := p.Offset; i < p.Offset+p.Size; i++ {
			want := w[i]
			if p.Type == onnxio.Float {
				want = float64(float32(w[i]))
			}
			if got[i] != want {
				t.Fatalf("%s: %s element %d reads back %v, want %v", out, p.Name, i-p.Offset, got[i], want)
			}
		}
	}
	return m2
}

// TestNewParamsReachOnnxruntime perturbs every parameter of an MLP stored as
// raw_data, float_data and external data, saves it, and checks that
// onnxruntime's output from the saved file equals a float64 evaluation with
// the new weights, at several batch sizes.
func TestNewParamsReachOnnxruntime(t *testing.T) {
	requireORT(t)
	for name, enc := range map[string]onnxtest.Encoding{"raw": onnxtest.Raw, "typed": onnxtest.Typed, "external": onnxtest.External} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "in.onnx")
			if err := onnxtest.MLP(5, enc, 6, 5, 3).Write(in); err != nil {
				t.Fatal(err)
			}
			m, err := onnxio.Load(in)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.onnx")
			m2 := perturbAndSave(t, m, out)
			s, err := ort.NewSession(out, ort.Options{IntraOpThreads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			orig, err := ort.NewSession(in, ort.Options{IntraOpThreads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer orig.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			for _, batch := range []int64{1, 3, 17} {
				x := randomInput(rng, batch, 6)
				res, err := s.Run([]*onnxio.Tensor{x})
				if err != nil {
					t.Fatal(err)
				}
				want := mlpForward(t, m2, x)
				got, _ := res[0].Float64s()
				// float32 sums of at most 6 products of O(1) values: a few
				// float32 ulps of O(1), far below the 1e-2 perturbation.
				if d := ort.Compare(got, want); d.MaxAbs > 1e-5 || len(res[0].Dims) != 2 || res[0].Dims[0] != batch {
					t.Errorf("batch %d: onnxruntime vs float64 reference: %+v, dims %v", batch, d, res[0].Dims)
				}
				before, err := orig.Run([]*onnxio.Tensor{x})
				if err != nil {
					t.Fatal(err)
				}
				if d, _ := ort.CompareTensors(before[0], res[0]); d.MaxAbs < 1e-4 {
					t.Errorf("batch %d: the new weights did not change the output (%+v)", batch, d)
				}
			}
		})
	}
}

// TestFixtureModelsPerturbed does the same for the PyTorch-exported fixture
// models: new parameters read back exactly, and onnxruntime loads and runs the
// saved file, with outputs that moved.
func TestFixtureModelsPerturbed(t *testing.T) {
	requireORT(t)
	files, err := filepath.Glob(testenv.Testdata("models/*.onnx"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/models/*.onnx (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			m, err := onnxio.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out.onnx")
			perturbAndSave(t, m, out)
			in := m.Graph().DataInputs()[0]
			dims := []int64{2}
			for _, d := range in.Shape[1:] {
				dims = append(dims, d.Value)
			}
			x := randomInput(rand.New(rand.NewPCG(3, 4)), dims...)
			var res [2][]*onnxio.Tensor
			for i, p := range []string{f, out} {
				s, err := ort.NewSession(p, ort.Options{IntraOpThreads: 1})
				if err != nil {
					t.Fatal(err)
				}
				res[i], err = s.Run([]*onnxio.Tensor{x})
				s.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			if d, err := ort.CompareTensors(res[0][0], res[1][0]); err != nil || d.MaxAbs == 0 {
				t.Errorf("outputs before and after the new parameters: %+v, %v", d, err)
			}
		})
	}
}

// TestConformanceParamsPerturbed replaces the parameters of every conformance
// model that has any, and checks that they read back exactly and that the
// saved file runs in onnxruntime whenever the original does.
func TestConformanceParamsPerturbed(t *testing.T) {
	requireORT(t)
	withParams, ran := 0, 0
	for _, f := range conformanceModels(t) {
		m, err := onnxio.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if ps, err := m.Params(onnxio.ParamOptions{}); err != nil || len(ps) == 0 {
			continue
		}
		withParams++
		out := filepath.Join(t.TempDir(), "out.onnx")
		perturbAndSave(t, m, out)
		data := filepath.Join(filepath.Dir(f), "test_data_set_0")
		if _, err := runOne(f, data); err != nil {
			continue // onnxruntime cannot run the original (old opsets)
		}
		if _, err := runOne(out, data); err != nil {
			t.Errorf("%s: the original runs but the saved one does not: %v", f, err)
			continue
		}
		ran++
		os.Remove(out)
	}
	t.Logf("conformance models with parameters: %d perturbed and read back exactly, %d of them also run in onnxruntime", withParams, ran)
	if withParams == 0 {
		t.Error("no conformance model has parameters")
	}
}
