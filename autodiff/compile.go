package autodiff

import (
	"fmt"

	"github.com/lethe-ml/lethe/onnxio"
)

// program is a compiled graph for one precision. It is immutable after
// compilation except for the parameter values, which SetParams replaces.
type program[T Float] struct {
	nodes        []cnode[T]
	nslots       int
	slotName     []string
	consts       []*value[T] // by slot; nil where not a constant
	inputs       []inputSlot
	outputs      []int
	params       []paramSlot
	values       []*Tensor[T] // current parameter values, by param
	needGrad     []bool       // by slot: the value depends on a trainable parameter
	isParam      []bool       // by slot: a trainable parameter
	primalAdj    []bool       // by slot: an HVP pass needs the primal adjoint (liveness.go)
	lossSlot     int          // the first output, or the logits feeding a final Softmax
	finalSoftmax bool         // the first output is Softmax(lossSlot)
}

type cnode[T Float] struct {
	name, op string
	in, out  []int // slots; -1 for an omitted optional input
	k        kernel[T]
	need     bool // some input needs a gradient
}

type inputSlot struct {
	name  string
	slot  int
	elem  onnxio.DataType
	shape []int64 // -1 for dynamic dimensions
}

type paramSlot struct {
	slot   int
	shape  []int
	offset int
	size   int
}

// graphPlan is the precision-independent result of compiling a graph.
type graphPlan struct {
	nodes     []*onnxio.Node
	kernels   []kernels
	slotOf    map[string]int
	slotName  []string
	inputs    []inputSlot
	outputs   []int
	params    []onnxio.Param
	constants map[int]*onnxio.Tensor
	lossSlot  int
	softmax   bool
}

// plan checks and orders the graph and builds every node's kernels.
func plan(m *onnxio.Model, freeze []string) (*graphPlan, error) {
	g := m.Graph()
	params, err := m.Params(onnxio.ParamOptions{Freeze: freeze})
	if err != nil {
		return nil, fmt.Errorf("autodiff: %w", err)
	}
	p := &graphPlan{slotOf: map[string]int{}, params: params, constants: map[int]*onnxio.Tensor{}}
	slot := func(name string) int {
		if s, ok := p.slotOf[name]; ok {
			return s
		}
		s := len(p.slotName)
		p.slotOf[name] = s
		p.slotName = append(p.slotName, name)
		return s
	}
	isParam := map[string]bool{}
	for _, q := range params {
		isParam[q.Name] = true
	}
	for _, t := range g.Initializers {
		s := slot(t.Name)
		if !isParam[t.Name] {
			p.constants[s] = t
		}
	}
	for _, in := range g.DataInputs() {
		if in.Kind != onnxio.KindTensor && in.Kind != onnxio.KindUnknown {
			return nil, &UnsupportedInputError{Input: in.Name, Type: in.Kind.String()}
		}
		if in.Kind == onnxio.KindTensor && !castable(in.ElemType) {
			return nil, &UnsupportedInputError{Input: in.Name, Type: in.ElemType.String()}
		}
		shape := make([]int64, len(in.Shape))
		for i, d := range in.Shape {
			shape[i] = d.Value
			if d.Param != "" || d.Value <= 0 {
				shape[i] = -1
			}
		}
		p.inputs = append(p.inputs, inputSlot{name: in.Name, slot: slot(in.Name), elem: in.ElemType, shape: shape})
	}
	order, err := topoOrder(g)
	if err != nil {
		return nil, err
	}
	constNode := map[string]*onnxio.Tensor{}
	for _, n := range order {
		if n.OpType == "Constant" && len(n.Outputs) == 1 {
			if t, err := constantAttr(n); err == nil {
				constNode[n.Outputs[0]] = t
			}
		}
	}
	for _, n := range order {
		b, ok := registry[n.OpType]
		opset := m.Opset(n.Domain)
		if !ok || (n.Domain != "" && n.Domain != "ai.onnx") {
			return nil, &UnsupportedOpError{Op: n.OpType, Domain: n.Domain, Node: n.Name, Opset: opset}
		}
		info := &nodeInfo{Node: n, opset: opset, constant: func(i int) *onnxio.Tensor {
			if i >= len(n.Inputs) || n.Inputs[i] == "" {
				return nil
			}
			name := n.Inputs[i]
			if t, ok := constNode[name]; ok {
				return t
			}
			if s, ok := p.slotOf[name]; ok {
				return p.constants[s]
			}
			return nil
		}}
		k, err := b(info)
		if err != nil {
			return nil, wrapUnsupported(n, opset, err)
		}
		for _, in := range n.Inputs {
			if in != "" {
				if _, ok := p.slotOf[in]; !ok {
					return nil, fmt.Errorf("autodiff: node %q (%s) reads %q, which no node, input or initializer defines", n.Name, n.OpType, in)
				}
			}
		}
		for _, out := range n.Outputs {
			if out != "" {
				slot(out)
			}
		}
		p.nodes = append(p.nodes, n)
		p.kernels = append(p.kernels, k)
	}
	if len(g.Outputs) == 0 {
		return nil, fmt.Errorf("autodiff: graph has no outputs")
	}
	fuseConvRelu(p, g.Outputs)
	for _, o := range g.Outputs {
		s, ok := p.slotOf[o.Name]
		if !ok {
			return nil, fmt.Errorf("autodiff: graph output %q is never computed", o.Name)
		}
		p.outputs = append(p.outputs, s)
	}
	p.lossSlot = p.outputs[0]
	for _, n := range p.nodes {
		if len(n.Outputs) > 0 && n.Outputs[0] == g.Outputs[0].Name && n.OpType == "Softmax" {
			p.lossSlot, p.softmax = p.slotOf[n.Inputs[0]], true
		}
	}
	return p, nil
}

