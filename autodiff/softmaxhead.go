package autodiff

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
)

// SoftmaxHead is the objective of a linear classifier on fixed features,
//
//	L(W, b) = (1/N)·Σ_i −log softmax(W·φ_i + b)[y_i] + (μ/2)·(‖W‖² + ‖b‖²),
//
// with W of K×D and b of K, written directly in float32 matrix products
// rather than compiled from a graph. It implements unlearn.Objective for
// the Newton steps of the head scope: its Hessian,
//
//	(1/N)·Σ_i (diag(p_i) − p_i·p_iᵀ) ⊗ φ̃_i·φ̃_iᵀ + μI,  φ̃ = [φ; 1],
//
// is applied as two matrix products over the features, with the
// probabilities p_i at the current parameters computed once and kept for
// every product at the same parameters. Gradients and losses are accurate to
// float32 rounding; a certified bound must come from a float64 objective.
//
// Eval and HVP are safe for concurrent use.
type SoftmaxHead struct {
	// Features are the rows' features φ_i, D values a row.
	Features []float32
	// Labels are the rows' classes y_i in [0, K), one a row.
	Labels []int64
	// Index lists the rows that are the objective's samples, in increasing
	// order; nil means every row. The other rows are skipped in place, so
	// the objective of a retained set shares the features of all samples.
	Index []int
	// K is the number of classes, D the number of features.
	K, D int
	// L2 is μ.
	L2 float64
	// Position maps W[k][j] (j < D) and b[k] (j = D) to their position in
	// the parameter vector, which holds K·(D+1) values.
	Position func(k, j int) int
	// Threads is the number of goroutines; 0 means GOMAXPROCS, as in
	// EvalOptions.
	Threads int

	memberOnce sync.Once
	member     []bool // member[r]: row r is a sample (nil: every row is)

	mu    sync.Mutex
	at    []float64 // the parameters probs was computed at
	probs []float32 // K probabilities a row at `at`
}

// softmaxHeadChunk is the number of samples one matrix product covers.
const softmaxHeadChunk = 1024

// Dim is the number of parameters, K·(D+1).
func (h *SoftmaxHead) Dim() int { return h.K * (h.D + 1) }

// Len is the number of samples N: len(Index), or the number of rows.
func (h *SoftmaxHead) Len() int {
	if h.Index != nil {
		return len(h.Index)
	}
	return len(h.Labels)
}

// Eval returns L(w) over the samples idx (all when nil) and, when grad is
// not nil, writes its gradient into grad.
func (h *SoftmaxHead) Eval(ctx context.Context, w []float64, idx []int, grad []float64) (float64, error) {
	wm, b := h.unpack(w)
	var loss float64
	acc, err := h.chunks(ctx, scopeOf(idx), idx, grad != nil, func(c *headChunk) {
		c.logits(wm, b)
		for i := 0; i < c.n; i++ {
			row := c.z[i*h.K : (i+1)*h.K]
			if !c.active(i) {
				clear(row)
				continue
			}
			logSoftmax(row)
			y := c.y[i]
			c.loss -= float64(row[y])
			if c.g != nil {
				for k := range row {
					row[k] = float32(math.Exp(float64(row[k])))
				}
				row[y]--
			}
		}
		if c.g != nil {
			c.accumulate(c.z)
		}
	})
	if err != nil {
		return 0, err
	}
	n := float64(h.count(idx))
	var sq float64
	for _, v := range w {
		sq += v * v
	}
	for _, c := range acc {
		loss += c.loss
	}
	loss = loss/n + h.L2/2*sq
	if grad != nil {
		h.reduce(acc, n, w, grad)
	}
	return loss, nil
}

// HVP writes (∇²L(w))·v over the samples idx (all when nil) into dst.
func (h *SoftmaxHead) HVP(ctx context.Context, w []float64, idx []int, v, dst []float64) error {
	probs, err := h.Probabilities(ctx, w)
	if err != nil {
		return err
	}
	vm, vb := h.unpack(v)
	acc, err := h.chunks(ctx, scopeOf(idx), idx, true, func(c *headChunk) {
		c.logits(vm, vb) // s_i = V·φ_i + v_b
		for i := 0; i < c.n; i++ {
			s := c.z[i*h.K : (i+1)*h.K]
			if !c.active(i) {
				clear(s)
				continue
			}
			p := probs[c.rows[i]*h.K : (c.rows[i]+1)*h.K]
			var ps float32
			for k := range s {
				ps += p[k] * s[k]
			}
			for k := range s {
				s[k] = p[k] * (s[k] - ps) // (diag(p) − p·pᵀ)·s
			}
		}
		c.accumulate(c.z)
	})
	if err != nil {
		return err
	}
	h.reduce(acc, float64(h.count(idx)), v, dst)
	return nil
}

