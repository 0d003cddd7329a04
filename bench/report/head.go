package main

import "fmt"

// pyHead is torch_bench.py's head section: one fit per solver and run.
type pyHead struct {
	Head struct {
		GradTol  float64 `json:"grad_tol"`
		Retained int     `json:"retained"`
		LBFGS    pyFit   `json:"lbfgs"`
		Newton   pyFit   `json:"newton"`
	} `json:"head"`
}

type pyFit struct {
	Median float64 `json:"median_s"`
	Runs   []struct {
		Seconds     float64 `json:"seconds"`
		Features    float64 `json:"features_s"`
		Fit         float64 `json:"fit_s"`
		Iterations  int     `json:"iterations"`
		Evaluations int     `json:"evaluations"`
		HVPs        int     `json:"hvps"`
		GradNorm    float64 `json:"grad_norm"`
		Converged   bool    `json:"converged"`
	} `json:"runs"`
}

// pySeconds returns a function giving the in-process time of one solver in
// a run of torch_bench.py --sections head.
func pySeconds(solver string) func(run) float64 {
	return func(r run) float64 {
		var o pyHead
		if r.decode(&o) != nil {
			return 0
		}
		if solver == "lbfgs" {
			return o.Head.LBFGS.Median
		}
		return o.Head.Newton.Median
	}
}

