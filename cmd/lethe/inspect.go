package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/onnxio"
)

// nodeSupport, when not nil, replaces the native engine's check of whether it
// supports a node (nil: supported; otherwise the reason). Tests set it; lethe
// itself checks every node with autodiff.CheckNode at the model's opset
// (engineSupport).
var nodeSupport func(onnxio.Node) error

// inspectOptions are the inputs of `lethe inspect`.
type inspectOptions struct {
	io     *ioStreams
	global *globalOptions

	Model  string
	Freeze []string
	// Supported checks one node (see nodeSupport); nil checks it with the
	// native engine.
	Supported func(onnxio.Node) error
}

func newInspectCmd(streams *ioStreams, global *globalOptions, runF func(*inspectOptions) error) *cobra.Command {
	opts := &inspectOptions{io: streams, global: global, Supported: nodeSupport}
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
			opts.Model = args[0]
			if err := opts.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runInspect(opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Freeze, "freeze", nil, "exclude initializers whose names match this glob from the parameters (repeatable)")
	return cmd
}

// Validate checks the options before any work.
func (o *inspectOptions) Validate() error {
	if o.Model == "" {
		return usageErrorf("inspect: MODEL is empty")
	}
	for _, p := range o.Freeze {
		if !validGlob(p) {
			return usageErrorf("--freeze %q is not a valid glob", p)
		}
	}
	return nil
}

// inspectReport is the --json output of inspect.
type inspectReport struct {
	Model           string            `json:"model"`
	IRVersion       int64             `json:"ir_version"`
	Opsets          []opsetJSON       `json:"opsets"`
	Producer        string            `json:"producer"`
	ProducerVersion string            `json:"producer_version"`
	Graph           string            `json:"graph"`
	Inputs          []valueJSON       `json:"inputs"`
	Outputs         []valueJSON       `json:"outputs"`
	Nodes           int               `json:"nodes"`
	Ops             map[string]int    `json:"ops"`
	Supported       *bool             `json:"supported"` // null: not checked
	Unsupported     []unsupportedJSON `json:"unsupported,omitempty"`
	EngineError     string            `json:"engine_error,omitempty"` // why a model of supported nodes does not compile
	Params          []paramJSON       `json:"params"`
	ParamCount      int               `json:"param_count"`
	ParamNorm       float64           `json:"param_norm"`
	Metadata        map[string]string `json:"metadata"`
}

type opsetJSON struct {
	Domain  string `json:"domain"`
	Version int64  `json:"version"`
}

// valueJSON is a graph input or output; Shape holds numbers for fixed
// dimensions, names for symbolic ones and null for unknown ones, and is null
// when the file gives no shape.
type valueJSON struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Shape []any  `json:"shape"`
}

type unsupportedJSON struct {
	Node   string `json:"node"`
	Op     string `json:"op"`
	Opset  int64  `json:"opset"`
	Reason string `json:"reason"`
}

type paramJSON struct {
	Name   string  `json:"name"`
	Type   string  `json:"type"`
	Shape  []int64 `json:"shape"`
	Offset int     `json:"offset"`
	Size   int     `json:"size"`
}

func runInspect(o *inspectOptions) error {
	m, err := onnxio.Load(o.Model)
	if err != nil {
		return badInput(err)
	}
	ps, err := m.Params(onnxio.ParamOptions{Freeze: o.Freeze})
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", o.Model, err))
	}
	w, err := m.ParamVector(ps)
	if err != nil {
		return err
	}
	r := buildReport(o, m, ps, w)
	if o.Supported == nil && r.Supported != nil && *r.Supported {
		// Every node passes; compiling finds what a per-node check cannot.
		if _, err := autodiff.Compile(m, autodiff.Options{Freeze: o.Freeze}); err != nil {
			no := false
			r.Supported, r.EngineError = &no, err.Error()
		}
	}
	if o.global.JSON {
		return o.io.writeJSON(r)
	}
	return printReport(o.io.Out, r)
}

func buildReport(o *inspectOptions, m *onnxio.Model, ps []onnxio.Param, w []float64) *inspectReport {
	g := m.Graph()
	r := &inspectReport{
		Model: o.Model, IRVersion: m.IRVersion(), Producer: m.ProducerName(), ProducerVersion: m.ProducerVersion(),
		Graph: g.Name, Inputs: valuesJSON(g.DataInputs()), Outputs: valuesJSON(g.Outputs),
		Nodes: len(g.Nodes), Ops: map[string]int{}, Params: []paramJSON{}, Metadata: m.Metadata(),
	}
	for _, op := range m.Opsets() {
		r.Opsets = append(r.Opsets, opsetJSON{Domain: op.Domain, Version: op.Version})
	}
	check := o.Supported
	if check == nil {
		check = engineSupport(m)
	}
	for i, n := range g.Nodes {
		r.Ops[opName(n)]++
		if err := check(n); err != nil {
			name := n.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i)
			}
			r.Unsupported = append(r.Unsupported, unsupportedJSON{Node: name, Op: opName(n), Opset: m.Opset(n.Domain), Reason: supportReason(err)})
		}
	}
	ok := len(r.Unsupported) == 0
	r.Supported = &ok
	for _, p := range ps {
		r.Params = append(r.Params, paramJSON{Name: p.Name, Type: p.Type.String(), Shape: p.Shape, Offset: p.Offset, Size: p.Size})
	}
	r.ParamCount = len(w)
	var ss float64
	for _, v := range w {
		ss += v * v
	}
	r.ParamNorm = math.Sqrt(ss)
	return r
}

// engineSupport checks nodes of m with the native engine, at the opset m
// imports for each node's domain.
func engineSupport(m *onnxio.Model) func(onnxio.Node) error {
	return func(n onnxio.Node) error { return autodiff.CheckNode(&n, m.Opset(n.Domain)) }
}

// supportReason says why a node is not supported, without repeating the
// node and operator the report already names.
func supportReason(err error) string {
	var u *autodiff.UnsupportedOpError
	switch {
	case !errors.As(err, &u):
		return err.Error()
	case u.Reason != "":
		return u.Reason
	case u.Domain != "" && u.Domain != "ai.onnx":
		return fmt.Sprintf("operators of domain %q are not implemented", u.Domain)
	}
	return "the native engine does not implement this operator"
}

// opName is a node's operator, qualified by its domain outside the default one.
func opName(n onnxio.Node) string {
	if n.Domain == "" || n.Domain == "ai.onnx" {
		return n.OpType
	}
	return n.Domain + "." + n.OpType
}

func valuesJSON(vs []onnxio.ValueInfo) []valueJSON {
	out := []valueJSON{}
	for _, v := range vs {
		j := valueJSON{Name: v.Name, Type: v.ElemType.String()}
		if v.Kind != onnxio.KindTensor {
			j.Type = v.Kind.String()
		}
		if v.HasShape {
			j.Shape = []any{}
			for _, d := range v.Shape {
				switch {
				case d.Param != "":
					j.Shape = append(j.Shape, d.Param)
				case d.Value >= 0:
					j.Shape = append(j.Shape, d.Value)
				default:
					j.Shape = append(j.Shape, nil)
				}
			}
		}
		out = append(out, j)
	}
	return out
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

func printReport(w io.Writer, r *inspectReport) error {
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
