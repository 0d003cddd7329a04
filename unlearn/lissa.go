package unlearn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/floats"
)

// LiSSA solves (H + λI)u = g stochastically, exactly as DESIGN.md §1: with a
// scale s ≥ ‖H + λI‖ and mini-batches B_1..B_t of the objective's samples,
//
//	v_0 = g,  v_i = g + v_{i−1} − (H_{B_i}v_{i−1} + λv_{i−1})/s,  u = v_t/s,
//
// averaged over Repetitions independent runs. v_t/s is the truncated Neumann
// series (1/s)Σ_{k≤t}(I − A/s)^k g of A⁻¹g, A = H + λI. With full batches
// (BatchSize ≥ Len) and s ≥ ‖A‖ it is deterministic and
//
//	‖u − A⁻¹g‖ ≤ (1 − a/s)^(t+1)·‖A⁻¹g‖,  ρ ≤ (1 − a/s)^(t+1)·‖g‖,  a = λ + λ_min,
//
// which is its stated tolerance; mini-batches add zero-mean noise on top.
// So Depth must be a few times s/(λ + λ_min). The reported residual ρ is
// measured on the full data, so it is honest whatever the settings.
//
// Each mini-batch is a uniformly random subset (without replacement inside the
// batch, independent between steps). A non-finite or exploding iterate
// (‖v_i‖ > 1000·(i+1)·‖g‖, impossible when every ‖I − A_B/s‖ ≤ 1) means that
// the scale is below ‖H_B + λI‖ for some mini-batches: LiSSA then starts
// over with a scale four times larger, at most three times (recorded in
// SolveStats.Restarts), and returns a *DivergedError only if that fails too
// or NoRestart is set.
type LiSSA struct {
	// Depth is t, the number of recursion steps per repetition. Default 1000
	// (the paper's s2).
	Depth int
	// Repetitions is r, the number of independent runs averaged. Default 10
	// (the paper's s1).
	Repetitions int
	// BatchSize is the mini-batch size |B_i|. Default 10 (the paper's
	// unlearning batch size); values ≥ Len() use all samples every step.
	BatchSize int
	// Scale is s. If 0, it is chosen from the mini-batch Hessians the
	// recursion will meet (the seed's proposition needs s ≥ ‖H_B + λI‖ for
	// the sampled batches, not only for the full H):
	//
	//	s = Safety·max(ŝ_1, …, ŝ_m, ‖H‖ + |λ|),
	//
	// ŝ_j the power-iteration estimate of ‖H_{B_j} + λI‖ on ScaleBatches
	// random mini-batches B_j of BatchSize samples, ‖H‖ from
	// Problem.HessianNorm (left out when 0). With full batches (BatchSize ≥
	// Len) and a given Problem.HessianNorm no HVP is spent on the scale.
	Scale float64
	// Safety is the factor in the automatic scale. Default 2: the step is
	// non-expansive on a batch whose ‖H_B + λI‖ ≤ 2s (the eigenvalues of
	// I − A_B/s lie in [−1, 1] for A_B ⪰ 0), so s = 2·max ŝ_j covers every
	// batch up to 4× the largest sampled norm, and the proposition's
	// s ≥ ‖H_B + λI‖ every batch up to twice it, which also absorbs power
	// iteration's under-estimate. The sampled maximum exceeds the norm of a
	// fresh batch with probability ≥ m/(m+1) whatever the distribution. On
	// the MNIST MLP at batch 10, the norms of 200 random batches had median
	// 23, 90th percentile 108 and maximum 285 (‖H‖ = 5.6). Ignored when
	// Scale is set.
	Safety float64
	// ScaleBatches is m, the number of mini-batches sampled for the
	// automatic scale. Default 20 (≈ 0.1 full-data HVPs on MNIST at batch 10).
	ScaleBatches int
	// Power configures the power iteration on each sampled batch. Defaults
	// MaxIter 30 and Tol 1e-2 (Safety covers the rest: power iteration
	// approaches the norm from below).
	Power SpectralOptions
	// NoRestart returns a *DivergedError at the first divergence instead of
	// starting over with a larger scale.
	NoRestart bool
	// Seed seeds the mini-batch sampling; repetition k draws from its own
	// stream, so the result does not depend on Workers' scheduling.
	Seed uint64
	// Workers is how many repetitions run at once. Default 1; more requires
	// an Objective safe for concurrent use (autodiff.Objective is). The
	// repetitions' sum is taken in a fixed order per worker count.
	Workers int
	// Progress, if not nil, is called after every step.
	Progress func(SolveProgress)
}

