package autodiff

import "github.com/lethe-ml/lethe/onnxio"

// fuseConvRelu fuses every Relu whose input is a Conv's output that nothing
// else reads (no other node, not a graph output) into that Conv: the Conv
// node then writes the Relu's output and its kernel applies the Relu's rules
// where it copies values out and adjoints in (see convKernel). The Relu node
// disappears; the Conv's own output is no longer computed, which no one can
// observe. Results are unchanged: the mask [Y > 0] equals [max(Y, 0) > 0].
func fuseConvRelu(p *graphPlan, graphOutputs []onnxio.ValueInfo) {
	readers := map[string]int{}
	for _, n := range p.nodes {
		for _, in := range n.Inputs {
			readers[in]++
		}
	}
	for _, o := range graphOutputs {
		readers[o.Name]++
	}
	producer := map[string]int{}
	for i, n := range p.nodes {
		if n.OpType == "Conv" && len(n.Outputs) == 1 && n.Outputs[0] != "" {
			producer[n.Outputs[0]] = i
		}
	}
	drop := map[int]bool{}
	for j, n := range p.nodes {
		if n.OpType != "Relu" || len(n.Inputs) != 1 || len(n.Outputs) != 1 {
			continue
		}
		i, ok := producer[n.Inputs[0]]
		if !ok || readers[n.Inputs[0]] != 1 {
			continue
		}
		k32, ok32 := p.kernels[i].k32.(*convKernel[float32])
		k64, ok64 := p.kernels[i].k64.(*convKernel[float64])
		if !ok32 || !ok64 {
			continue
		}
		fused := *p.nodes[i]
		fused.Outputs = n.Outputs
		p.nodes[i] = &fused
		k32.relu, k64.relu = true, true
		drop[j] = true
	}
	if len(drop) == 0 {
		return
	}
	nodes, kernels := p.nodes[:0], p.kernels[:0]
	for i, n := range p.nodes {
		if !drop[i] {
			nodes, kernels = append(nodes, n), append(kernels, p.kernels[i])
		}
	}
	p.nodes, p.kernels = nodes, kernels
}
