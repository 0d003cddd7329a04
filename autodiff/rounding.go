package autodiff

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/lethe-ml/lethe/onnxio"
)

// RoundingMargin bounds the rounding error of the gradient an Objective
// computes, for a model whose trainable parameters enter the first output
// affinely (see ProveAffine), so that an a-posteriori bound built on that
// gradient stays an upper bound in exact arithmetic.
//
// The gradient is a sum over samples of terms a_i = J_iᵀ·s_i, with J_i the
// Jacobian of sample i's output with respect to the parameters (constant in
// them, by affinity) and s_i = ∂ℓ_i/∂z_i the loss seed. Summing N terms in
// any order errs by at most γ_{N−1}·Σ|a_i| componentwise (Higham, Accuracy
// and Stability of Numerical Algorithms, §3.1 and §4.2), and computing each
// term rounds the seed by at most a few units in the last place of |s_i| + 1
// (softmax probabilities, p − e_y) and the product by a relative few ulps.
// With |a_i| ≤ |J_i|ᵀ·(|s_i| + 1) ≤ F·|J_i|ᵀ·1, where F bounds the seed's
// magnitude plus one, the error of the mean gradient plus the (μ/2)‖w‖²
// term is at most
//
//	margin = γ_{N+1000}·(F·‖(1/N)·Σ_i |J_i|ᵀ·1‖₂ + μ‖w‖₂),
//
// the 1000 covering the operations per term. (1/N)·Σ_i |J_i|ᵀ·1 is the
// gradient of the mean OutputSum loss of the model with every
// floating-point parameter and the input replaced by their absolute values:
// one extra gradient evaluation. F is 2 for cross-entropy (|s| ≤ 1) and
// binary cross-entropy (|s| ≤ 1/K), and 1 + max 2|z − t|/K for MSE, which
// needs a forward pass.
type RoundingMargin struct {
	obj *Objective
	abs *Objective
}

// NewRoundingMargin prepares the margin of obj, whose Program was compiled
// from m with the Freeze patterns freeze. The magnitude program always
// computes in float64.
func NewRoundingMargin(m *onnxio.Model, freeze []string, obj *Objective) (*RoundingMargin, error) {
	all, err := m.Params(onnxio.ParamOptions{})
	if err != nil {
		return nil, fmt.Errorf("autodiff: rounding margin: %w", err)
	}
	w, err := m.ParamVector(all)
	if err != nil {
		return nil, fmt.Errorf("autodiff: rounding margin: %w", err)
	}
	for i, v := range w {
		w[i] = math.Abs(v)
	}
	absModel := m.Clone()
	if err := absModel.SetParamVector(all, w); err != nil {
		return nil, fmt.Errorf("autodiff: rounding margin: %w", err)
	}
	prog, err := Compile(absModel, Options{Precision: Float64, Freeze: freeze})
	if err != nil {
		return nil, fmt.Errorf("autodiff: rounding margin: %w", err)
	}
	if prog.Dim() != obj.Dim() {
		return nil, fmt.Errorf("autodiff: rounding margin: the magnitude program has %d parameters, the objective %d", prog.Dim(), obj.Dim())
	}
	opts := obj.Options
	opts.Loss = OutputSum
	abs := &Objective{Program: prog, Data: absData{obj.Data}, Index: obj.Index, Options: opts}
	return &RoundingMargin{obj: obj, abs: abs}, nil
}

// Margin returns the bound on ‖ĝ − ∇L(w)‖₂ for the gradient ĝ that the
// objective computes at w. It has the signature of unlearn.MarginFunc.
func (r *RoundingMargin) Margin(ctx context.Context, w []float64) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	absW := slices.Clone(w)
	for i, v := range absW {
		absW[i] = math.Abs(v)
	}
	mag := make([]float64, len(w))
	if _, err := r.abs.Eval(absW, nil, mag); err != nil {
		return 0, fmt.Errorf("autodiff: rounding margin: %w", err)
	}
	var sq, wsq float64
	for i, v := range mag {
		sq += v * v
		wsq += w[i] * w[i]
	}
	f, err := r.seedFactor(ctx, w)
	if err != nil {
		return 0, err
	}
	gamma := float64(r.obj.Len()+1000) * 0x1p-53
	gamma /= 1 - gamma
	// The magnitudes are sums of non-negative float64 terms, accurate to a
	// relative γ_N themselves; 1e-6 on top covers that and the norms.
	return gamma * (f*math.Sqrt(sq) + r.obj.L2*math.Sqrt(wsq)) * (1 + 1e-6), nil
}

// seedFactor bounds max |∂ℓ/∂z| + 1 over the samples.
func (r *RoundingMargin) seedFactor(ctx context.Context, w []float64) (float64, error) {
	switch r.obj.Options.Loss {
	case CrossEntropy, BCE:
		return 2, nil
	case MSE:
	default:
		return 0, fmt.Errorf("autodiff: rounding margin: no seed bound for loss %v", r.obj.Options.Loss)
	}
	// MSE: s = 2(z − t)/K with t ∈ [0, max label], so |s| ≤ 2(|z| + |t|)/K.
	var zmax float64
	var k int
	err := r.obj.Program.withParams(w, func() error {
		return r.obj.Program.Predict(ctx, r.obj.Data, r.obj.Index, r.obj.Options, func(_ int, out []float32, shape []int) error {
			k = numel(shape[1:])
			for _, v := range out {
				zmax = math.Max(zmax, math.Abs(float64(v)))
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("autodiff: rounding margin: %w", err)
	}
	tmax := 1.0
	if k == 1 {
		// Regression-style targets: the label itself.
		tmax, err = maxLabel(ctx, r.obj)
		if err != nil {
			return 0, err
		}
	}
	return 1 + 2*(zmax*(1+1e-6)+tmax)/float64(max(k, 1)), nil
}

// maxLabel returns the largest |label| among the objective's samples.
func maxLabel(ctx context.Context, o *Objective) (float64, error) {
	idx := o.Index
	if idx == nil {
		idx = make([]int, o.Data.Len())
		for i := range idx {
			idx[i] = i
		}
	}
	x := make([]float32, numel(o.Data.SampleShape())*min(len(idx), 1024))
	y := make([]int64, min(len(idx), 1024))
	var m float64
	for start := 0; start < len(idx); start += len(y) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		b := idx[start:min(len(idx), start+len(y))]
		if err := o.Data.Read(b, x[:len(b)*numel(o.Data.SampleShape())], y[:len(b)]); err != nil {
			return 0, fmt.Errorf("autodiff: rounding margin: %w", err)
		}
		for _, v := range y[:len(b)] {
			m = math.Max(m, math.Abs(float64(v)))
		}
	}
	return m, nil
}

// absData serves the absolute values of another data set's features, with
// its labels.
type absData struct{ Data }

func (d absData) Read(idx []int, x []float32, y []int64) error {
	if err := d.Data.Read(idx, x, y); err != nil {
		return err
	}
	for i, v := range x {
		x[i] = float32(math.Abs(float64(v)))
	}
	return nil
}
