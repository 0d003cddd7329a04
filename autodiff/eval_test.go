package autodiff

import (
	"context"
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
