package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// pyMicro is torch_bench.py's forward and grad sections.
type pyMicro struct {
	Forward map[string]timing `json:"forward"`
	Grad    map[string]timing `json:"grad"`
	HVP     map[string]timing `json:"hvp"`
}

// microRound is one round of the micro group: Go's benchmark lines and
// PyTorch's JSON.
type microRound struct {
	round int
	gob   goBench
	py    pyMicro
}

func readMicro(g *group) ([]microRound, error) {
	goRuns, pyRuns := ok(g.of("micro/go")), ok(g.of("micro/torch"))
	py := map[int]pyMicro{}
	for _, r := range pyRuns {
		var p pyMicro
		if err := r.decode(&p); err != nil {
			return nil, err
		}
		py[r.Round] = p
	}
	var out []microRound
	for _, r := range goRuns {
		p, found := py[r.Round]
		if !found {
			continue
		}
		f, err := os.Open(r.Stdout)
		if err != nil {
			return nil, err
		}
		gb, err := readGo(f)
		f.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, microRound{r.Round, gb, p})
	}
	return out, nil
}

// series returns one value per round.
func series(rounds []microRound, f func(microRound) float64) []float64 {
	v := make([]float64, len(rounds))
	for i, m := range rounds {
		v[i] = f(m)
	}
	return v
}

func goSec(name string) func(microRound) float64 {
	return func(m microRound) float64 { return m.gob.seconds(name).med }
}

func ratios(a, b []float64) []float64 {
	var v []float64
	for i := range a {
		if a[i] > 0 && b[i] > 0 {
			v = append(v, a[i]/b[i])
		}
	}
	return v
}

// microSection: forward, gradient and HVP against onnxruntime and PyTorch,
// alternated per round.
func (r *report) microSection() error {
	g, err := r.group("micro")
	if err != nil {
		return err
	}
	tCNN := target{what: "CNN gradient and HVP at batch 128 ÷ PyTorch, every round", goal: "≤ 0.8"}
	tMLP := target{what: "MLP gradient and HVP at batch 10 and 128 ÷ PyTorch, every round", goal: "≤ 0.6"}
	tFwd := target{what: "CNN forward at batch 1024 ÷ onnxruntime", goal: "≤ 1.0"}
	defer func() { r.target(tCNN); r.target(tMLP); r.target(tFwd) }()
	if g == nil {
		return nil
	}
	rounds, err := readMicro(g)
	if err != nil {
		return err
	}
	r.printf("\n## Forward, gradient and HVP, float32 (engine against onnxruntime and PyTorch)\n\n")
	r.printf("Each round runs the Go benchmarks (`testing.B`, lethe's engine and onnxruntime in one process,\n")
	r.printf("random batches) and then torch_bench.py (`--sections forward,grad`, after warm-up, real\n")
	r.printf("MNIST/Fashion-MNIST batches), or the other way round. Both sides take the same number of timing\n")
	r.printf("samples of at least %s s each (%s, `-test.count` and `--repeats`); each side's value in a round is the\n", r.meta["sample_seconds"], r.meta["samples"])
	r.printf("median time per call over its samples. The table gives the median (min) over the %d rounds and the per-round ratios;\n", len(rounds))
	r.printf("%s.\n\n", loadRange(g))
	r.printf("| model, batch 1024 | lethe | onnxruntime | PyTorch | lethe ÷ onnxruntime | per round | lethe ÷ PyTorch | per round |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, m := range []struct{ name, py string }{{"mlp", "mnist_mlp_b1024"}, {"cnn", "fashion_cnn_b1024"}} {
		n := series(rounds, goSec("BenchmarkForward/"+m.name+"/native"))
		o := series(rounds, goSec("BenchmarkForward/"+m.name+"/onnxruntime"))
		p := series(rounds, func(x microRound) float64 { return x.py.Forward[m.py].Median })
		sn, so, sp := statsOf(n), statsOf(o), statsOf(p)
		r.printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", m.name, medMin(sn), medMin(so), medMin(sp),
			ratio(sn.med, so.med), ratioRange(ratios(n, o)), ratio(sn.med, sp.med), ratioRange(ratios(n, p)))
		if m.name == "cnn" && sn.n > 0 && so.n > 0 {
			tFwd.measured = fmt.Sprintf("%s (per round %s)", ratio(sn.med, so.med), ratioRange(ratios(n, o)))
			tFwd.met = isMet(sn.med/so.med <= 1)
		}
	}
	r.printf("\n| case | lethe grad | PyTorch grad | ÷ | per round | lethe HVP | PyTorch HVP | ÷ | per round | lethe HVP ÷ grad |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	worst := map[string]float64{}
	for _, c := range []struct{ goName, py, model string }{
		{"mlp/batch10", "mnist_mlp_b10", "mlp"}, {"mlp/batch128", "mnist_mlp_b128", "mlp"}, {"cnn/batch128", "fashion_cnn_b128", "cnn"},
	} {
		gl := series(rounds, goSec("BenchmarkGradHVP/"+c.goName+"/grad"))
		hl := series(rounds, goSec("BenchmarkGradHVP/"+c.goName+"/hvp"))
		gp := series(rounds, func(x microRound) float64 { return x.py.Grad[c.py].Median })
		hp := series(rounds, func(x microRound) float64 { return x.py.HVP[c.py].Median })
		sgl, shl, sgp, shp := statsOf(gl), statsOf(hl), statsOf(gp), statsOf(hp)
		rg, rh := ratios(gl, gp), ratios(hl, hp)
		r.printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c.goName, medMin(sgl), medMin(sgp), ratio(sgl.med, sgp.med), ratioRange(rg),
			medMin(shl), medMin(shp), ratio(shl.med, shp.med), ratioRange(rh), ratio(shl.med, sgl.med))
		for _, v := range append(rg, rh...) {
			worst[c.model] = max(worst[c.model], v)
		}
	}
	if len(rounds) > 0 {
		tCNN.measured = fmt.Sprintf("largest per-round ratio %.2f", worst["cnn"])
		tCNN.met = isMet(worst["cnn"] <= 0.8)
		tMLP.measured = fmt.Sprintf("largest per-round ratio %.2f", worst["mlp"])
		tMLP.met = isMet(worst["mlp"] <= 0.6)
	}
	r.commands(g)
	return nil
}

