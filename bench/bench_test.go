// Package bench holds lethe's side-by-side benchmarks: the native engine and
// onnxruntime in Go (this file), PyTorch in torch_bench.py, and run.sh, which
// runs both with the same thread count and writes RESULTS.md.
package bench

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// threads is the thread count every engine gets (LETHE_BENCH_THREADS, default 2).
func threads() int {
	if n, err := strconv.Atoi(os.Getenv("LETHE_BENCH_THREADS")); err == nil && n > 0 {
		return n
	}
	return 2
}

// models are the bundled demo models the targets of DESIGN.md §4 name.
var models = []struct {
	name   string
	path   string
	sample []int
}{
	{"mlp", "models/mnist_mlp.onnx", []int{784}},
	{"cnn", "models/fashion_cnn.onnx", []int{1, 28, 28}},
}

// randomData is a fixed random batch of n samples with labels, held in
// memory as a user's arrays would be (dataset.FromArrays), as PyTorch's
// tensors are in torch_bench.py; it also returns the features.
func randomData(b *testing.B, n int, shape []int) (dataset.Source, []float32) {
	rng := rand.New(rand.NewPCG(11, 13))
	ss := 1
	for _, d := range shape {
		ss *= d
	}
	x, y := make([]float32, n*ss), make([]int64, n)
	for i := range x {
		x[i] = rng.Float32()
	}
	for i := range y {
		y[i] = int64(rng.IntN(10))
	}
	d, err := dataset.FromArrays(x, shape, y)
	if err != nil {
		b.Fatal(err)
	}
	return d, x
}

func compile(b *testing.B, path string) (*onnxio.Model, *autodiff.Program) {
	m, err := onnxio.Load(testenv.RepoRoot() + "/" + path)
	if err != nil {
		b.Fatal(err)
	}
	p, err := autodiff.Compile(m, autodiff.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m, p
}

// BenchmarkForward compares the native float32 forward pass with
// onnxruntime's on the same batch of 1024 samples.
func BenchmarkForward(b *testing.B) {
	const batch = 1024
	for _, md := range models {
		_, p := compile(b, md.path)
		d, x := randomData(b, batch, md.sample)
		b.Run(md.name+"/native", func(b *testing.B) {
			opts := autodiff.EvalOptions{BatchSize: batch, Threads: threads()}
			sink := func(int, []float32, []int) error { return nil }
			loop(b, func() error { return p.Predict(context.Background(), d, nil, opts, sink) })
		})
		b.Run(md.name+"/onnxruntime", func(b *testing.B) {
			testenv.Missing(b, "onnxruntime", ort.Init())
			s, err := ort.NewSession(testenv.RepoRoot()+"/"+md.path, ort.Options{IntraOpThreads: threads(), InterOpThreads: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			dims := append([]int64{batch}, toInt64(md.sample)...)
			in := &onnxio.Tensor{Name: s.Inputs()[0].Name, Type: onnxio.Float, Dims: dims, Float32: x}
			loop(b, func() error {
				_, err := s.Run([]*onnxio.Tensor{in})
				return err
			})
		})
	}
}

func toInt64(s []int) []int64 {
	r := make([]int64, len(s))
	for i, v := range s {
		r[i] = int64(v)
	}
	return r
}

// cpuTime is the CPU time (user + system) this process has used so far, on
// all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// warmups is how many untimed calls precede a benchmark's timed ones, as
// torch_bench.py warms up: the first calls of a session or program grow its
// buffers, and a short sample (bench/run.sh takes several) would time them.
const warmups = 3

// loop runs fn warmups times, then in b.Loop, and reports, beside ns/op, the
// CPU time per call (cpu-ns/op, summed over all threads). The machine is
// shared: wall time includes waiting for the cores, CPU time mostly does
// not, so comparisons between builds use both.
func loop(b *testing.B, fn func() error) {
	for range warmups {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	start := cpuTime()
	for b.Loop() {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkGradHVP times the gradient and the exact HVP of the mean
// cross-entropy, the quantities torch_bench.py times in PyTorch.
func BenchmarkGradHVP(b *testing.B) {
	for _, c := range []struct {
		model int
		batch int
	}{{0, 10}, {0, 128}, {1, 128}} {
		md := models[c.model]
		_, p := compile(b, md.path)
		d, _ := randomData(b, c.batch, md.sample)
		opts := autodiff.EvalOptions{BatchSize: c.batch, Threads: threads()}
		gradHVP(b, fmt.Sprintf("%s/batch%d", md.name, c.batch), p, d, nil, opts)
	}
}

// gradHVP runs the gradient and HVP sub-benchmarks of one case; v is fixed,
// N(0, 1).
func gradHVP(b *testing.B, name string, p *autodiff.Program, d autodiff.Data, idx []int, opts autodiff.EvalOptions) {
	g := make([]float64, p.Dim())
	hv := make([]float64, p.Dim())
	v := make([]float64, p.Dim())
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	b.Run(name+"/grad", func(b *testing.B) {
		loop(b, func() error {
			_, err := p.Gradient(context.Background(), d, idx, opts, g)
			return err
		})
	})
	b.Run(name+"/hvp", func(b *testing.B) {
		loop(b, func() error {
			_, err := p.HVP(context.Background(), d, idx, opts, v, hv, nil)
			return err
		})
	})
}

// BenchmarkFullData times the passes a certified update repeats: the loss
// (line searches), the gradient and the exact HVP of the mean cross-entropy
// over the retained set
// of bench/mnist_forget_1000.txt (59,000 samples of the real training data),
// read from the data set as `lethe unlearn` reads it, with the CLI's default
// --batch-size 256.
func BenchmarkFullData(b *testing.B) {
	forget := readForget(b, testenv.RepoRoot()+"/bench/mnist_forget_1000.txt")
	for _, c := range []struct {
		model int
		data  string
	}{{0, "mnist:train"}, {1, "fashion-mnist:train"}} {
		md := models[c.model]
		file, err := dataset.Open(c.data, dataset.Options{})
		testenv.Missing(b, c.data, err)
		src, err := dataset.Reshape(file, md.sample)
		if err != nil {
			b.Fatal(err)
		}
		var keep []int
		for i := 0; i < src.Len(); i++ {
			if !forget[i] {
				keep = append(keep, i)
			}
		}
		_, p := compile(b, md.path)
		name, opts := fmt.Sprintf("%s/n%d", md.name, len(keep)), autodiff.EvalOptions{BatchSize: 256, Threads: threads()}
		b.Run(name+"/loss", func(b *testing.B) {
			loop(b, func() error {
				_, err := p.Loss(context.Background(), src, keep, opts)
				return err
			})
		})
		gradHVP(b, name, p, src, keep, opts)
		dataset.Close(file)
	}
}

// readForget reads a forget list, one sample index per line.
func readForget(b *testing.B, path string) map[int]bool {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	set := map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		i, err := strconv.Atoi(sc.Text())
		if err != nil {
			b.Fatalf("%s: %v", path, err)
		}
		set[i] = true
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return set
}
