package unlearn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// diagQuad is the one-sample objective L(w) = ½(2w0² + 0.5w1²) of the
// hand-computed optimizer steps (gradient (2w0, 0.5w1)).
func diagQuad() *quad {
	a := mat.NewSymDense(2, []float64{2, 0, 0, 0.5})
	return &quad{a: []*mat.SymDense{a}, b: [][]float64{{0, 0}}, p: 2}
}

// twoSteps runs two full-batch steps from w0 = (1, −2) and returns the iterates.
func twoSteps(t *testing.T, opts TrainOptions) [2][]float64 {
	t.Helper()
	var out [2][]float64
	for k := 1; k <= 2; k++ {
		w := []float64{1, -2}
		opts.Epochs = k
		if _, err := Train(context.Background(), diagQuad(), w, opts); err != nil {
			t.Fatal(err)
		}
		out[k-1] = w
	}
	return out
}

// TestTrainFirstStepsSGD: two steps of torch.optim.SGD written out by hand
// from its update rule (b_1 = g_1, b_t = μb_{t−1} + (1−τ)g_t, w ← w − lr·b or
// w ← w − lr(g + μb) for Nesterov, g including weight decay). The numbers
// agree with PyTorch 1.13 (testdata/torch_optim_steps.py) to the last digit.
func TestTrainFirstStepsSGD(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts TrainOptions
		want [2][]float64
	}{
		{
			// g1 = (2·1 + 0.01·1, 0.5·(−2) + 0.01·(−2)) = (2.01, −1.02)
			// w1 = (1 − 0.201, −2 + 0.102)
			// g2 = (2.01·0.799, 0.51·(−1.898)), b2 = 0.9·g1 + g2
			"momentum+wd",
			TrainOptions{Optimizer: SGD, LearningRate: 0.1, Momentum: 0.9, WeightDecay: 0.01},
			[2][]float64{{0.799, -1.898}, {0.799 - 0.1*(0.9*2.01+2.01*0.799), -1.898 - 0.1*(0.9*-1.02+0.51*-1.898)}},
		},
		{
			// d1 = g1 + 0.9·g1 = 1.9·(2, −1); g2 = (1.24, −0.905);
			// b2 = 0.9·(2, −1) + g2 = (3.04, −1.805); d2 = g2 + 0.9·b2
			"nesterov",
			TrainOptions{Optimizer: SGD, LearningRate: 0.1, Momentum: 0.9, Nesterov: true},
			[2][]float64{{1 - 0.38, -2 + 0.19}, {0.62 - 0.1*(1.24+0.9*3.04), -1.81 - 0.1*(-0.905+0.9*-1.805)}},
		},
		{
			// Dampening does not touch the first step (b1 = g1):
			// b2 = 0.9·(2, −1) + 0.5·(1.6, −0.95)
			"dampening",
			TrainOptions{Optimizer: SGD, LearningRate: 0.1, Momentum: 0.9, Dampening: 0.5},
			[2][]float64{{0.8, -1.9}, {0.8 - 0.1*(1.8+0.8), -1.9 - 0.1*(-0.9-0.475)}},
		},
		{
			"plain",
			TrainOptions{Optimizer: SGD, LearningRate: 0.1},
			[2][]float64{{0.8, -1.9}, {0.8 - 0.1*1.6, -1.9 + 0.1*0.95}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := twoSteps(t, tc.opts)
			// The expected values are the same few float64 operations in a
			// different order: agreement to a few ulps.
			for k := range got {
				if !floats.EqualApprox(got[k], tc.want[k], 1e-15) {
					t.Errorf("step %d: got %v, want %v", k+1, got[k], tc.want[k])
				}
			}
		})
	}
}

