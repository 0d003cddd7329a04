package autodiff_test

import (
	"fmt"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/onnxio"
)

// The head scope: find the last affine layer of a network whose backbone the
// engine cannot run (an LSTM), prove the convex scope for it, and cut the
// model at the feature the proof names into a backbone for onnxruntime and a
// head for the engine.
func ExampleProveAffine() {
	m, err := onnxio.Load("../testdata/models/lstm_head.onnx")
	if err != nil {
		panic(err)
	}
	head, err := autodiff.LastAffineLayer(m, autodiff.CrossEntropy)
	if err != nil {
		panic(err)
	}
	proof, err := autodiff.ProveAffine(m, head, autodiff.CrossEntropy)
	if err != nil {
		panic(err)
	}
	fmt.Println(proof.Params, proof.Size, proof.Ops, proof.Features)
	backbone, err := m.Extract([]string{"x"}, proof.Features)
	if err != nil {
		panic(err)
	}
	headModel, err := m.Extract(proof.Features, []string{proof.Output})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(backbone.Graph().Nodes), "backbone nodes;", len(headModel.Graph().Nodes), "head node")
	fmt.Println(proof)
	// Output:
	// [fc.weight fc.bias] 27 [Gemm] [/Gather_output_0]
	// 16 backbone nodes; 1 head node
	// the xent loss is convex in output logits, which is affine in the 27 certified parameters (fc.weight, fc.bias) given the features (/Gather_output_0): every path from them to the output passes only through Gemm, and no product has two factors that depend on them; so mean loss + (μ/2)‖w‖² is μ-strongly convex in them for every μ > 0
}
