// Command report turns the outputs of bench/run.sh into bench/RESULTS.md:
// Go benchmark lines (the native engine and onnxruntime), the PyTorch
// side's JSON, and the JSON summaries of lethe's own unlearn and retrain runs.
//
//	go run ./bench/report -dir bench/out > bench/RESULTS.md
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
)

func main() {
	dir := flag.String("dir", "bench/out", "folder with go.txt, torch.json, unlearn_*.json, retrain.json, env.txt")
	flag.Parse()
	if err := run(*dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// goBench holds the ns/op samples of each Go benchmark, by name without the
// -GOMAXPROCS suffix, and the samples of its other metrics by name|unit
// (e.g. "BenchmarkKernels/sgemm/1024|cpu-GFLOP/s").
type goBench map[string][]float64

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op`)
	metric    = regexp.MustCompile(`\s([\d.e+-]+) ([^\s\d][^\s]*)`)
)

func readGo(path string) (goBench, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := goBench{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := benchLine.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[3], 64)
			b[m[1]] = append(b[m[1]], v)
			for _, u := range metric.FindAllStringSubmatch(sc.Text()[len(m[0]):], -1) {
				v, _ := strconv.ParseFloat(u[1], 64)
				b[m[1]+"|"+u[2]] = append(b[m[1]+"|"+u[2]], v)
			}
		}
	}
	return b, sc.Err()
}

// median returns the median in seconds of a benchmark, or 0 when absent.
func (b goBench) median(name string) float64 {
	v := slices.Sorted(slices.Values(b[name]))
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2] * 1e-9
}

// metricMedian returns the median of a benchmark's metric, or 0 when absent.
func (b goBench) metricMedian(name, unit string) float64 {
	v := slices.Sorted(slices.Values(b[name+"|"+unit]))
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

// fastest returns the fastest run in seconds of a benchmark, or 0 when absent.
func (b goBench) fastest(name string) float64 {
	if len(b[name]) == 0 {
		return 0
	}
	return slices.Min(b[name]) * 1e-9
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// timing is torch_bench.py's per-measurement record.
type timing struct {
	Median float64 `json:"median_s"`
	Min    float64 `json:"min_s"`
}

type torchResults struct {
	Env struct {
		Torch   string    `json:"torch"`
		Threads int       `json:"threads"`
		CPU     string    `json:"cpu"`
		Date    string    `json:"date"`
		Load    []float64 `json:"loadavg_start"`
	} `json:"env"`
	Forward map[string]timing `json:"forward"`
	Grad    map[string]timing `json:"grad"`
	HVP     map[string]timing `json:"hvp"`
	Unlearn struct {
		Lissa    timing `json:"lissa"`
		Gradient timing `json:"full_gradient_b1024"`
	} `json:"unlearn"`
	Retrain struct {
		Total        float64 `json:"total_s"`
		Extrapolated float64 `json:"total_s_extrapolated"`
		Epochs       int     `json:"epochs"`
		Accuracy     float64 `json:"test_accuracy"`
	} `json:"retrain"`
}

type letheUnlearn struct {
	Seconds     float64 `json:"seconds"`
	Sensitivity float64 `json:"sensitivity"`
	Stages      []struct {
		Stage   string  `json:"stage"`
		Seconds float64 `json:"seconds"`
	} `json:"stages"`
}

func (u letheUnlearn) stage(name string) float64 {
	for _, s := range u.Stages {
		if s.Stage == name {
			return s.Seconds
		}
	}
	return 0
}

type letheRetrain struct {
	Seconds float64 `json:"train_seconds"`
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func dur(s float64) string {
	switch {
	case s == 0:
		return "—"
	case s < 1e-3:
		return fmt.Sprintf("%.1f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.2f s", s)
}

func run(dir string, w io.Writer) error {
	gb, err := readGo(filepath.Join(dir, "go.txt"))
	if err != nil {
		return err
	}
	var tr torchResults
	if err := readJSON(filepath.Join(dir, "torch.json"), &tr); err != nil {
		return err
	}
	torchGrad := tr.Unlearn.Gradient
	env, _ := os.ReadFile(filepath.Join(dir, "env.txt"))

	fmt.Fprintf(w, "# Benchmark results\n\n")
	fmt.Fprintf(w, "Measured by `make bench` (bench/run.sh) in one run on one machine; every engine got the same\n")
	fmt.Fprintf(w, "thread count (%d). Times are medians (Go: over `-count` runs of `testing.B`; PyTorch: over\n", tr.Env.Threads)
	fmt.Fprintf(w, "repeats after warm-up, see bench/README.md). Ratios are lethe ÷ other: below 1 means lethe is faster.\n")
	fmt.Fprintf(w, "On a shared machine the fastest of the `-count` runs is the least disturbed one; the forward\n")
	fmt.Fprintf(w, "table gives that ratio too.\n\n")
	fmt.Fprintf(w, "```\n%sPyTorch %s, %s, started %s, load average at start %v\n```\n\n", env, tr.Env.Torch, tr.Env.CPU, tr.Env.Date, tr.Env.Load)

	fmt.Fprintf(w, "## Forward pass, float32, batch 1024 (target: lethe within 2× of onnxruntime)\n\n")
	fmt.Fprintf(w, "| model | lethe | onnxruntime | PyTorch | lethe ÷ onnxruntime | lethe ÷ PyTorch | lethe ÷ onnxruntime, fastest runs |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, m := range []struct{ name, torch string }{{"mlp", "mnist_mlp_b1024"}, {"cnn", "fashion_cnn_b1024"}} {
		n := gb.median("BenchmarkForward/" + m.name + "/native")
		o := gb.median("BenchmarkForward/" + m.name + "/onnxruntime")
		p := tr.Forward[m.torch].Median
		nf, of := gb.fastest("BenchmarkForward/"+m.name+"/native"), gb.fastest("BenchmarkForward/"+m.name+"/onnxruntime")
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", m.name, dur(n), dur(o), dur(p), ratio(n, o), ratio(n, p), ratio(nf, of))
	}

	fmt.Fprintf(w, "\n## Gradient and exact HVP of the mean cross-entropy, float32 (target: no slower than PyTorch; HVP ≤ 3× gradient)\n\n")
	fmt.Fprintf(w, "| case | lethe grad | PyTorch grad | ÷ | lethe HVP | PyTorch HVP | ÷ | lethe HVP ÷ grad |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, c := range []struct{ goName, torch string }{{"mlp/batch10", "mnist_mlp_b10"}, {"mlp/batch128", "mnist_mlp_b128"}, {"cnn/batch128", "fashion_cnn_b128"}} {
		g := gb.median("BenchmarkGradHVP/" + c.goName + "/grad")
		h := gb.median("BenchmarkGradHVP/" + c.goName + "/hvp")
		pg, ph := tr.Grad[c.torch].Median, tr.HVP[c.torch].Median
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c.goName, dur(g), dur(pg), ratio(g, pg), dur(h), dur(ph), ratio(h, ph), ratio(h, g))
	}

	writeKernels(w, gb)

	var paper, certified letheUnlearn
	var retrain letheRetrain
	if err := readJSON(filepath.Join(dir, "unlearn_paper.json"), &paper); err != nil {
		return err
	}
	if err := readJSON(filepath.Join(dir, "unlearn_certified.json"), &certified); err != nil {
		return err
	}
	if err := readJSON(filepath.Join(dir, "retrain.json"), &retrain); err != nil {
		return err
	}
	lg, ll := paper.stage("gradient"), paper.stage("solve")
	torchRetrain := tr.Retrain.Total
	if torchRetrain == 0 {
		torchRetrain = tr.Retrain.Extrapolated
	}
	fmt.Fprintf(w, "\n## Unlearning 1,000 MNIST samples from the MLP (the paper's LiSSA settings)\n\n")
	fmt.Fprintf(w, "Targets: lethe's gradient + LiSSA at most half of PyTorch's; the whole run at least 5× faster than retraining.\n\n")
	fmt.Fprintf(w, "| step | lethe | PyTorch | lethe ÷ PyTorch |\n| --- | --- | --- | --- |\n")
	fmt.Fprintf(w, "| gradient on D_r (59,000 samples) | %s | %s | %s |\n", dur(lg), dur(torchGrad.Median), ratio(lg, torchGrad.Median))
	fmt.Fprintf(w, "| LiSSA (10 × 1,000 steps, batch 10) | %s | %s | %s |\n", dur(ll), dur(tr.Unlearn.Lissa.Median), ratio(ll, tr.Unlearn.Lissa.Median))
	fmt.Fprintf(w, "| gradient + LiSSA | %s | %s | %s |\n", dur(lg+ll), dur(torchGrad.Median+tr.Unlearn.Lissa.Median), ratio(lg+ll, torchGrad.Median+tr.Unlearn.Lissa.Median))
	fmt.Fprintf(w, "\nlethe's run also measures what the certificate needs; every stage of the same `lethe unlearn` run:\n\n| stage | seconds |\n| --- | --- |\n")
	for _, s := range paper.Stages {
		fmt.Fprintf(w, "| %s | %.2f |\n", s.Stage, s.Seconds)
	}
	fmt.Fprintf(w, "| whole command (load, stages, noise, parity, write) | %.2f |\n", paper.Seconds)
	fmt.Fprintf(w, "\nThe default certified run (conjugate gradient, λ chosen automatically) took %.2f s.\n\n", certified.Seconds)
	fmt.Fprintf(w, "| retraining from scratch, 30 epochs | seconds | whole lethe unlearn ÷ retraining |\n| --- | --- | --- |\n")
	fmt.Fprintf(w, "| lethe retrain (native engine) | %.1f | %s |\n", retrain.Seconds, ratio(paper.Seconds, retrain.Seconds))
	label := "PyTorch"
	if tr.Retrain.Total == 0 {
		label = "PyTorch (1 epoch × 30, extrapolated)"
	}
	fmt.Fprintf(w, "| %s | %.1f | %s |\n", label, torchRetrain, ratio(paper.Seconds, torchRetrain))
	return nil
}

// writeKernels writes the full-data passes and the GFLOP/s of the engine's
// products against the SGEMM peak measured in the same run (autodiff's
// BenchmarkKernels, one thread, rates by CPU time).
func writeKernels(w io.Writer, gb goBench) {
	fmt.Fprintf(w, "\n## Full-data passes, float32 (59,000 retained samples, batch size 256)\n\n")
	fmt.Fprintf(w, "| case | median | fastest | CPU time per call (median) |\n| --- | --- | --- | --- |\n")
	for _, c := range []string{"mlp/n59000/grad", "mlp/n59000/hvp", "cnn/n59000/grad", "cnn/n59000/hvp"} {
		name := "BenchmarkFullData/" + c
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", c, dur(gb.median(name)), dur(gb.fastest(name)), dur(gb.metricMedian(name, "cpu-ns/op")*1e-9))
	}
	peak := gb.metricMedian("BenchmarkKernels/sgemm/1024", "cpu-GFLOP/s")
	fmt.Fprintf(w, "\n## GEMM and convolution throughput, one thread (GFLOP/s by CPU time; %% of the 1024³ SGEMM in the same run)\n\n")
	fmt.Fprintf(w, "| kernel | GFLOP/s | %% of SGEMM peak |\n| --- | --- | --- |\n")
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
		g := gb.metricMedian("BenchmarkKernels/"+k.name, "cpu-GFLOP/s")
		pct := "—"
		if g > 0 && peak > 0 {
			pct = fmt.Sprintf("%.0f%%", 100*g/peak)
		}
		fmt.Fprintf(w, "| %s | %.1f | %s |\n", k.label, g, pct)
	}
}
