package unlearn

import (
	"context"
	"math"
	"testing"
)

// Benchmarks on the convex acceptance problem (2,000 samples, P = 105):
// one solve of (H + λI)u = g at the original optimum. sample-HVPs/op is the
// machine-independent cost (a full-data HVP is 1,980 sample-HVPs).

func benchmarkSolver(b *testing.B, s Solver) {
	cs := newConvexSetup()
	g := make([]float64, len(cs.wStar))
	cs.retained.Eval(context.Background(), cs.wStar, nil, g)
	p := Problem{Obj: cs.retained, W: cs.wStar, HessianNorm: 0.19}
	var st SolveStats
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		if _, st, err = s.Solve(context.Background(), p, g); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.SampleHVPs), "sample-HVPs/op")
	b.ReportMetric(math.Log10(st.RelResidual), "log10-rel-residual")
}

func BenchmarkCG(b *testing.B)    { benchmarkSolver(b, &CG{Tol: 1e-8}) }
func BenchmarkDense(b *testing.B) { benchmarkSolver(b, &Dense{}) }

// BenchmarkLiSSAPaper uses the paper's settings (t = 1000, r = 10, B = 10).
func BenchmarkLiSSAPaper(b *testing.B) { benchmarkSolver(b, &LiSSA{Seed: 1}) }

// BenchmarkLiSSALargeBatch uses the acceptance test's settings.
func BenchmarkLiSSALargeBatch(b *testing.B) {
	benchmarkSolver(b, &LiSSA{Depth: 500, Repetitions: 8, BatchSize: 200, Seed: 1})
}

func BenchmarkLanczos(b *testing.B) {
	cs := newConvexSetup()
	for i := 0; i < b.N; i++ {
		if _, err := Lanczos(context.Background(), cs.retained, cs.wStar, SpectralOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
