package dataset

import (
	"fmt"
	"math/rand/v2"
)

// Batches splits the sample indices 0..n-1 into batches of size (the last
// one may be shorter): in order when rng is nil, otherwise in an order drawn
// from rng. The batches share one backing array. Batches panics if size < 1
// or n < 0.
func Batches(n, size int, rng *rand.Rand) [][]int {
	if size < 1 || n < 0 {
		panic(fmt.Sprintf("dataset: Batches(%d, %d): want n ≥ 0 and size ≥ 1", n, size))
	}
	var order []int
	if rng == nil {
		order = make([]int, n)
		for i := range order {
			order[i] = i
		}
	} else {
		order = rng.Perm(n)
	}
	out := make([][]int, 0, (n+size-1)/size)
	for start := 0; start < n; start += size {
		end := min(start+size, n)
		out = append(out, order[start:end:end])
	}
	return out
}

// ForEachBatch reads the given batches of src in order and calls fn with
// each batch's indices, features and labels (y is nil when src has no
// labels). x and y are reused between calls: fn must not keep them. While fn
// runs, the next batch is already being read on another goroutine, so
// reading from disk overlaps with computing. ForEachBatch stops at the first
// error, from Read or from fn, and returns it; it returns only once its
// reader has stopped.
func ForEachBatch(src Source, batches [][]int, fn func(idx []int, x []float32, y []int64) error) error {
	if len(batches) == 0 {
		return nil
	}
	size := numElems(src.SampleShape())
	labelled := HasLabels(src)
	most := 0
	for _, b := range batches {
		most = max(most, len(b))
	}
	type buffer struct {
		k   int
		x   []float32
		y   []int64
		err error
	}
	free := make(chan *buffer, 2)
	for range 2 {
		b := &buffer{x: make([]float32, most*size)}
		if labelled {
			b.y = make([]int64, most)
		}
		free <- b
	}
	ready := make(chan *buffer, 1)
	done := make(chan struct{})
	go func() {
		defer close(ready)
		for k, idx := range batches {
			var b *buffer
			select {
			case b = <-free:
			case <-done:
				return
			}
			var y []int64
			if labelled {
				y = b.y[:len(idx)]
			}
			b.k, b.err = k, src.Read(idx, b.x[:len(idx)*size], y)
			select {
			case ready <- b:
			case <-done:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	var err error
	for b := range ready {
		if b.err != nil {
			err = b.err
			break
		}
		idx := batches[b.k]
		var y []int64
		if labelled {
			y = b.y[:len(idx)]
		}
		if err = fn(idx, b.x[:len(idx)*size], y); err != nil {
			break
		}
		free <- b
	}
	close(done)
	for range ready { // wait for the reader to stop
	}
	return err
}
