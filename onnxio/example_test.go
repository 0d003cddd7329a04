package onnxio_test

import (
	"fmt"
	"log"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

func ExampleLoad() {
	m, err := onnxio.Load(testenv.Testdata("models/mlp.onnx"))
	if err != nil {
		log.Fatal(err)
	}
	g := m.Graph()
	fmt.Println("IR", m.IRVersion(), "opset", m.Opset(""))
	for _, in := range g.DataInputs() {
		fmt.Println("input", in.Name, in.ElemType, in.Shape)
	}
	fmt.Println(len(g.Nodes), "nodes, first", g.Nodes[0].OpType, "transB =", g.Nodes[0].AttrInt("transB", 0))
	// Output:
	// IR 7 opset 13
	// input x float32 [N 784]
	// 5 nodes, first Gemm transB = 1
}

func ExampleModel_Params() {
	m, err := onnxio.Decode(onnxtest.MLP(1, onnxtest.Raw, 4, 3, 2).Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ps, err := m.Params(onnxio.ParamOptions{Freeze: []string{"fc1.*"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range ps {
		fmt.Println(p.Name, p.Shape, p.Offset, p.Size)
	}
	w, _ := m.ParamVector(ps)
	for i := range w {
		w[i] = 0
	}
	if err := m.SetParamVector(ps, w); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Graph().Initializer("fc2.bias").Float32)
	// Output:
	// fc2.weight [2 3] 0 6
	// fc2.bias [2] 6 2
	// [0 0]
}
