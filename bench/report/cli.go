package main

import (
	"fmt"
	"math"
)

// unlearnOut is the part of `lethe unlearn --json` the report reads.
type unlearnOut struct {
	Status         string  `json:"status"`
	Scope          string  `json:"scope"`
	N              int     `json:"n"`
	NForget        int     `json:"n_forget"`
	Certified      int     `json:"certified_parameters"`
	Sigma          float64 `json:"sigma"`
	Sensitivity    float64 `json:"sensitivity"`
	ActiveBound    string  `json:"active_bound"`
	Budget         float64 `json:"budget"`
	BoundPosterior float64 `json:"bound_posterior"`
	NewtonSteps    int     `json:"newton_steps"`
	Start          string  `json:"start"`
	FeatureEngine  string  `json:"feature_engine"`
	Lambda         float64 `json:"lambda"`
	Residual       float64 `json:"residual"`
	HVPs           int     `json:"hvps"`
	UpdateSeconds  float64 `json:"update_seconds"`
	Seconds        float64 `json:"seconds"`
	Stages         []stage `json:"stages"`
}

type stage struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
}

// retrainOut is the part of `lethe retrain --json` the report reads.
type retrainOut struct {
	NRetained int `json:"n_retained"`
	Params    int `json:"params"`
	Recipe    struct {
		Epochs int `json:"epochs"`
	} `json:"recipe"`
	Final struct {
		GradNorm float64 `json:"grad_norm"`
	} `json:"final"`
	NewtonSteps  int     `json:"newton_steps"`
	Scope        string  `json:"scope"`
	TrainSeconds float64 `json:"train_seconds"`
	Seconds      float64 `json:"seconds"`
}

// decodeAll decodes every run's stdout; runs that failed or do not decode
// are skipped.
func decodeAll[T any](rs []run) []T {
	var out []T
	for _, r := range rs {
		var v T
		if r.Exit == 0 && r.decode(&v) == nil {
			out = append(out, v)
		}
	}
	return out
}

func ok(rs []run) []run {
	var out []run
	for _, r := range rs {
		if r.Exit == 0 {
			out = append(out, r)
		}
	}
	return out
}

// extrapolated is the whole-process time of a full-scope retrain run as if it
// had trained for `epochs` epochs: the measured time with its training part
// scaled (the rest, loading and final checks, does not depend on the epochs).
func extrapolated(r run, epochs int) float64 {
	var o retrainOut
	if r.decode(&o) != nil || o.Recipe.Epochs == 0 || o.Recipe.Epochs == epochs {
		return r.Wall
	}
	return r.Wall + o.TrainSeconds*(float64(epochs)/float64(o.Recipe.Epochs)-1)
}

func retrainEpochs(rs []run) int {
	for _, o := range decodeAll[retrainOut](rs) {
		return o.Recipe.Epochs
	}
	return 0
}

