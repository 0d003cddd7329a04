package parity

import (
	"fmt"
	"math"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// Tolerance bounds the difference between onnxruntime's output and lethe's
// float32 output, element by element:
//
//	|ort − native| ≤ Abs + Rel·|native| + Slack·e
//
// where e is the largest rounding error of lethe's float32 outputs in the
// same sample, measured against lethe's float64 evaluation. Both engines
// round every operation to float32 in different orders (GEMM blocking, fused
// kernels); where an output is the small difference of large terms that
// rounding is large, and the e term lets parity scale with it instead of
// failing on a model whose weights are large (as certified noise makes them).
type Tolerance struct{ Abs, Rel, Slack float64 }

// DefaultTolerance: relative 1e-4 covers the ordinary reordering of float32
// sums (relative 1e-6 typically), and a slack of 8 lets onnxruntime's
// rounding be several times lethe's own where cancellation dominates.
var DefaultTolerance = Tolerance{Abs: 1e-5, Rel: 1e-4, Slack: 8}

// Output is one output tensor on the probe batch.
type Output struct {
	Name   string
	Shape  []int64
	Values []float32
}

// Result is the outcome of one parity check.
type Result struct {
	ORTVersion string
	Native     []Output
	ORT        []Output
	MaxAbs     float64
	MaxRel     float64 // max |ort − native| / max(|native|, 1e-30)
	// MaxRounding is the largest |native − float64 reference|: how far
	// lethe's own float32 outputs are from exact arithmetic.
	MaxRounding float64
	Tolerance   Tolerance
	Pass        bool
	// Worst names the element closest to (or furthest beyond) the tolerance.
	Worst string
}

// Check runs the model in onnxruntime and in lethe's engine (float32, and
// float64 for the rounding reference) on x, a batch of n samples fed to the
// model's single data input, and compares all outputs.
func Check(m *onnxio.Model, x []float32, sample []int, n int, tol Tolerance) (*Result, error) {
	return CheckWith(m, Native(m), x, sample, n, tol)
}

// CheckWith is Check with lethe's side computed by ev, which may compute a
// prefix of the model's outputs (a Split computes the first); onnxruntime's
// outputs beyond it are not compared.
func CheckWith(m *onnxio.Model, ev Evaluator, x []float32, sample []int, n int, tol Tolerance) (*Result, error) {
	raw, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("parity: %w", err)
	}
	in, err := probeInput(m, x, sample, n)
	if err != nil {
		return nil, err
	}
	ref, err := ev(in, autodiff.Float64)
	if err != nil {
		return nil, fmt.Errorf("parity: lethe's engine (float64): %w", err)
	}
	native, err := ev(in, autodiff.Float32)
	if err != nil {
		return nil, fmt.Errorf("parity: lethe's engine: %w", err)
	}
	s, err := session(func() (*ort.Session, error) { return ort.NewSessionFromBytes(raw, ort.Options{}) })
	if err != nil {
		return nil, err
	}
	defer s.Close()
	got, err := s.Run([]*onnxio.Tensor{in})
	if err != nil {
		return nil, fmt.Errorf("parity: onnxruntime: %w", err)
	}
	return compare(native, native, ref, got, s.Outputs(), n, tol)
}

// CheckRecorded compares onnxruntime's outputs on x from the model file at
// path (m is that file, loaded) with native outputs recorded earlier, such as
// a certificate's. The rounding allowance comes from a fresh float32
// evaluation, never from the recorded values themselves.
func CheckRecorded(path string, m *onnxio.Model, x []float32, sample []int, n int, recorded []Output, tol Tolerance) (*Result, error) {
	return CheckRecordedWith(path, m, Native(m), x, sample, n, recorded, tol)
}

// CheckRecordedWith is CheckRecorded with lethe's side computed by ev.
func CheckRecordedWith(path string, m *onnxio.Model, ev Evaluator, x []float32, sample []int, n int, recorded []Output, tol Tolerance) (*Result, error) {
	in, err := probeInput(m, x, sample, n)
	if err != nil {
		return nil, err
	}
	ref, err := ev(in, autodiff.Float64)
	if err != nil {
		return nil, fmt.Errorf("parity: lethe's engine (float64): %w", err)
	}
	fresh, err := ev(in, autodiff.Float32)
	if err != nil {
		return nil, fmt.Errorf("parity: lethe's engine: %w", err)
	}
	s, err := session(func() (*ort.Session, error) { return ort.NewSession(path, ort.Options{}) })
	if err != nil {
		return nil, err
	}
	defer s.Close()
	got, err := s.Run([]*onnxio.Tensor{in})
	if err != nil {
		return nil, fmt.Errorf("parity: onnxruntime: %w", err)
	}
	native := make([]*onnxio.Tensor, len(recorded))
	for i, o := range recorded {
		native[i] = &onnxio.Tensor{Name: o.Name, Type: onnxio.Float, Dims: o.Shape, Float32: o.Values}
	}
	return compare(native, fresh, ref, got, s.Outputs(), n, tol)
}

