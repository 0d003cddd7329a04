package lethe

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// TestClassBlockPreconditioner checks the class-block preconditioner of a
// linear head against a dense computation: for a Gemm head with W stored
// either way (transB 0 or 1), applying it to a vector equals
// (Q·B⁻¹·Q + Π/μ)·r with the blocks B_a computed by brute force over every
// k-th row, Π the class-mean projection and the parameters laid out as the
// model stores them.
func TestClassBlockPreconditioner(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	// 40 rows: all of them; 2·classBlockRows + 5: every third row.
	for _, n := range []int{40, 2*classBlockRows + 5} {
		testClassBlock(t, rng, n)
	}
}

func testClassBlock(t *testing.T, rng *rand.Rand, n int) {
	const d, k, mu = 3, 4, 0.05
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	feats, err := dataset.FromArrays(x, []int{d}, make([]int64, n))
	if err != nil {
		t.Fatal(err)
	}
	for _, transB := range []int64{0, 1} {
		wDims := []int64{d, k}
		if transB == 1 {
			wDims = []int64{k, d}
		}
		wv := make([]float32, d*k)
		for i := range wv {
			wv[i] = float32(rng.NormFloat64())
		}
		bv := []float32{0.1, -0.2, 0.3, 0}
		raw := onnxtest.New(8, 13).Input("f", onnxio.Float, -1, d).Output("z", onnxio.Float, -1, k).
			Float("W", wDims, wv, onnxtest.Raw).Float("b", []int64{k}, bv, onnxtest.Raw).
			Node("Gemm", []string{"f", "W", "b"}, []string{"z"}, onnxtest.Int("transB", transB)).Bytes()
		m, err := onnxio.Decode(raw, onnxio.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		proof, err := autodiff.ProveAffine(m, []string{"W", "b"}, autodiff.CrossEntropy)
		if err != nil {
			t.Fatal(err)
		}
		cert, _, err := splitParams(m, proof.Params)
		if err != nil {
			t.Fatal(err)
		}
		h, ok := findLinearHead(m, proof, cert, autodiff.CrossEntropy, feats)
		if !ok || h.k != k || h.d != d || h.transB != (transB == 1) {
			t.Fatalf("transB %d: head %+v, ok %v", transB, h, ok)
		}
		w, err := m.ParamVector(cert)
		if err != nil {
			t.Fatal(err)
		}
		hs := &autodiff.SoftmaxHead{Features: x, Labels: make([]int64, n), K: k, D: d, L2: mu, Position: h.at}
		precond, err := classBlockPreconditioner(context.Background(), h, hs, w)
		if err != nil {
			t.Fatal(err)
		}
		// Brute force, indexed (class, feature): the blocks over every
		// stride-th row, then Q·B⁻¹·Q + Π/μ as a dense matrix.
		d1, size := d+1, k*(d+1)
		stride := (n + classBlockRows - 1) / classBlockRows
		blocks := mat.NewDense(size, size, nil)
		var rows int
		for i := 0; i < n; i += stride {
			rows++
		}
		for i := 0; i < n; i += stride {
			phi := append(float64s(x[i*d:(i+1)*d]), 1)
			z := make([]float64, k)
			for c := 0; c < k; c++ {
				z[c] = float64(bv[c])
				for j := 0; j < d; j++ {
					z[c] += w[h.at(c, j)] * phi[j]
				}
			}
			mx := z[0]
			for _, v := range z {
				mx = math.Max(mx, v)
			}
			var s float64
			p := make([]float64, k)
			for c := range z {
				p[c] = math.Exp(z[c] - mx)
				s += p[c]
			}
			for c := 0; c < k; c++ {
				wc := p[c] / s * (1 - p[c]/s) / float64(rows)
				for r := 0; r < d1; r++ {
					for q := 0; q < d1; q++ {
						blocks.Set(c*d1+r, c*d1+q, blocks.At(c*d1+r, c*d1+q)+wc*phi[r]*phi[q])
					}
				}
			}
		}
		for i := 0; i < size; i++ {
			blocks.Set(i, i, blocks.At(i, i)+mu)
		}
		var binv mat.Dense
		if err := binv.Inverse(blocks); err != nil {
			t.Fatal(err)
		}
		pi, q := mat.NewDense(size, size, nil), mat.NewDense(size, size, nil)
		for a := 0; a < k; a++ {
			for c := 0; c < k; c++ {
				for j := 0; j < d1; j++ {
					pi.Set(a*d1+j, c*d1+j, 1/float64(k))
				}
			}
		}
		for i := 0; i < size; i++ {
			for j := 0; j < size; j++ {
				v := -pi.At(i, j)
				if i == j {
					v++
				}
				q.Set(i, j, v)
			}
		}
		var dense mat.Dense
		dense.Product(q, &binv, q)
		pi.Scale(1/mu, pi)
		dense.Add(&dense, pi)
		r := make([]float64, size)
		for i := range r {
			r[i] = rng.NormFloat64()
		}
		got := make([]float64, size)
		if err := precond(got, r); err != nil {
			t.Fatal(err)
		}
		ri := make([]float64, size) // r indexed (class, feature)
		for a := 0; a < k; a++ {
			for j := 0; j < d1; j++ {
				ri[a*d1+j] = r[h.at(a, j)]
			}
		}
		var want mat.VecDense
		want.MulVec(&dense, mat.NewVecDense(size, ri))
		for a := 0; a < k; a++ {
			for j := 0; j < d1; j++ {
				// The blocks are summed in float32 from float32
				// probabilities; the test's in float64.
				g, wv := got[h.at(a, j)], want.AtVec(a*d1+j)
				if math.Abs(g-wv) > 1e-4*math.Max(1, math.Abs(wv)) {
					t.Fatalf("n %d, transB %d: class %d, feature %d: preconditioner %.8g, dense %.8g", n, transB, a, j, g, wv)
				}
			}
		}
	}
}

func float64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