// Probabilities returns the softmax probabilities at w, K values for every
// row of Features (in Index or not), computing them when w differs from the
// parameters of the last call; HVP at the same w reuses them. The caller
// must not modify them.
func (h *SoftmaxHead) Probabilities(ctx context.Context, w []float64) ([]float32, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.probs != nil && sameBits(h.at, w) {
		return h.probs, nil
	}
	probs := make([]float32, len(h.Labels)*h.K)
	wm, b := h.unpack(w)
	_, err := h.chunks(ctx, everyRow, nil, false, func(c *headChunk) {
		c.logits(wm, b)
		for i := 0; i < c.n; i++ {
			row := c.z[i*h.K : (i+1)*h.K]
			logSoftmax(row)
			for k := range row {
				row[k] = float32(math.Exp(float64(row[k])))
			}
			copy(probs[c.rows[i]*h.K:], row)
		}
	})
	if err != nil {
		return nil, err
	}
	h.at, h.probs = slices.Clone(w), probs
	return probs, nil
}

// unpack returns the parameter vector w as W (K×D, row-major) and b in
// float32.
func (h *SoftmaxHead) unpack(w []float64) (wm, b []float32) {
	if len(w) != h.Dim() {
		panic(fmt.Sprintf("autodiff: SoftmaxHead: %d parameters, want %d", len(w), h.Dim()))
	}
	wm, b = make([]float32, h.K*h.D), make([]float32, h.K)
	for k := 0; k < h.K; k++ {
		for j := 0; j < h.D; j++ {
			wm[k*h.D+j] = float32(w[h.Position(k, j)])
		}
		b[k] = float32(w[h.Position(k, h.D)])
	}
	return wm, b
}

// reduce writes (1/n)·Σ of the chunks' accumulated gradients, plus μ·w,
// into dst in parameter order.
func (h *SoftmaxHead) reduce(acc []*headChunk, n float64, w, dst []float64) {
	for k := 0; k < h.K; k++ {
		for j := 0; j <= h.D; j++ {
			var s float64
			for _, c := range acc {
				s += c.g[k*(h.D+1)+j]
			}
			i := h.Position(k, j)
			dst[i] = s/n + h.L2*w[i]
		}
	}
}

func (h *SoftmaxHead) count(idx []int) int {
	if idx != nil {
		return len(idx)
	}
	return h.Len()
}

// memberRows returns the mask of the rows that are samples, nil when every
// row is, checking Index once.
func (h *SoftmaxHead) memberRows() []bool {
	h.memberOnce.Do(func() {
		if h.Index == nil {
			return
		}
		h.member = make([]bool, len(h.Labels))
		prev := -1
		for _, r := range h.Index {
			if r <= prev || r >= len(h.Labels) {
				panic(fmt.Sprintf("autodiff: SoftmaxHead: Index must list rows of [0, %d) in increasing order (row %d after %d)", len(h.Labels), r, prev))
			}
			h.member[r], prev = true, r
		}
	})
	return h.member
}

// headChunk is one worker's state: the rows of the current chunk, their
// features and labels, a K-wide row per sample and the worker's float64
// gradient accumulator (K×(D+1), W then b per class).
type headChunk struct {
	h      *SoftmaxHead
	n      int
	rows   []int
	member []bool // when not nil, rows[i] is a sample only if member[rows[i]]
	x      []float32
	y      []int64
	z      []float32
	gw     []float32 // K×D scratch for one chunk's product
	g      []float64
	loss   float64
}

// rowScope says which rows chunks visits.
type rowScope int

const (
	// samples: the objective's samples (Index, or every row), read in
	// place as contiguous rows, those outside Index marked inactive.
	samples rowScope = iota
	// everyRow: every row, all active (the probability cache).
	everyRow
	// positions: the samples at the given positions of the objective,
	// copied.
	positions
)

