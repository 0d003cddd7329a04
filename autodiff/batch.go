package autodiff

import (
	"context"
	"fmt"
	"sync"
)

// dataInput returns the single data input a batched evaluation feeds, and the
// full input shape for a batch of n samples of the given sample shape.
func (p *program[T]) dataInput(sample []int, n int) (inputSlot, []int, error) {
	if len(p.inputs) != 1 {
		return inputSlot{}, nil, fmt.Errorf("autodiff: batched evaluation needs exactly one data input, the model has %d", len(p.inputs))
	}
	in := p.inputs[0]
	shape := append([]int{n}, sample...)
	if len(in.shape) > 0 {
		if len(in.shape) != len(shape) {
			return in, nil, fmt.Errorf("autodiff: input %q has rank %d but the data's samples have shape %v", in.name, len(in.shape), sample)
		}
		for i := 1; i < len(shape); i++ {
			if in.shape[i] >= 0 && int(in.shape[i]) != shape[i] {
				return in, nil, fmt.Errorf("autodiff: input %q expects samples of shape %v, the data has %v", in.name, in.shape[1:], sample)
			}
		}
	}
	return in, shape, nil
}

// pass runs forward and, when y is given, the loss over one batch, and then
// a backward pass when the gradient is wanted or tangents are given (an
// HVP). It returns the batch's loss sum scaled by scale.
func (r *run[T]) pass(in inputSlot, x []float32, shape []int, y []int64, loss Loss, scale float64, tangents []*Tensor[T], wantGrad bool) (float64, error) {
	r.begin(tangents, wantGrad)
	r.withBackward = y != nil && (wantGrad || tangents != nil)
	xt := &Tensor[T]{Shape: shape}
	if same, ok := any(x).([]T); ok {
		xt.Data = same // float32 programs read the batch in place
	} else {
		xt.Data = r.ar.alloc(len(x))
		for i, v := range x {
			xt.Data[i] = T(v)
		}
	}
	r.vals[in.slot] = floatVal(xt, nil)
	if err := r.forward(); err != nil {
		return 0, err
	}
	if y == nil {
		return 0, nil
	}
	sum, seed, err := lossSeed(&ctx[T]{r: r, node: -1}, loss, r.vals[r.p.lossSlot], y, scale)
	if err != nil {
		return 0, err
	}
	if !r.withBackward {
		return sum * scale, nil
	}
	if err := r.backward(seed); err != nil {
		return 0, err
	}
	return sum * scale, nil
}

// addParamAdjoints adds the parameters' adjoints (or their tangents) into acc.
func (r *run[T]) addParamAdjoints(acc []float64, tangent bool) {
	for _, ps := range r.p.params {
		if src := r.paramAdjoint(ps, tangent); src != nil {
			addWide(acc[ps.offset:ps.offset+ps.size], src)
		}
	}
}

// paramAdjoint returns the adjoint (or its tangent) of parameter ps after a
// pass, nil when the pass left none.
func (r *run[T]) paramAdjoint(ps paramSlot, tangent bool) []T {
	a := r.adj[ps.slot]
	if a == nil {
		return nil
	}
	if tangent {
		if a.dot == nil {
			return nil
		}
		return a.dot.Data
	}
	return a.f.Data
}

// sumParamAdjoints sets dst to the sum, in float64 and in the order of runs,
// of the parameters' adjoints (or their tangents) that runs hold after one
// pass each: one sweep over dst, instead of clearing a buffer per run,
// accumulating into it and adding the buffers into a cleared dst.
func sumParamAdjoints[T Float](dst []float64, runs []*run[T], tangent bool) {
	for _, ps := range runs[0].p.params {
		d := dst[ps.offset : ps.offset+ps.size]
		a, rest := runs[0].paramAdjoint(ps, tangent), runs[1:]
		var b []T
		if len(rest) > 0 {
			b = rest[0].paramAdjoint(ps, tangent)
		}
		switch {
		case a == nil:
			clear(d)
		case b != nil:
			// The first two in one sweep (the common two-thread case).
			widenSum(d, a, b)
			rest = rest[1:]
		default:
			widen(d, a)
		}
		for _, r := range rest {
			if src := r.paramAdjoint(ps, tangent); src != nil {
				addWide(d, src)
			}
		}
	}
}

