package onnxio

import (
	"strconv"

	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
)

// Graph is a decoded, read-only view of an ONNX graph. Model.Graph returns a
// snapshot that is shared between callers and never changed afterwards (a
// later SetInitializer builds a new snapshot), so callers must not modify it.
type Graph struct {
	Name string
	// Inputs are the graph inputs in file order. Under IR version < 4 they may
	// include initializers; DataInputs leaves those out.
	Inputs    []ValueInfo
	Outputs   []ValueInfo
	ValueInfo []ValueInfo
	// Nodes are in file order, which ONNX requires to be topological.
	Nodes        []Node
	Initializers []*Tensor
}

// DataInputs returns the graph inputs that are not initializers: the values a
// caller must feed to run the graph.
func (g *Graph) DataInputs() []ValueInfo {
	init := make(map[string]bool, len(g.Initializers))
	for _, t := range g.Initializers {
		init[t.Name] = true
	}
	var out []ValueInfo
	for _, v := range g.Inputs {
		if !init[v.Name] {
			out = append(out, v)
		}
	}
	return out
}

// Initializer returns the initializer called name, or nil.
func (g *Graph) Initializer(name string) *Tensor {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Node is one operator invocation. An empty string in Inputs or Outputs marks
// an omitted optional argument.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   map[string]Attribute
}

// TypeKind is the kind of an ONNX value type.
type TypeKind int

// The kinds of ONNX value types.
const (
	KindUnknown TypeKind = iota // no type, or one lethe does not know
	KindTensor
	KindSparseTensor
	KindSequence
	KindMap
	KindOptional
)

var kindNames = [...]string{"unknown", "tensor", "sparse_tensor", "sequence", "map", "optional"}

// String returns the kind's name ("tensor", "sequence", ...).
func (k TypeKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "TypeKind(" + strconv.Itoa(int(k)) + ")"
}

// ValueInfo describes a named value. ElemType and Shape are set for tensor
// (and sparse tensor) values only; HasShape is false when the file gives no
// shape at all, which is different from a scalar's empty shape.
type ValueInfo struct {
	Name     string
	Kind     TypeKind
	ElemType DataType
	Shape    []Dim
	HasShape bool
}

// Dim is one dimension of a ValueInfo shape: a fixed size (Value ≥ 0, Param
// ""), a symbolic size (Param such as "batch", Value -1), or unknown (Value
// -1, Param "").
type Dim struct {
	Value int64
	Param string
}

// String returns the size, the symbolic name, or "?".
func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Value >= 0:
		return strconv.FormatInt(d.Value, 10)
	}
	return "?"
}

// graphDecoder turns protobuf graphs into Graph views.
type graphDecoder struct {
	ext map[*onnxpb.TensorProto][]byte // bytes of external tensors
	// budget, when not nil, is the memory the decoded tensors may still
	// take (DecodeOptions.MaxBytes): an int8 tensor decodes to eight times
	// its stored bytes.
	budget *int64
}

func (d *graphDecoder) graph(g *onnxpb.GraphProto) (*Graph, error) {
	out := &Graph{Name: g.GetName()}
	out.Inputs = valueInfos(g.Input)
	out.Outputs = valueInfos(g.Output)
	out.ValueInfo = valueInfos(g.ValueInfo)
	seen := make(map[string]bool, len(g.Initializer))
	for _, tp := range g.Initializer {
		name := tp.GetName()
		if name == "" {
			return nil, invalid(ErrTensorData, "", "initializer without a name")
		}
		if seen[name] {
			return nil, asInitializer(invalid(ErrTensorData, name, "duplicate name"))
		}
		seen[name] = true
		t, err := d.tensor(tp)
		if err != nil {
			return nil, asInitializer(err)
		}
		out.Initializers = append(out.Initializers, t)
	}
	out.Nodes = make([]Node, 0, len(g.Node))
	for _, np := range g.Node {
		n := Node{Name: np.GetName(), OpType: np.GetOpType(), Domain: np.GetDomain(),
			Inputs: append([]string{}, np.Input...), Outputs: append([]string{}, np.Output...)}
		if len(np.Attribute) > 0 {
			n.Attrs = make(map[string]Attribute, len(np.Attribute))
		}
		for _, ap := range np.Attribute {
			a, err := d.attribute(ap)
			if err != nil {
				return nil, err
			}
			n.Attrs[a.Name] = a
		}
		out.Nodes = append(out.Nodes, n)
	}
	return out, nil
}

func (d *graphDecoder) tensor(tp *onnxpb.TensorProto) (*Tensor, error) {
	return decodeTensor(tp, d.ext[tp], d.budget)
}

func valueInfos(vs []*onnxpb.ValueInfoProto) []ValueInfo {
	out := make([]ValueInfo, 0, len(vs))
	for _, v := range vs {
		vi := ValueInfo{Name: v.GetName()}
		var shape *onnxpb.TensorShapeProto
		switch t := v.GetType(); {
		case t.GetTensorType() != nil:
			vi.Kind, vi.ElemType, shape = KindTensor, DataType(t.GetTensorType().GetElemType()), t.GetTensorType().GetShape()
		case t.GetSparseTensorType() != nil:
			vi.Kind, vi.ElemType, shape = KindSparseTensor, DataType(t.GetSparseTensorType().GetElemType()), t.GetSparseTensorType().GetShape()
		case t.GetSequenceType() != nil:
			vi.Kind = KindSequence
		case t.GetMapType() != nil:
			vi.Kind = KindMap
		case t.GetOptionalType() != nil:
			vi.Kind = KindOptional
		}
		if shape != nil {
			vi.HasShape = true
			vi.Shape = make([]Dim, 0, len(shape.Dim))
			for _, dp := range shape.Dim {
				dim := Dim{Value: -1, Param: dp.GetDimParam()}
				if v, ok := dp.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok && v.DimValue >= 0 {
					dim.Value = v.DimValue
				}
				vi.Shape = append(vi.Shape, dim)
			}
		}
		out = append(out, vi)
	}
	return out
}
