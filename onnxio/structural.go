package onnxio

import "strings"

// allInputs marks an operator none of whose inputs is differentiable.
const allInputs = -1

// structuralInputs lists, for operators of the default ONNX domain, the input
// positions that carry no gradient: shapes, axes, indices, counts, exponents,
// bounds and running statistics. An initializer used only at such positions
// is not a trainable parameter (DESIGN.md §2). Positions that do not exist in
// an operator's older opset versions simply never occur.
var structuralInputs = map[string][]int{
	"BatchNormalization": {3, 4}, // running mean, running variance
	"Clip":               {1, 2}, // min, max
	"Compress":           {1},    // condition
	"ConstantOfShape":    {0},    // shape
	"CumSum":             {1},    // axis
	"Dropout":            {1, 2}, // ratio, training_mode
	"Expand":             {1},    // shape
	"Gather":             {1},    // indices
	"GatherElements":     {1},    // indices
	"GatherND":           {1},    // indices
	"OneHot":             {allInputs},
	"Pad":                {1, 2, 3}, // pads, constant_value, axes
	"Pow":                {1},       // exponent
	"Range":              {allInputs},
	"Reshape":            {1},       // shape
	"Resize":             {1, 2, 3}, // roi, scales, sizes
	"ScatterElements":    {1},       // indices
	"ScatterND":          {1},       // indices
	"Shape":              {allInputs},
	"Size":               {allInputs},
	"Slice":              {1, 2, 3, 4}, // starts, ends, axes, steps
	"Split":              {1},          // split sizes
	"Squeeze":            {1},          // axes
	"Tile":               {1},          // repeats
	"TopK":               {1},          // k
	"Trilu":              {1},          // k
	"Unsqueeze":          {1},          // axes
	"Upsample":           {1},          // scales
	"Where":              {0},          // condition
}

// isStructural reports whether input position i of n carries no gradient.
// Reduce* operators take their axes as input 1 (opset 13 for ReduceSum, 18
// for the others).
func isStructural(n Node, i int) bool {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return false
	}
	if strings.HasPrefix(n.OpType, "Reduce") {
		return i == 1
	}
	for _, p := range structuralInputs[n.OpType] {
		if p == allInputs || p == i {
			return true
		}
	}
	return false
}
