// Command alternate times whole commands, alternated in one sitting: round r
// runs every command of the plan once, round after round, so that a change of
// the machine's load hits all of them alike. Each run is one process (started
// by bash with exec, so that the measured process is the command itself);
// alternate records its wall time, its CPU time (user and system), its peak
// resident set size (the kernel's ru_maxrss, the number GNU time prints as
// %M) and the 1-minute load average before and after it.
//
//	go run ./bench/alternate -rounds 5 -out bench/out/runs PLAN
//
// PLAN has one command a line, "NAME COMMAND..." (NAME without spaces, e.g.
// mlp/unlearn; blank lines and lines starting with # are skipped). The order
// rotates by one each round (round 2 starts with the second command), so no
// command always follows the same one. A run's stdout and stderr go to
// OUT/NAME.rR.out and OUT/NAME.rR.err (slashes in NAME become underscores),
// and one JSON object a run is appended to OUT/runs.jsonl. A command that
// exits non-zero is recorded with its exit code and alternate exits 1 after
// the last round.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lethe-ml/lethe/bench/runlog"
)

// Run is the record of one timed run.
type Run = runlog.Run

type step struct{ name, command string }

func main() {
	rounds := flag.Int("rounds", 5, "rounds (each command runs once per round)")
	out := flag.String("out", "bench/out/runs", "folder for runs.jsonl and each run's stdout and stderr")
	flag.Parse()
	if flag.NArg() != 1 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "usage: alternate [-rounds N] [-out DIR] PLAN")
		os.Exit(2)
	}
	plan, err := readPlan(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "alternate:", err)
		os.Exit(2)
	}
	failed, err := run(plan, *rounds, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "alternate:", err)
		os.Exit(1)
	}
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "alternate: %d run(s) failed; see %s\n", failed, *out)
		os.Exit(1)
	}
}

func readPlan(path string) ([]step, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var plan []step
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, command, ok := strings.Cut(line, " ")
		if !ok || strings.TrimSpace(command) == "" {
			return nil, fmt.Errorf("%s: %q: want NAME COMMAND", path, line)
		}
		plan = append(plan, step{name, strings.TrimSpace(command)})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(plan) == 0 {
		return nil, fmt.Errorf("%s: no commands", path)
	}
	return plan, nil
}

func run(plan []step, rounds int, out string) (failed int, err error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	log, err := os.OpenFile(filepath.Join(out, "runs.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer log.Close()
	enc := json.NewEncoder(log)
	for r := 1; r <= rounds; r++ {
		for k := range plan {
			s := plan[(k+r-1)%len(plan)]
			rec, err := timeOne(s, r, out)
			if err != nil {
				return failed, err
			}
			if rec.Exit != 0 {
				failed++
			}
			fmt.Fprintf(os.Stderr, "alternate: round %d/%d %-24s %8.2f s  %7.1f MB  load %.2f  exit %d\n",
				r, rounds, s.name, rec.Wall, float64(rec.MaxRSSKB)/1024, rec.LoadStart, rec.Exit)
			if err := enc.Encode(rec); err != nil {
				return failed, err
			}
		}
	}
	return failed, nil
}

func timeOne(s step, round int, out string) (Run, error) {
	base := filepath.Join(out, strings.ReplaceAll(s.name, "/", "_")+".r"+strconv.Itoa(round))
	stdout, err := os.Create(base + ".out")
	if err != nil {
		return Run{}, err
	}
	defer stdout.Close()
	stderr, err := os.Create(base + ".err")
	if err != nil {
		return Run{}, err
	}
	defer stderr.Close()
	cmd := exec.Command("bash", "-c", "exec "+s.command)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	rec := Run{Name: s.name, Round: round, Command: s.command, LoadStart: load1(), Stdout: base + ".out"}
	rec.Start = time.Now()
	err = cmd.Run()
	rec.Wall = time.Since(rec.Start).Seconds()
	rec.LoadEnd = load1()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		rec.Exit = exit.ExitCode()
	case err != nil:
		return rec, err
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rec.User = time.Duration(ru.Utime.Nano()).Seconds()
		rec.Sys = time.Duration(ru.Stime.Nano()).Seconds()
		rec.MaxRSSKB = ru.Maxrss // kilobytes on Linux
	}
	return rec, nil
}

// load1 is the 1-minute load average, or -1 when /proc/loadavg is unreadable.
func load1() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
