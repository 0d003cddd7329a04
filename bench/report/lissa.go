package main

import "fmt"

// pyUnlearn is torch_bench.py's unlearn section.
type pyUnlearn struct {
	Unlearn struct {
		Gradient timing  `json:"full_gradient_b128"`
		Lissa    timing  `json:"lissa"`
		Total    float64 `json:"total_lean_s"`
		Result   struct {
			GradNorm    float64 `json:"grad_norm"`
			Residual    float64 `json:"residual_norm"`
			RelResidual float64 `json:"relative_residual"`
		} `json:"lissa_result"`
	} `json:"unlearn"`
}

// timing is torch_bench.py's per-measurement record.
type timing struct {
	Median float64 `json:"median_s"`
	Min    float64 `json:"min_s"`
}

func pyLissaTotal(r run) float64 {
	var o pyUnlearn
	if r.decode(&o) != nil {
		return 0
	}
	return o.Unlearn.Total
}

// lissaSection: the LiSSA command with no tuning flags against
// PyTorch's gradient + LiSSA with the paper's settings.
func (r *report) lissaSection() error {
	g, err := r.group("lissa")
	if err != nil {
		return err
	}
	t := target{what: "LiSSA, the paper's settings, no other flags: completes; whole run ÷ PyTorch's retained gradient + LiSSA", goal: "completes; ≤ 0.25"}
	if g == nil {
		r.target(t)
		return nil
	}
	all := g.of("lissa/lethe")
	le, pt := ok(all), ok(g.of("lissa/torch"))
	lo, po := decodeAll[unlearnOut](le), decodeAll[pyUnlearn](pt)
	sl, sp := statsOf(walls(le)), statsOf(mapRuns(pt, pyLissaTotal))
	pr := perRound(le, pt, func(x run) float64 { return x.Wall }, pyLissaTotal)
	r.printf("\n## LiSSA with the paper's settings (MNIST MLP, 1,000 forgotten)\n\n")
	r.printf("The issue's command as a new user types it (`--solver lissa --lissa-depth 1000 --lissa-repetitions 10\n")
	r.printf("--lissa-batch 10`, no scale, no λ), timed as a whole process, against PyTorch's retained-set gradient\n")
	r.printf("(batch 128) + LiSSA (10 × 1,000 steps, batch 10, scale 1000, λ 0.01, the lean in-memory variant of\n")
	r.printf("bench/README.md) timed inside the Python process. %d of %d lethe runs completed; %s.\n\n", len(le), len(all), loadRange(g))
	r.printf("| | lethe | PyTorch | lethe ÷ PyTorch (medians) | per round |\n| --- | --- | --- | --- | --- |\n")
	r.printf("| whole lethe run ÷ PyTorch gradient + LiSSA | %s | %s | %s | %s |\n", medMin(sl), medMin(sp), ratio(sl.med, sp.med), ratioRange(pr))
	if len(lo) > 0 && len(po) > 0 {
		lg, ls := statsOf(stageSeconds(lo, "gradient")), statsOf(stageSeconds(lo, "solve"))
		pg := statsOf(mapOuts(po, func(o pyUnlearn) float64 { return o.Unlearn.Gradient.Median }))
		pl := statsOf(mapOuts(po, func(o pyUnlearn) float64 { return o.Unlearn.Lissa.Median }))
		r.printf("| gradient on D_r (59,000 samples) | %s | %s | %s | |\n", medMin(lg), medMin(pg), ratio(lg.med, pg.med))
		r.printf("| LiSSA solve | %s | %s | %s | |\n", medMin(ls), medMin(pl), ratio(ls.med, pl.med))
		o := lo[0]
		r.printf("\nlethe's stages (median s):")
		for _, s := range o.Stages {
			r.printf(" %s %.2f;", s.Stage, statsOf(stageSeconds(lo, s.Stage)).med)
		}
		r.printf(" in-process total %.2f. Certificate: active bound %s, Δ = %.4g, σ = %.6g; λ = %.4g (automatic),\n",
			statsOf(mapOuts(lo, func(o unlearnOut) float64 { return o.Seconds })).med, o.ActiveBound, o.Sensitivity, o.Sigma, o.Lambda)
		r.printf("%d HVPs, residual ‖(H + λI)u − g‖ = %.3g. PyTorch's lean LiSSA (λ = 0.01, s = 1000): relative residual %.2f of ‖g‖ = %.3g.\n",
			o.HVPs, o.Residual, po[0].Unlearn.Result.RelResidual, po[0].Unlearn.Result.GradNorm)
	}
	r.commands(g)
	if sl.n > 0 && sp.n > 0 {
		t.measured = fmt.Sprintf("%d/%d completed; %s (per round %s)", len(le), len(all), ratio(sl.med, sp.med), ratioRange(pr))
		t.met = isMet(len(le) == len(all) && sl.med/sp.med <= 0.25)
	}
	r.target(t)
	return nil
}
