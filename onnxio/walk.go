package onnxio

import "github.com/lethe-ml/lethe/onnxio/internal/onnxpb"

// walkTensors calls fn for every TensorProto in g and its subgraphs, in a fixed
// order: initializers, sparse initializers, then each node's attributes
// (tensors, sparse tensors, subgraphs) in file order. Two structurally equal
// graphs (a model and its proto.Clone) are walked in the same order, which is
// how Save and Encode find the copy of each external tensor.
func walkTensors(g *onnxpb.GraphProto, fn func(*onnxpb.TensorProto)) {
	if g == nil {
		return
	}
	for _, tp := range g.Initializer {
		fn(tp)
	}
	for _, sp := range g.SparseInitializer {
		walkSparse(sp, fn)
	}
	for _, n := range g.Node {
		for _, a := range n.Attribute {
			if a.T != nil {
				fn(a.T)
			}
			for _, tp := range a.Tensors {
				fn(tp)
			}
			walkSparse(a.SparseTensor, fn)
			for _, sp := range a.SparseTensors {
				walkSparse(sp, fn)
			}
			walkTensors(a.G, fn)
			for _, sg := range a.Graphs {
				walkTensors(sg, fn)
			}
		}
	}
}

func walkSparse(sp *onnxpb.SparseTensorProto, fn func(*onnxpb.TensorProto)) {
	if sp == nil {
		return
	}
	if sp.Values != nil {
		fn(sp.Values)
	}
	if sp.Indices != nil {
		fn(sp.Indices)
	}
}

// externalTensors lists the tensors of m stored as external data, in walk order.
func externalTensors(m *onnxpb.ModelProto) []*onnxpb.TensorProto {
	var out []*onnxpb.TensorProto
	walkTensors(m.GetGraph(), func(tp *onnxpb.TensorProto) {
		if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			out = append(out, tp)
		}
	})
	return out
}