// headSection: the convex (head) scope on models/mnist_head.onnx.
func (r *report) headSection() error {
	g, err := r.group("head")
	if err != nil {
		return err
	}
	tTime := target{what: "`lethe unlearn --scope head`, mnist_head, 1,000 forgotten, whole process (features included)", goal: "≤ 1 s"}
	tRatio := target{what: "head: retraining from scratch to the same ‖∇‖ ÷ `lethe unlearn --scope head`", goal: "≥ 5×"}
	if g == nil {
		r.target(tTime)
		r.target(tRatio)
		return nil
	}
	un, rt, py := ok(g.of("head/unlearn")), ok(g.of("head/retrain")), ok(g.of("head/python"))
	uo, ro, po := decodeAll[unlearnOut](un), decodeAll[retrainOut](rt), decodeAll[pyHead](py)
	su, sr := statsOf(walls(un)), statsOf(walls(rt))
	sl, sn := statsOf(mapRuns(py, pySeconds("lbfgs"))), statsOf(mapRuns(py, pySeconds("newton")))
	wall := func(x run) float64 { return x.Wall }
	r.printf("\n## Head scope: `lethe unlearn --scope head` on models/mnist_head.onnx\n\n")
	r.printf("Data: the model's private split D (mnist:train[30000:60000], 30,000 samples with the model card's\n")
	r.printf("100 canaries relabelled; bench/prepare.py writes it as bench/out/data/mnist_private.npz, float32).\n")
	r.printf("Forget set: bench/mnist_head_forget_1000.txt, the model card's 1,000 random non-canary private\n")
	r.printf("samples (seed 1); retained set 29,000. Features (784-256-128 backbone) are computed inside every\n")
	r.printf("timed command. The references fit the head **from zeros** to the gradient norm the certified run\n")
	r.printf("reached (read from its certificate, `bound.posterior_grad_norm`, of one untimed run before the rounds):\n")
	if len(po) > 0 {
		r.printf("‖∇L_r‖ ≤ %.4g.\n", po[0].Head.GradTol)
	}
	r.printf("\n- `lethe retrain --scope head --grad-tol G`: lethe's exact head retrain (Newton from zeros).\n")
	r.printf("- PyTorch L-BFGS (bench/torch_bench.py `--sections head`): features by the backbone in float32 (torch,\n")
	r.printf("  no_grad) widened to float64; `torch.optim.LBFGS(history_size=100, line_search_fn='strong_wolfe')` on\n")
	r.printf("  (W, b) from zeros, mean cross-entropy + (μ/2)‖(W, b)‖², μ = 1e-3, float64; it stops at the first\n")
	r.printf("  point it evaluates whose gradient 2-norm is ≤ G (no extra evaluation). Timed in-process: features +\n")
	r.printf("  fit; interpreter start and data loading are not included (that favours PyTorch).\n")
	r.printf("- NumPy Newton-CG (same script): the solver that fitted the bundled head (models/softmax_newton.py),\n")
	r.printf("  same features, from zeros until ‖∇‖ < G, timed the same way.\n\n")
	r.printf("%d rounds, %s.\n\n", su.n, loadRange(g))
	r.printf("| command | time, median (min) | what it did | peak RSS | ÷ lethe unlearn (medians) | per round |\n| --- | --- | --- | --- | --- | --- |\n")
	if len(uo) > 0 {
		o := uo[0]
		r.printf("| lethe unlearn --scope head (whole process) | %s | %d Newton steps from w*, %d HVPs; bound %.3g ≤ budget %.3g; features by the %s engine; in-process %.2f s, of which the Newton steps %.2f s | %.0f MB | | |\n",
			medMin(su), o.NewtonSteps, o.HVPs, o.BoundPosterior, o.Budget, o.FeatureEngine,
			statsOf(mapOuts(uo, func(o unlearnOut) float64 { return o.Seconds })).med,
			statsOf(mapOuts(uo, func(o unlearnOut) float64 { return o.UpdateSeconds })).med, statsOf(rssMB(un)).med)
	}
	if len(ro) > 0 {
		o := ro[0]
		r.printf("| lethe retrain --scope head --grad-tol G (whole process) | %s | %d Newton steps from zeros; training %.2f s; ‖∇‖ %.3g as stored in float32 | %.0f MB | %s | %s |\n",
			medMin(sr), o.NewtonSteps, statsOf(mapOuts(ro, func(o retrainOut) float64 { return o.TrainSeconds })).med,
			o.Final.GradNorm, statsOf(rssMB(rt)).med, ratio(sr.med, su.med), ratioRange(perRound(rt, un, wall, wall)))
	}
	if len(po) > 0 {
		f := po[0].Head.LBFGS
		if len(f.Runs) > 0 {
			x := f.Runs[0]
			r.printf("| PyTorch L-BFGS from zeros (in-process: features + fit) | %s | %d iterations, %d evaluations, ‖∇‖ %.3g (reached: %t); features %.2f s | %.0f MB (whole process, both fits) | %s | %s |\n",
				medMin(sl), x.Iterations, x.Evaluations, x.GradNorm, x.Converged, x.Features, statsOf(rssMB(py)).med,
				ratio(sl.med, su.med), ratioRange(perRound(py, un, pySeconds("lbfgs"), wall)))
		}
		f = po[0].Head.Newton
		if len(f.Runs) > 0 {
			x := f.Runs[0]
			r.printf("| NumPy Newton-CG from zeros (in-process: features + fit) | %s | %d Newton iterations, %d HVPs, ‖∇‖ %.3g | | %s | %s |\n",
				medMin(sn), x.Iterations, x.HVPs, x.GradNorm, ratio(sn.med, su.med), ratioRange(perRound(py, un, pySeconds("newton"), wall)))
		}
		r.printf("\nThe Python process as a whole (interpreter, imports, data, both fits): %s median.\n", dur(statsOf(walls(py)).med))
	}
	r.commands(g)
	if su.n > 0 {
		tTime.measured = fmt.Sprintf("%s median, %s min (in-process %.2f s)", dur(su.med), dur(su.min),
			statsOf(mapOuts(uo, func(o unlearnOut) float64 { return o.Seconds })).med)
		tTime.met = isMet(su.med <= 1)
	}
	if su.n > 0 && sr.n > 0 {
		tRatio.measured = fmt.Sprintf("lethe retrain --scope head: %s× (per round %s)", ratio(sr.med, su.med), ratioRange(perRound(rt, un, wall, wall)))
		if sl.n > 0 {
			tRatio.measured += fmt.Sprintf("; PyTorch L-BFGS: %s×", ratio(sl.med, su.med))
		}
		if sn.n > 0 {
			tRatio.measured += fmt.Sprintf("; NumPy Newton-CG: %s×", ratio(sn.med, su.med))
		}
		tRatio.met = isMet(sr.med/su.med >= 5)
	}
	r.target(tTime)
	r.target(tRatio)
	return nil
}