// kernelSection: the full-data passes and the GFLOP/s of the engine's
// products against the SGEMM peak measured in the same run (autodiff's
// BenchmarkKernels, one thread, rates by CPU time). Not ratios between
// engines, so not alternated.
func (r *report) kernelSection() error {
	gb, err := readGoFile(filepath.Join(r.dir, "go_kernels.txt"))
	if err != nil || len(gb) == 0 {
		return err
	}
	r.printf("\n## Full-data passes, float32 (59,000 retained samples, batch size 256)\n\n")
	r.printf("bench_test.go's BenchmarkFullData, `-count %s`: the passes a certified update repeats, read from the data set as `lethe unlearn` reads it.\n\n", r.meta["count"])
	r.printf("| case | median | fastest | CPU time per call (median) |\n| --- | --- | --- | --- |\n")
	for _, c := range []string{"mlp/n59000/loss", "mlp/n59000/grad", "mlp/n59000/hvp", "cnn/n59000/loss", "cnn/n59000/grad", "cnn/n59000/hvp"} {
		name := "BenchmarkFullData/" + c
		s := gb.seconds(name)
		r.printf("| %s | %s | %s | %s |\n", c, dur(s.med), dur(s.min), dur(gb.metricMedian(name, "cpu-ns/op")*1e-9))
	}
	peak := gb.metricMedian("BenchmarkKernels/sgemm/1024", "cpu-GFLOP/s")
	r.printf("\n## GEMM and convolution throughput, one thread (GFLOP/s by CPU time; %% of the 1024³ SGEMM in the same run)\n\n")
	r.printf("| kernel | GFLOP/s | %% of SGEMM peak |\n| --- | --- | --- |\n")
	for _, k := range []struct{ name, label string }{
		{"sgemm/1024", "SGEMM 1024³ (peak)"},
		{"sgemm/conv2", "SGEMM of conv2's forward shape"},
		{"conv1/grad", "conv1 (1→8, 28×28), gradient pass's work"},
		{"conv1/hvp", "conv1, HVP pass's work"},
		{"conv2/grad", "conv2 (8→16, 14×14), gradient pass's work"},
		{"conv2/hvp", "conv2, HVP pass's work"},
		{"pass/grad", "CNN gradient, batch 128 (GEMM operations)"},
		{"pass/hvp", "CNN HVP, batch 128 (GEMM operations)"},
	} {
		gf := gb.metricMedian("BenchmarkKernels/"+k.name, "cpu-GFLOP/s")
		pct := "—"
		if gf > 0 && peak > 0 {
			pct = fmt.Sprintf("%.0f%%", 100*gf/peak)
		}
		r.printf("| %s | %.1f | %s |\n", k.label, gf, pct)
	}
	r.printf("\nCommands:\n\n```\nLETHE_BENCH_THREADS=%s bench/out/bench.test -test.run '^$' -test.bench '^BenchmarkFullData$' -test.benchtime 2s -test.count %s\n", r.meta["threads"], r.meta["count"])
	r.printf("cd autodiff && ../bench/out/autodiff.test -test.run '^$' -test.bench '^BenchmarkKernels$' -test.count %s\n```\n", r.meta["count"])
	r.printf("(the test binaries of `go test -tags openblas -c ./bench` and `./autodiff`).\n")
	return nil
}
