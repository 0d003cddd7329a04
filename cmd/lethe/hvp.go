package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/unlearn"
)

// hvpOptions are the inputs of `lethe hvp`.
type hvpOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags
	data   dataFlags

	Model   string
	Vector  string
	Out     string
	Indices string
}

func newHVPCmd(streams *ioStreams, global *globalOptions, runF func(*hvpOptions) error) *cobra.Command {
	o := &hvpOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "hvp MODEL --data F --vector V.npy --out HV.npy",
		Short: "Write an exact Hessian-vector product of the mean loss as .npy",
		Long: `hvp computes the exact Hessian-vector product (H + μI)·v of the objective

    L(w, S) + (μ/2)‖w‖²,   L(w, S) = (1/|S|) Σ ℓ(w; x, y)

at MODEL's parameters, over the samples S of --data (all of them, or those
--indices names), by forward-over-reverse differentiation (no finite
differences), and writes it to --out as a float64 .npy vector of P entries.

--vector is an .npy vector v of P entries in lethe's parameter order (see
lethe grad and lethe inspect), float64 or float32 (any dtype whose values
convert exactly). The other flags are those of lethe grad.`,
		Example: `  lethe hvp model.onnx --data train.npz --vector v.npy --out hv.npy
  lethe hvp model.onnx --data mnist:train --vector v.npy --precision float64 --l2 5e-4 --out hv.npy`,
		Args: exactArgs(1, "one MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runHVP(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.engine.register(f)
	o.data.register(f)
	f.StringVar(&o.Vector, "vector", "", "direction v: an .npy vector of P float64 or float32 values (required)")
	f.StringVarP(&o.Out, "out", "o", "", "output .npy file: float64 [P] (required)")
	f.StringVar(&o.Indices, "indices", "", "use only these samples: a text file of indices, an .npy of indices, or an .npz of samples")
	return cmd
}

// Validate checks the flags before any work.
func (o *hvpOptions) Validate() error {
	if err := o.engine.validate("hvp"); err != nil {
		return err
	}
	if err := o.data.validate("hvp"); err != nil {
		return err
	}
	switch {
	case o.Vector == "":
		return usageErrorf("hvp: --vector is required")
	case o.Out == "":
		return usageErrorf("hvp: --out is required")
	}
	return checkOutput(o.Out, append([]string{o.Model, o.Vector, o.Indices}, o.data.paths()...)...)
}

// hvpSummary is the --json output of hvp.
type hvpSummary struct {
	Model     string  `json:"model"`
	Data      string  `json:"data"`
	Indices   string  `json:"indices,omitempty"`
	Vector    string  `json:"vector"`
	Out       string  `json:"out"`
	Samples   int     `json:"samples"`
	Params    int     `json:"params"`
	Precision string  `json:"precision"`
	Loss      string  `json:"loss"`
	L2        float64 `json:"l2"`
	// Objective is L(w, S) + (μ/2)‖w‖² at the model's parameters.
	Objective  float64 `json:"objective"`
	VectorNorm float64 `json:"vector_norm"`
	HVPNorm    float64 `json:"hvp_norm"`
	// Curvature is vᵀ(H + μI)v / vᵀv, the Rayleigh quotient along v.
	Curvature float64 `json:"curvature"`
	Seconds   float64 `json:"seconds"`
}

func runHVP(ctx context.Context, o *hvpOptions) error {
	started := time.Now()
	ws, err := loadWorkspace(o.Model, &o.engine, &o.data, o.Out)
	if err != nil {
		return err
	}
	defer ws.close()
	P := ws.prog.Dim()
	v, shape, err := dataset.ReadNPY[float64](o.Vector)
	switch {
	case err != nil:
		return badInput(fmt.Errorf("--vector: %w", err))
	case len(v) != P:
		return badInput(fmt.Errorf("--vector %s has %d values (shape %v); %s has %d trainable parameters", o.Vector, len(v), shape, o.Model, P))
	case len(shape) != 1:
		return badInput(fmt.Errorf("--vector %s has shape %v; want a vector [%d]", o.Vector, shape, P))
	}
	if err := requireLabels(ws, o.data.name(), "hvp"); err != nil {
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
	hv := make([]float64, P)
	p := o.global.progress(o.io, "Hessian-vector product", 0)
	dataLoss, err := ws.prog.HVP(ctx, checkedData{ws.data}, idx, ws.eval, v, hv, nil)
	if err != nil {
		return computeError(err)
	}
	loss := addL2(o.engine.L2, w, dataLoss, hv, v)
	p.done("")
	if err := dataset.WriteNPY(o.Out, hv, []int{P}); err != nil {
		return failed(err)
	}
	var vhv, vv float64
	for i := range v {
		vhv += v[i] * hv[i]
		vv += v[i] * v[i]
	}
	s := hvpSummary{
		Model: o.Model, Data: o.data.name(), Indices: o.Indices, Vector: o.Vector, Out: o.Out,
		Samples: countSamples(idx, ws.data), Params: P, Precision: o.engine.Precision, Loss: o.engine.Loss,
		L2: o.engine.L2, Objective: loss, VectorNorm: unlearn.Norm(v), HVPNorm: unlearn.Norm(hv),
		Seconds: time.Since(started).Seconds(),
	}
	if vv > 0 {
		s.Curvature = vhv / vv
	}
	o.global.logf(o.io, "hvp: %d samples, %d parameters (%s, %s loss, l2 %g): objective %.10g, ‖v‖ %.6g, ‖Hv‖ %.6g, vᵀHv/vᵀv %.6g; wrote float64 [%d] to %s",
		s.Samples, P, s.Precision, s.Loss, s.L2, s.Objective, s.VectorNorm, s.HVPNorm, s.Curvature, P, o.Out)
	if o.global.JSON {
		return o.io.writeJSON(s)
	}
	return nil
}
