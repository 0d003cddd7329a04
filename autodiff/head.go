package autodiff

import (
	"fmt"

	"github.com/lethe-ml/lethe/onnxio"
)

// viewOps pass their first input's values through, rearranged: LastAffineLayer
// walks back through them, on the data path and from a weight or bias
// operand to its initializer.
var viewOps = map[string]bool{
	"Identity": true, "Reshape": true, "Flatten": true, "Transpose": true, "Squeeze": true, "Unsqueeze": true,
}

// LastAffineLayer returns the trainable parameters of the model's last affine
// layer, in DESIGN.md §2 order: the head that the convex scope certifies with
// the rest of the network frozen.
//
// It walks back from the first output (from the input of a final Softmax
// when loss is CrossEntropy, as Program takes the loss there) through
// Identity, Reshape, Flatten, Transpose, Squeeze and Unsqueeze, and through
// Add and Sub nodes with one computed operand and one bias operand, down to
// and including the first Gemm or MatMul: one of its factors must be a
// weight operand, the other computed (the feature). A weight or bias operand
// is a trainable initializer, possibly behind the view ops above; a constant
// (a Constant node or a non-trainable initializer) operand of an Add or Sub
// is passed over, and a Gemm's C that is a parameter is part of the head. So
// PyTorch's nn.Linear is found whether it exports as Gemm or, on inputs of
// rank above 2, as MatMul and Add.
//
// An error names the node where the walk stops: an op outside those above
// (the model does not end in an affine layer), an Add of two computed
// tensors, or a Gemm or MatMul without exactly one trainable factor. The
// result is a candidate: ProveAffine proves (or refuses) it, for example when
// the head's weight is shared with the backbone.
func LastAffineLayer(m *onnxio.Model, loss Loss) ([]string, error) {
	g := m.Graph()
	if len(g.Outputs) == 0 {
		return nil, fmt.Errorf("autodiff: graph has no outputs")
	}
	params, err := m.Params(onnxio.ParamOptions{})
	if err != nil {
		return nil, fmt.Errorf("autodiff: %w", err)
	}
	trainable := map[string]bool{}
	for _, p := range params {
		trainable[p.Name] = true
	}
	producer := map[string]*onnxio.Node{}
	for i := range g.Nodes {
		for _, o := range g.Nodes[i].Outputs {
			producer[o] = &g.Nodes[i]
		}
	}
	op := func(n *onnxio.Node) string {
		if n.Domain != "" && n.Domain != "ai.onnx" {
			return n.Domain + "." + n.OpType
		}
		return n.OpType
	}
	// operand classifies a tensor: a trainable initializer (its name) behind
	// view ops, a constant, or computed.
	const constant, computed = "\x00constant", ""
	operand := func(t string) string {
		for {
			if trainable[t] {
				return t
			}
			if g.Initializer(t) != nil {
				return constant
			}
			n := producer[t]
			switch {
			case n == nil:
				return computed // a graph input
			case op(n) == "Constant":
				return constant
			case viewOps[op(n)] && len(n.Inputs) > 0:
				t = n.Inputs[0]
			default:
				return computed
			}
		}
	}
	head := map[string]bool{}
	cur := g.Outputs[0].Name
	if n := producer[cur]; n != nil && op(n) == "Softmax" && loss == CrossEntropy && len(n.Inputs) > 0 {
		cur = n.Inputs[0]
	}
	for {
		n := producer[cur]
		if n == nil {
			return nil, fmt.Errorf("autodiff: the model does not end in an affine layer: %q, on the path from the output, is computed by no Gemm or MatMul", cur)
		}
		if viewOps[op(n)] && len(n.Inputs) > 0 {
			cur = n.Inputs[0]
			continue
		}
		switch op(n) {
		case "Add", "Sub":
			if len(n.Inputs) != 2 {
				break
			}
			a, b := operand(n.Inputs[0]), operand(n.Inputs[1])
			switch {
			case a == computed && b == computed:
				return nil, fmt.Errorf("autodiff: the last layer is ambiguous: %s node %q adds two computed tensors", n.OpType, n.Name)
			case a == computed:
				cur = n.Inputs[0]
				if b != constant {
					head[b] = true
				}
			case b == computed:
				cur = n.Inputs[1]
				if a != constant {
					head[a] = true
				}
			default:
				return nil, fmt.Errorf("autodiff: the model does not end in an affine layer: %s node %q adds two constants or parameters", n.OpType, n.Name)
			}
			continue
		case "Gemm", "MatMul":
			if len(n.Inputs) < 2 {
				break
			}
			a, b := operand(n.Inputs[0]), operand(n.Inputs[1])
			weight := ""
			switch {
			case a == computed && b != computed && b != constant:
				weight = b
			case b == computed && a != computed && a != constant:
				weight = a
			default:
				return nil, fmt.Errorf("autodiff: the last layer is not a linear layer: %s node %q does not multiply a computed tensor by a trainable weight", n.OpType, n.Name)
			}
			head[weight] = true
			if n.OpType == "Gemm" && len(n.Inputs) > 2 && n.Inputs[2] != "" {
				if c := operand(n.Inputs[2]); c != computed && c != constant {
					head[c] = true
				}
			}
			var out []string
			for _, p := range params {
				if head[p.Name] {
					out = append(out, p.Name)
				}
			}
			return out, nil
		}
		return nil, fmt.Errorf("autodiff: the model does not end in an affine layer: %s node %q computes %q", op(n), n.Name, cur)
	}
}
