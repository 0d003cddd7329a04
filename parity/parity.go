package parity

import (
	"fmt"
	"math"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// Tolerance accepts an element when |ort − native| ≤ Abs + Rel·|native|.
type Tolerance struct{ Abs, Rel float64 }

// DefaultTolerance suits float32 models: both engines round every operation
// to float32 but in different orders (GEMM blocking, fused kernels), which
// moves results by a few units in the last place, relative 1e-6 typically;
// 1e-4 leaves room for deep graphs while catching any real difference.
var DefaultTolerance = Tolerance{Abs: 1e-5, Rel: 1e-4}

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
	Tolerance  Tolerance
	Pass       bool
	// Worst names the element furthest outside (or closest to) the tolerance.
	Worst string
}

// Check runs the model in both engines on x, a batch of n samples fed to the
// model's single data input, and compares all outputs. modelBytes is the
// serialised model onnxruntime loads; prog must be compiled from the same
// weights.
func Check(modelBytes []byte, prog *autodiff.Program, x []float32, sample []int, n int, tol Tolerance) (*Result, error) {
	inputs := prog.Inputs()
	if len(inputs) != 1 {
		return nil, fmt.Errorf("parity: the model has %d data inputs; parity probes feed exactly one", len(inputs))
	}
	dims := append([]int64{int64(n)}, toInt64(sample)...)
	in := &onnxio.Tensor{Name: inputs[0].Name, Type: onnxio.Float, Dims: dims, Float32: x}
	native, err := prog.Run(map[string]*onnxio.Tensor{in.Name: in})
	if err != nil {
		return nil, fmt.Errorf("parity: native engine: %w", err)
	}
	if err := ort.Init(); err != nil {
		return nil, fmt.Errorf("parity: %w", err)
	}
	s, err := ort.NewSessionFromBytes(modelBytes, ort.Options{})
	if err != nil {
		return nil, fmt.Errorf("parity: onnxruntime: %w", err)
	}
	defer s.Close()
	got, err := s.Run([]*onnxio.Tensor{in})
	if err != nil {
		return nil, fmt.Errorf("parity: onnxruntime: %w", err)
	}
	return compare(native, got, s.Outputs(), tol)
}

// CheckRecorded compares onnxruntime's outputs on x with native outputs
// recorded earlier (a certificate's), without the native engine.
func CheckRecorded(modelPath string, inputName string, x []float32, dims []int64, recorded []Output, tol Tolerance) (*Result, error) {
	if err := ort.Init(); err != nil {
		return nil, fmt.Errorf("parity: %w", err)
	}
	s, err := ort.NewSession(modelPath, ort.Options{})
	if err != nil {
		return nil, fmt.Errorf("parity: onnxruntime: %w", err)
	}
	defer s.Close()
	got, err := s.Run([]*onnxio.Tensor{{Name: inputName, Type: onnxio.Float, Dims: dims, Float32: x}})
	if err != nil {
		return nil, fmt.Errorf("parity: onnxruntime: %w", err)
	}
	native := make([]*onnxio.Tensor, len(recorded))
	for i, o := range recorded {
		native[i] = &onnxio.Tensor{Name: o.Name, Type: onnxio.Float, Dims: o.Shape, Float32: o.Values}
	}
	return compare(native, got, s.Outputs(), tol)
}

func compare(native, got []*onnxio.Tensor, infos []ort.IOInfo, tol Tolerance) (*Result, error) {
	if len(native) != len(got) {
		return nil, fmt.Errorf("parity: native engine gives %d outputs, onnxruntime %d", len(native), len(got))
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
		if len(a) != len(b) {
			return nil, fmt.Errorf("parity: output %q has %d elements natively and %d in onnxruntime", name, len(a), len(b))
		}
		r.Native = append(r.Native, Output{Name: name, Shape: native[i].Dims, Values: toFloat32(a)})
		r.ORT = append(r.ORT, Output{Name: name, Shape: got[i].Dims, Values: toFloat32(b)})
		for j := range a {
			d := math.Abs(a[j] - b[j])
			if math.IsNaN(a[j]) != math.IsNaN(b[j]) || (math.IsNaN(d) && !math.IsNaN(a[j])) {
				d = math.Inf(1)
			} else if math.IsNaN(d) {
				d = 0
			}
			r.MaxAbs = max(r.MaxAbs, d)
			r.MaxRel = max(r.MaxRel, d/math.Max(math.Abs(a[j]), 1e-30))
			limit := tol.Abs + tol.Rel*math.Abs(a[j])
			if score := d / limit; score > worst {
				worst = score
				r.Worst = fmt.Sprintf("%s[%d]: native %g, onnxruntime %g", name, j, a[j], b[j])
			}
			if !(d <= limit) {
				r.Pass = false
			}
		}
	}
	return r, nil
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
