package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/autodiff"
)

// runOptions are the inputs of `lethe run`.
type runOptions struct {
	io     *ioStreams
	global *globalOptions

	Model     string
	Data      string
	MaxBytes  int64
	Out       string
	Engine    string
	Precision string
	BatchSize int
	Threads   int
}

func newRunCmd(streams *ioStreams, global *globalOptions, runF func(*runOptions) error) *cobra.Command {
	o := &runOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "run MODEL --data F --out OUT.npy",
		Short: "Run a forward pass and write the first output as .npy",
		Long: `run feeds every sample of --data through the model in batches and writes the
model's first output, for all samples in order, to --out as a NumPy .npy file.

--data is an .npz with an array x (float32 features [N, ...]; float64 and
uint8 features are converted, uint8 scaled to [0, 1]), an .npy of features,
mnist:train|test, fashion-mnist:train|test, an idx images file or a CSV file.
The samples must match the model's single float32 input: either its shape
without the batch axis, or the same number of values when that shape is fully
known (so flat 784-value samples feed a [N, 1, 28, 28] input).

--engine native (the default) is lethe's own engine, the one that computes
gradients and unlearns; it computes in --precision (float32 as ONNX and
PyTorch do, or float64) and writes the first output as float32, which must be
a floating-point output. --threads 0 uses one worker per CPU.

--engine ort runs onnxruntime: float32 outputs are written as float32, float64
as float64, integer and bool outputs as int64; --threads 0 is onnxruntime's
default. Both engines write the same .npy layout, so their outputs can be
compared directly.`,
		Example: `  lethe run model.onnx --data test.npz --out logits.npy
  lethe run model.onnx --data mnist:test --out logits.npy --batch-size 1024 --threads 2
  lethe run model.onnx --data test.npz --engine ort --out logits-ort.npy`,
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
	f.StringVar(&o.Data, "data", "", "samples to run (required; see above)")
	f.Int64Var(&o.MaxBytes, "max-bytes", 0, "memory the data file may take once read, in bytes (0: 4 GiB); larger files are refused")
	f.StringVarP(&o.Out, "out", "o", "", "output .npy file (required)")
	f.StringVar(&o.Engine, "engine", string(lethe.Native), "engine: native (lethe's own) or ort (onnxruntime)")
	f.StringVar(&o.Precision, "precision", "float32", "native engine arithmetic: float32 (as ONNX and PyTorch) or float64")
	f.IntVar(&o.BatchSize, "batch-size", 256, "samples per batch")
	f.IntVar(&o.Threads, "threads", 0, "native: worker threads (0: one per CPU); ort: threads per operator (0: onnxruntime's default)")
	return cmd
}

// Validate checks the options before any work.
func (o *runOptions) Validate() error {
	switch {
	case o.Data == "":
		return usageErrorf("run: --data is required")
	case o.Out == "":
		return usageErrorf("run: --out is required")
	case o.Engine != string(lethe.ORT) && o.Engine != string(lethe.Native):
		return usageErrorf("run: --engine %q: want native or ort", o.Engine)
	case o.BatchSize < 1:
		return usageErrorf("run: --batch-size %d: want at least 1", o.BatchSize)
	case o.Threads < 0:
		return usageErrorf("run: --threads %d: want 0 (default) or more", o.Threads)
	}
	if _, err := autodiff.ParsePrecision(o.Precision); err != nil {
		return usageErrorf("run: --precision %q: want float32 or float64", o.Precision)
	}
	if o.Precision != "float32" && o.Engine == string(lethe.ORT) {
		return usageErrorf("run: --precision applies to --engine native only; onnxruntime computes in the model's types")
	}
	return checkOutput(o.Out, o.Model, o.Data)
}

// Run runs the model and writes its output.
func (o *runOptions) Run(ctx context.Context) error {
	prec, _ := autodiff.ParsePrecision(o.Precision)
	res, err := lethe.Predict(ctx, lethe.PredictRequest{
		Model: o.Model, Data: lethe.Data{Path: o.Data, MaxBytes: o.MaxBytes}, Backend: lethe.Backend(o.Engine), Out: o.Out,
		Engine:   lethe.Engine{Precision: prec, BatchSize: o.BatchSize, Threads: o.Threads},
		Progress: o.global.progress(o.io, ""),
	})
	if in, ok := err.(*lethe.InputError); ok && in.Field == "Backend" {
		return badInput(fmt.Errorf("%v (--engine ort may run it)", in.Err))
	}
	if err != nil {
		return err
	}
	if o.global.JSON {
		return o.io.writeJSON(res)
	}
	return nil
}
