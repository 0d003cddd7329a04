package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
)

// hvpOptions are the inputs of `lethe hvp`: those of grad and the vector.
type hvpOptions struct {
	gradOptions
	Vector string
}

func newHVPCmd(streams *ioStreams, global *globalOptions, runF func(*hvpOptions) error) *cobra.Command {
	o := &hvpOptions{gradOptions: gradOptions{io: streams, global: global}}
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
			return o.Run(cmd.Context())
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

// Run computes the product and writes it.
func (o *hvpOptions) Run(ctx context.Context) error {
	res, err := lethe.HVP(ctx, lethe.HVPRequest{GradientRequest: o.request("hvp: "), VectorFile: o.Vector})
	if err != nil {
		return err
	}
	if o.global.JSON {
		return o.io.writeJSON(res)
	}
	return nil
}