// cliSection: default lethe unlearn against lethe's 30-epoch retrain, MNIST
// MLP and Fashion-MNIST CNN (issue 11's first Done-when row).
func (r *report) cliSection() error {
	r.printf("## Default `lethe unlearn` against retraining (full scope, 1,000 samples forgotten)\n\n")
	r.printf("Goal (issue 11): the default certified update of 1,000 samples costs at most half of lethe's\n")
	r.printf("30-epoch retrain, with the certificate unchanged in meaning (same active bound, same σ for the\n")
	r.printf("same budget). Forget set: bench/mnist_forget_1000.txt (the paper's split, `torch.manual_seed(0)`;\n")
	r.printf("the same indices are used on Fashion-MNIST). Retained set 59,000 samples.\n")
	for _, c := range []struct{ group, label string }{{"mlp", "MNIST MLP (784-32-32-10)"}, {"cnn", "Fashion-MNIST CNN"}} {
		g, err := r.group(c.group)
		if err != nil {
			return err
		}
		if g == nil {
			r.target(target{what: "default unlearn ÷ 30-epoch retrain, " + c.label, goal: "≤ 0.5"})
			continue
		}
		un, rt := ok(g.of(c.group+"/unlearn")), ok(g.of(c.group+"/retrain"))
		ep := retrainEpochs(rt)
		rtWall := func(x run) float64 { return extrapolated(x, 30) }
		label := "lethe retrain, 30 epochs"
		if ep != 30 && ep != 0 {
			label = fmt.Sprintf("lethe retrain, %d epoch(s) ×30/%d (**extrapolated**)", ep, ep)
		}
		su, sr := statsOf(walls(un)), statsOf(mapRuns(rt, rtWall))
		pr := perRound(un, rt, func(x run) float64 { return x.Wall }, rtWall)
		r.printf("\n### %s\n\n%d rounds, %s.\n\n", c.label, su.n, loadRange(g))
		r.printf("| command | wall, median (min) | CPU time, median | peak RSS, median | ÷ retrain (medians) | ÷ retrain, per round |\n| --- | --- | --- | --- | --- | --- |\n")
		r.printf("| lethe unlearn (default) | %s | %s | %.0f MB | %s | %s |\n", medMin(su), dur(statsOf(cpu(un)).med), statsOf(rssMB(un)).med, ratio(su.med, sr.med), ratioRange(pr))
		r.printf("| %s | %s | %s | %.0f MB | | |\n", label, medMin(sr), dur(statsOf(cpu(rt)).med), statsOf(rssMB(rt)).med)
		if tr := ok(g.of(c.group + "/torch-retrain")); len(tr) > 0 {
			st := statsOf(mapRuns(tr, torchRetrainSeconds))
			r.printf("| PyTorch retrain, 30 epochs (in-process training time; whole process %s) | %s | | | %s | %s |\n",
				dur(statsOf(walls(tr)).med), medMin(st), ratio(su.med, st.med),
				ratioRange(perRound(un, tr, func(x run) float64 { return x.Wall }, torchRetrainSeconds)))
		}
		outs := decodeAll[unlearnOut](un)
		if len(outs) > 0 {
			o := outs[0]
			r.printf("\nWhat the unlearn runs certified (identical in every round: %t): scope %s, status %s, active bound **%s**, "+
				"Δ = %.4g (budget %.4g), σ = %.6g at ε = 1, δ = 1e-5; λ = %.4g, %d full-data HVPs, solver residual %.2g.\n",
				sameCert(outs), o.Scope, o.Status, o.ActiveBound, o.Sensitivity, o.Budget, o.Sigma, o.Lambda, o.HVPs, o.Residual)
			r.printf("Stages of the unlearn runs (median seconds):")
			for _, s := range o.Stages {
				r.printf(" %s %.2f;", s.Stage, statsOf(stageSeconds(outs, s.Stage)).med)
			}
			r.printf(" inside the process %.2f of %.2f s.\n", statsOf(mapOuts(outs, func(o unlearnOut) float64 { return o.Seconds })).med, su.med)
		}
		r.commands(g)
		goal := "≤ 0.5, same certificate meaning"
		t := target{what: "default `lethe unlearn` ÷ `lethe retrain` (30 epochs), " + c.label, goal: goal}
		if su.n > 0 && sr.n > 0 {
			t.measured = fmt.Sprintf("%s (per round %s); active bound %s, σ %.4g", ratio(su.med, sr.med), ratioRange(pr), activeBound(outs), sigmaOf(outs))
			if ep != 30 {
				t.measured += " (retrain extrapolated)"
			}
			t.met = isMet(su.med/sr.med <= 0.5)
		}
		r.target(t)
	}
	return nil
}

func cpu(rs []run) []float64 { return mapRuns(rs, func(r run) float64 { return r.User + r.Sys }) }

func mapOuts[T any](outs []T, f func(T) float64) []float64 {
	v := make([]float64, len(outs))
	for i, o := range outs {
		v[i] = f(o)
	}
	return v
}

func stageSeconds(outs []unlearnOut, name string) []float64 {
	var v []float64
	for _, o := range outs {
		for _, s := range o.Stages {
			if s.Stage == name {
				v = append(v, s.Seconds)
			}
		}
	}
	return v
}

// sameCert reports whether every run certified with the same bound and σ.
func sameCert(outs []unlearnOut) bool {
	for _, o := range outs[1:] {
		if o.ActiveBound != outs[0].ActiveBound || o.Sigma != outs[0].Sigma || o.Sensitivity != outs[0].Sensitivity {
			return false
		}
	}
	return true
}

func activeBound(outs []unlearnOut) string {
	if len(outs) == 0 {
		return "?"
	}
	return outs[0].ActiveBound
}

func sigmaOf(outs []unlearnOut) float64 {
	if len(outs) == 0 {
		return math.NaN()
	}
	return outs[0].Sigma
}

// torchRetrainSeconds is torch_bench.py's in-process 30-epoch training time.
func torchRetrainSeconds(r run) float64 {
	var o struct {
		Retrain struct {
			Total        float64 `json:"total_s"`
			Extrapolated float64 `json:"total_s_extrapolated"`
		} `json:"retrain"`
	}
	if r.decode(&o) != nil {
		return 0
	}
	if o.Retrain.Total > 0 {
		return o.Retrain.Total
	}
	return o.Retrain.Extrapolated
}

// reproduceSection: `make reproduce` under 5 minutes.
func (r *report) reproduceSection() error {
	g, err := r.group("reproduce")
	if err != nil {
		return err
	}
	t := target{what: "`make reproduce` (its `lethe demo --reproduce` command)", goal: "< 5 min"}
	if rs := ok(g.of("reproduce")); len(rs) > 0 {
		s := statsOf(walls(rs))
		r.printf("\n## `make reproduce`\n\n`make reproduce` runs `bin/lethe demo --reproduce --out results --work out/reproduce` after\n")
		r.printf("`make setup build`; the bench times that command once (outputs under bench/out/reproduce, so the\n")
		r.printf("committed results/ stay untouched): **%s** wall, %s CPU, peak RSS %.0f MB, %s.\n",
			dur(s.med), dur(statsOf(cpu(rs)).med), statsOf(rssMB(rs)).med, loadRange(g))
		r.commands(g)
		t.measured = dur(s.med)
		t.met = isMet(s.med < 300)
	}
	r.target(t)
	return nil
}