// lissaGrowth bounds ‖v_i‖/((i+1)‖g‖) before LiSSA declares divergence.
const lissaGrowth = 1000

// A divergence restarts LiSSA with the scale multiplied by lissaRestartFactor,
// at most lissaMaxRestarts times.
const (
	lissaRestartFactor = 4
	lissaMaxRestarts   = 3
)

// Solve implements Solver.
func (l *LiSSA) Solve(ctx context.Context, p Problem, g []float64) ([]float64, SolveStats, error) {
	checkLen(p.W, p.Obj)
	checkLen(g, p.Obj)
	depth, reps, bs := l.Depth, l.Repetitions, l.BatchSize
	if depth <= 0 {
		depth = 1000
	}
	if reps <= 0 {
		reps = 10
	}
	if bs <= 0 {
		bs = 10
	}
	st := SolveStats{Method: "lissa", Iterations: depth, Repetitions: reps}
	var c counter
	nSamples := p.Obj.Len()
	if nSamples == 0 {
		return nil, st, errors.New("unlearn: lissa: objective has no samples")
	}
	s := l.Scale
	if s <= 0 {
		var err error
		if s, err = l.autoScale(ctx, p, bs, &c); err != nil {
			st.HVPs, st.SampleHVPs = c.calls, c.samples
			return nil, st, err
		}
	}
	for {
		st.Scale = s
		u, err := l.run(ctx, p, g, s, depth, reps, bs, &c)
		var de *DivergedError
		if errors.As(err, &de) && !l.NoRestart && st.Restarts < lissaMaxRestarts {
			st.Restarts++
			s *= lissaRestartFactor
			continue
		}
		if err != nil {
			st.HVPs, st.SampleHVPs = c.calls, c.samples
			return nil, st, err
		}
		if err := finishStats(ctx, &st, p, u, g, &c); err != nil {
			return u, st, err
		}
		return u, st, nil
	}
}

// autoScale returns the automatic scale of LiSSA.Scale.
func (l *LiSSA) autoScale(ctx context.Context, p Problem, bs int, c *counter) (float64, error) {
	safety := l.Safety
	if safety <= 0 {
		safety = 2
	}
	m := l.ScaleBatches
	if m <= 0 {
		m = 20
	}
	po := l.Power
	if po.MaxIter <= 0 {
		po.MaxIter = 30
	}
	if po.Tol <= 0 {
		po.Tol = 1e-2
	}
	po.Shift = 0
	nSamples, n := p.Obj.Len(), len(p.W)
	top := 0.0
	if p.HessianNorm > 0 {
		top = p.HessianNorm + math.Abs(p.Lambda)
	}
	if bs >= nSamples {
		if p.HessianNorm <= 0 {
			// One batch: all samples.
			pe, err := powerIteration(ctx, hessianOp(ctx, p.Obj, p.W, p.Lambda, c), n, po)
			if err != nil {
				return 0, fmt.Errorf("unlearn: lissa scale: %w", err)
			}
			top = pe.Value
		}
	} else {
		rnd := newRand(l.Seed, streamLissaScale)
		for j := 0; j < m; j++ {
			batch := rnd.Perm(nSamples)[:bs]
			op := func(dst, v []float64) error { return hvp(ctx, p.Obj, p.W, batch, p.Lambda, v, dst, c) }
			po.Seed = l.Seed + uint64(j)
			pe, err := powerIteration(ctx, op, n, po)
			if err != nil {
				return 0, fmt.Errorf("unlearn: lissa scale, batch %d: %w", j+1, err)
			}
			top = math.Max(top, pe.Value)
		}
	}
	s := safety * top
	if !(s > 0) || math.IsInf(s, 0) {
		return 0, fmt.Errorf("unlearn: lissa: cannot choose a scale from the mini-batch Hessian norms (largest %g) and λ = %g; set Scale", top, p.Lambda)
	}
	return s, nil
}

