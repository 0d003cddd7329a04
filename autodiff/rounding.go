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
// Jacobian of sample i's output z_i with respect to the P parameters
// (constant in them, by affinity) and s_i = ∂ℓ_i/∂z_i the loss seed. Three
// errors enter, each bounded componentwise with γ_k = k·u/(1 − k·u),
// u = 2⁻⁵³ (Higham, Accuracy and Stability of Numerical Algorithms, §3.1):
//
//   - the output: z_i is a sum of at most P products and biases, so
//     |ẑ_i − z_i| ≤ γ_P·z̄_i, where z̄_i = |J_i|·|w| + |c_i| is the output of
//     the model with every parameter and the input replaced by its absolute
//     value; the seeds of xent, bce and mse have derivatives ≤ 2 in z, so
//     the seed errs by at most 2γ_P·‖z̄_i‖_∞ from this;
//   - the seed itself: a few ulps of |s_i| + 1 (softmax probabilities, p − e_y);
//   - the sum over samples, in any order: γ_{N−1}·Σ_i |a_i|.
//
// With |s_i| + 1 ≤ F (2 for xent, whose seed is a difference of
// probabilities, and for bce; 1 + max 2|z − t|/K for mse) and
// Z = max_i ‖z̄_i‖_∞, the error of the mean gradient plus the (μ/2)‖w‖² term
// is at most, componentwise, (γ_{N+1000}·F + 2γ_{P+1000}·Z)·(1/N)·Σ_i |J_i|ᵀ·1
// plus γ_{N+1000}·μ|w|, so in norm
//
//	margin = (γ_{N+1000}·F + 2γ_{P+1000}·Z)·‖(1/N)·Σ_i |J_i|ᵀ·1‖₂ + γ_{N+1000}·μ‖w‖₂,
//
// the 1000 covering the few operations per term (the products of these
// error terms are second order, below the relative 1e-6 added on top).
// (1/N)·Σ_i |J_i|ᵀ·1 is the gradient of the mean OutputSum loss of the
// absolute-valued model, and Z its largest output: one gradient and one
// forward evaluation.
type RoundingMargin struct {
	obj *Objective
	abs *Objective
}

// NewRoundingMargin prepares the margin of obj, whose Program was compiled
// from m with the Freeze patterns freeze. The absolute-valued model is
// compiled in float64 and without a final Softmax (its logits are what the
// bound needs).
func NewRoundingMargin(m *onnxio.Model, freeze []string, obj *Objective) (*RoundingMargin, error) {
	absModel, err := magnitudeModel(m)
	if err != nil {
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

// magnitudeModel returns m with every floating-point parameter replaced by
// its absolute value, cut before a final Softmax.
func magnitudeModel(m *onnxio.Model) (*onnxio.Model, error) {
	all, err := m.Params(onnxio.ParamOptions{})
	if err != nil {
		return nil, err
	}
	w, err := m.ParamVector(all)
	if err != nil {
		return nil, err
	}
	for i, v := range w {
		w[i] = math.Abs(v)
	}
	out := m.Clone()
	if err := out.SetParamVector(all, w); err != nil {
		return nil, err
	}
	g := out.Graph()
	if len(g.Outputs) == 0 {
		return nil, fmt.Errorf("the model has no outputs")
	}
	for _, n := range g.Nodes {
		if n.OpType == "Softmax" && len(n.Outputs) > 0 && n.Outputs[0] == g.Outputs[0].Name {
			var inputs []string
			for _, in := range g.DataInputs() {
				inputs = append(inputs, in.Name)
			}
			return out.Extract(inputs, []string{n.Inputs[0]})
		}
	}
	return out, nil
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
	var zmax float64
	err := r.abs.Program.withParams(absW, func() error {
		if _, err := r.abs.Program.Gradient(ctx, r.abs.Data, r.abs.Index, r.abs.Options, mag); err != nil {
			return err
		}
		return r.abs.Program.Predict(ctx, r.abs.Data, r.abs.Index, r.abs.Options, func(_ int, out []float32, _ []int) error {
			for _, v := range out {
				zmax = math.Max(zmax, math.Abs(float64(v)))
			}
			return nil
		})
	})
	if err != nil {
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
	gammaN, gammaP := roundingGamma(r.obj.Len()+1000), roundingGamma(len(w)+1000)
	// The magnitudes are sums of non-negative float64 terms, accurate to a
	// relative γ_N themselves, and the largest output was rounded to
	// float32 by Predict; 1e-6 on top covers both, the norms, and the
	// second-order products of the error terms.
	return ((gammaN*f+2*gammaP*zmax)*math.Sqrt(sq) + gammaN*r.obj.L2*math.Sqrt(wsq)) * (1 + 1e-6), nil
}

// roundingGamma is γ_k = k·u/(1 − k·u), u = 2⁻⁵³.
func roundingGamma(k int) float64 {
	ku := float64(k) * 0x1p-53
	return ku / (1 - ku)
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
