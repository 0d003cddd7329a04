package lethe_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/dataset"
)

// This example forgets ten training samples of the bundled MNIST model
// (models/mnist_mlp.onnx, trained in the ball ‖w‖ ≤ 20, which its metadata
// records) and re-checks the result. To run in a second it works on the
// first 300 MNIST training samples, written to a temporary folder.
//
// The noise is private, so the released parameters differ from run to
// run; what the example prints does not: the guarantee, the sensitivity it
// is calibrated to (the premise of the theorem fails on this subset, so
// the trivial bound 2C carries it), σ, and the checks.
func Example() {
	dir, err := os.MkdirTemp("", "lethe-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	train := firstSamples(dir, "mnist:train", 300)

	ctx := context.Background()
	res, err := lethe.Unlearn(ctx, lethe.UnlearnRequest{
		Model:   "models/mnist_mlp.onnx",
		Data:    lethe.Data{Path: train},
		Forget:  lethe.Subset{Indices: []int{3, 14, 15, 92, 65, 35, 89, 79, 32, 38}},
		Out:     filepath.Join(dir, "unlearned.onnx"),
		Epsilon: 1, Delta: 1e-5,
	})
	if err != nil {
		log.Fatal(err)
	}
	c := res.Certificate
	fmt.Printf("%s: forgot %d of %d samples\n", c.Status, c.Forget.NForget, c.Forget.N)
	fmt.Printf("(ε, δ) = (%g, %g), Δ = %g (%s bound), σ = %.4g\n", c.Epsilon, c.Delta, c.Bound.Sensitivity, c.Bound.Active, c.Sigma)

	report, err := lethe.Verify(ctx, lethe.VerifyRequest{Model: res.Out, Input: "models/mnist_mlp.onnx"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verify:", report.Tally())
	// Output:
	// certified: forgot 10 of 300 samples
	// (ε, δ) = (1, 1e-05), Δ = 40 (trivial bound), σ = 149.2
	// verify: 9 pass, 3 skipped
}

// firstSamples writes the first n samples of a data set to dir/data.npz.
func firstSamples(dir, spec string, n int) string {
	src, err := dataset.Open(spec, dataset.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer dataset.Close(src)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x, y := make([]float32, n*784), make([]int64, n)
	if err := src.Read(idx, x, y); err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "data.npz")
	if err := dataset.WriteNPZ(path, x, []int{784}, y); err != nil {
		log.Fatal(err)
	}
	return path
}
