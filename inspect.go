package lethe

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/onnxio"
)

// InspectRequest asks what a model holds (`lethe inspect`). Model is
// required.
type InspectRequest struct {
	// Model is the ONNX file.
	Model string
	// Freeze removes the initializers whose names match any of these
	// path.Match globs from the trainable parameters.
	Freeze []string
	// Supported, when not nil, replaces the native engine's check of
	// whether it supports a node: nil for supported, otherwise the reason.
	Supported func(onnxio.Node) error
}

// InspectReport describes a model. Its JSON encoding is the output of
// `lethe inspect --json` (schemas/inspect.schema.json).
type InspectReport struct {
	// Model is the request's.
	Model string `json:"model"`
	// IRVersion, Opsets, Producer, ProducerVersion and Graph are the file's
	// header: IR version, imported operator sets, the tool that wrote it and
	// the graph's name.
	IRVersion       int64   `json:"ir_version"`
	Opsets          []Opset `json:"opsets"`
	Producer        string  `json:"producer"`
	ProducerVersion string  `json:"producer_version"`
	Graph           string  `json:"graph"`
	// Inputs are the inputs fed with data (not initializers), Outputs the
	// graph's outputs.
	Inputs  []Value `json:"inputs"`
	Outputs []Value `json:"outputs"`
	// Nodes counts the nodes, Ops them by operator (qualified by its domain
	// outside the default one).
	Nodes int            `json:"nodes"`
	Ops   map[string]int `json:"ops"`
	// Supported reports whether lethe's engine supports every node (null:
	// not checked); Unsupported names the nodes it does not, and
	// EngineError why a model of supported nodes does not compile.
	Supported   *bool         `json:"supported"`
	Unsupported []Unsupported `json:"unsupported,omitempty"`
	EngineError string        `json:"engine_error,omitempty"`
	// Params are the trainable parameters in lethe's order (DESIGN.md §2),
	// ParamCount their number of values and ParamNorm ‖w‖₂.
	Params     []Param `json:"params"`
	ParamCount int     `json:"param_count"`
	ParamNorm  float64 `json:"param_norm"`
	// Metadata are the model's metadata_props.
	Metadata map[string]string `json:"metadata"`
}

// Opset is an operator set the model imports.
type Opset struct {
	// Domain is the operator set's domain ("" is ai.onnx), Version the version
	// imported.
	Domain  string `json:"domain"`
	Version int64  `json:"version"`
}

// Value is a graph input or output; Shape holds numbers for fixed
// dimensions, names for symbolic ones and null for unknown ones, and is
// null when the file gives no shape.
type Value struct {
	// Name is the value's name in the graph, Type the element type of a tensor
	// or the kind of another value, Shape as described above.
	Name  string `json:"name"`
	Type  string `json:"type"`
	Shape []any  `json:"shape"`
}

// Unsupported is a node lethe's engine does not support.
type Unsupported struct {
	// Node is the node's name ("#i" for the i-th unnamed node), Op its
	// operator, Opset the version the model imports for its domain, and Reason
	// why the engine cannot run it.
	Node   string `json:"node"`
	Op     string `json:"op"`
	Opset  int64  `json:"opset"`
	Reason string `json:"reason"`
}

// Param is one trainable parameter tensor and its place in the flat
// parameter vector.
type Param struct {
	// Name is the initializer's name, Type its element type and Shape its
	// shape; Offset is its first position in the flat parameter vector and
	// Size its number of values.
	Name   string  `json:"name"`
	Type   string  `json:"type"`
	Shape  []int64 `json:"shape"`
	Offset int     `json:"offset"`
	Size   int     `json:"size"`
}

// Inspect reports a model's IR version and operator sets, its inputs and
// outputs, an operator histogram, whether lethe's engine supports every
// node (naming each one it does not, with its operator, opset and the
// reason), the trainable parameters and their norm, and its metadata. A
// model with unsupported nodes is not an error.
func Inspect(ctx context.Context, req InspectRequest) (*InspectReport, error) {
	if req.Model == "" {
		return nil, badField("Model", "no model given")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, err := onnxio.Load(req.Model)
	if err != nil {
		return nil, classify("Model", err)
	}
	ps, err := m.Params(onnxio.ParamOptions{Freeze: req.Freeze})
	if err != nil {
		return nil, badField("Freeze", "%s: %w", req.Model, err)
	}
	w, err := m.ParamVector(ps)
	if err != nil {
		return nil, badInput("Model", err)
	}
	g := m.Graph()
	r := &InspectReport{
		Model: req.Model, IRVersion: m.IRVersion(), Producer: m.ProducerName(), ProducerVersion: m.ProducerVersion(),
		Graph: g.Name, Inputs: values(g.DataInputs()), Outputs: values(g.Outputs),
		Nodes: len(g.Nodes), Ops: map[string]int{}, Params: []Param{}, Metadata: m.Metadata(),
	}
	for _, op := range m.Opsets() {
		r.Opsets = append(r.Opsets, Opset{Domain: op.Domain, Version: op.Version})
	}
	check := req.Supported
	if check == nil {
		check = func(n onnxio.Node) error { return autodiff.CheckNode(&n, m.Opset(n.Domain)) }
	}
	for i, n := range g.Nodes {
		r.Ops[opName(n)]++
		if err := check(n); err != nil {
			name := n.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i)
			}
			r.Unsupported = append(r.Unsupported, Unsupported{Node: name, Op: opName(n), Opset: m.Opset(n.Domain), Reason: supportReason(err)})
		}
	}
	ok := len(r.Unsupported) == 0
	r.Supported = &ok
	for _, p := range ps {
		r.Params = append(r.Params, Param{Name: p.Name, Type: p.Type.String(), Shape: p.Shape, Offset: p.Offset, Size: p.Size})
	}
	r.ParamCount = len(w)
	var ss float64
	for _, v := range w {
		ss += v * v
	}
	r.ParamNorm = math.Sqrt(ss)
	if req.Supported == nil && ok {
		// Every node passes; compiling finds what a per-node check cannot.
		if _, err := autodiff.Compile(m, autodiff.Options{Freeze: req.Freeze}); err != nil {
			no := false
			r.Supported, r.EngineError = &no, err.Error()
		}
	}
	return r, nil
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

// opName is a node's operator, qualified by its domain outside the default
// one.
func opName(n onnxio.Node) string {
	if n.Domain == "" || n.Domain == "ai.onnx" {
		return n.OpType
	}
	return n.Domain + "." + n.OpType
}

func values(vs []onnxio.ValueInfo) []Value {
	out := []Value{}
	for _, v := range vs {
		j := Value{Name: v.Name, Type: v.ElemType.String()}
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
