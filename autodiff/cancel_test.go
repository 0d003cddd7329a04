package autodiff

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
)

// cancelOnRead is Data that calls cancel when the first batch is read and
// counts the batches read.
type cancelOnRead struct {
	Data
	cancel context.CancelFunc
	reads  atomic.Int32
}

func (c *cancelOnRead) Read(idx []int, x []float32, y []int64) error {
	c.reads.Add(1)
	c.cancel()
	return c.Data.Read(idx, x, y)
}

// TestObjectiveStopsWithinABatchWhenCancelled runs a full-data gradient and
// HVP of the MNIST MLP on the 60,000 MNIST training samples, 600 batches,
// and cancels the context while the first batch is read: each call must
// return context.Canceled and no loss after at most one batch per worker.
// A context that is done before the call reads no batch at all.
func TestObjectiveStopsWithinABatchWhenCancelled(t *testing.T) {
	src, err := dataset.Open("mnist:train", dataset.Options{})
	testenv.Missing(t, "MNIST", err)
	defer dataset.Close(src)
	data, err := dataset.Reshape(src, []int{784})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(loadModel(t, "models/mnist_mlp.onnx"), Options{Precision: Float32})
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float64, p.Dim())
	v := make([]float64, p.Dim())
	for i := range v {
		w[i], v[i] = 0.01, 1
	}
	const threads = 2
	calls := map[string]func(context.Context, *Objective) (float64, error){
		"gradient": func(ctx context.Context, o *Objective) (float64, error) {
			return o.Eval(ctx, w, nil, make([]float64, p.Dim()))
		},
		"loss": func(ctx context.Context, o *Objective) (float64, error) {
			return o.Eval(ctx, w, nil, nil)
		},
		"hvp": func(ctx context.Context, o *Objective) (float64, error) {
			return 0, o.HVP(ctx, w, nil, v, make([]float64, p.Dim()))
		},
	}
	for name, call := range calls {
		for _, before := range []bool{false, true} {
			ctx, cancel := context.WithCancel(context.Background())
			d := &cancelOnRead{Data: data, cancel: cancel}
			if before {
				cancel()
			}
			o := &Objective{Program: p, Data: d, L2: 0.01, Options: EvalOptions{BatchSize: 100, Threads: threads}}
			loss, err := call(ctx, o)
			// Each worker checks the context before it reads a batch: the
			// first read cancels, and a worker that checked just before it
			// may still read one batch.
			maxReads := int32(threads)
			if before {
				maxReads = 0
			}
			if !errors.Is(err, context.Canceled) || loss != 0 || d.reads.Load() > maxReads {
				t.Errorf("%s, cancelled before the call %v: loss %g, error %v after %d of 600 batches; want 0, context.Canceled after at most %d",
					name, before, loss, err, d.reads.Load(), maxReads)
			}
			cancel()
		}
	}
}
