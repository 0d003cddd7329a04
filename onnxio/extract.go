package onnxio

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
)

// modelFunctionsField is the field number of ModelProto.functions (the
// model-local functions), which onnxpb keeps as an unknown field.
const modelFunctionsField = 25

// Extract returns a new model that computes the tensors outputs from the
// tensors inputs: the nodes needed, the initializers they use, the same
// opsets and IR version, metadata dropped. It is onnx.utils.extract_model for
// lethe's models, for example to cut a network into a frozen backbone
// (data → features) and a head (features → logits).
//
// Each input must be a graph input or a node output, not an initializer;
// each output any tensor of the graph. The new graph's inputs and outputs are
// in the order given. Their types come from the original graph's inputs,
// outputs or value_info, the first that names the tensor; a tensor that none
// of them describes becomes a float tensor of unknown shape (onnxruntime
// accepts such an input and checks the values fed at run time). Nodes keep
// their file order; value_info is kept for the tensors the new graph
// computes internally; model-local functions, the producer and the graph name
// are kept; metadata_props, doc strings, the model's domain and version and
// training information are dropped. Under IR version 3 the kept initializers
// stay listed as graph inputs, as that version requires.
//
// An output that cannot be computed from the inputs and the initializers
// (it needs a graph input that is not among inputs, or a name nothing
// defines), an input that does not exist, an input that a needed node would
// compute again, and a name given twice are errors naming the tensor.
//
// The new model has no Path; its Files are m's, so that Save never writes over
// the files its external data came from.
func (m *Model) Extract(inputs, outputs []string) (*Model, error) {
	g, pg := m.Graph(), m.pb.Graph
	if len(outputs) == 0 {
		return nil, fmt.Errorf("onnxio: extract: no outputs")
	}
	producer := map[string]int{}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o != "" {
				producer[o] = i
			}
		}
	}
	initializer := map[string]bool{}
	for _, t := range pg.Initializer {
		initializer[t.GetName()] = true
	}
	sparse := map[string]bool{}
	for _, sp := range pg.SparseInitializer {
		sparse[sp.GetValues().GetName()] = true
	}
	graphInput := map[string]bool{}
	for _, v := range g.DataInputs() {
		graphInput[v.Name] = true
	}
	isInput := map[string]bool{}
	for _, name := range inputs {
		_, computed := producer[name]
		switch {
		case isInput[name]:
			return nil, fmt.Errorf("onnxio: extract: input %q is listed twice", name)
		case initializer[name] || sparse[name]:
			return nil, fmt.Errorf("onnxio: extract: input %q is an initializer, not a computed tensor", name)
		case !computed && !graphInput[name]:
			return nil, fmt.Errorf("onnxio: extract: input %q is not a tensor of the graph", name)
		}
		isInput[name] = true
	}
	seenOut := map[string]bool{}
	for _, name := range outputs {
		switch {
		case seenOut[name]:
			return nil, fmt.Errorf("onnxio: extract: output %q is listed twice", name)
		case name == "":
			return nil, fmt.Errorf("onnxio: extract: output %q is not a tensor of the graph", name)
		}
		seenOut[name] = true
	}

	// Walk back from each output to the inputs and initializers.
	needNode := make([]bool, len(g.Nodes))
	needInit := map[string]bool{}
	visited := map[string]bool{"": true}
	for _, out := range outputs {
		stack := []string{out}
		for len(stack) > 0 {
			t := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if visited[t] {
				continue
			}
			visited[t] = true
			i, computed := producer[t]
			switch {
			case isInput[t]:
			case initializer[t] || sparse[t]:
				needInit[t] = true
			case computed:
				needNode[i] = true
				stack = append(stack, g.Nodes[i].Reads()...)
			case graphInput[t]:
				return nil, fmt.Errorf("onnxio: extract: output %q cannot be computed from the inputs: it needs graph input %q", out, t)
			case t == out:
				return nil, fmt.Errorf("onnxio: extract: output %q is not a tensor of the graph", out)
			default:
				return nil, fmt.Errorf("onnxio: extract: output %q cannot be computed: it needs %q, which nothing defines", out, t)
			}
		}
	}
	internal := map[string]bool{}
	var nodes []*onnxpb.NodeProto
	for i, n := range g.Nodes {
		if !needNode[i] {
			continue
		}
		for _, o := range n.Outputs {
			if isInput[o] {
				return nil, fmt.Errorf("onnxio: extract: input %q is computed by node %q, which the outputs also need", o, n.Name)
			}
			internal[o] = !seenOut[o]
		}
		nodes = append(nodes, pg.Node[i])
	}

	// Build the new graph from the original protos, then clone it whole, so
	// that external tensors can be matched by walk order as in Clone.
	describe := func(name string) *onnxpb.ValueInfoProto {
		for _, vs := range [][]*onnxpb.ValueInfoProto{pg.Input, pg.Output, pg.ValueInfo} {
			for _, v := range vs {
				if v.GetName() == name {
					return v
				}
			}
		}
		if t := g.Initializer(name); t != nil {
			return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: tensorType(t.Type, t.Dims)}
		}
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: tensorType(Float, nil)}
	}
	ng := &onnxpb.GraphProto{Name: pg.Name, Node: nodes}
	for _, name := range inputs {
		ng.Input = append(ng.Input, describe(name))
	}
	for _, t := range pg.Initializer {
		if needInit[t.GetName()] {
			ng.Initializer = append(ng.Initializer, t)
		}
	}
	for _, sp := range pg.SparseInitializer {
		if needInit[sp.GetValues().GetName()] {
			ng.SparseInitializer = append(ng.SparseInitializer, sp)
		}
	}
	if m.IRVersion() < 4 { // initializers must also be graph inputs
		for _, v := range pg.Input {
			if needInit[v.GetName()] {
				ng.Input = append(ng.Input, v)
			}
		}
	}
	for _, name := range outputs {
		ng.Output = append(ng.Output, describe(name))
	}
	for _, v := range pg.ValueInfo {
		if internal[v.GetName()] {
			ng.ValueInfo = append(ng.ValueInfo, v)
		}
	}
	shallow := &onnxpb.ModelProto{
		IrVersion:       m.pb.IrVersion,
		OpsetImport:     m.pb.OpsetImport,
		ProducerName:    m.pb.ProducerName,
		ProducerVersion: m.pb.ProducerVersion,
		Graph:           ng,
	}
	shallow.ProtoReflect().SetUnknown(keepField(m.pb.ProtoReflect().GetUnknown(), modelFunctionsField))
	pb := proto.Clone(shallow).(*onnxpb.ModelProto)
	c := &Model{pb: pb, ext: map[*onnxpb.TensorProto][]byte{}, files: slices.Clone(m.files)}
	orig := externalTensors(shallow)
	for i, tp := range externalTensors(pb) {
		c.ext[tp] = m.ext[orig[i]]
	}
	graph, err := (&graphDecoder{ext: c.ext}).graph(pb.Graph)
	if err != nil {
		return nil, err
	}
	c.graph = graph
	return c, nil
}

// tensorType is the type of a tensor of element type dt; nil dims means an
// unknown shape.
func tensorType(dt DataType, dims []int64) *onnxpb.TypeProto {
	tt := &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}
	if dims != nil {
		tt.Shape = &onnxpb.TensorShapeProto{}
		for _, d := range dims {
			tt.Shape.Dim = append(tt.Shape.Dim, &onnxpb.TensorShapeProto_Dimension{
				Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
	}
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}}
}

// keepField returns the fields of the encoded message b whose number is num.
func keepField(b []byte, num protowire.Number) []byte {
	var out []byte
	for len(b) > 0 {
		n, _, size := protowire.ConsumeField(b)
		if size < 0 { // cannot happen: the bytes came from a successful parse
			return out
		}
		if n == num {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return out
}
