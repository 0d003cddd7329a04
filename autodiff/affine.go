package autodiff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lethe-ml/lethe/onnxio"
)

// affineOps are the operators through which a certified parameter may reach
// the model's output in the convex scope, each affine in every input that
// carries a value: the products Gemm (y = α·A'·B' + β·C) and MatMul, which
// are affine in each factor when the other is fixed (checked separately);
// Add, Sub and Neg; and the element permutations Reshape, Flatten,
// Transpose, Identity, Squeeze and Unsqueeze, whose shape and axes inputs
// must not depend on a certified parameter (checked separately).
var affineOps = map[string]bool{
	"Gemm": true, "MatMul": true, "Add": true, "Sub": true, "Neg": true,
	"Reshape": true, "Flatten": true, "Transpose": true, "Identity": true,
	"Squeeze": true, "Unsqueeze": true,
}

// AffineOps returns the operators ProveAffine accepts on a path from a
// certified parameter to the output, sorted.
func AffineOps() []string {
	out := make([]string, 0, len(affineOps))
	for op := range affineOps {
		out = append(out, op)
	}
	slices.Sort(out)
	return out
}

// affineOpList is affineOps for messages.
const affineOpList = "Gemm, MatMul, Add, Sub, Neg, Reshape, Flatten, Transpose, Identity, Squeeze, Unsqueeze"

// NotAffineError is ProveAffine's refusal: certified parameter Param reaches
// the model's first output through node Node (operator Op), which breaks the
// proof for the reason given.
type NotAffineError struct {
	Node   string // the node's name, or "#i" (its index in the file) if it has none
	Op     string
	Param  string
	Reason string
}

func (e *NotAffineError) Error() string {
	return fmt.Sprintf("autodiff: certified parameter %s reaches the output through %s node %s, which %s", e.Param, e.Op, e.Node, e.Reason)
}

// AffineProof is what ProveAffine established, in the terms a certificate
// states it: the Loss on Output is convex in an affine function of the
// certified parameters Params, so that mean loss + (μ/2)‖w‖² is μ-strongly
// convex in them for every μ > 0 (DESIGN.md §1 "Convex scope").
type AffineProof struct {
	// Params are the certified parameters in DESIGN.md §2 order; Size is
	// their total number of elements.
	Params []string
	Size   int
	// Ops are the distinct operator types of the region R (the nodes on a
	// path from a certified parameter to Output), sorted; Nodes are R's node
	// names in evaluation order ("#i" for an unnamed node, i its index in
	// the file).
	Ops   []string
	Nodes []string
	Loss  Loss
	// Output is the model's first output. FinalSoftmax says it is computed by
	// a Softmax, whose input the cross-entropy is taken on (as Program does).
	Output       string
	FinalSoftmax bool
	// Features is the feature cut: the inputs of R's nodes that depend on a
	// graph data input and on no certified parameter, in order of first use.
	// For a linear model it is the data input itself; for a head on a frozen
	// backbone, the tensors the head reads.
	Features []string
}

// String states the proof in one line.
func (p *AffineProof) String() string {
	on := "output " + p.Output
	if p.FinalSoftmax {
		on = "the logits feeding the final Softmax " + p.Output
	}
	given := ""
	if len(p.Features) > 0 {
		given = " given the features (" + strings.Join(p.Features, ", ") + ")"
	}
	path := "no node lies between them and the output"
	if len(p.Ops) > 0 {
		path = "every path from them to the output passes only through " + strings.Join(p.Ops, ", ") +
			", and no product has two factors that depend on them"
	}
	return fmt.Sprintf("the %s loss is convex in %s, which is affine in the %d certified parameters (%s)%s: %s; "+
		"so mean loss + (μ/2)‖w‖² is μ-strongly convex in them for every μ > 0",
		p.Loss, on, p.Size, strings.Join(p.Params, ", "), given, path)
}

