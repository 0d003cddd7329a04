package demo

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lethe-ml/lethe"
)

// reporter passes the demo's events to Options.Progress, one at a time.
// Everything the demo reports is progress, not a log: it shows with
// progress bars and not in a quiet or machine-readable run.
type reporter struct {
	mu sync.Mutex
	fn func(lethe.Event)
}

func (r *reporter) emit(e lethe.Event) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(e)
}

// logf reports a line outside any step.
func (r *reporter) logf(format string, args ...any) {
	r.emit(lethe.Event{Kind: lethe.EventDetail, Message: fmt.Sprintf(format, args...)})
}

// step is a running step of the demo.
type step struct {
	r     *reporter
	name  string
	total int
	start time.Time
}

func (r *reporter) start(name string, total int) *step {
	r.emit(lethe.Event{Kind: lethe.EventStart, Step: name, Total: total})
	return &step{r: r, name: name, total: total, start: time.Now()}
}

func (s *step) progress(done int, msg string) {
	s.r.emit(lethe.Event{Kind: lethe.EventProgress, Step: s.name, Done: done, Total: s.total, Message: msg})
}

func (s *step) done(msg string) time.Duration {
	d := time.Since(s.start)
	s.r.emit(lethe.Event{Kind: lethe.EventDone, Step: s.name, Elapsed: d, Message: msg})
	return d
}

// stageHeartbeat is how often a long stage of a nested call is reported
// when it reports nothing itself.
const stageHeartbeat = 15 * time.Second

// relay passes the events of a nested lethe call on as the demo's: steps
// are named after the setup (prefix), log lines become progress details,
// and while a stage runs without reporting a line says every
// stageHeartbeat which one it is. stop ends the heartbeat.
func (r *reporter) relay(prefix string) (fn func(lethe.Event), stop func()) {
	var mu sync.Mutex
	var stage string
	var since time.Time
	quit := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(stageHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				mu.Lock()
				if stage != "" {
					r.emit(lethe.Event{Kind: lethe.EventDetail, Step: prefix, Message: fmt.Sprintf("… %s (%s so far)", stage, time.Since(since).Round(time.Second))})
				}
				mu.Unlock()
			}
		}
	}()
	fn = func(e lethe.Event) {
		switch e.Kind {
		case lethe.EventStart, lethe.EventProgress, lethe.EventDone:
			mu.Lock()
			if e.Kind == lethe.EventStart {
				since = time.Now()
			}
			if e.Kind == lethe.EventProgress && e.Message != "" {
				stage = e.Message
			}
			mu.Unlock()
			e.Step = prefix + ": " + e.Step
		case lethe.EventInfo, lethe.EventDetail:
			e.Kind = lethe.EventDetail
			if e.Step == "" {
				e.Message = prefix + ": " + e.Message
			} else {
				e.Step = prefix + ": " + e.Step
				mu.Lock()
				if !strings.HasPrefix(e.Message, "epoch ") {
					stage = e.Message
				}
				mu.Unlock()
			}
		}
		r.emit(e)
	}
	stop = func() { once.Do(func() { close(quit) }) }
	return fn, stop
}
