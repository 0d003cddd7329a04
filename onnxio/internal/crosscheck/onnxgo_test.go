package crosscheck_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	onnxgo "github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// conformanceModels lists every model.onnx of the conformance suites lethe
// must read.
func conformanceModels(t *testing.T) []string {
	t.Helper()
	dir := testenv.Conformance(t)
	var files []string
	for _, s := range []string{"node", "pytorch-converted", "pytorch-operator", "simple"} {
		m, err := filepath.Glob(filepath.Join(dir, s, "*", "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		testenv.Missing(t, "ONNX conformance models", fmt.Errorf("no model.onnx under %s", dir))
	}
	return files
}

// goBackend is an onnx-go backend that records what onnx-go decoded: the
// operator of every node in order and the tensor given to every named value.
type goBackend struct {
	*simple.WeightedDirectedGraph
	ops []string
}

type goNode struct {
	id   int64
	name string
	t    tensor.Tensor
}

func (n *goNode) ID() int64                       { return n.id }
func (n *goNode) SetName(s string)                { n.name = s }
func (n *goNode) GetName() string                 { return n.name }
func (n *goNode) SetTensor(t tensor.Tensor) error { n.t = t; return nil }
func (n *goNode) GetTensor() tensor.Tensor        { return n.t }

func (b *goBackend) NewNode() graph.Node {
	return &goNode{id: b.WeightedDirectedGraph.NewNode().ID()}
}

func (b *goBackend) ApplyOperation(op onnxgo.Operation, _ ...graph.Node) error {
	b.ops = append(b.ops, op.Name)
	return nil
}

// decodeOnnxGo decodes data with onnx-go, turning its panics into errors.
func decodeOnnxGo(data []byte) (b *goBackend, m *onnxgo.Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("onnx-go panicked: %v", r)
		}
	}()
	b = &goBackend{WeightedDirectedGraph: simple.NewWeightedDirectedGraph(math.Inf(1), math.Inf(1))}
	m = onnxgo.NewModel(b)
	return b, m, m.UnmarshalBinary(data)
}

// goValues flattens the data of a gorgonia tensor (a slice, or a bare value
// for scalars) to float64.
func goValues(t tensor.Tensor) ([]float64, bool) {
	v := reflect.ValueOf(t.Data())
	if v.Kind() != reflect.Slice {
		s := reflect.MakeSlice(reflect.SliceOf(v.Type()), 1, 1)
		s.Index(0).Set(v)
		v = s
	}
	out := make([]float64, v.Len())
	for i := range out {
		switch e := v.Index(i); e.Kind() {
		case reflect.Float32, reflect.Float64:
			out[i] = e.Float()
		case reflect.Int, reflect.Int32, reflect.Int64:
			out[i] = float64(e.Int())
		default:
			return nil, false
		}
	}
	return out, true
}

// TestOnnxGoAgrees decodes the conformance models with an independent
// decoder, github.com/owulveryck/onnx-go, and checks that wherever it can read
// a model, both agree on the node count, the operator of every node and every
// initializer's values (bit for bit, compared as float64, which float32 and
// int32/int64 values survive exactly).
func TestOnnxGoAgrees(t *testing.T) {
	files := conformanceModels(t)
	readable, initializers := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, gm, err := decodeOnnxGo(data)
		if err != nil {
			continue // onnx-go reads only float/int tensors and graphs with nodes
		}
		readable++
		m, err := onnxio.Load(f)
		if err != nil {
			t.Errorf("%s: onnx-go reads it but onnxio does not: %v", f, err)
			continue
		}
		g := m.Graph()
		if len(b.ops) != len(g.Nodes) {
			t.Errorf("%s: onnx-go sees %d nodes, onnxio %d", f, len(b.ops), len(g.Nodes))
			continue
		}
		for i, n := range g.Nodes {
			if b.ops[i] != n.OpType {
				t.Errorf("%s: node %d is %s for onnx-go, %s for onnxio", f, i, b.ops[i], n.OpType)
			}
		}
		for _, init := range g.Initializers {
			want, err := init.Float64s()
			if err != nil || init.Type == onnxio.Bool { // onnx-go misreads raw bools (8 bytes each)
				continue
			}
			gn, ok := gm.GetNodeByName(init.Name)
			if !ok || gn.(*goNode).t == nil {
				t.Errorf("%s: onnx-go has no initializer %q", f, init.Name)
				continue
			}
			got, ok := goValues(gn.(*goNode).t)
			if !ok || !sameBits(got, want) {
				t.Errorf("%s: initializer %q differs: onnx-go %v, onnxio %v", f, init.Name, got, want)
			}
			initializers++
		}
	}
	t.Logf("onnx-go read %d of %d conformance models; node count, operators and %d initializers agree", readable, len(files), initializers)
	if readable == 0 {
		t.Error("onnx-go read no conformance model")
	}
}

// sameBits reports whether a and b hold the same float64 bit patterns.
func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}
