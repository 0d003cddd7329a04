package autodiff

import (
	"context"
	"fmt"
	"runtime"
)

// Data is random access to labelled samples. dataset.Source satisfies it.
//
// Data whose features are float32 values held in memory, sample after
// sample, may also implement
//
//	Rows(first, n int) (x []float32, y []int64, ok bool)
//
// returning the features and labels (nil: none) of samples first to
// first+n-1 without copying them, or ok false when those samples are not
// held that way. Evaluations then read runs of consecutive samples in place
// and never write into them; the caller must not change them meanwhile.
type Data interface {
	Len() int
	SampleShape() []int
	// Read copies samples idx into x (row-major) and, when y is not nil, their labels into y.
	Read(idx []int, x []float32, y []int64) error
}

// EvalOptions configures batched evaluation. The zero value means
// cross-entropy, batches of at most 256 samples and one worker per CPU.
type EvalOptions struct {
	Loss      Loss
	BatchSize int
	Threads   int
}

func (o EvalOptions) batchSize() int {
	if o.BatchSize > 0 {
		return o.BatchSize
	}
	return 256
}

func (o EvalOptions) threads() int {
	if o.Threads > 0 {
		return o.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// evalJob is one batched evaluation over a data set.
type evalJob struct {
	ctx  context.Context
	data Data
	idx  []int
	opts EvalOptions
	grad []float64 // where to write the gradient, or nil
	v    []float64 // HVP direction, or nil
	hv   []float64 // where to write H·v
}

// Loss returns the mean loss over the samples idx of data (nil: all).
func (p *Program) Loss(ctx context.Context, data Data, idx []int, opts EvalOptions) (float64, error) {
	return p.e.evalBatches(&evalJob{ctx: ctx, data: data, idx: idx, opts: opts})
}

// Gradient returns the mean loss over the samples idx of data (nil: all) and
// writes its gradient with respect to the trainable parameters into grad.
// Batches run in parallel; their gradients are summed in float64 in a fixed
// order, so the result is deterministic for a given thread count.
func (p *Program) Gradient(ctx context.Context, data Data, idx []int, opts EvalOptions, grad []float64) (float64, error) {
	if len(grad) != p.dim {
		return 0, fmt.Errorf("autodiff: gradient buffer has %d entries for %d parameters", len(grad), p.dim)
	}
	return p.e.evalBatches(&evalJob{ctx: ctx, data: data, idx: idx, opts: opts, grad: grad})
}

// HVP writes the exact Hessian-vector product H·v of the mean loss into hv,
// by forward-over-reverse differentiation, and returns the mean loss. When
// grad is not nil the gradient is written there too, at no extra cost.
func (p *Program) HVP(ctx context.Context, data Data, idx []int, opts EvalOptions, v, hv, grad []float64) (float64, error) {
	if len(v) != p.dim || len(hv) != p.dim || (grad != nil && len(grad) != p.dim) {
		return 0, fmt.Errorf("autodiff: HVP buffers must have %d entries", p.dim)
	}
	return p.e.evalBatches(&evalJob{ctx: ctx, data: data, idx: idx, opts: opts, v: v, hv: hv, grad: grad})
}

// Predict evaluates the first output on the samples idx of data (nil: all)
// in batches and hands each batch to sink with the position of its first
// sample in idx. Calls to sink are serialised but may come in any order.
func (p *Program) Predict(ctx context.Context, data Data, idx []int, opts EvalOptions, sink func(first int, out []float32, shape []int) error) error {
	return p.e.forwardBatches(&evalJob{ctx: ctx, data: data, idx: idx, opts: opts}, sink)
}

// Forward evaluates the first output on one in-memory batch of n samples.
func (p *Program) Forward(x []float32, sampleShape []int, n int) ([]float32, []int, error) {
	var out []float32
	var shape []int
	data := &memData{x: x, shape: sampleShape, n: n}
	err := p.Predict(context.Background(), data, nil, EvalOptions{BatchSize: max(n, 1), Threads: 1}, func(first int, o []float32, s []int) error {
		if len(s) == 0 {
			return fmt.Errorf("autodiff: the first output is a scalar, not one row per sample")
		}
		per := numel(s[1:])
		if out == nil {
			out, shape = make([]float32, n*per), append([]int{n}, s[1:]...)
		}
		copy(out[first*per:], o)
		return nil
	})
	return out, shape, err
}

// memData serves an in-memory unlabelled batch.
type memData struct {
	x     []float32
	shape []int
	n     int
}

func (d *memData) Len() int           { return d.n }
func (d *memData) SampleShape() []int { return d.shape }
func (d *memData) Read(idx []int, x []float32, y []int64) error {
	if y != nil {
		return fmt.Errorf("autodiff: in-memory batch has no labels")
	}
	ss := numel(d.shape)
	for i, j := range idx {
		copy(x[i*ss:(i+1)*ss], d.x[j*ss:(j+1)*ss])
	}
	return nil
}

// minChunk is the smallest number of samples worth a worker of its own: every
// chunk pays a fixed cost proportional to the parameter count (accumulating
// its gradient), which dominates for a handful of samples.
const minChunk = 32

// split cuts n samples into chunks, one or more per worker, of at most size
// samples. The chunks are of equal size (but the last) and, when there are
// more than workers, their count is a multiple of the worker count, so that
// every worker gets the same share: 128 samples with size 38 on two workers
// are four chunks of 32, not 38, 38, 38 and 14 (76 samples for one worker,
// 52 for the other).
func split(n, size, threads int) (chunk, chunks, workers int) {
	threads = max(threads, 1)
	chunk = max(1, min(size, max(minChunk, (n+threads-1)/threads)))
	chunks = (n + chunk - 1) / chunk
	workers = max(1, min(threads, chunks))
	if r := chunks % workers; r != 0 && chunks > workers {
		chunks += workers - r
	}
	chunk = (n + chunks - 1) / chunks
	chunks = (n + chunk - 1) / chunk
	return
}

// indices returns job.idx, or 0..Len-1 when it is nil.
func (j *evalJob) indices() []int {
	if j.idx != nil {
		return j.idx
	}
	all := make([]int, j.data.Len())
	for i := range all {
		all[i] = i
	}
	return all
}

// workerResult is what one worker accumulated.
type workerResult struct {
	loss     float64
	grad, hv []float64
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