// TestTrainFirstStepsAdam: two steps of torch.optim.Adam (β = (0.9, 0.999),
// ε = 1e-8) written out from the update
// m_t = β1m + (1−β1)g, v_t = β2v + (1−β2)g², w ← w − lr·(m_t/(1−β1^t))/(√(v_t/(1−β2^t)) + ε).
// PyTorch 1.13 gives (0.9000000005, −1.900000001) and
// (0.8004122286917927, −1.8001664876318761).
func TestTrainFirstStepsAdam(t *testing.T) {
	// Step 1: m̂ = g, v̂ = g², so w1 = w0 − lr·g/(|g| + ε) with g = (2, −1).
	w1 := []float64{1 - 0.1*2/(2+1e-8), -2 + 0.1*1/(1+1e-8)}
	// Step 2: g2 = (2·w1[0], 0.5·w1[1]).
	g2 := []float64{2 * w1[0], 0.5 * w1[1]}
	m2 := []float64{0.9*0.1*2 + 0.1*g2[0], 0.9*0.1*-1 + 0.1*g2[1]}
	v2 := []float64{0.999*0.001*4 + 0.001*g2[0]*g2[0], 0.999*0.001*1 + 0.001*g2[1]*g2[1]}
	bc1, bc2 := 1-0.9*0.9, 1-0.999*0.999
	w2 := []float64{
		w1[0] - 0.1*(m2[0]/bc1)/(math.Sqrt(v2[0]/bc2)+1e-8),
		w1[1] - 0.1*(m2[1]/bc1)/(math.Sqrt(v2[1]/bc2)+1e-8),
	}
	got := twoSteps(t, TrainOptions{LearningRate: 0.1}) // Adam is the default
	// A different operation order from torch's (which the code follows) and
	// from this formula: agreement to ~1e-15 relative; the step sizes are
	// 0.1, so an error in any term would show at 1e-3 or more.
	for k, want := range [][]float64{w1, w2} {
		if !floats.EqualApprox(got[k], want, 1e-14) {
			t.Errorf("step %d: got %v, want %v", k+1, got[k], want)
		}
	}
	torch := [][]float64{{0.9000000005, -1.900000001}, {0.8004122286917927, -1.8001664876318761}}
	for k := range got {
		if !floats.EqualApprox(got[k], torch[k], 1e-14) {
			t.Errorf("step %d: got %v, PyTorch %v", k+1, got[k], torch[k])
		}
	}
}

// ballChecker records the largest ‖w‖ at which the objective is evaluated
// after the first call, i.e. at every iterate Train visits.
type ballChecker struct {
	Objective
	calls   int
	maxNorm float64
}

func (b *ballChecker) Eval(ctx context.Context, w []float64, idx []int, grad []float64) (float64, error) {
	b.calls++
	b.maxNorm = math.Max(b.maxNorm, Norm(w))
	return b.Objective.Eval(ctx, w, idx, grad)
}

// TestTrainProjectedReducesLoss: Adam and SGD reduce the loss and every
// iterate stays in the C-ball.
func TestTrainProjectedReducesLoss(t *testing.T) {
	rnd := rand.New(rand.NewPCG(29, 30))
	for _, tc := range []struct {
		name string
		obj  Objective
	}{
		{"logreg", newLogReg(rnd, 500, 10, 4, 0.01)},
		{"tanhnet", newTanhNet(rnd, 300, 3, 8, 0.001)},
	} {
		name, obj := tc.name, tc.obj
		for _, opt := range []TrainOptions{
			{Optimizer: Adam, LearningRate: 0.05, BatchSize: 32, Epochs: 5},
			{Optimizer: SGD, LearningRate: 0.1, Momentum: 0.9, BatchSize: 32, Epochs: 5, Schedule: CosineLR},
		} {
			t.Run(name+"/"+opt.Optimizer.String(), func(t *testing.T) {
				w := make([]float64, obj.Dim())
				for i := range w {
					w[i] = 2 * rnd.NormFloat64() // starts outside the ball
				}
				const radius = 3.0
				start, _ := obj.Eval(context.Background(), w, nil, nil)
				bc := &ballChecker{Objective: obj}
				opt.Radius = radius
				res, err := Train(context.Background(), bc, w, opt)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("loss %.4g → %.4g, ‖∇L‖ %.3g, ‖w‖ %.4g, %d projections", start, res.Loss, res.GradNorm, res.Norm, res.Projections)
				// Projection guarantees Norm ≤ C exactly (see Project).
				if bc.maxNorm > radius {
					t.Errorf("an iterate has norm %v > C = %v", bc.maxNorm, radius)
				}
				if !(res.Loss < 0.8*start) {
					t.Errorf("loss %v → %v", start, res.Loss)
				}
				steps := 5 * ((obj.Len() + 31) / 32)
				if res.Steps != steps || res.Epochs != 5 || bc.calls != steps+1 || res.Projections < 1 {
					t.Errorf("steps %d (want %d), epochs %d, evals %d, projections %d", res.Steps, steps, res.Epochs, bc.calls, res.Projections)
				}
			})
		}
	}
}

