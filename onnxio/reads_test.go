package onnxio_test

import (
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// TestNodeReads: inputs in order, each once, without omitted ones, then the
// outer-scope names of the subgraphs (nested ones too), sorted; names a
// subgraph defines itself are not reads.
func TestNodeReads(t *testing.T) {
	inner := onnxtest.New(8, 13).Node("Add", []string{"deep", "local"}, []string{"r"}).Output("r", onnxio.Float, 1)
	then := onnxtest.New(8, 13).
		Float("local", []int64{1}, []float32{1}, onnxtest.Raw).
		Node("Mul", []string{"outer_b", "local"}, []string{"m"}).
		Node("If", []string{"cond"}, []string{"t"}, onnxtest.Graph("then_branch", inner), onnxtest.Graph("else_branch", inner)).
		Output("t", onnxio.Float, 1)
	els := onnxtest.New(8, 13).Node("Identity", []string{"outer_a"}, []string{"e"}).Output("e", onnxio.Float, 1)
	b := onnxtest.New(8, 13).Input("cond", onnxio.Bool).
		Node("If", []string{"cond"}, []string{"y"}, onnxtest.Graph("then_branch", then), onnxtest.Graph("else_branch", els)).
		Node("Clip", []string{"y", "", "cond", "y"}, []string{"z"}).
		Output("z", onnxio.Float, 1)
	m, err := onnxio.Decode(b.Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nodes := m.Graph().Nodes
	// "local" is defined in the then branch, so the nested If's use of it is
	// not a read of the outer node; "deep" is.
	if got, want := nodes[0].Reads(), []string{"cond", "deep", "outer_a", "outer_b"}; !slices.Equal(got, want) {
		t.Errorf("If reads %q, want %q", got, want)
	}
	if got, want := nodes[1].Reads(), []string{"y", "cond"}; !slices.Equal(got, want) {
		t.Errorf("Clip reads %q, want %q", got, want)
	}
}
