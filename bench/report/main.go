// Command report turns the outputs of bench/run.sh into bench/RESULTS.md and
// the scaling plot: the alternated whole-process runs of bench/alternate
// (bench/out/runs/GROUP/runs.jsonl and each run's stdout: lethe's and the
// PyTorch script's JSON, Go benchmark lines), the Go kernel benchmarks and
// bench/prepare.py's manifest.
//
//	go run ./bench/report -dir bench/out -plot bench/scaling.png > bench/RESULTS.md
//
// Every ratio it prints is formed from runs of one alternated group; it
// prints the median and the minimum of each side, the ratio of the medians
// and the range of the per-round ratios, and the command behind each median.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	dir := flag.String("dir", "bench/out", "bench/run.sh's output folder")
	plotPath := flag.String("plot", "bench/scaling.png", "where to write the scaling plot (PNG)")
	flag.Parse()
	if err := generate(*dir, *plotPath, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

// target is one row of the summary: a goal of issue 11 and what was measured.
type target struct {
	what, goal, measured string
	met                  *bool // nil: not measured or not decidable
}

func verdict(t target) string {
	switch {
	case t.met == nil:
		return "not measured"
	case *t.met:
		return "**met**"
	}
	return "**missed**"
}

func isMet(b bool) *bool { return &b }

// report collects the sections' text and the summary's targets.
type report struct {
	dir     string
	meta    map[string]string
	targets []target
	body    bytes.Buffer
	failed  []run
}

func (r *report) printf(format string, a ...any) { fmt.Fprintf(&r.body, format, a...) }

func (r *report) target(t target) { r.targets = append(r.targets, t) }

// group reads a group and remembers its failed runs.
func (r *report) group(name string) (*group, error) {
	g, err := readGroup(r.dir, name)
	if err != nil {
		return nil, err
	}
	r.failed = append(r.failed, g.failed()...)
	return g, nil
}

// commands lists the command lines of a group's runs, as run.
func (r *report) commands(g *group, names ...string) {
	if g == nil {
		return
	}
	if len(names) == 0 {
		names = g.order
	}
	r.printf("\nCommands (run from the repository root; each once per round, the order rotating by one each round):\n\n```\n")
	for _, n := range names {
		if c := g.command(n); c != "" {
			r.printf("%-18s %s\n", n, c)
		}
	}
	r.printf("```\n")
}

func generate(dir, plotPath string, w io.Writer) error {
	r := &report{dir: dir, meta: readMeta(dir)}
	for _, section := range []func(*report) error{
		(*report).cliSection, (*report).headSection, (*report).lissaSection, (*report).microSection,
		(*report).kernelSection, (*report).reproduceSection,
	} {
		if err := section(r); err != nil {
			return err
		}
	}
	if err := r.scalingSection(plotPath); err != nil {
		return err
	}
	r.writeHeader(w)
	_, err := w.Write(r.body.Bytes())
	return err
}

func (r *report) writeHeader(w io.Writer) {
	m := r.meta
	fmt.Fprintf(w, "# Benchmark results\n\n")
	if m["quick"] == "1" {
		fmt.Fprintf(w, "> **Quick mode (`BENCH_QUICK=1`)**: fewer rounds, shorter benchmarks and a 1-epoch CNN retrain\n")
		fmt.Fprintf(w, "> extrapolated to 30 epochs. A check that the scripts run, not a measurement to quote.\n\n")
	}
	fmt.Fprintf(w, "Measured by `make bench` (bench/run.sh; bench/README.md says how) in one sitting on one machine.\n")
	fmt.Fprintf(w, "Every ratio comes from commands **alternated** in that sitting: round r runs each command of a\n")
	fmt.Fprintf(w, "group once (the order rotating by one each round), for %s rounds. Each side is given as median and\n", m["rounds"])
	fmt.Fprintf(w, "minimum over the rounds; \"÷\" is the ratio of the medians, and \"per round\" the range of the\n")
	fmt.Fprintf(w, "ratios formed within each round. CLI times are whole processes (start to exit, measured by\n")
	fmt.Fprintf(w, "bench/alternate with the kernel's rusage: wall time, CPU time, peak RSS). Every engine got the\n")
	fmt.Fprintf(w, "same thread count (%s). Ratios are lethe ÷ other: below 1 means lethe is faster.\n\n", m["threads"])
	fmt.Fprintf(w, "```\nlethe %s, %s, BLAS openblas, threads %s\n%s\n", m["commit"], m["go"], m["threads"], m["cpu"])
	fmt.Fprintf(w, "started %s (load average %s), ended %s (load average %s)\n```\n\n", m["start"], m["load_start"], m["end"], m["load_end"])
	fmt.Fprintf(w, "**Load.** The machine (2 cores) is shared; the 1-minute load average at the start of each run\n")
	fmt.Fprintf(w, "is recorded, and each table gives its range. A load above the core count means the timed\n")
	fmt.Fprintf(w, "processes waited for a core: their wall times are then inflated, the CPU times much less.\n\n")
	if len(r.failed) > 0 {
		fmt.Fprintf(w, "**Failed runs** (non-zero exit; their times are left out):\n\n")
		for _, f := range r.failed {
			fmt.Fprintf(w, "- `%s` round %d exited %d: `%s` (stderr beside %s)\n", f.Name, f.Round, f.Exit, f.Command, f.Stdout)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "## Issue 11's targets\n\n| target | goal | measured | verdict |\n| --- | --- | --- | --- |\n")
	for _, t := range r.targets {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.what, t.goal, t.measured, verdict(t))
	}
	fmt.Fprintln(w)
}

// loadRange describes the load averages at the start of a group's runs.
func loadRange(g *group) string {
	s := statsOf(g.loads())
	if s.n == 0 {
		return "load unknown"
	}
	return fmt.Sprintf("load average %.2f–%.2f (median %.2f) at the starts of the runs", s.min, s.max, s.med)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// ratioRange formats the per-round ratios.
func ratioRange(v []float64) string {
	s := statsOf(v)
	switch s.n {
	case 0:
		return "—"
	case 1:
		return fmt.Sprintf("%.2f", s.min)
	}
	return fmt.Sprintf("%.2f–%.2f", s.min, s.max)
}

func dur(s float64) string {
	switch {
	case s == 0:
		return "—"
	case s < 1e-3:
		return fmt.Sprintf("%.1f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.2f ms", s*1e3)
	case s < 600:
		return fmt.Sprintf("%.2f s", s)
	}
	return fmt.Sprintf("%d min %02.0f s", int(s/60), s-60*float64(int(s/60)))
}

// medMin formats a median and a minimum as "median (min)".
func medMin(s stats) string {
	if s.n == 0 {
		return "—"
	}
	if s.n == 1 {
		return dur(s.med)
	}
	return fmt.Sprintf("%s (%s)", dur(s.med), dur(s.min))
}
