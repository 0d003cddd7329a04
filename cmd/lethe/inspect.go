package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/onnxio"
)

// nodeSupport, when not nil, replaces the native engine's check of whether
// it supports a node (nil: supported; otherwise the reason). Tests set it.
var nodeSupport func(onnxio.Node) error

// inspectOptions are the inputs of `lethe inspect`.
type inspectOptions struct {
	io     *ioStreams
	global *globalOptions

	Model  string
	Freeze []string
}

func newInspectCmd(streams *ioStreams, global *globalOptions, runF func(*inspectOptions) error) *cobra.Command {
	o := &inspectOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "inspect MODEL",
		Short: "Show a model's inputs, operators and trainable parameters",
		Long: `inspect shows an ONNX model's IR version and operator sets, its inputs and
outputs (symbolic dimensions by name), an operator histogram, whether lethe's
native engine supports every node (naming each one it does not, with its
operator, opset and the reason), and the trainable parameters in the order
lethe flattens them (name, shape, offset, size) with their count and norm ‖w‖₂.

inspect reports and does not fail: a model with unsupported nodes still exits
with 0. Such a model can be run with lethe run --engine ort, but not
differentiated or unlearned.

Trainable parameters are the floating-point initializers, without those used
only as shapes, axes, indices, exponents, bounds or BatchNormalization running
statistics; --freeze removes more by name (a glob, repeatable).`,
		Example: `  lethe inspect model.onnx
  lethe inspect --json model.onnx
  lethe inspect --freeze 'fc1.*' --freeze 'fc2.*' model.onnx`,
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
	cmd.Flags().StringArrayVar(&o.Freeze, "freeze", nil, "exclude initializers whose names match this glob from the parameters (repeatable)")
	return cmd
}

// Validate checks the options before any work.
func (o *inspectOptions) Validate() error {
	if o.Model == "" {
		return usageErrorf("inspect: MODEL is empty")
	}
	for _, p := range o.Freeze {
		if _, err := path.Match(p, ""); err != nil {
			return usageErrorf("--freeze %q is not a valid glob", p)
		}
	}
	return nil
}

// Run inspects the model and prints the report.
func (o *inspectOptions) Run(ctx context.Context) error {
	r, err := lethe.Inspect(ctx, lethe.InspectRequest{Model: o.Model, Freeze: o.Freeze, Supported: nodeSupport})
	if err != nil {
		return err
	}
	if o.global.JSON {
		return o.io.writeJSON(r)
	}
	return printInspect(o.io.Out, r)
}

// shapeText formats a JSON shape as [N, 784].
func shapeText(shape []any) string {
	if shape == nil {
		return "(no shape)"
	}
	parts := make([]string, len(shape))
	for i, d := range shape {
		if d == nil {
			d = "?"
		}
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func printInspect(w io.Writer, r *lethe.InspectReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "model\t%s\n", r.Model)
	fmt.Fprintf(tw, "IR version\t%d (producer %s %s)\n", r.IRVersion, r.Producer, r.ProducerVersion)
	var opsets []string
	for _, o := range r.Opsets {
		d := o.Domain
		if d == "" {
			d = "ai.onnx"
		}
		opsets = append(opsets, fmt.Sprintf("%s %d", d, o.Version))
	}
	fmt.Fprintf(tw, "opsets\t%s\n", strings.Join(opsets, ", "))
	for _, v := range r.Inputs {
		fmt.Fprintf(tw, "input\t%s\t%s %s\n", v.Name, v.Type, shapeText(v.Shape))
	}
	for _, v := range r.Outputs {
		fmt.Fprintf(tw, "output\t%s\t%s %s\n", v.Name, v.Type, shapeText(v.Shape))
	}
	ops := make([]string, 0, len(r.Ops))
	for op := range r.Ops {
		ops = append(ops, op)
	}
	slices.SortFunc(ops, func(a, b string) int {
		if r.Ops[a] != r.Ops[b] {
			return r.Ops[b] - r.Ops[a]
		}
		return strings.Compare(a, b)
	})
	for i, op := range ops {
		ops[i] = fmt.Sprintf("%s %d", op, r.Ops[op])
	}
	fmt.Fprintf(tw, "nodes\t%d: %s\n", r.Nodes, strings.Join(ops, ", "))
	switch {
	case r.Supported == nil:
		fmt.Fprintf(tw, "support\tnot checked\n")
	case len(r.Unsupported) > 0:
		nodes := "nodes"
		if len(r.Unsupported) == 1 {
			nodes = "node"
		}
		fmt.Fprintf(tw, "support\tnot supported by the native engine: %d %s\n", len(r.Unsupported), nodes)
		for _, u := range r.Unsupported {
			fmt.Fprintf(tw, "\t%s (%s, opset %d): %s\n", u.Node, u.Op, u.Opset, u.Reason)
		}
	case r.EngineError != "":
		fmt.Fprintf(tw, "support\tevery node is supported, but the native engine cannot compile the model: %s\n", r.EngineError)
	default:
		fmt.Fprintf(tw, "support\tevery node is supported by the native engine\n")
	}
	fmt.Fprintf(tw, "parameters\t%d tensors, %d values, ‖w‖₂ = %.6g\n", len(r.Params), r.ParamCount, r.ParamNorm)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Params) == 0 {
		return nil
	}
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  name\tshape\toffset\tsize\ttype\n")
	for _, p := range r.Params {
		fmt.Fprintf(tw, "  %s\t%v\t%d\t%d\t%s\n", p.Name, p.Shape, p.Offset, p.Size, p.Type)
	}
	return tw.Flush()
}
