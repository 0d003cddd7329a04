package main

import (
	"bufio"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
)

// goBench holds the ns/op samples of each Go benchmark, by name without the
// -GOMAXPROCS suffix, and the samples of its other metrics by name|unit
// (e.g. "BenchmarkKernels/sgemm/1024|cpu-GFLOP/s").
type goBench map[string][]float64

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(-\d+)?\s+\d+\s+([\d.]+) ns/op`)
	metric    = regexp.MustCompile(`\s([\d.e+-]+) ([^\s\d][^\s]*)`)
)

// readGoFile parses the output of `go test -bench` in path; a missing file
// gives an empty goBench.
func readGoFile(path string) (goBench, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return goBench{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readGo(f)
}

func readGo(r io.Reader) (goBench, error) {
	b := goBench{}
	sc := bufio.NewScanner(r)
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

// seconds returns the median and fastest run of a benchmark in seconds.
func (b goBench) seconds(name string) stats {
	s := statsOf(b[name])
	s.med, s.min, s.max = s.med*1e-9, s.min*1e-9, s.max*1e-9
	return s
}

// metricMedian returns the median of a benchmark's metric, or 0 when absent.
func (b goBench) metricMedian(name, unit string) float64 {
	v := slices.Sorted(slices.Values(b[name+"|"+unit]))
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}
