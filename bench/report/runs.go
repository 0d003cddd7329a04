package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/lethe-ml/lethe/bench/runlog"
)

// run is one timed process, a line of bench/alternate's runs.jsonl.
type run runlog.Run

// group is the runs of one alternated plan (a folder of bench/out/runs), by
// command name in plan order.
type group struct {
	name  string
	order []string
	runs  map[string][]run
}

// readGroup reads dir/runs/name/runs.jsonl; a missing group is nil, not an
// error (its section was not run).
func readGroup(dir, name string) (*group, error) {
	path := filepath.Join(dir, "runs", name, "runs.jsonl")
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	g := &group{name: name, runs: map[string][]run{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r run
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if _, ok := g.runs[r.Name]; !ok {
			g.order = append(g.order, r.Name)
		}
		g.runs[r.Name] = append(g.runs[r.Name], r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, rs := range g.runs {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Round < rs[j].Round })
	}
	return g, nil
}

// of returns the runs of a command; nil when g is nil.
func (g *group) of(name string) []run {
	if g == nil {
		return nil
	}
	return g.runs[name]
}

// command is the command line of name's runs (the same every round).
func (g *group) command(name string) string {
	if rs := g.of(name); len(rs) > 0 {
		return rs[0].Command
	}
	return ""
}

// failed lists the runs that exited non-zero.
func (g *group) failed() []run {
	var out []run
	if g == nil {
		return nil
	}
	for _, n := range g.order {
		for _, r := range g.runs[n] {
			if r.Exit != 0 {
				out = append(out, r)
			}
		}
	}
	return out
}

// loads returns the 1-minute load averages at the start of every run.
func (g *group) loads() []float64 {
	var v []float64
	if g == nil {
		return nil
	}
	for _, n := range g.order {
		for _, r := range g.runs[n] {
			v = append(v, r.LoadStart)
		}
	}
	return v
}

// decode reads a run's stdout as JSON into v.
func (r run) decode(v any) error {
	raw, err := os.ReadFile(r.Stdout)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", r.Stdout, err)
	}
	return nil
}

// stats is the median and the minimum of a sample; n is its size.
type stats struct {
	med, min, max float64
	n             int
}

func statsOf(v []float64) stats {
	v = slices.DeleteFunc(slices.Clone(v), func(x float64) bool { return x <= 0 })
	if len(v) == 0 {
		return stats{}
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return stats{med: med, min: v[0], max: v[len(v)-1], n: len(v)}
}

// walls are the wall times of runs.
func walls(rs []run) []float64 { return mapRuns(rs, func(r run) float64 { return r.Wall }) }

func rssMB(rs []run) []float64 {
	return mapRuns(rs, func(r run) float64 { return float64(r.MaxRSSKB) / 1024 })
}

func mapRuns(rs []run, f func(run) float64) []float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return v
}

// perRound pairs the values of two commands by round and returns a[i]/b[i]
// for the rounds both have.
func perRound(a, b []run, fa, fb func(run) float64) []float64 {
	byRound := map[int]float64{}
	for _, r := range b {
		byRound[r.Round] = fb(r)
	}
	var out []float64
	for _, r := range a {
		if d, ok := byRound[r.Round]; ok && d > 0 && fa(r) > 0 {
			out = append(out, fa(r)/d)
		}
	}
	return out
}

// readMeta reads bench/run.sh's meta.txt (key=value lines).
func readMeta(dir string) map[string]string {
	m := map[string]string{}
	raw, err := os.ReadFile(filepath.Join(dir, "meta.txt"))
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}
