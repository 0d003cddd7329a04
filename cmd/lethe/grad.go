package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/unlearn"
)

// gradOptions are the inputs of `lethe grad`.
type gradOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags
	data   dataFlags

	Model   string
	Out     string
	Indices string
}

func newGradCmd(streams *ioStreams, global *globalOptions, runF func(*gradOptions) error) *cobra.Command {
	o := &gradOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "grad MODEL --data F --out G.npy",
		Short: "Write the gradient of the mean loss as a float64 .npy vector",
		Long: `grad computes the gradient of the objective

    L(w, S) + (μ/2)‖w‖²,   L(w, S) = (1/|S|) Σ ℓ(w; x, y)

with respect to the trainable parameters w, at MODEL's parameters, over the
samples S of --data (all of them, or those --indices names), and writes it to
--out as a float64 .npy vector of P entries, in lethe's parameter order (lethe
inspect lists it: floating-point initializers in file order, without
BatchNormalization running statistics, shape/axes/index inputs and whatever
--freeze removes; each flattened row-major).

ℓ is --loss (softmax cross-entropy by default) on the model's first output; μ
is --l2 (default 0). --precision float32 (the default) computes like ONNX and
PyTorch do, accumulating the gradient in float64; float64 computes in double
precision throughout. --batch-size and --threads change speed and memory, not
the result beyond rounding.

--indices is a text file of sample indices (one per line; '#' comments), an
.npy integer array of indices, or an .npz with the samples themselves, as for
--forget.`,
		Example: `  lethe grad model.onnx --data train.npz --out grad.npy
  lethe grad model.onnx --data mnist:train --indices forget.txt --l2 5e-4 --precision float64 --out g.npy`,
		Args: exactArgs(1, "one MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runGrad(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.engine.register(f)
	o.data.register(f)
	f.StringVarP(&o.Out, "out", "o", "", "output .npy file: float64 [P] (required)")
	f.StringVar(&o.Indices, "indices", "", "use only these samples: a text file of indices, an .npy of indices, or an .npz of samples")
	return cmd
}

// Validate checks the flags before any work.
func (o *gradOptions) Validate() error {
	if err := o.engine.validate("grad"); err != nil {
		return err
	}
	if err := o.data.validate("grad"); err != nil {
		return err
	}
	if o.Out == "" {
		return usageErrorf("grad: --out is required")
	}
	return checkOutput(o.Out, append([]string{o.Model, o.Indices}, o.data.paths()...)...)
}

// gradSummary is the --json output of grad.
type gradSummary struct {
	Model     string  `json:"model"`
	Data      string  `json:"data"`
	Indices   string  `json:"indices,omitempty"`
	Out       string  `json:"out"`
	Samples   int     `json:"samples"`
	Params    int     `json:"params"`
	Precision string  `json:"precision"`
	Loss      string  `json:"loss"`
	L2        float64 `json:"l2"`
	// Objective is L(w, S) + (μ/2)‖w‖² and DataLoss its first term.
	Objective float64 `json:"objective"`
	DataLoss  float64 `json:"data_loss"`
	GradNorm  float64 `json:"grad_norm"`
	Norm      float64 `json:"param_norm"`
	Seconds   float64 `json:"seconds"`
}

func runGrad(ctx context.Context, o *gradOptions) error {
	started := time.Now()
	ws, err := loadWorkspace(o.Model, &o.engine, &o.data, o.Out)
	if err != nil {
		return err
	}
	defer ws.close()
	if err := requireLabels(ws, o.data.name(), "grad"); err != nil {
		return err
	}
	idx, err := sampleIndices(o.Indices, ws.data)
	if err != nil {
		return err
	}
	w, err := ws.model.ParamVector(ws.prog.Params())
	if err != nil {
		return badInput(err)
	}
	g := make([]float64, len(w))
	p := o.global.progress(o.io, "gradient", 0)
	dataLoss, err := ws.prog.Gradient(ctx, checkedData{ws.data}, idx, ws.eval, g)
	if err != nil {
		return computeError(err)
	}
	loss := addL2(o.engine.L2, w, dataLoss, g, w)
	p.done("")
	if err := dataset.WriteNPY(o.Out, g, []int{len(g)}); err != nil {
		return failed(err)
	}
	s := gradSummary{
		Model: o.Model, Data: o.data.name(), Indices: o.Indices, Out: o.Out, Samples: countSamples(idx, ws.data),
		Params: len(g), Precision: o.engine.Precision, Loss: o.engine.Loss, L2: o.engine.L2,
		Objective: loss, DataLoss: dataLoss, GradNorm: unlearn.Norm(g), Norm: unlearn.Norm(w),
		Seconds: time.Since(started).Seconds(),
	}
	o.global.logf(o.io, "grad: %d samples, %d parameters (%s, %s loss, l2 %g): objective %.10g, ‖g‖ %.6g; wrote float64 [%d] to %s",
		s.Samples, s.Params, s.Precision, s.Loss, s.L2, s.Objective, s.GradNorm, s.Params, o.Out)
	if o.global.JSON {
		return o.io.writeJSON(s)
	}
	return nil
}

// addL2 adds the regulariser (μ/2)‖w‖² to loss and μ·u to dst (the gradient,
// u = w, or an HVP, u = v) and returns the regularised loss.
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

// sampleIndices reads --indices against the data: nil (every sample) when
// spec is empty or names every sample. It accepts the forms of --forget.
func sampleIndices(spec string, data dataset.Source) ([]int, error) {
	if spec == "" {
		return nil, nil
	}
	set, err := dataset.ParseForget(spec, data)
	switch {
	case errors.Is(err, dataset.ErrForgetAll):
		return nil, nil
	case errors.Is(err, dataset.ErrEmptyForget):
		return nil, badInput(fmt.Errorf("--indices %s names no sample", spec))
	case err != nil:
		return nil, badInput(fmt.Errorf("--indices: %w", err))
	}
	return set.Indices, nil
}

// checkedData marks the errors of reading a data set, so that a file found
// bad while it is streamed (a NaN, a truncated member) is reported as bad
// input (exit code 2) rather than as a failed computation. It is for the
// engine's computations only: dataset functions such as ParseForget need the
// source itself.
type checkedData struct{ dataset.Source }

func (d checkedData) Read(idx []int, x []float32, y []int64) error {
	if err := d.Source.Read(idx, x, y); err != nil {
		return &dataReadError{err}
	}
	return nil
}

// HasLabels reports whether the data set has labels.
func (d checkedData) HasLabels() bool { return dataset.HasLabels(d.Source) }

// dataReadError is a failure to read the data set.
type dataReadError struct{ err error }

func (e *dataReadError) Error() string { return e.err.Error() }
func (e *dataReadError) Unwrap() error { return e.err }

// computeError maps an error of the engine to an exit code: 2 when the data
// could not be read or the model uses something the engine does not
// support, 1 otherwise.
func computeError(err error) error {
	var de *dataReadError
	if errors.As(err, &de) || errors.Is(err, autodiff.ErrUnsupported) {
		return badInput(err)
	}
	return failed(err)
}

// countSamples is the number of samples idx selects from data (nil: all).
func countSamples(idx []int, data dataset.Source) int {
	if idx == nil {
		return data.Len()
	}
	return len(idx)
}
