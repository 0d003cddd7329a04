package autodiff

import (
	"context"
	"slices"
	"testing"
)

// TestLossMatchesGradient checks that Loss, which runs no backward pass,
// returns the loss Gradient and HVP return, bit for bit: the forward pass
// and the loss are the same operations.
func TestLossMatchesGradient(t *testing.T) {
	for _, name := range fixtureModels {
		f := loadFixture(t, name)
		for _, prec := range []Precision{Float32, Float64} {
			p, err := Compile(f.model, Options{Precision: prec})
			if err != nil {
				t.Fatal(err)
			}
			opts := EvalOptions{BatchSize: 3, Threads: 2}
			loss, err := p.Loss(context.Background(), f.data, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			g := make([]float64, p.Dim())
			lg, err := p.Gradient(context.Background(), f.data, nil, opts, g)
			if err != nil {
				t.Fatal(err)
			}
			lh, err := p.HVP(context.Background(), f.data, nil, opts, f.v, g, nil)
			if err != nil {
				t.Fatal(err)
			}
			if loss != lg || loss != lh {
				t.Errorf("%s %s: Loss %.17g, Gradient's %.17g, HVP's %.17g", name, prec, loss, lg, lh)
			}
		}
	}
}

// TestOneChunkPerWorker: when every worker takes one chunk, their adjoints
// are summed straight into the caller's buffers; the gradient and the HVP
// are the ones a lone worker accumulating the same chunks in order returns,
// bit for bit.
func TestOneChunkPerWorker(t *testing.T) {
	for _, name := range fixtureModels {
		f := loadFixture(t, name)
		p, err := Compile(f.model, Options{Precision: Float32})
		if err != nil {
			t.Fatal(err)
		}
		half := (f.data.Len() + 1) / 2
		var grads, hvps [2][]float64
		for i, threads := range []int{1, 2} {
			opts := EvalOptions{BatchSize: half, Threads: threads}
			grads[i], hvps[i] = make([]float64, p.Dim()), make([]float64, p.Dim())
			for j := range grads[i] {
				grads[i][j], hvps[i][j] = 7, 7 // overwritten, not added to
			}
			if _, err := p.Gradient(context.Background(), f.data, nil, opts, grads[i]); err != nil {
				t.Fatal(err)
			}
			if _, err := p.HVP(context.Background(), f.data, nil, opts, f.v, hvps[i], nil); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(grads[0], grads[1]) || !slices.Equal(hvps[0], hvps[1]) {
			t.Errorf("%s: two workers of one chunk each disagree with one worker taking both chunks", name)
		}
	}
}
