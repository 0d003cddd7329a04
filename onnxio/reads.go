package onnxio

import (
	"maps"
	"slices"
)

// Reads returns every name n reads when it runs: its inputs in order
// (omitted optional inputs left out), then the outer-scope names its
// subgraphs (If, Loop, Scan bodies) use, sorted; each name once. A pass that
// follows data flow through a graph must use Reads rather than Inputs, or a
// value that reaches a node only inside a subgraph goes unseen.
func (n Node) Reads() []string {
	seen := map[string]bool{"": true}
	var out []string
	for _, in := range n.Inputs {
		if !seen[in] {
			seen[in] = true
			out = append(out, in)
		}
	}
	free := map[string]bool{}
	for _, sg := range subgraphs(n) {
		maps.Copy(free, freeNames(sg))
	}
	for _, name := range slices.Sorted(maps.Keys(free)) {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}
