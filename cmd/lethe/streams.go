package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lethe-ml/lethe"
)

// ioStreams are a command's outputs: results (human or --json) go to Out,
// progress and diagnostics to Err.
type ioStreams struct {
	Out io.Writer
	Err io.Writer
}

// globalOptions are the flags every command has.
type globalOptions struct {
	JSON  bool // machine-readable output on stdout
	Quiet bool // no progress or log lines on stderr
}

// writeJSON writes v as indented JSON to Out.
func (s *ioStreams) writeJSON(v any) error {
	enc := json.NewEncoder(s.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// progressEvery is the shortest interval between two progress lines of a
// step.
const progressEvery = 2 * time.Second

// progress renders the library's events on Err: a line when a step starts,
// a line with a bar at most every progressEvery while it runs, and one when
// it ends; log lines prefixed with prefix (e.g. "constrain: "), or
// indented within a step. Steps and details are shown unless --quiet or
// --json, log lines unless --quiet, warnings always.
func (g *globalOptions) progress(s *ioStreams, prefix string) func(lethe.Event) {
	on := !g.Quiet && !g.JSON
	last := map[string]time.Time{}
	started := map[string]time.Time{}
	line := func(show bool, e lethe.Event) {
		if !show {
			return
		}
		lead := prefix
		if e.Step != "" {
			lead = "  "
		}
		fmt.Fprintf(s.Err, "lethe: %s%s\n", lead, e.Message)
	}
	return func(e lethe.Event) {
		switch e.Kind {
		case lethe.EventStart:
			now := time.Now()
			started[e.Step], last[e.Step] = now, now
			if on {
				fmt.Fprintf(s.Err, "lethe: %s...\n", e.Step)
			}
		case lethe.EventProgress:
			now := time.Now()
			if !on || now.Sub(last[e.Step]) < progressEvery {
				return
			}
			last[e.Step] = now
			l := "lethe: " + e.Step
			if e.Total > 0 {
				frac := float64(e.Done) / float64(e.Total)
				l += fmt.Sprintf(" [%-20s] %3.0f%%", strings.Repeat("#", int(frac*20)), 100*frac)
				if e.Done > 0 {
					eta := time.Duration(float64(now.Sub(started[e.Step])) * (1 - frac) / frac)
					l += fmt.Sprintf(" eta %s", eta.Round(time.Second))
				}
			}
			if e.Message != "" {
				l += " " + e.Message
			}
			fmt.Fprintln(s.Err, l)
		case lethe.EventDone:
			if on {
				l := fmt.Sprintf("lethe: %s done in %s", e.Step, e.Elapsed.Round(time.Millisecond))
				if e.Message != "" {
					l += ": " + e.Message
				}
				fmt.Fprintln(s.Err, l)
			}
		case lethe.EventInfo:
			line(!g.Quiet, e)
		case lethe.EventDetail:
			line(on, e)
		case lethe.EventWarning:
			fmt.Fprintln(s.Err, "lethe: "+e.Message)
		}
	}
}
