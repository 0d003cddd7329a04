package lethe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/unlearn"
)

// GradientRequest asks for the gradient of the objective
//
//	L(w, S) + (μ/2)‖w‖²,   L(w, S) = (1/|S|) Σ ℓ(w; x, y)
//
// with respect to the trainable parameters, at the model's parameters,
// over the samples S of Data (`lethe grad`). Model and Data are required;
// the zero value of every other field is the documented default. The
// model's metadata is not read: the objective is exactly the one given.
type GradientRequest struct {
	// Model is the ONNX file.
	Model string
	// Data holds the samples.
	Data Data
	// Samples restricts S to these samples of Data. Default: all of them.
	Samples Subset
	// Loss is ℓ on the model's first output: "xent" (the default), "mse"
	// or "bce".
	Loss string
	// L2 is μ ≥ 0. Default 0.
	L2 float64
	// Engine configures lethe's engine: float32 accumulates the gradient
	// in float64, float64 computes in double precision throughout; batch
	// size and threads change speed and memory, not the result beyond
	// rounding.
	Engine Engine
	// Out, when not empty, is a NumPy .npy file to write the float64
	// result to (atomically; never over an input).
	Out string
	// Progress, when not nil, receives progress events.
	Progress func(Event)
}

// GradientResult is a gradient. Its JSON encoding is the output of
// `lethe grad --json` (schemas/grad.schema.json).
type GradientResult struct {
	// Model, Data, Indices (the Samples file) and Out are the request's.
	Model   string `json:"model"`
	Data    string `json:"data"`
	Indices string `json:"indices,omitempty"`
	Out     string `json:"out"`
	// Samples counts the samples in S, Params the trainable parameters P.
	Samples int `json:"samples"`
	Params  int `json:"params"`
	// Precision, Loss and L2 are the objective's, defaults applied.
	Precision string  `json:"precision"`
	Loss      string  `json:"loss"`
	L2        float64 `json:"l2"`
	// Objective is L(w, S) + (μ/2)‖w‖² and DataLoss its first term.
	Objective float64 `json:"objective"`
	DataLoss  float64 `json:"data_loss"`
	// GradNorm is the gradient's norm, Norm the parameters', Seconds the whole
	// call's time.
	GradNorm float64 `json:"grad_norm"`
	Norm     float64 `json:"param_norm"`
	Seconds  float64 `json:"seconds"`
	// Gradient is the gradient, float64, in lethe's parameter order
	// (DESIGN.md §2; Inspect lists it).
	Gradient []float64 `json:"-"`
}

// HVPRequest asks for the exact Hessian-vector product (H + μI)·v of the
// objective of GradientRequest, by forward-over-reverse differentiation
// (`lethe hvp`). Give the vector as Vector or VectorFile.
type HVPRequest struct {
	GradientRequest
	// Vector is v, in lethe's parameter order.
	Vector []float64
	// VectorFile is an .npy vector v (float64 or float32, or any dtype
	// whose values convert exactly).
	VectorFile string
}

// HVPResult is a Hessian-vector product. Its JSON encoding is the output of
// `lethe hvp --json` (schemas/hvp.schema.json).
type HVPResult struct {
	// Model, Data, Indices (the Samples file), Vector (VectorFile) and Out are
	// the request's.
	Model   string `json:"model"`
	Data    string `json:"data"`
	Indices string `json:"indices,omitempty"`
	Vector  string `json:"vector"`
	Out     string `json:"out"`
	// Samples counts the samples in S, Params the trainable parameters P.
	Samples int `json:"samples"`
	Params  int `json:"params"`
	// Precision, Loss and L2 are the objective's, defaults applied.
	Precision string  `json:"precision"`
	Loss      string  `json:"loss"`
	L2        float64 `json:"l2"`
	// Objective is L(w, S) + (μ/2)‖w‖² at the model's parameters.
	Objective float64 `json:"objective"`
	// VectorNorm is ‖v‖₂, HVPNorm ‖(H + μI)v‖₂.
	VectorNorm float64 `json:"vector_norm"`
	HVPNorm    float64 `json:"hvp_norm"`
	// Curvature is vᵀ(H + μI)v / vᵀv, the Rayleigh quotient along v.
	Curvature float64 `json:"curvature"`
	// Seconds is the whole call's time.
	Seconds float64 `json:"seconds"`
	// HV is (H + μI)·v, float64, in lethe's parameter order.
	HV []float64 `json:"-"`
}