// probeInput builds the tensor of the model's single data input.
func probeInput(m *onnxio.Model, x []float32, sample []int, n int) (*onnxio.Tensor, error) {
	inputs := m.Graph().DataInputs()
	if len(inputs) != 1 {
		return nil, fmt.Errorf("parity: the model has %d data inputs; parity probes feed exactly one", len(inputs))
	}
	if want := n * numel(sample); len(x) != want {
		return nil, fmt.Errorf("parity: probe has %d values, %d samples of shape %v need %d", len(x), n, sample, want)
	}
	dims := append([]int64{int64(n)}, toInt64(sample)...)
	return &onnxio.Tensor{Name: inputs[0].Name, Type: onnxio.Float, Dims: dims, Float32: x}, nil
}

func session(open func() (*ort.Session, error)) (*ort.Session, error) {
	if err := ort.Init(); err != nil {
		return nil, fmt.Errorf("parity: %w", err)
	}
	s, err := open()
	if err != nil {
		return nil, fmt.Errorf("parity: onnxruntime: %w", err)
	}
	return s, nil
}

// compare checks got (onnxruntime) against native, allowing for the rounding
// of round32 (lethe's float32 outputs) relative to ref (float64).
func compare(native, round32, ref, got []*onnxio.Tensor, infos []ort.IOInfo, n int, tol Tolerance) (*Result, error) {
	if len(native) == 0 || len(native) > len(got) || len(native) != len(ref) || len(round32) != len(ref) {
		return nil, fmt.Errorf("parity: lethe's engine gives %d outputs, onnxruntime %d", len(native), len(got))
	}
	r := &Result{ORTVersion: ort.Version(), Tolerance: tol, Pass: true}
	worst := -1.0
	for i := range native {
		name := infos[i].Name
		a, err := native[i].Float64s()
		if err != nil {
			return nil, fmt.Errorf("parity: output %q: %w", name, err)
		}
		b, err := got[i].Float64s()
		if err != nil {
			return nil, fmt.Errorf("parity: output %q: %w", name, err)
		}
		e, err := ref[i].Float64s()
		if err != nil {
			return nil, fmt.Errorf("parity: output %q: %w", name, err)
		}
		f, err := round32[i].Float64s()
		if err != nil {
			return nil, fmt.Errorf("parity: output %q: %w", name, err)
		}
		if len(a) != len(b) || len(a) != len(e) || len(a) != len(f) {
			return nil, fmt.Errorf("parity: output %q has %d elements natively and %d in onnxruntime", name, len(a), len(b))
		}
		r.Native = append(r.Native, Output{Name: name, Shape: native[i].Dims, Values: toFloat32(a)})
		r.ORT = append(r.ORT, Output{Name: name, Shape: got[i].Dims, Values: toFloat32(b)})
		row := len(a)
		if len(native[i].Dims) > 0 && native[i].Dims[0] == int64(n) && n > 0 {
			row = len(a) / n
		}
		for start := 0; start < len(a); start += max(row, 1) {
			end := min(len(a), start+max(row, 1))
			var rounding float64
			for j := start; j < end; j++ {
				rounding = max(rounding, math.Abs(f[j]-e[j]))
			}
			r.MaxRounding = max(r.MaxRounding, rounding)
			for j := start; j < end; j++ {
				d := math.Abs(a[j] - b[j])
				if math.IsNaN(a[j]) != math.IsNaN(b[j]) || (math.IsNaN(d) && !math.IsNaN(a[j])) {
					d = math.Inf(1)
				} else if math.IsNaN(d) {
					d = 0
				}
				r.MaxAbs = max(r.MaxAbs, d)
				r.MaxRel = max(r.MaxRel, d/math.Max(math.Abs(a[j]), 1e-30))
				limit := tol.Abs + tol.Rel*math.Abs(a[j]) + tol.Slack*rounding
				if score := d / limit; score > worst {
					worst = score
					r.Worst = fmt.Sprintf("%s[%d]: native %g, onnxruntime %g, float64 %g", name, j, a[j], b[j], e[j])
				}
				if !(d <= limit) {
					r.Pass = false
				}
			}
		}
	}
	return r, nil
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func toInt64(s []int) []int64 {
	r := make([]int64, len(s))
	for i, v := range s {
		r[i] = int64(v)
	}
	return r
}

func toFloat32(s []float64) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = float32(v)
	}
	return r
}