func (c *compiled[T]) evalBatches(job *evalJob) (float64, error) {
	if job.ctx == nil {
		job.ctx = context.Background()
	}
	idx := job.indices()
	n := len(idx)
	if n == 0 {
		return 0, fmt.Errorf("autodiff: no samples to evaluate")
	}
	sample := job.data.SampleShape()
	in, _, err := c.p.dataInput(sample, 1)
	if err != nil {
		return 0, err
	}
	var tangents []*Tensor[T]
	if job.v != nil {
		buf := c.tangentBuffers()
		defer c.tangents.Put(buf)
		tangents = *buf
		for i, ps := range c.p.params {
			narrow(tangents[i].Data, job.v[ps.offset:ps.offset+ps.size])
		}
	}
	ss := numel(sample)
	chunk, chunks, workers := split(n, min(job.opts.batchSize(), c.chunkCap(in, sample)), job.opts.threads())
	res := make([]workerResult, workers)
	runs := make([]*run[T], workers)
	// With one chunk per worker, each run still holds its chunk's adjoints
	// when the workers are done, and they are summed into the caller's
	// buffers at once.
	oneEach := chunks == workers
	for w := range res {
		runs[w] = c.getRun()
		if oneEach {
			continue
		}
		// A lone worker accumulates straight into the caller's buffers.
		if workers == 1 {
			res[w].grad, res[w].hv = job.grad, job.hv
		} else {
			if job.grad != nil {
				res[w].grad = runs[w].scratch(0, len(job.grad))
			}
			if job.hv != nil {
				res[w].hv = runs[w].scratch(1, len(job.hv))
			}
		}
		clear(res[w].grad)
		clear(res[w].hv)
	}
	defer func() {
		for _, r := range runs {
			c.putRun(r)
		}
	}()
	errs := parallel(job.ctx, chunks, workers, func(w, j int) error {
		b := idx[j*chunk : min(n, (j+1)*chunk)]
		x, y, err := runs[w].readBatch(job.data, b, ss, true)
		if err != nil {
			return err
		}
		_, shape, err := c.p.dataInput(sample, len(b))
		if err != nil {
			return err
		}
		l, err := runs[w].pass(in, x, shape, y, job.opts.Loss, 1/float64(n), tangents, job.grad != nil)
		if err != nil {
			return err
		}
		res[w].loss += l
		if res[w].grad != nil {
			runs[w].addParamAdjoints(res[w].grad, false)
		}
		if res[w].hv != nil {
			runs[w].addParamAdjoints(res[w].hv, true)
		}
		return nil
	})
	if err := firstError(errs); err != nil {
		return 0, err
	}
	var loss float64
	for _, r := range res {
		loss += r.loss
	}
	switch {
	case oneEach:
		if job.grad != nil {
			sumParamAdjoints(job.grad, runs, false)
		}
		if job.hv != nil {
			sumParamAdjoints(job.hv, runs, true)
		}
	case workers > 1:
		clear(job.grad)
		clear(job.hv)
		for _, r := range res {
			if job.grad != nil {
				addTo(job.grad, r.grad)
			}
			if job.hv != nil {
				addTo(job.hv, r.hv)
			}
		}
	}
	return loss, nil
}

func (c *compiled[T]) forwardBatches(job *evalJob, sink func(first int, out []float32, shape []int) error) error {
	if job.ctx == nil {
		job.ctx = context.Background()
	}
	idx := job.indices()
	n := len(idx)
	if n == 0 {
		return fmt.Errorf("autodiff: no samples to evaluate")
	}
	sample := job.data.SampleShape()
	in, _, err := c.p.dataInput(sample, 1)
	if err != nil {
		return err
	}
	ss := numel(sample)
	chunk, chunks, workers := split(n, min(job.opts.batchSize(), c.chunkCap(in, sample)), job.opts.threads())
	var mu sync.Mutex
	errs := parallel(job.ctx, chunks, workers, func(w, j int) error {
		r := c.getRun()
		defer c.putRun(r)
		b := idx[j*chunk : min(n, (j+1)*chunk)]
		x, _, err := r.readBatch(job.data, b, ss, false)
		if err != nil {
			return err
		}
		_, shape, err := c.p.dataInput(sample, len(b))
		if err != nil {
			return err
		}
		if _, err := r.pass(in, x, shape, nil, 0, 0, nil, false); err != nil {
			return err
		}
		out := r.vals[c.p.outputs[0]]
		if out.isInt() {
			return fmt.Errorf("autodiff: the first output is not floating-point")
		}
		o := make([]float32, len(out.f.Data))
		for i, v := range out.f.Data {
			o[i] = float32(v)
		}
		mu.Lock()
		defer mu.Unlock()
		return sink(j*chunk, o, out.f.Shape)
	})
	return firstError(errs)
}

// tangentBuffers returns one tensor per parameter for an HVP direction,
// reused across calls (a small-batch HVP would otherwise spend much of its
// time allocating them). The pool holds pointers to the slices, so that
// putting one back does not allocate.
func (c *compiled[T]) tangentBuffers() *[]*Tensor[T] {
	if t, ok := c.tangents.Get().(*[]*Tensor[T]); ok {
		return t
	}
	t := make([]*Tensor[T], len(c.p.params))
	for i, ps := range c.p.params {
		t[i] = &Tensor[T]{Shape: ps.shape, Data: make([]T, ps.size)}
	}
	return &t
}