// chunks runs f over rows in chunks of softmaxHeadChunk, on h.Threads
// goroutines, and returns the workers' states (each with a gradient
// accumulator when grad is set). idx is the positions for scope positions.
func (h *SoftmaxHead) chunks(ctx context.Context, scope rowScope, idx []int, grad bool, f func(*headChunk)) ([]*headChunk, error) {
	n := len(h.Labels)
	var member []bool
	switch scope {
	case samples:
		member = h.memberRows()
	case positions:
		n = len(idx)
	}
	threads := EvalOptions{Threads: h.Threads}.threads()
	work := make(chan int)
	states := make([]*headChunk, threads)
	var wg sync.WaitGroup
	for t := range states {
		c := &headChunk{h: h, member: member, rows: make([]int, softmaxHeadChunk), z: make([]float32, softmaxHeadChunk*h.K)}
		if scope == positions {
			c.x, c.y = make([]float32, softmaxHeadChunk*h.D), make([]int64, softmaxHeadChunk)
		}
		if grad {
			c.g, c.gw = make([]float64, h.K*(h.D+1)), make([]float32, h.K*h.D)
		}
		states[t] = c
		wg.Go(func() {
			for start := range work {
				end := min(n, start+softmaxHeadChunk)
				if scope == positions {
					c.gather(idx[start:end])
				} else {
					c.inPlace(start, end)
				}
				f(c)
			}
		})
	}
	var err error
	for start := 0; start < n; start += softmaxHeadChunk {
		if err = ctx.Err(); err != nil {
			break
		}
		work <- start
	}
	close(work)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	return states, nil
}

// scopeOf is the row scope of the samples idx (all when nil).
func scopeOf(idx []int) rowScope {
	if idx == nil {
		return samples
	}
	return positions
}

// inPlace points the chunk at rows start to end of Features.
func (c *headChunk) inPlace(start, end int) {
	h := c.h
	c.n = end - start
	c.rows = c.rows[:c.n]
	for i := range c.rows {
		c.rows[i] = start + i
	}
	c.x, c.y = h.Features[start*h.D:end*h.D], h.Labels[start:end]
}

// gather copies the samples at positions pos into the chunk.
func (c *headChunk) gather(pos []int) {
	h := c.h
	c.n = len(pos)
	c.rows = c.rows[:c.n]
	c.x, c.y = c.x[:cap(c.x)], c.y[:cap(c.y)]
	for i, p := range pos {
		if p < 0 || p >= h.Len() {
			panic(fmt.Sprintf("autodiff: SoftmaxHead: sample %d outside [0, %d)", p, h.Len()))
		}
		r := p
		if h.Index != nil {
			r = h.Index[p]
		}
		c.rows[i] = r
		copy(c.x[i*h.D:(i+1)*h.D], h.Features[r*h.D:(r+1)*h.D])
		c.y[i] = h.Labels[r]
	}
	c.x, c.y = c.x[:c.n*h.D], c.y[:c.n]
}

// active reports whether the chunk's i-th row is one of the samples.
func (c *headChunk) active(i int) bool { return c.member == nil || c.member[c.rows[i]] }

// logits writes z_i = M·φ_i + c for the chunk's samples into c.z.
func (c *headChunk) logits(m, bias []float32) {
	h := c.h
	z := c.z[:c.n*h.K]
	gemm(false, true, c.n, h.K, h.D, 1, c.x, h.D, m, h.D, 0, z, h.K)
	for i := 0; i < c.n; i++ {
		row := z[i*h.K : (i+1)*h.K]
		for k := range row {
			row[k] += bias[k]
		}
	}
}

// accumulate adds Σ_i r_i·φ̃_iᵀ for the chunk's rows r (n×K) to c.g.
func (c *headChunk) accumulate(r []float32) {
	h := c.h
	gemm(true, false, h.K, h.D, c.n, 1, r[:c.n*h.K], h.K, c.x, h.D, 0, c.gw, h.D)
	for k := 0; k < h.K; k++ {
		g := c.g[k*(h.D+1) : (k+1)*(h.D+1)]
		for j, v := range c.gw[k*h.D : (k+1)*h.D] {
			g[j] += float64(v)
		}
		var sb float64
		for i := 0; i < c.n; i++ {
			sb += float64(r[i*h.K+k])
		}
		g[h.D] += sb
	}
}

// logSoftmax turns a row of logits into log-probabilities in place.
func logSoftmax(row []float32) {
	m := float64(slices.Max(row))
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - m)
	}
	lse := m + math.Log(s)
	for k, v := range row {
		row[k] = float32(float64(v) - lse)
	}
}
