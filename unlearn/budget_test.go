package unlearn_test

import (
	"context"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/unlearn"
)

// convexCase is the L2 logistic regression of TestConvexMNIST (2,000 MNIST
// samples, μ = 0.01, 1% forgotten) with the exact minimisers on D and D_r
// and the rounding margin of the retained objective.
type convexCase struct {
	retained   *autodiff.Objective
	margin     unlearn.MarginFunc
	wStar      []float64 // minimiser on D
	wRetrained []float64 // minimiser on D_r, ‖∇‖ < 1e-11
	mu         float64
}

func newConvexCase(t *testing.T) convexCase {
	t.Helper()
	const n, mu = 2000, 0.01
	ms := newMNISTSetup(t, n, "logreg")
	full := &autodiff.Objective{Program: ms.prog, Data: ms.data, L2: mu}
	wStar := minimise(t, full, ms.w)
	retained := &autodiff.Objective{Program: ms.prog, Data: ms.data, Index: keptSamples(n), L2: mu}
	m, err := onnxio.Load(testenv.Testdata("models/logreg.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rm, err := autodiff.NewRoundingMargin(m, nil, retained)
	if err != nil {
		t.Fatal(err)
	}
	return convexCase{retained: retained, margin: rm.Margin, wStar: wStar,
		wRetrained: minimise(t, retained, wStar), mu: mu}
}

// TestPosteriorBoundIsTightAndValid is issue 10's acceptance check: the
// a-posteriori bound (‖ĝ‖ + margin)/μ is at least the true distance to the
// retrained minimiser and within 10× of it, at the original model and after
// one Newton step.
func TestPosteriorBoundIsTightAndValid(t *testing.T) {
	c := newConvexCase(t)
	ctx := context.Background()
	one, err := unlearn.NewtonToBudget(ctx, c.retained, c.wStar, unlearn.BudgetOptions{
		Mu: c.mu, Budget: 1e-30, Margin: c.margin, MaxSteps: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name string
		w    []float64
	}{{"w*", c.wStar}, {"one Newton step", one.W}} {
		post, err := unlearn.PosteriorBound(ctx, c.retained, p.w, c.mu, c.margin, nil)
		if err != nil {
			t.Fatal(err)
		}
		truth := unlearn.Distance(p.w, c.wRetrained)
		t.Logf("%s: true distance %.4g, posterior bound %.4g (‖ĝ‖ %.3g, margin %.3g): ratio %.2f",
			p.name, truth, post.Bound, post.GradNorm, post.Margin, post.Bound/truth)
		if post.Bound < truth {
			t.Errorf("%s: posterior bound %.4g below the true distance %.4g", p.name, post.Bound, truth)
		}
		if post.Bound > 10*truth {
			t.Errorf("%s: posterior bound %.4g more than 10× the true distance %.4g", p.name, post.Bound, truth)
		}
	}
}

// TestNewtonToBudget checks the release rule's two halves: steps from w*
// reach a small budget in a couple of steps; with too few steps they report
// Reached false, and the retrain from zeros with more steps gets there. The
// released point is within the budget of the retrained minimiser. Both
// build their preconditioner (the identity, here) where PrecondAt's rule
// says: once from w*, again from zeros as the steps move away.
func TestNewtonToBudget(t *testing.T) {
	c := newConvexCase(t)
	ctx := context.Background()
	const budget = 1e-6
	var built [][]float64
	identityAt := func(_ context.Context, w []float64) (func(dst, r []float64) error, error) {
		built = append(built, slices.Clone(w))
		return func(dst, r []float64) error { copy(dst, r); return nil }, nil
	}
	w0 := slices.Clone(c.wStar)
	res, err := unlearn.NewtonToBudget(ctx, c.retained, c.wStar, unlearn.BudgetOptions{Mu: c.mu, Budget: budget, Margin: c.margin, PrecondAt: identityAt})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w0, c.wStar) {
		t.Fatal("NewtonToBudget modified its start")
	}
	d := unlearn.Distance(res.W, c.wRetrained)
	t.Logf("from w*: %d steps, bound %.3g, true distance %.3g, %d HVPs", len(res.Steps), res.Posterior.Bound, d, res.HVPs)
	// Quadratic convergence from ‖w* − w̃*‖ ≈ 0.1 needs two steps for 1e-6.
	if !res.Reached || len(res.Steps) > 3 || d > res.Posterior.Bound {
		t.Fatalf("from w*: reached %v in %d steps, bound %.3g, true distance %.3g", res.Reached, len(res.Steps), res.Posterior.Bound, d)
	}
	if len(built) != 1 || !slices.Equal(built[0], c.wStar) {
		t.Errorf("from w*: preconditioner built %d times, want once, at w*", len(built))
	}

	short, err := unlearn.NewtonToBudget(ctx, c.retained, make([]float64, len(c.wStar)), unlearn.BudgetOptions{
		Mu: c.mu, Budget: budget, Margin: c.margin, MaxSteps: 1})
	if err != nil {
		t.Fatal(err)
	}
	if short.Reached || len(short.Steps) != 1 {
		t.Fatalf("one step from zeros: reached %v after %d steps (bound %.3g)", short.Reached, len(short.Steps), short.Posterior.Bound)
	}
	built = nil
	long, err := unlearn.NewtonToBudget(ctx, c.retained, make([]float64, len(c.wStar)), unlearn.BudgetOptions{
		Mu: c.mu, Budget: budget, Margin: c.margin, MaxSteps: 50, PrecondAt: identityAt})
	if err != nil {
		t.Fatal(err)
	}
	d = unlearn.Distance(long.W, c.wRetrained)
	t.Logf("from zeros: %d steps (step sizes %v), bound %.3g, true distance %.3g", len(long.Steps), stepSizes(long.Steps), long.Posterior.Bound, d)
	if !long.Reached || d > long.Posterior.Bound {
		t.Fatalf("from zeros: reached %v, bound %.3g, true distance %.3g", long.Reached, long.Posterior.Bound, d)
	}
	t.Logf("from zeros: preconditioner built %d times in %d steps", len(built), len(long.Steps))
	if len(built) < 2 || len(built) >= len(long.Steps) || unlearn.Norm(built[0]) != 0 {
		t.Errorf("from zeros: preconditioner built %d times in %d steps, want first at zeros, then again, but not before every step", len(built), len(long.Steps))
	}
	for i := 1; i < len(built); i++ {
		if unlearn.Distance(built[i], built[i-1]) <= unlearn.PrecondMove*unlearn.Norm(built[i-1]) {
			t.Errorf("from zeros: build %d only %.3g from the last one (norm %.3g)", i, unlearn.Distance(built[i], built[i-1]), unlearn.Norm(built[i-1]))
		}
	}
}

func stepSizes(steps []unlearn.NewtonStep) []float64 {
	var out []float64
	for _, s := range steps {
		out = append(out, s.StepSize)
	}
	return out
}
