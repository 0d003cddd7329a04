package autodiff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"gonum.org/v1/gonum/blas"
)

// benchData returns n random samples of the given shape with labels < classes.
func benchData(n int, shape []int, classes int) *labelled {
	rng := rand.New(rand.NewPCG(3, 4))
	d := &labelled{shape: shape, x: make([]float32, n*numel(shape)), y: make([]int64, n)}
	for i := range d.x {
		d.x[i] = rng.Float32()
	}
	for i := range d.y {
		d.y[i] = int64(rng.IntN(classes))
	}
	return d
}

func benchProgram(b *testing.B, model string) *Program {
	m, err := onnxio.Load(testenv.Testdata("models/" + model + ".onnx"))
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

var benchShapes = map[string][]int{"mlp": {784}, "cnn_bn": {1, 28, 28}}

func BenchmarkForward(b *testing.B) {
	for _, model := range []string{"mlp", "cnn_bn"} {
		b.Run(fmt.Sprintf("%s/batch1024", model), func(b *testing.B) {
			p := benchProgram(b, model)
			d := benchData(1024, benchShapes[model], 10)
			opts := EvalOptions{BatchSize: 1024}
			sink := func(int, []float32, []int) error { return nil }
			for b.Loop() {
				if err := p.Predict(context.Background(), d, nil, opts, sink); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGradient(b *testing.B) {
	for _, c := range []struct {
		model string
		batch int
	}{{"mlp", 10}, {"mlp", 128}, {"cnn_bn", 128}} {
		p := benchProgram(b, c.model)
		d := benchData(c.batch, benchShapes[c.model], 10)
		g := make([]float64, p.Dim())
		v := make([]float64, p.Dim())
		for i := range v {
			v[i] = 1e-3 * float64(i%7)
		}
		opts := EvalOptions{BatchSize: c.batch}
		b.Run(fmt.Sprintf("%s/batch%d/grad", c.model, c.batch), func(b *testing.B) {
			for b.Loop() {
				if _, err := p.Gradient(context.Background(), d, nil, opts, g); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%s/batch%d/hvp", c.model, c.batch), func(b *testing.B) {
			hv := make([]float64, p.Dim())
			for b.Loop() {
				if _, err := p.HVP(context.Background(), d, nil, opts, v, hv, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countingBLAS is a float32 BLAS that counts the floating-point operations
// of the GEMMs it forwards (2·m·n·k each).
type countingBLAS struct {
	blas.Float32
	flops *atomic.Int64
}

func (c countingBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cc []float32, ldc int) {
	c.flops.Add(int64(2 * m * n * k))
	c.Float32.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc)
}

// gemmFlops returns the GEMM operations one call of fn issues.
func gemmFlops(fn func()) float64 {
	var n atomic.Int64
	saved := blas32
	blas32 = countingBLAS{saved, &n}
	defer func() { blas32 = saved }()
	fn()
	return float64(n.Load())
}

// cpuNow is the CPU time (user + system) of the process so far, all threads.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timeFlops runs fn in b.Loop and reports, for flops operations per call,
// GFLOP/s by wall time (the rate a caller sees) and cpu-GFLOP/s by CPU time,
// and the CPU time per call (cpu-ns/op). The machine is shared: CPU time
// excludes the time spent waiting for a core, so on one thread cpu-GFLOP/s
// is the rate the code reaches when it runs.
func timeFlops(b *testing.B, flops float64, fn func()) {
	cpu := cpuNow()
	for b.Loop() {
		fn()
	}
	used := cpuNow() - cpu
	b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GFLOP/s")
	b.ReportMetric(flops*float64(b.N)/max(used.Seconds(), 1e-9)*1e-9, "cpu-GFLOP/s")
}

// BenchmarkKernels measures how close the engine's products come to the
// machine's GEMM peak, all on one thread (each evaluation worker runs
// OpenBLAS single-threaded):
//
//   - sgemm/1024: a 1024³ SGEMM through the engine's BLAS binding, the peak;
//   - sgemm/conv2: one SGEMM of the shape the CNN's second convolution
//     issues for its forward pass, what OpenBLAS reaches on that shape alone;
//   - conv1, conv2: the Fashion-MNIST CNN's convolutions (kernels as compiled,
//     Relu fused in, on the values of a real pass over a chunk of the size
//     full-data passes use), in the work a gradient pass does (forward,
//     weight and input adjoints) and in the work an HVP pass does (tangents
//     too, dead primal adjoints skipped), counting the operations of the
//     GEMMs they issue, 2·N·M·oh·ow·C·kh·kw per product;
//   - pass/grad, pass/hvp: whole batch-128 passes, counting the GEMM
//     operations they issue.
func BenchmarkKernels(b *testing.B) {
	b.Run("sgemm/1024", func(b *testing.B) {
		const n = 1024
		a, x, y := randF32(n*n), randF32(n*n), make([]float32, n*n)
		timeFlops(b, 2*n*n*n, func() { gemm(false, false, n, n, n, 1, a, n, x, n, 0, y, n) })
	})
	p := benchFashion(b)
	c := p.e.(*compiled[float32])
	in, _, err := c.p.dataInput([]int{1, 28, 28}, 1)
	if err != nil {
		b.Fatal(err)
	}
	chunk := min(256, c.chunkCap(in, []int{1, 28, 28}))
	b.Logf("chunk of %d samples", chunk)
	b.Run("sgemm/conv2", func(b *testing.B) {
		// Conv(8→16, 3×3) on 14×14: [16 × 72]·[72 × cols].
		cols := (&convDims{n: chunk, hw: 196}).group() * 196
		a, x, y := randF32(16*72), randF32(72*cols), make([]float32, 16*cols)
		timeFlops(b, 2*16*72*float64(cols), func() { gemm(false, false, 16, cols, 72, 1, a, 72, x, cols, 0, y, cols) })
	})
	d := benchData(chunk, []int{1, 28, 28}, 10)
	for _, hvp := range []bool{false, true} {
		mode := "grad"
		if hvp {
			mode = "hvp"
		}
		convs := 0
		for i, n := range c.p.nodes {
			if n.op != "Conv" {
				continue
			}
			convs++
			b.Run(fmt.Sprintf("conv%d/%s", convs, mode), func(b *testing.B) {
				h := newNodeBench(b, c, d, i, hvp)
				timeFlops(b, h.flops, h.step)
			})
		}
	}
	d = benchData(128, []int{1, 28, 28}, 10)
	opts := EvalOptions{BatchSize: 128, Threads: 1}
	g, v, hv := make([]float64, p.Dim()), randVec(rand.New(rand.NewPCG(1, 2)), p.Dim()), make([]float64, p.Dim())
	for _, mode := range []string{"grad", "hvp"} {
		fn := func() {
			var err error
			if mode == "grad" {
				_, err = p.Gradient(context.Background(), d, nil, opts, g)
			} else {
				_, err = p.HVP(context.Background(), d, nil, opts, v, hv, nil)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		b.Run("pass/"+mode, func(b *testing.B) { timeFlops(b, gemmFlops(fn), fn) })
	}
}

func randF32(n int) []float32 {
	rng := rand.New(rand.NewPCG(7, 8))
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32() - 0.5
	}
	return v
}

// benchFashion compiles the bundled Fashion-MNIST CNN in float32.
func benchFashion(b *testing.B) *Program {
	m, err := onnxio.Load(testenv.RepoRoot() + "/models/fashion_cnn.onnx")
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// nodeBench repeats one node's share of a pass: its forward and backward
// rules on the values of a real pass.
type nodeBench struct {
	step  func()
	flops float64
}

func newNodeBench(b *testing.B, c *compiled[float32], d *labelled, node int, hvp bool) *nodeBench {
	r := c.p.newRun()
	var tangents []*Tensor[float32]
	if hvp {
		tangents = *c.tangentBuffers()
		rng := rand.New(rand.NewPCG(3, 3))
		for _, t := range tangents {
			for j := range t.Data {
				t.Data[j] = float32(rng.NormFloat64())
			}
		}
	}
	in, shape, err := c.p.dataInput(d.shape, d.Len())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.pass(in, d.x, shape, d.y, CrossEntropy, 1/float64(d.Len()), tangents, !hvp); err != nil {
		b.Fatal(err)
	}
	// The node's inputs, output and output adjoint move out of the arena,
	// which every step resets so that steps allocate nothing.
	n := &c.p.nodes[node]
	args := make([]*value[float32], len(n.in))
	need := make([]bool, len(n.in))
	for j, s := range n.in {
		if s >= 0 {
			args[j] = cloneValue(r.vals[s])
			need[j] = c.p.needGrad[s]
		}
	}
	outs := []*value[float32]{cloneValue(r.vals[n.out[0]])}
	gout := []*value[float32]{cloneValue(r.adj[n.out[0]])}
	ctx := &ctx[float32]{r: r, node: node}
	h := &nodeBench{step: func() {
		r.ar.reset()
		if _, err := n.k.forward(ctx, args); err != nil {
			b.Fatal(err)
		}
		if _, err := n.k.backward(ctx, args, outs, gout, need); err != nil {
			b.Fatal(err)
		}
	}}
	h.flops = gemmFlops(h.step)
	return h
}

func cloneValue[T Float](v *value[T]) *value[T] {
	clone := func(t *Tensor[T]) *Tensor[T] {
		if t == nil {
			return nil
		}
		return &Tensor[T]{Shape: t.Shape, Data: append([]T(nil), t.Data...)}
	}
	return &value[T]{f: clone(v.f), i: v.i, dot: clone(v.dot)}
}
