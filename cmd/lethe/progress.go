package main

import (
	"fmt"
	"strings"
	"time"
)

// progress reports a long step on stderr: a line when it starts, a line at
// most every few seconds while it runs, and one when it ends. It writes
// nothing under --quiet or --json.
type progress struct {
	s     *ioStreams
	on    bool
	label string
	total int
	start time.Time
	last  time.Time
}

// progressEvery is the shortest interval between two progress lines.
const progressEvery = 2 * time.Second

func (g *globalOptions) progress(s *ioStreams, label string, total int) *progress {
	p := &progress{s: s, on: !g.Quiet && !g.JSON, label: label, total: total, start: time.Now()}
	p.last = p.start
	if p.on {
		fmt.Fprintf(s.Err, "lethe: %s...\n", label)
	}
	return p
}

// update reports done of total units, with an optional detail.
func (p *progress) update(done int, detail string) {
	now := time.Now()
	if !p.on || now.Sub(p.last) < progressEvery {
		return
	}
	p.last = now
	line := fmt.Sprintf("lethe: %s", p.label)
	if p.total > 0 {
		frac := float64(done) / float64(p.total)
		bar := int(frac * 20)
		line += fmt.Sprintf(" [%-20s] %3.0f%%", strings.Repeat("#", bar), 100*frac)
		if done > 0 {
			eta := time.Duration(float64(now.Sub(p.start)) * (1 - frac) / frac)
			line += fmt.Sprintf(" eta %s", eta.Round(time.Second))
		}
	}
	if detail != "" {
		line += " " + detail
	}
	fmt.Fprintln(p.s.Err, line)
}

// done reports the end of the step and returns its duration.
func (p *progress) done(detail string) time.Duration {
	d := time.Since(p.start)
	if p.on {
		line := fmt.Sprintf("lethe: %s done in %s", p.label, d.Round(time.Millisecond))
		if detail != "" {
			line += ": " + detail
		}
		fmt.Fprintln(p.s.Err, line)
	}
	return d
}
