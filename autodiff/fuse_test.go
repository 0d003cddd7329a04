package autodiff

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// TestFusionChangesNothing compiles CNNs whose Conv → Relu pairs fuse, and
// the same graphs with every intermediate value also a graph
// output, which keeps every node apart, and checks that the loss, gradient
// and HVP agree bit for bit: the fused kernels compute the same values by the
// same operations. Batches of 37 make uneven chunks and column blocks.
func TestFusionChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		path   string
		sample []int
		fused  int // nodes the fused program has fewer
	}{
		{testenv.RepoRoot() + "/models/fashion_cnn.onnx", []int{1, 28, 28}, 2},
		{testenv.Testdata("models/cnn_folded.onnx"), []int{1, 28, 28}, 2},
		{testenv.Testdata("models/cnn_bn.onnx"), []int{1, 28, 28}, 2},
		{testenv.Testdata("models/resblock.onnx"), nil, 2},
	} {
		m, err := onnxio.Load(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		apart, err := onnxio.Load(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		g := apart.Graph()
		for _, n := range g.Nodes {
			if n.OpType == "Conv" || n.OpType == "Relu" {
				g.Outputs = append(g.Outputs, onnxio.ValueInfo{Name: n.Outputs[0]})
			}
		}
		sample := tc.sample
		if sample == nil {
			sample = shapeOf(t, m)
		}
		d := benchData(37, sample, 10)
		for _, prec := range []Precision{Float32, Float64} {
			pf, err := Compile(m, Options{Precision: prec})
			if err != nil {
				t.Fatal(err)
			}
			pa, err := Compile(apart, Options{Precision: prec})
			if err != nil {
				t.Fatal(err)
			}
			if nf, na := nodeCount(pf), nodeCount(pa); na-nf != tc.fused {
				t.Errorf("%s: %d nodes fused and %d apart, want %d fewer", tc.path, nf, na, tc.fused)
			}
			v := randVec(rand.New(rand.NewPCG(5, 6)), pf.Dim())
			opts := EvalOptions{BatchSize: 37, Threads: 2}
			var res [2][3][]float64
			for i, p := range []*Program{pf, pa} {
				grad, hv := make([]float64, p.Dim()), make([]float64, p.Dim())
				loss, err := p.HVP(context.Background(), d, nil, opts, v, hv, grad)
				if err != nil {
					t.Fatal(err)
				}
				g2 := make([]float64, p.Dim())
				if _, err := p.Gradient(context.Background(), d, nil, opts, g2); err != nil {
					t.Fatal(err)
				}
				res[i] = [3][]float64{{loss}, grad, hv}
				for j := range g2 {
					if g2[j] != grad[j] {
						t.Fatalf("%s %s: gradient[%d] is %g from Gradient and %g from HVP", tc.path, prec, j, g2[j], grad[j])
					}
				}
			}
			for k, name := range []string{"loss", "gradient", "HVP"} {
				for j := range res[0][k] {
					a, b := res[0][k][j], res[1][k][j]
					if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
						t.Errorf("%s %s: %s[%d] is %g fused and %g apart", tc.path, prec, name, j, a, b)
						break
					}
				}
			}
		}
	}
}

func nodeCount(p *Program) int {
	switch e := p.e.(type) {
	case *compiled[float32]:
		return len(e.p.nodes)
	case *compiled[float64]:
		return len(e.p.nodes)
	}
	return 0
}

// shapeOf returns the sample shape of a model's only data input.
func shapeOf(t *testing.T, m *onnxio.Model) []int {
	in := m.Graph().DataInputs()[0]
	s := make([]int, len(in.Shape)-1)
	for i, d := range in.Shape[1:] {
		s[i] = int(d.Value)
	}
	return s
}