// derivative is a loaded Gradient or HVP request.
type derivative struct {
	ws   *workspace
	loss string
	idx  []int // nil: all samples
	w    []float64
	eval autodiff.EvalOptions
}

// prepare checks the request, loads the model and data, and reads the
// samples.
func (r *GradientRequest) prepare(inputs ...string) (*derivative, error) {
	loss, name, err := lossName("Loss", r.Loss)
	switch {
	case err != nil:
		return nil, err
	case r.Model == "":
		return nil, badField("Model", "no model given")
	case !(r.L2 >= 0) || math.IsInf(r.L2, 0):
		return nil, badField("L2", "μ = %g: want a finite μ ≥ 0", r.L2)
	}
	if err := r.Engine.validate("Engine"); err != nil {
		return nil, err
	}
	var outs []string
	if r.Out != "" {
		inputs = append(append(inputs, r.Model, r.Samples.File), r.Data.files()...)
		if err := CheckOutput(r.Out, inputs...); err != nil {
			return nil, err
		}
		outs = append(outs, r.Out)
	}
	ws, err := load(r.Model, r.Engine, r.Data, "Data", outs...)
	if err != nil {
		return nil, err
	}
	d := &derivative{ws: ws, loss: name, eval: r.Engine.evalOptions(loss)}
	if err := ws.checkData("Data", loss); err != nil {
		ws.close()
		return nil, err
	}
	if !r.Samples.IsZero() {
		f, err := r.Samples.resolve("Samples", ws.data)
		switch {
		case errors.Is(err, dataset.ErrForgetAll):
			// Every sample: the same as none.
		case err != nil:
			ws.close()
			return nil, err
		default:
			d.idx = f.Indices
		}
	}
	if d.w, err = ws.params(); err != nil {
		ws.close()
		return nil, err
	}
	return d, nil
}

// n is the number of samples S holds.
func (d *derivative) n() int {
	if d.idx == nil {
		return d.ws.data.Len()
	}
	return len(d.idx)
}

// Gradient computes the gradient of GradientRequest's objective.
func Gradient(ctx context.Context, req GradientRequest) (*GradientResult, error) {
	started := time.Now()
	d, err := req.prepare()
	if err != nil {
		return nil, err
	}
	defer d.ws.close()
	g := make([]float64, len(d.w))
	st := newReporter(req.Progress).start("gradient", 0)
	dataLoss, err := d.ws.prog.Gradient(ctx, checked{d.ws.data}, d.idx, d.eval, g)
	if err != nil {
		return nil, wrapf("gradient", classify("Data", err))
	}
	loss := addL2(req.L2, d.w, dataLoss, g, d.w)
	st.done("")
	if req.Out != "" {
		if err := dataset.WriteNPY(req.Out, g, []int{len(g)}); err != nil {
			return nil, fmt.Errorf("lethe: writing %s: %w", req.Out, err)
		}
	}
	r := &GradientResult{
		Model: req.Model, Data: req.Data.String(), Indices: req.Samples.File, Out: req.Out, Samples: d.n(),
		Params: len(g), Precision: req.Engine.Precision.String(), Loss: d.loss, L2: req.L2,
		Objective: loss, DataLoss: dataLoss, GradNorm: unlearn.Norm(g), Norm: unlearn.Norm(d.w),
		Seconds: time.Since(started).Seconds(), Gradient: g,
	}
	msg := fmt.Sprintf("%d samples, %d parameters (%s, %s loss, l2 %g): objective %.10g, ‖g‖ %.6g",
		r.Samples, r.Params, r.Precision, r.Loss, r.L2, r.Objective, r.GradNorm)
	if req.Out != "" {
		msg += fmt.Sprintf("; wrote float64 [%d] to %s", r.Params, req.Out)
	}
	st.r.info(msg)
	return r, nil
}