// ProveAffine shows, by a pass over the graph, that the loss on the model's
// first output is a convex function of an affine map of the certified
// parameters (DESIGN.md §1 "Convex scope"). It works on the graph alone, so
// it also proves models the engine cannot compile (an LSTM backbone, say).
//
// Dependence is followed through every node and every input (shapes,
// indices and the outer-scope names of If/Loop/Scan bodies included): a
// certified parameter passed through Cast or Shape still counts where the
// result is used. The region R is the set of nodes on a path from a certified
// parameter to the first output. Every node of R must be one of Gemm, MatMul,
// Add, Sub, Neg, Reshape, Flatten, Transpose, Identity, Squeeze and
// Unsqueeze of the default domain, with
//
//   - at most one of Gemm's or MatMul's factors A and B depending on a
//     certified parameter (Gemm's C may too), since a product of two
//     parameters is not affine;
//   - no shape (Reshape) or axes (Squeeze, Unsqueeze) input depending on one;
//
// except that a Softmax computing the first output is allowed with the
// CrossEntropy loss, which Program takes on the Softmax's input. The losses
// CrossEntropy (logsumexp(z) − z_y), MSE and BCE with logits (softplus(z) −
// t·z) are convex in the output z, and a convex function of an affine map is
// convex. Any other op, a BatchNormalization included (conservatively: in
// inference it is affine in its input), refuses; so does a final Softmax with
// MSE or BCE, whose loss on probabilities is not convex. A certified
// parameter that does not reach the first output at all is accepted: the
// loss is constant in it.
//
// A refusal is a *NotAffineError naming the node, its op and a certified
// parameter that reaches it. A certified name that is not a trainable
// parameter of the model (onnxio.Model.Params), a name given twice, an empty
// list and a malformed graph are plain errors. An invalid loss panics.
func ProveAffine(m *onnxio.Model, certified []string, loss Loss) (*AffineProof, error) {
	if loss != CrossEntropy && loss != MSE && loss != BCE {
		panic(fmt.Sprintf("autodiff: ProveAffine with invalid %v", loss))
	}
	g := m.Graph()
	if len(g.Outputs) == 0 {
		return nil, fmt.Errorf("autodiff: graph has no outputs")
	}
	if len(certified) == 0 {
		return nil, fmt.Errorf("autodiff: no certified parameters")
	}
	params, err := m.Params(onnxio.ParamOptions{})
	if err != nil {
		return nil, fmt.Errorf("autodiff: %w", err)
	}
	want := map[string]bool{}
	for _, name := range certified {
		switch {
		case want[name]:
			return nil, fmt.Errorf("autodiff: certified parameter %s is listed twice", name)
		case !slices.ContainsFunc(params, func(p onnxio.Param) bool { return p.Name == name }):
			if g.Initializer(name) != nil {
				return nil, fmt.Errorf("autodiff: certified parameter %s is an initializer but not a trainable parameter (DESIGN.md §2)", name)
			}
			return nil, fmt.Errorf("autodiff: certified parameter %s is not an initializer of the model", name)
		}
		want[name] = true
	}
	proof := &AffineProof{Loss: loss, Output: g.Outputs[0].Name}
	first := map[string]int{} // the lowest index in proof.Params of a certified parameter a value depends on
	for _, p := range params {
		if want[p.Name] {
			first[p.Name] = len(proof.Params)
			proof.Params = append(proof.Params, p.Name)
			proof.Size += p.Size
		}
	}
	order, err := topoOrder(g)
	if err != nil {
		return nil, err
	}
	data := map[string]bool{} // the value depends on a graph data input
	for _, in := range g.DataInputs() {
		data[in.Name] = true
	}
	dep := func(name string) int {
		if i, ok := first[name]; ok {
			return i
		}
		return -1
	}
	for _, n := range order {
		f, d := -1, false
		for _, r := range n.Reads() {
			if i := dep(r); i >= 0 && (f < 0 || i < f) {
				f = i
			}
			d = d || data[r]
		}
		for _, o := range n.Outputs {
			if f >= 0 {
				first[o] = f
			}
			data[o] = d
		}
	}
	onPath, err := ancestors(g, proof.Output)
	if err != nil {
		return nil, err
	}
	index := make(map[*onnxio.Node]int, len(g.Nodes))
	for i := range g.Nodes {
		index[&g.Nodes[i]] = i
	}
	ops, features := map[string]bool{}, map[string]bool{}
	for _, n := range order {
		f := -1
		for _, o := range n.Outputs {
			if i := dep(o); i >= 0 && onPath[o] {
				f = i
			}
		}
		if f < 0 {
			continue
		}
		label := n.Name
		if label == "" {
			label = fmt.Sprintf("#%d", index[n])
		}
		if err := checkAffine(n, label, proof, dep, loss); err != nil {
			return nil, err
		}
		proof.FinalSoftmax = proof.FinalSoftmax || n.OpType == "Softmax"
		ops[n.OpType] = true
		proof.Nodes = append(proof.Nodes, label)
		for _, in := range n.Inputs {
			if in != "" && data[in] && dep(in) < 0 && !features[in] {
				features[in] = true
				proof.Features = append(proof.Features, in)
			}
		}
	}
	for op := range ops {
		proof.Ops = append(proof.Ops, op)
	}
	slices.Sort(proof.Ops)
	return proof, nil
}