func wrapUnsupported(n *onnxio.Node, opset int64, err error) error {
	if _, ok := err.(*UnsupportedOpError); ok {
		return err
	}
	return &UnsupportedOpError{Op: n.OpType, Domain: n.Domain, Node: n.Name, Opset: opset, Reason: err.Error()}
}

// topoOrder returns the nodes in an order where every input is computed
// before it is read.
func topoOrder(g *onnxio.Graph) ([]*onnxio.Node, error) {
	producer := map[string]int{}
	for i := range g.Nodes {
		for _, o := range g.Nodes[i].Outputs {
			if o != "" {
				if j, dup := producer[o]; dup {
					return nil, fmt.Errorf("autodiff: value %q is produced by both node %q and node %q", o, g.Nodes[j].Name, g.Nodes[i].Name)
				}
				producer[o] = i
			}
		}
	}
	state := make([]byte, len(g.Nodes)) // 0 new, 1 visiting, 2 done
	order := make([]*onnxio.Node, 0, len(g.Nodes))
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("autodiff: graph has a cycle through node %q", g.Nodes[i].Name)
		case 2:
			return nil
		}
		state[i] = 1
		for _, in := range g.Nodes[i].Inputs {
			if j, ok := producer[in]; ok && in != "" {
				if err := visit(j); err != nil {
					return err
				}
			}
		}
		state[i] = 2
		order = append(order, &g.Nodes[i])
		return nil
	}
	for i := range g.Nodes {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// instantiate builds the program for precision T from a plan.
func instantiate[T Float](p *graphPlan, pick func(kernels) kernel[T]) (*program[T], error) {
	prog := &program[T]{
		nslots:       len(p.slotName),
		slotName:     p.slotName,
		consts:       make([]*value[T], len(p.slotName)),
		inputs:       p.inputs,
		outputs:      p.outputs,
		needGrad:     make([]bool, len(p.slotName)),
		isParam:      make([]bool, len(p.slotName)),
		lossSlot:     p.lossSlot,
		finalSoftmax: p.softmax,
	}
	for s, t := range p.constants {
		v, err := valueOf[T](t)
		if err != nil {
			return nil, fmt.Errorf("autodiff: initializer %q: %w", t.Name, err)
		}
		prog.consts[s] = v
	}
	for _, q := range p.params {
		s := p.slotOf[q.Name]
		shape := make([]int, len(q.Shape))
		for i, d := range q.Shape {
			shape[i] = int(d)
		}
		prog.params = append(prog.params, paramSlot{slot: s, shape: shape, offset: q.Offset, size: q.Size})
		prog.values = append(prog.values, &Tensor[T]{Shape: shape, Data: make([]T, q.Size)})
		prog.needGrad[s] = true
		prog.isParam[s] = true
	}
	for i, n := range p.nodes {
		c := cnode[T]{name: n.Name, op: n.OpType, k: pick(p.kernels[i])}
		for _, in := range n.Inputs {
			s := -1
			if in != "" {
				s = p.slotOf[in]
				c.need = c.need || prog.needGrad[s]
			}
			c.in = append(c.in, s)
		}
		for _, out := range n.Outputs {
			s := -1
			if out != "" {
				s = p.slotOf[out]
				prog.needGrad[s] = c.need
			}
			c.out = append(c.out, s)
		}
		prog.nodes = append(prog.nodes, c)
	}
	prog.primalAdj = primalAdjoints(prog)
	return prog, nil
}

// valueOf converts an ONNX tensor into an engine value: floating-point types
// become T, integer and boolean types int64.
func valueOf[T Float](t *onnxio.Tensor) (*value[T], error) {
	shape, err := intsToShape(t.Dims)
	if err != nil {
		return nil, err
	}
	switch t.Type {
	case onnxio.Float, onnxio.Double, onnxio.Float16, onnxio.BFloat16:
		f, err := t.Float64s()
		if err != nil {
			return nil, err
		}
		data := make([]T, len(f))
		for i, x := range f {
			data[i] = T(x)
		}
		return floatVal(&Tensor[T]{Shape: shape, Data: data}, nil), nil
	case onnxio.Int8, onnxio.Int16, onnxio.Int32, onnxio.Int64, onnxio.Uint8, onnxio.Uint16, onnxio.Uint32, onnxio.Bool:
		return intVal[T](&Tensor[int64]{Shape: shape, Data: append([]int64(nil), t.Int64...)}), nil
	}
	return nil, fmt.Errorf("element type %v is not supported", t.Type)
}

// constantAttr returns the tensor a Constant node produces.
func constantAttr(n *onnxio.Node) (*onnxio.Tensor, error) {
	for name, a := range n.Attrs {
		switch name {
		case "value":
			return a.T, nil
		case "value_float":
			return &onnxio.Tensor{Type: onnxio.Float, Float32: []float32{a.F}}, nil
		case "value_floats":
			return &onnxio.Tensor{Type: onnxio.Float, Dims: []int64{int64(len(a.Floats))}, Float32: a.Floats}, nil
		case "value_int":
			return &onnxio.Tensor{Type: onnxio.Int64, Int64: []int64{a.I}}, nil
		case "value_ints":
			return &onnxio.Tensor{Type: onnxio.Int64, Dims: []int64{int64(len(a.Ints))}, Int64: a.Ints}, nil
		}
	}
	return nil, fmt.Errorf("a Constant node has no supported value attribute")
}
