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

// TestKFACPreconditioner checks the Kronecker-factored preconditioner of a
// linear head against a dense computation: for a Gemm head with W stored
// either way (transB 0 or 1), applying it to a vector equals solving
// (A ⊗ B + μI)x = r with A and B computed by brute force and the
// parameters laid out as the model stores them.
func TestKFACPreconditioner(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	// 40 samples: one sum; 2·kfacChunk + 5: two halves summed at once.
	for _, n := range []int{40, 2*kfacChunk + 5} {
		testKFAC(t, rng, n)
	}
}

func testKFAC(t *testing.T, rng *rand.Rand, n int) {
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
		precond, err := kfacPreconditioner(context.Background(), h, hs, w)
		if err != nil {
			t.Fatal(err)
		}
		// Brute force: A and B, then the dense Kronecker matrix in the
		// model's layout.
		a := mat.NewDense(k, k, nil)
		b := mat.NewDense(d+1, d+1, nil)
		for i := 0; i < n; i++ {
			phi := append(float64s(x[i*d:(i+1)*d]), 1)
			z := make([]float64, k)
			for c := 0; c < k; c++ {
				z[c] = float64(bv[c])
				for j := 0; j < d; j++ {
					wcj := w[h.at(c, j)]
					z[c] += wcj * phi[j]
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
			for c := range p {
				p[c] /= s
			}
			for r := 0; r < k; r++ {
				for c := 0; c < k; c++ {
					v := -p[r] * p[c]
					if r == c {
						v += p[r]
					}
					a.Set(r, c, a.At(r, c)+v/float64(n))
				}
			}
			for r := 0; r <= d; r++ {
				for c := 0; c <= d; c++ {
					b.Set(r, c, b.At(r, c)+phi[r]*phi[c]/float64(n))
				}
			}
		}
		size := k * (d + 1)
		dense := mat.NewDense(size, size, nil)
		for r1 := 0; r1 < k; r1++ {
			for j1 := 0; j1 <= d; j1++ {
				for r2 := 0; r2 < k; r2++ {
					for j2 := 0; j2 <= d; j2++ {
						v := a.At(r1, r2) * b.At(j1, j2)
						if r1 == r2 && j1 == j2 {
							v += mu
						}
						dense.Set(h.at(r1, j1), h.at(r2, j2), v)
					}
				}
			}
		}
		r := make([]float64, size)
		for i := range r {
			r[i] = rng.NormFloat64()
		}
		got := make([]float64, size)
		if err := precond(got, r); err != nil {
			t.Fatal(err)
		}
		var want mat.VecDense
		if err := want.SolveVec(dense, mat.NewVecDense(size, r)); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			// The preconditioner's A comes from SoftmaxHead's float32
			// probabilities (relative 6e-8), the test's from float64
			// logits; through a matrix of condition
			// number below 1e3 they agree to about 1e-8 relative.
			if math.Abs(got[i]-want.AtVec(i)) > 1e-6*math.Max(1, math.Abs(want.AtVec(i))) {
				t.Fatalf("transB %d: element %d: preconditioner %.12g, dense solve %.12g", transB, i, got[i], want.AtVec(i))
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
