package unlearn_test

import (
	"context"
	"fmt"

	"github.com/lethe-ml/lethe/unlearn"
)

// ridge is L(w, S) = mean_{i∈S} ½(x_iᵀw − y_i)² + (μ/2)‖w‖².
type ridge struct {
	x  [][]float64
	y  []float64
	mu float64
}

func (r *ridge) Dim() int { return len(r.x[0]) }
func (r *ridge) Len() int { return len(r.x) }

func (r *ridge) each(idx []int, f func(i int)) float64 {
	if idx == nil {
		for i := range r.x {
			f(i)
		}
		return float64(len(r.x))
	}
	for _, i := range idx {
		f(i)
	}
	return float64(len(idx))
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func (r *ridge) Eval(ctx context.Context, w []float64, idx []int, grad []float64) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for j := range grad {
		grad[j] = 0
	}
	loss := 0.0
	n := r.each(idx, func(i int) {
		res := dot(r.x[i], w) - r.y[i]
		loss += res * res / 2
		for j := range grad {
			grad[j] += res * r.x[i][j]
		}
	})
	for j := range grad {
		grad[j] = grad[j]/n + r.mu*w[j]
	}
	return loss/n + r.mu/2*dot(w, w), nil
}

func (r *ridge) HVP(ctx context.Context, w []float64, idx []int, v, dst []float64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for j := range dst {
		dst[j] = 0
	}
	n := r.each(idx, func(i int) {
		xv := dot(r.x[i], v)
		for j := range dst {
			dst[j] += xv * r.x[i][j]
		}
	})
	for j := range dst {
		dst[j] = dst[j]/n + r.mu*v[j]
	}
	return nil
}

// For a quadratic loss one Newton step from the original optimum lands exactly
// on the retrained optimum.
func ExampleNewton() {
	ctx := context.Background()
	x := [][]float64{{1, 0.5}, {0.2, 1}, {-1, 0.3}, {0.7, -0.4}, {0.1, 0.9}, {-0.5, -0.6}}
	y := []float64{1, 2, -1, 0.5, 1.5, -1}
	full := &ridge{x: x, y: y, mu: 0.1}
	retained := &ridge{x: x[1:], y: y[1:], mu: 0.1} // forget sample 0

	// The original optimum, by full-batch projected gradient descent.
	w := make([]float64, 2)
	unlearn.Train(ctx, full, w, unlearn.TrainOptions{Optimizer: unlearn.SGD, LearningRate: 0.5, BatchSize: 6, Epochs: 2000, Radius: 10})
	diag, _ := unlearn.Diagnose(ctx, full, w, 10)
	fmt.Printf("stationary: %v, constraint active: %v\n", diag.GradNorm < 1e-12, diag.Active)

	res, err := unlearn.Newton(ctx, retained, w, unlearn.NewtonOptions{Radius: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The retrained optimum, for comparison.
	wr := append([]float64(nil), w...)
	unlearn.Train(ctx, retained, wr, unlearn.TrainOptions{Optimizer: unlearn.SGD, LearningRate: 0.5, BatchSize: 5, Epochs: 2000, Radius: 10})

	// λ comes from the Ritz values of the solve's Krylov space; the default
	// path does not estimate λ_min.
	fmt.Printf("λ = %g (automatic: %v), lowest Ritz value > 0: %v\n", res.Lambda, res.LambdaAuto, res.Krylov.Lowest > 0)
	fmt.Printf("solver %s, residual below 1e-9: %v\n", res.Solve.Method, res.Solve.Residual < 1e-9)
	fmt.Printf("M: %s (quadratic loss: %g)\n", res.M.Source, res.M.Value)
	fmt.Printf("‖w̃ − w̃*‖ below 1e-9: %v\n", unlearn.Distance(res.W, wr) < 1e-9)
	// Output:
	// stationary: true, constraint active: false
	// λ = 0 (automatic: true), lowest Ritz value > 0: true
	// solver cg-lanczos, residual below 1e-9: true
	// M: estimated (quadratic loss: 0)
	// ‖w̃ − w̃*‖ below 1e-9: true
}

func ExampleProject() {
	w := []float64{6, 8} // ‖w‖ = 10
	scaled := unlearn.Project(w, 5)
	fmt.Println(w, scaled, unlearn.Norm(w))
	// Output: [3 4] true 5
}
