package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
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
			return o.Run(cmd.Context())
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

// request is the library request of grad and hvp.
func (o *gradOptions) request(prefix string) lethe.GradientRequest {
	return lethe.GradientRequest{
		Model: o.Model, Data: o.data.data(""), Samples: lethe.Subset{File: o.Indices}, Loss: o.engine.Loss, L2: o.engine.L2,
		Engine: o.engine.engine(), Out: o.Out, Progress: o.global.progress(o.io, prefix),
	}
}

// Run computes the gradient and writes it.
func (o *gradOptions) Run(ctx context.Context) error {
	res, err := lethe.Gradient(ctx, o.request("grad: "))
	if err != nil {
		return err
	}
	if o.global.JSON {
		return o.io.writeJSON(res)
	}
	return nil
}
