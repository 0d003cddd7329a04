package onnxio

import (
	"fmt"
	"path"
	"slices"
)

// ParamOptions configures Params. The zero value selects every trainable
// initializer.
type ParamOptions struct {
	// Freeze lists path.Match patterns; initializers whose names match any of
	// them are not parameters. A pattern that matches no initializer at all
	// is an error (it is almost certainly a typo).
	Freeze []string
}

// Param is one trainable initializer's slice of the flat parameter vector:
// elements Offset to Offset+Size, row-major in Shape.
type Param struct {
	Name   string
	Shape  []int64
	Offset int
	Size   int
	Type   DataType // Float or Double
}

// Params returns the trainable parameters in DESIGN.md §2 order: the
// floating-point initializers of the main graph in graph.initializer order,
// each flattened row-major, except
//
//   - initializers whose names match a Freeze pattern;
//   - integer, bool and other non-float initializers;
//   - initializers nothing differentiable uses: those no node consumes and
//     that are not graph outputs (dead weights with zero gradient, which would
//     only make the Hessian singular), and those used only at structural input
//     positions (shapes, axes, indices, Pow exponents, Clip bounds, Pad pads
//     and value, BatchNormalization running mean and variance; see
//     structuralInputs). Uses are followed through Identity nodes, so an
//     initializer copied by Identity counts where the copy is used.
//
// A name used by a subgraph (If, Loop, Scan bodies) from the enclosing scope
// counts as a differentiable use, whatever the subgraph does with it, and so
// does an initializer that is itself a graph output. A float16 or bfloat16
// initializer that would be a parameter is an error: lethe trains float32 and
// float64 only, so such an initializer must be frozen.
func (m *Model) Params(opts ParamOptions) ([]Param, error) {
	for _, p := range opts.Freeze {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("onnxio: freeze pattern %q: %w", p, err)
		}
	}
	g := m.Graph()
	used := differentiableUses(g)
	matched := make([]bool, len(opts.Freeze))
	var ps []Param
	off := 0
	for _, t := range g.Initializers {
		frozen := false
		for i, p := range opts.Freeze {
			if ok, _ := path.Match(p, t.Name); ok {
				matched[i], frozen = true, true
			}
		}
		if frozen || !t.Type.IsFloat() || !used[t.Name] {
			continue
		}
		if t.Type != Float && t.Type != Double {
			return nil, fmt.Errorf("onnxio: initializer %q is %s; lethe trains float32 and float64 parameters only (freeze it)", t.Name, t.Type)
		}
		n := t.NumElements()
		ps = append(ps, Param{Name: t.Name, Shape: slices.Clone(t.Dims), Offset: off, Size: n, Type: t.Type})
		off += n
	}
	for i, ok := range matched {
		if !ok {
			return nil, fmt.Errorf("onnxio: freeze pattern %q matches no initializer", opts.Freeze[i])
		}
	}
	return ps, nil
}

// differentiableUses returns the names g uses at a differentiable position.
// Uses are followed through Identity nodes: the input of an Identity counts
// as used wherever its output is.
func differentiableUses(g *Graph) map[string]bool {
	used := map[string]bool{}
	for _, o := range g.Outputs {
		used[o.Name] = true
	}
	var identities []Node
	for _, n := range g.Nodes {
		if n.OpType == "Identity" && (n.Domain == "" || n.Domain == "ai.onnx") && len(n.Inputs) == 1 && len(n.Outputs) == 1 {
			identities = append(identities, n)
			continue
		}
		for i, in := range n.Inputs {
			if in != "" && !isStructural(n, i) {
				used[in] = true
			}
		}
		for _, sg := range subgraphs(n) {
			for name := range freeNames(sg) {
				used[name] = true
			}
		}
	}
	for changed := true; changed; { // a fixed point, so node order does not matter
		changed = false
		for _, n := range identities {
			if used[n.Outputs[0]] && !used[n.Inputs[0]] {
				used[n.Inputs[0]], changed = true, true
			}
		}
	}
	return used
}

// subgraphs returns the graph-valued attributes of n in a fixed order.
func subgraphs(n Node) []*Graph {
	names := make([]string, 0, len(n.Attrs))
	for name := range n.Attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []*Graph
	for _, name := range names {
		a := n.Attrs[name]
		if a.G != nil {
			out = append(out, a.G)
		}
		out = append(out, a.Graphs...)
	}
	return out
}

// freeNames returns the names g uses (as node inputs or graph outputs, also in
// nested subgraphs) without defining them itself: its outer-scope references.
func freeNames(g *Graph) map[string]bool {
	local := map[string]bool{"": true}
	for _, v := range g.Inputs {
		local[v.Name] = true
	}
	for _, t := range g.Initializers {
		local[t.Name] = true
	}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			local[o] = true
		}
	}
	free := map[string]bool{}
	use := func(name string) {
		if !local[name] {
			free[name] = true
		}
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			use(in)
		}
		for _, sg := range subgraphs(n) {
			for name := range freeNames(sg) {
				use(name)
			}
		}
	}
	for _, o := range g.Outputs {
		use(o.Name)
	}
	return free
}

// checkParams verifies that ps is a contiguous list as Params returns it and
// returns the total size.
func checkParams(ps []Param) (int, error) {
	total := 0
	for _, p := range ps {
		if p.Offset != total || p.Size < 0 {
			return 0, fmt.Errorf("onnxio: parameter %q has offset %d, want %d: not a parameter list from Params", p.Name, p.Offset, total)
		}
		total += p.Size
	}
	return total, nil
}

// ParamVector returns the current values of ps as one flat float64 vector.
func (m *Model) ParamVector(ps []Param) ([]float64, error) {
	total, err := checkParams(ps)
	if err != nil {
		return nil, err
	}
	g := m.Graph()
	w := make([]float64, 0, total)
	for _, p := range ps {
		t := g.Initializer(p.Name)
		if t == nil || t.Type != p.Type || t.NumElements() != p.Size {
			return nil, fmt.Errorf("onnxio: parameter %q does not match the model's initializer", p.Name)
		}
		if t.Type == Float {
			for _, v := range t.Float32 {
				w = append(w, float64(v))
			}
		} else {
			w = append(w, t.Float64...)
		}
	}
	return w, nil
}

// SetParamVector writes the flat vector w back into the initializers of ps:
// float32 parameters get float32(w[i]) (rounded to nearest), float64
// parameters w[i] exactly. Storage follows SetInitializer.
func (m *Model) SetParamVector(ps []Param, w []float64) error {
	total, err := checkParams(ps)
	if err != nil {
		return err
	}
	if len(w) != total {
		return fmt.Errorf("onnxio: parameter vector has %d values, the parameters need %d", len(w), total)
	}
	for _, p := range ps {
		seg := w[p.Offset : p.Offset+p.Size]
		if p.Type == Float {
			f32 := make([]float32, len(seg))
			for i, v := range seg {
				f32[i] = float32(v)
			}
			err = m.setInitializer(p.Name, Float, f32, nil)
		} else {
			err = m.setInitializer(p.Name, Double, nil, seg)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