// HVP computes the Hessian-vector product of HVPRequest's objective.
func HVP(ctx context.Context, req HVPRequest) (*HVPResult, error) {
	started := time.Now()
	if (req.Vector == nil) == (req.VectorFile == "") {
		return nil, badField("Vector", "give Vector or VectorFile")
	}
	d, err := req.prepare(req.VectorFile)
	if err != nil {
		return nil, err
	}
	defer d.ws.close()
	P := len(d.w)
	v := req.Vector
	if req.VectorFile != "" {
		var shape []int
		v, shape, err = dataset.ReadNPY[float64](req.VectorFile)
		switch {
		case err != nil:
			return nil, badInput("VectorFile", err)
		case len(v) != P:
			return nil, badField("VectorFile", "%s has %d values (shape %v); %s has %d trainable parameters", req.VectorFile, len(v), shape, req.Model, P)
		case len(shape) != 1:
			return nil, badField("VectorFile", "%s has shape %v; want a vector [%d]", req.VectorFile, shape, P)
		}
	} else if len(v) != P {
		return nil, badField("Vector", "%d values; %s has %d trainable parameters", len(v), req.Model, P)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			field, name := "Vector", "the vector"
			if req.VectorFile != "" {
				field, name = "VectorFile", req.VectorFile
			}
			return nil, badField(field, "%s: value %d is %g; the vector must be finite", name, i, x)
		}
	}
	hv := make([]float64, P)
	st := newReporter(req.Progress).start("Hessian-vector product", 0)
	dataLoss, err := d.ws.prog.HVP(ctx, checked{d.ws.data}, d.idx, d.eval, v, hv, nil)
	if err != nil {
		return nil, wrapf("hvp", classify("Data", err))
	}
	loss := addL2(req.L2, d.w, dataLoss, hv, v)
	st.done("")
	if req.Out != "" {
		if err := dataset.WriteNPY(req.Out, hv, []int{P}); err != nil {
			return nil, fmt.Errorf("lethe: writing %s: %w", req.Out, err)
		}
	}
	var vhv, vv float64
	for i := range v {
		vhv += v[i] * hv[i]
		vv += v[i] * v[i]
	}
	r := &HVPResult{
		Model: req.Model, Data: req.Data.String(), Indices: req.Samples.File, Vector: req.VectorFile, Out: req.Out,
		Samples: d.n(), Params: P, Precision: req.Engine.Precision.String(), Loss: d.loss,
		L2: req.L2, Objective: loss, VectorNorm: unlearn.Norm(v), HVPNorm: unlearn.Norm(hv),
		Seconds: time.Since(started).Seconds(), HV: hv,
	}
	if vv > 0 {
		r.Curvature = vhv / vv
	}
	msg := fmt.Sprintf("%d samples, %d parameters (%s, %s loss, l2 %g): objective %.10g, ‖v‖ %.6g, ‖Hv‖ %.6g, vᵀHv/vᵀv %.6g",
		r.Samples, P, r.Precision, r.Loss, r.L2, r.Objective, r.VectorNorm, r.HVPNorm, r.Curvature)
	if req.Out != "" {
		msg += fmt.Sprintf("; wrote float64 [%d] to %s", P, req.Out)
	}
	st.r.info(msg)
	return r, nil
}

// addL2 adds the regulariser (μ/2)‖w‖² to loss and μ·u to dst (the
// gradient, u = w, or an HVP, u = v) and returns the regularised loss.
func addL2(mu float64, w []float64, loss float64, dst, u []float64) float64 {
	if mu == 0 {
		return loss
	}
	var sq float64
	for _, x := range w {
		sq += x * x
	}
	for i, x := range u {
		dst[i] += mu * x
	}
	return loss + mu/2*sq
}