// checkAffine checks one node of the region R; dep gives the index in
// proof.Params of a certified parameter a value depends on, or -1.
func checkAffine(n *onnxio.Node, label string, proof *AffineProof, dep func(string) int, loss Loss) error {
	in := func(i int) int {
		if i < len(n.Inputs) && n.Inputs[i] != "" {
			return dep(n.Inputs[i])
		}
		return -1
	}
	reaching := -1
	for _, r := range n.Reads() {
		if i := dep(r); i >= 0 && (reaching < 0 || i < reaching) {
			reaching = i
		}
	}
	refuse := func(param int, reason string, args ...any) error {
		return &NotAffineError{Node: label, Op: n.OpType, Param: proof.Params[param], Reason: fmt.Sprintf(reason, args...)}
	}
	defaultDomain := n.Domain == "" || n.Domain == "ai.onnx"
	if n.OpType == "Softmax" && defaultDomain && len(n.Outputs) > 0 && n.Outputs[0] == proof.Output {
		if loss == CrossEntropy {
			return nil
		}
		return refuse(reaching, "is a final Softmax: the proof accepts one only with the xent loss, which is taken on its input (%s on probabilities is not convex)", loss)
	}
	if !defaultDomain || !affineOps[n.OpType] {
		return refuse(reaching, "is not affine (the convex scope accepts only %s)", affineOpList)
	}
	switch n.OpType {
	case "Gemm", "MatMul":
		if a, b := in(0), in(1); a >= 0 && b >= 0 {
			if a == b {
				return refuse(a, "multiplies it by itself: a product of parameters is not affine")
			}
			return refuse(a, "multiplies it by %s, also certified: a product of parameters is not affine", proof.Params[b])
		}
	case "Reshape", "Squeeze", "Unsqueeze":
		if s := in(1); s >= 0 {
			return refuse(s, "takes its shape or axes from it")
		}
	}
	return nil
}

// ancestors returns the names the value out is computed from, out included,
// following every input. A name that no node, graph input or initializer
// defines is an error.
func ancestors(g *onnxio.Graph, out string) (map[string]bool, error) {
	producer := map[string]*onnxio.Node{}
	for i := range g.Nodes {
		for _, o := range g.Nodes[i].Outputs {
			producer[o] = &g.Nodes[i]
		}
	}
	defined := map[string]bool{}
	for _, v := range g.Inputs {
		defined[v.Name] = true
	}
	for _, t := range g.Initializers {
		defined[t.Name] = true
	}
	seen := map[string]bool{}
	stack := []string{out}
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[name] {
			continue
		}
		seen[name] = true
		n := producer[name]
		switch {
		case n != nil:
			stack = append(stack, n.Reads()...)
		case !defined[name] && name == out:
			return nil, fmt.Errorf("autodiff: graph output %q is never computed", out)
		case !defined[name]:
			return nil, fmt.Errorf("autodiff: %q is read but no node, input or initializer defines it", name)
		}
	}
	return seen, nil
}
