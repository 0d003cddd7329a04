package autodiff

import (
	"math"
	"math/rand/v2"

	"github.com/lethe-ml/lethe/onnxio"
)

// Fresh initialisation for retraining from scratch, following PyTorch's
// defaults for the layer each parameter belongs to:
//
//	Linear/Conv weights   U(−1/√fan_in, 1/√fan_in)  (kaiming_uniform with a = √5)
//	their biases          U(−1/√fan_in, 1/√fan_in)  with the weight's fan_in
//	normalisation scales  1, normalisation biases 0
//
// A parameter used by none of these layers gets U(−1/√f, 1/√f) with f the
// product of its trailing dimensions (its own fan-in if it were a weight).
type initRule struct {
	constant float64 // used when bound == 0
	bound    float64
}

// initRules derives each parameter's rule from the node that consumes it.
func initRules(g *onnxio.Graph, params []onnxio.Param) []initRule {
	shapes := map[string][]int64{}
	for _, t := range g.Initializers {
		shapes[t.Name] = t.Dims
	}
	// Follow Identity nodes so tied initializers resolve to their source.
	alias := map[string]string{}
	for _, n := range g.Nodes {
		if n.OpType == "Identity" && len(n.Inputs) == 1 && len(n.Outputs) == 1 {
			alias[n.Outputs[0]] = n.Inputs[0]
		}
	}
	source := func(name string) string {
		for i := 0; i < len(alias); i++ {
			s, ok := alias[name]
			if !ok {
				break
			}
			name = s
		}
		return name
	}
	producer := map[string]onnxio.Node{}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			producer[o] = n
		}
	}
	fanIn := func(weight []int64, transposed bool) float64 {
		switch {
		case len(weight) == 2 && transposed:
			return float64(weight[1])
		case len(weight) == 2:
			return float64(weight[0])
		case len(weight) > 2: // conv [M, C/g, k...]
			f := int64(1)
			for _, d := range weight[1:] {
				f *= d
			}
			return float64(f)
		}
		return 0
	}
	rules := make([]initRule, len(params))
	for i, p := range params {
		f := 1.0
		for _, d := range p.Shape[min(1, len(p.Shape)):] {
			f *= float64(d)
		}
		rules[i] = initRule{bound: 1 / math.Sqrt(f)}
	find:
		for _, n := range g.Nodes {
			for pos, in := range n.Inputs {
				if in == "" || source(in) != p.Name {
					continue
				}
				weightFan := func(w string, transposed bool) {
					if f := fanIn(shapes[source(w)], transposed); f > 0 {
						rules[i] = initRule{bound: 1 / math.Sqrt(f)}
					}
				}
				switch {
				case n.OpType == "Gemm" && pos == 1:
					weightFan(in, n.AttrInt("transB", 0) != 0)
				case n.OpType == "Gemm" && pos == 2:
					weightFan(n.Inputs[1], n.AttrInt("transB", 0) != 0)
				case (n.OpType == "MatMul" || n.OpType == "Conv") && pos == 1:
					weightFan(in, false)
				case n.OpType == "Conv" && pos == 2:
					weightFan(n.Inputs[1], false)
				case n.OpType == "Add":
					// A bias added to a MatMul output takes the matrix's fan-in.
					if mm, ok := producer[n.Inputs[1-pos]]; ok && mm.OpType == "MatMul" && len(mm.Inputs) == 2 {
						weightFan(mm.Inputs[1], false)
					}
				case (n.OpType == "BatchNormalization" || n.OpType == "LayerNormalization") && pos == 1:
					rules[i] = initRule{constant: 1}
				case (n.OpType == "BatchNormalization" || n.OpType == "LayerNormalization") && pos == 2:
					rules[i] = initRule{constant: 0}
				default:
					continue
				}
				break find
			}
		}
	}
	return rules
}

// FreshParams returns a new parameter vector drawn with PyTorch's default
// initialisers for each parameter's layer, from rng.
func (p *Program) FreshParams(rng *rand.Rand) []float64 {
	w := make([]float64, p.dim)
	for i, q := range p.params {
		r := p.inits[i]
		dst := w[q.Offset : q.Offset+q.Size]
		for j := range dst {
			if r.bound == 0 {
				dst[j] = r.constant
			} else {
				dst[j] = (2*rng.Float64() - 1) * r.bound
			}
		}
	}
	return w
}