// TestTrainSchedules checks the learning rates reported for every step.
func TestTrainSchedules(t *testing.T) {
	rnd := rand.New(rand.NewPCG(31, 32))
	obj := newLogReg(rnd, 40, 2, 2, 0.1) // 40 samples, batch 10: 4 steps/epoch
	for _, tc := range []struct {
		name string
		opts TrainOptions
		want func(step, epoch int) float64 // step and epoch from 0
	}{
		{"constant", TrainOptions{LearningRate: 0.2}, func(int, int) float64 { return 0.2 }},
		{"cosine", TrainOptions{LearningRate: 0.2, MinLR: 0.02, Schedule: CosineLR}, func(k, _ int) float64 {
			return 0.02 + 0.18*(1+math.Cos(math.Pi*float64(k)/12))/2
		}},
		{"step", TrainOptions{LearningRate: 0.2, Schedule: StepLR, StepSize: 2, Gamma: 0.5}, func(_, e int) float64 {
			return 0.2 * []float64{1, 1, 0.5}[e]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []TrainProgress
			tc.opts.BatchSize, tc.opts.Epochs = 10, 3
			tc.opts.Progress = func(p TrainProgress) { got = append(got, p) }
			w := make([]float64, obj.Dim())
			if _, err := Train(context.Background(), obj, w, tc.opts); err != nil {
				t.Fatal(err)
			}
			if len(got) != 12 {
				t.Fatalf("%d progress calls, want 12", len(got))
			}
			for k, p := range got {
				want := tc.want(k, k/4)
				if p.Step != k+1 || p.Steps != 12 || p.Epoch != k/4+1 || p.Epochs != 3 || math.Abs(p.LR-want) > 1e-15 {
					t.Errorf("call %d: %+v, want lr %v", k, p, want)
				}
			}
		})
	}
}

// TestTrainDeterministic: equal seeds give identical runs, different seeds
// different shuffles.
func TestTrainDeterministic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(33, 34))
	obj := newLogReg(rnd, 100, 3, 3, 0.01)
	run := func(seed uint64) []float64 {
		w := make([]float64, obj.Dim())
		if _, err := Train(context.Background(), obj, w, TrainOptions{BatchSize: 7, Epochs: 2, Seed: seed, LearningRate: 0.01}); err != nil {
			t.Fatal(err)
		}
		return w
	}
	a, b, c := run(1), run(1), run(2)
	if !floats.Equal(a, b) {
		t.Error("same seed, different result")
	}
	if floats.Equal(a, c) {
		t.Error("different seeds, same result")
	}
}

// TestTrainCancel: cancellation stops training with the context's error.
func TestTrainCancel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(35, 36))
	obj := newLogReg(rnd, 100, 3, 3, 0.01)
	ctx, cancel := context.WithCancel(context.Background())
	w := make([]float64, obj.Dim())
	res, err := Train(ctx, obj, w, TrainOptions{BatchSize: 10, Epochs: 5, Progress: func(p TrainProgress) {
		if p.Step == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || res.Steps != 3 {
		t.Errorf("err %v after %d steps", err, res.Steps)
	}
}

// TestTrainDiverges: SGD with lr·‖H‖ > 2 blows up and is reported.
func TestTrainDiverges(t *testing.T) {
	w := []float64{1, -2}
	_, err := Train(context.Background(), diagQuad(), w, TrainOptions{Optimizer: SGD, LearningRate: 10, Epochs: 2000})
	var de *DivergedError
	if !errors.As(err, &de) || de.Method != "train" {
		t.Fatalf("err = %v, want *DivergedError", err)
	}
}

// TestProject covers the projection contract.
func TestProject(t *testing.T) {
	w := []float64{3, 4}
	if !Project(w, 1) || Norm(w) > 1 || math.Abs(Norm(w)-1) > 1e-15 || math.Abs(w[0]/w[1]-0.75) > 1e-15 {
		t.Errorf("projected %v", w)
	}
	v := []float64{0.3, 0.4}
	if Project(v, 1) || v[0] != 0.3 || v[1] != 0.4 {
		t.Errorf("inside the ball, got %v", v)
	}
	if Project([]float64{1e300, 1e300}, math.Inf(1)) {
		t.Error("infinite radius scaled")
	}
	rnd := rand.New(rand.NewPCG(37, 38))
	for i := 0; i < 1000; i++ {
		x := make([]float64, 1+rnd.IntN(50))
		for j := range x {
			x[j] = rnd.NormFloat64() * math.Exp(10*rnd.NormFloat64())
		}
		c := math.Exp(5 * rnd.NormFloat64())
		Project(x, c)
		if Norm(x) > c {
			t.Fatalf("‖x‖ = %v > C = %v", Norm(x), c)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for radius 0")
		}
	}()
	Project(w, 0)
}

func TestDistance(t *testing.T) {
	if d := Distance([]float64{1, 2, 3}, []float64{1, 5, 7}); d != 5 {
		t.Errorf("Distance = %v", d)
	}
}
