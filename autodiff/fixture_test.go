package autodiff

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// labelled is an in-memory labelled data set for tests.
type labelled struct {
	x     []float32
	shape []int
	y     []int64
}

func (d *labelled) Len() int           { return len(d.y) }
func (d *labelled) SampleShape() []int { return d.shape }
func (d *labelled) Read(idx []int, x []float32, y []int64) error {
	ss := numel(d.shape)
	for i, j := range idx {
		copy(x[i*ss:(i+1)*ss], d.x[j*ss:(j+1)*ss])
		if y != nil {
			y[i] = d.y[j]
		}
	}
	return nil
}

// fixture is one model's PyTorch reference (testdata/gen_fixtures.py).
type fixture struct {
	name   string
	model  *onnxio.Model
	data   *labelled
	logits []float64
	loss   float64
	grad   []float64
	v      []float64
	hvp    []float64
}

func loadFixture(t *testing.T, name string) *fixture {
	t.Helper()
	m, err := onnxio.Load(testenv.Testdata("models/" + name + ".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := npz.Open(testenv.Testdata("fixtures/" + name + ".npz"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := &fixture{name: name, model: m, data: &labelled{}}
	var loss []float64
	for key, ptr := range map[string]any{"x": &f.data.x, "y": &f.data.y, "logits": &f.logits, "loss": &loss, "grad": &f.grad, "v": &f.v, "hvp": &f.hvp} {
		if err := r.Read(key+".npy", ptr); err != nil {
			t.Fatalf("%s: reading %s: %v", name, key, err)
		}
	}
	f.loss = loss[0]
	shape := r.Header("x.npy").Descr.Shape
	f.data.shape = shape[1:]
	return f
}

// relErr is the norm-wise relative error ‖a − b‖/‖b‖, the measure used for
// whole gradients and HVPs: per-element relative errors are meaningless for
// the many entries that are zero or nearly so.
func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range b {
		d := a[i] - b[i]
		num += d * d
		den += b[i] * b[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

var fixtureModels = []string{"mlp", "logreg", "cnn_bn", "cnn_folded", "resblock", "transformer"}

func TestFixtureParamsMatchPyTorchOrder(t *testing.T) {
	for _, name := range fixtureModels {
		f := loadFixture(t, name)
		p, err := Compile(f.model, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		raw, err := os.ReadFile(testenv.Testdata("models/" + name + ".params.json"))
		if err != nil {
			t.Fatal(err)
		}
		var want struct {
			Params []struct {
				Name   string
				Shape  []int64
				Offset int
			}
		}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		got := p.Params()
		if len(got) != len(want.Params) {
			t.Fatalf("%s: %d params, PyTorch reference lists %d", name, len(got), len(want.Params))
		}
		for i, w := range want.Params {
			if got[i].Name != w.Name || got[i].Offset != w.Offset || len(got[i].Shape) != len(w.Shape) {
				t.Errorf("%s: param %d = %+v, want %+v", name, i, got[i], w)
			}
		}
	}
}

func TestFixturesAgainstPyTorch(t *testing.T) {
	for _, name := range fixtureModels {
		f := loadFixture(t, name)
		for _, prec := range []Precision{Float64, Float32} {
			t.Run(name+"/"+prec.String(), func(t *testing.T) {
				p, err := Compile(f.model, Options{Precision: prec})
				if err != nil {
					t.Fatal(err)
				}
				// float64 reproduces PyTorch's float64 reference to rounding
				// (accumulation order differs); float32 within the 1e-4.
				tol := 1e-9
				if prec == Float32 {
					tol = 1e-4
				}
				n := f.data.Len()
				out, _, err := p.Forward(f.data.x, f.data.shape, n)
				if err != nil {
					t.Fatal(err)
				}
				logits := make([]float64, len(out))
				for i, v := range out {
					logits[i] = float64(v)
				}
				// Forward hands back float32, the ONNX output type, so the
				// float64 program is only as close as float32 rounding (6e-8).
				if e := relErr(logits, f.logits); e > max(tol, 1e-7) {
					t.Errorf("forward: relative error %.3g > %g", e, tol)
				}
				grad := make([]float64, p.Dim())
				// Batches of 3 exercise the accumulation over uneven batches.
				opts := EvalOptions{BatchSize: 3, Threads: 2}
				loss, err := p.Gradient(context.Background(), f.data, nil, opts, grad)
				if err != nil {
					t.Fatal(err)
				}
				if e := math.Abs(loss-f.loss) / math.Abs(f.loss); e > tol {
					t.Errorf("loss %.10g, PyTorch %.10g", loss, f.loss)
				}
				if e := relErr(grad, f.grad); e > tol {
					t.Errorf("gradient: relative error %.3g > %g", e, tol)
				}
				hv := make([]float64, p.Dim())
				if _, err := p.HVP(context.Background(), f.data, nil, opts, f.v, hv, nil); err != nil {
					t.Fatal(err)
				}
				if e := relErr(hv, f.hvp); e > tol {
					t.Errorf("HVP: relative error %.3g > %g", e, tol)
				} else {
					t.Logf("HVP relative error %.3g", e)
				}
			})
		}
	}
}
