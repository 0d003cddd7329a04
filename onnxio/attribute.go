package onnxio

import (
	"strconv"

	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
)

// AttrType is the type of a node attribute, with the numeric values of ONNX's
// AttributeProto.AttributeType.
type AttrType int32

// The ONNX attribute types.
const (
	AttrTypeUndefined     AttrType = 0
	AttrTypeFloat         AttrType = 1
	AttrTypeInt           AttrType = 2
	AttrTypeString        AttrType = 3
	AttrTypeTensor        AttrType = 4
	AttrTypeGraph         AttrType = 5
	AttrTypeFloats        AttrType = 6
	AttrTypeInts          AttrType = 7
	AttrTypeStrings       AttrType = 8
	AttrTypeTensors       AttrType = 9
	AttrTypeGraphs        AttrType = 10
	AttrTypeSparseTensor  AttrType = 11
	AttrTypeSparseTensors AttrType = 12
	AttrTypeTypeProto     AttrType = 13
	AttrTypeTypeProtos    AttrType = 14
)

var attrTypeNames = map[AttrType]string{
	AttrTypeUndefined: "undefined", AttrTypeFloat: "float", AttrTypeInt: "int",
	AttrTypeString: "string", AttrTypeTensor: "tensor", AttrTypeGraph: "graph",
	AttrTypeFloats: "floats", AttrTypeInts: "ints", AttrTypeStrings: "strings",
	AttrTypeTensors: "tensors", AttrTypeGraphs: "graphs",
	AttrTypeSparseTensor: "sparse_tensor", AttrTypeSparseTensors: "sparse_tensors",
	AttrTypeTypeProto: "type_proto", AttrTypeTypeProtos: "type_protos",
}

// String returns the ONNX name of the type in lower case ("int", "floats", ...).
func (t AttrType) String() string {
	if s, ok := attrTypeNames[t]; ok {
		return s
	}
	return "AttrType(" + strconv.Itoa(int(t)) + ")"
}

// Attribute is a decoded node attribute. Type says which field holds the
// value. Sparse-tensor and type-proto attributes are recorded by Type only.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       []byte
	T       *Tensor
	G       *Graph
	Floats  []float32
	Ints    []int64
	Strings [][]byte
	Tensors []*Tensor
	Graphs  []*Graph
}

// Attr returns the attribute called name and whether it is present.
func (n Node) Attr(name string) (Attribute, bool) {
	a, ok := n.Attrs[name]
	return a, ok
}

// AttrInt returns the int attribute called name, or def when it is absent.
func (n Node) AttrInt(name string, def int64) int64 {
	if a, ok := n.Attrs[name]; ok && a.Type == AttrTypeInt {
		return a.I
	}
	return def
}

// AttrFloat returns the float attribute called name, or def when it is absent.
func (n Node) AttrFloat(name string, def float32) float32 {
	if a, ok := n.Attrs[name]; ok && a.Type == AttrTypeFloat {
		return a.F
	}
	return def
}

// AttrString returns the string attribute called name, or def when it is
// absent.
func (n Node) AttrString(name, def string) string {
	if a, ok := n.Attrs[name]; ok && a.Type == AttrTypeString {
		return string(a.S)
	}
	return def
}

// AttrInts returns the ints attribute called name, or nil when it is absent.
// The slice is shared with the graph snapshot; do not modify it.
func (n Node) AttrInts(name string) []int64 {
	if a, ok := n.Attrs[name]; ok && a.Type == AttrTypeInts {
		return a.Ints
	}
	return nil
}

// AttrFloats returns the floats attribute called name, or nil when it is
// absent. The slice is shared with the graph snapshot; do not modify it.
func (n Node) AttrFloats(name string) []float32 {
	if a, ok := n.Attrs[name]; ok && a.Type == AttrTypeFloats {
		return a.Floats
	}
	return nil
}

// AttrTensor returns the tensor attribute called name, or nil when it is
// absent. The tensor is shared with the graph snapshot; do not modify it.
func (n Node) AttrTensor(name string) *Tensor {
	if a, ok := n.Attrs[name]; ok && a.Type == AttrTypeTensor {
		return a.T
	}
	return nil
}

func (d *graphDecoder) attribute(ap *onnxpb.AttributeProto) (Attribute, error) {
	a := Attribute{Name: ap.GetName(), Type: AttrType(ap.GetType()), F: ap.GetF(), I: ap.GetI(),
		S: append([]byte(nil), ap.S...), Floats: append([]float32(nil), ap.Floats...),
		Ints: append([]int64(nil), ap.Ints...)}
	if a.Type == AttrTypeUndefined {
		a.Type = inferAttrType(ap)
	}
	for _, s := range ap.Strings {
		a.Strings = append(a.Strings, append([]byte(nil), s...))
	}
	var err error
	if ap.T != nil {
		if a.T, err = d.tensor(ap.T); err != nil {
			return a, err
		}
	}
	for _, tp := range ap.Tensors {
		t, err := d.tensor(tp)
		if err != nil {
			return a, err
		}
		a.Tensors = append(a.Tensors, t)
	}
	if ap.G != nil {
		if a.G, err = d.graph(ap.G); err != nil {
			return a, err
		}
	}
	for _, gp := range ap.Graphs {
		g, err := d.graph(gp)
		if err != nil {
			return a, err
		}
		a.Graphs = append(a.Graphs, g)
	}
	return a, nil
}

// inferAttrType guesses the type of an attribute from very old files that
// leave the type field out, from the field that is set.
func inferAttrType(ap *onnxpb.AttributeProto) AttrType {
	switch {
	case ap.F != nil:
		return AttrTypeFloat
	case ap.I != nil:
		return AttrTypeInt
	case ap.S != nil:
		return AttrTypeString
	case ap.T != nil:
		return AttrTypeTensor
	case ap.G != nil:
		return AttrTypeGraph
	case len(ap.Floats) > 0:
		return AttrTypeFloats
	case len(ap.Ints) > 0:
		return AttrTypeInts
	case len(ap.Strings) > 0:
		return AttrTypeStrings
	case len(ap.Tensors) > 0:
		return AttrTypeTensors
	case len(ap.Graphs) > 0:
		return AttrTypeGraphs
	}
	return AttrTypeUndefined
}