// run averages the repetitions' v_t/s with scale s, counting HVPs into c.
func (l *LiSSA) run(ctx context.Context, p Problem, g []float64, s float64, depth, reps, bs int, c *counter) ([]float64, error) {
	n := len(g)
	workers := max(1, min(l.Workers, reps))
	sums := make([][]float64, workers)
	counts := make([]counter, workers)
	errs := make([]error, workers)
	var mu sync.Mutex
	report := func(rep, step int) {
		if l.Progress != nil {
			mu.Lock()
			defer mu.Unlock()
			l.Progress(SolveProgress{Method: "lissa", Iter: step, MaxIter: depth, Repetition: rep, Repetitions: reps,
				RelResidual: math.NaN()})
		}
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for w := range workers {
		sums[w] = make([]float64, n)
		wg.Go(func() {
			run := lissaRun{l: l, p: p, g: g, scale: s, depth: depth, batch: bs, c: &counts[w], report: report}
			for rep := w + 1; rep <= reps; rep += workers {
				if errs[w] = run.repetition(wctx, rep, sums[w]); errs[w] != nil {
					stop() // the others need not finish
					return
				}
			}
		})
	}
	wg.Wait()
	for w := range workers {
		c.calls += counts[w].calls
		c.samples += counts[w].samples
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for w := range workers {
		if errs[w] != nil && !errors.Is(errs[w], context.Canceled) {
			return nil, errs[w]
		}
	}
	u := sums[0]
	for _, sum := range sums[1:] {
		floats.Add(u, sum)
	}
	for j := range u {
		u[j] /= s * float64(reps)
	}
	return u, nil
}

// lissaRun is one worker's state: it runs repetitions one after another.
type lissaRun struct {
	l            *LiSSA
	p            Problem
	g            []float64
	scale        float64
	depth, batch int
	c            *counter
	report       func(rep, step int)
	v, hv        []float64
	perm, idx    []int
}

// repetition runs the recursion of repetition rep and adds v_t into sum.
func (r *lissaRun) repetition(ctx context.Context, rep int, sum []float64) error {
	n, nSamples := len(r.g), r.p.Obj.Len()
	if r.v == nil {
		r.v, r.hv = make([]float64, n), make([]float64, n)
		if r.batch < nSamples {
			r.idx, r.perm = make([]int, r.batch), make([]int, nSamples)
		}
	}
	for i := range r.perm {
		r.perm[i] = i // each repetition's draws depend on its stream alone
	}
	rnd := newRand(r.l.Seed, streamLissa+uint64(rep)<<32)
	gn := Norm(r.g)
	keep, inv := 1-r.p.Lambda/r.scale, 1/r.scale
	v, hv := r.v, r.hv
	copy(v, r.g)
	for i := 1; i <= r.depth; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var batch []int // nil = all samples
		if r.idx != nil {
			// Partial Fisher–Yates: perm[:bs] becomes a uniform random subset.
			for j := range r.idx {
				k := j + rnd.IntN(nSamples-j)
				r.perm[j], r.perm[k] = r.perm[k], r.perm[j]
			}
			batch = r.idx
			copy(batch, r.perm)
		}
		if err := hvp(ctx, r.p.Obj, r.p.W, batch, 0, v, hv, r.c); err != nil {
			return fmt.Errorf("unlearn: lissa repetition %d, step %d: %w", rep, i, err)
		}
		// v ← g + v − (H_B v + λv)/s, with ‖v‖² in the same pass: the
		// divergence check runs every step, and a plain sum of squares
		// cannot overflow before the check's bound does.
		var sq float64
		for j, gj := range r.g {
			x := gj + keep*v[j] - hv[j]*inv
			v[j] = x
			sq += x * x
		}
		if vn := math.Sqrt(sq); !isFinite(vn) || vn > lissaGrowth*float64(i+1)*gn {
			return &DivergedError{Method: "lissa", Iter: i, Value: vn, Scale: r.scale}
		}
		r.report(rep, i)
	}
	floats.Add(sum, v)
	return nil
}
