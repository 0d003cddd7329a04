package lethe

import (
	"sync"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventStart: a long step began. Total is its number of units (training
	// steps, models), 0 when it has none.
	EventStart EventKind = iota
	// EventProgress: Done of Total units of the step are complete; Message
	// says where it is (e.g. "epoch 3/30, batch loss 0.21").
	EventProgress
	// EventDone: the step ended after Elapsed; Message summarises its result.
	EventDone
	// EventInfo: a line worth logging, e.g. what a command is about to
	// train and what it wrote.
	EventInfo
	// EventDetail: a line that belongs with progress display rather than
	// in a log, e.g. one epoch's mean loss.
	EventDetail
	// EventWarning: a line a person must see even when logs are off, e.g.
	// that seeded noise is neither private nor certified.
	EventWarning
)

// Event is a progress report. lethe's functions never write to the
// terminal: they pass Events to the request's Progress function, which
// may render them (the command line prints them on stderr), log them, or
// ignore them. Progress is called from one goroutine at a time, and must
// not block for long.
type Event struct {
	// Kind says what the event reports.
	Kind EventKind
	// Step names the step an event belongs to, e.g. "certified update".
	// Info and Detail lines carry the step they were written in, or "".
	Step string
	// Done and Total count the step's units (EventStart, EventProgress).
	Done, Total int
	// Elapsed is the step's duration (EventDone).
	Elapsed time.Duration
	// Message is the text of the event: the progress detail, the result of
	// a step, or the line to log.
	Message string
}

// reporter passes events to a request's Progress function, one at a time.
type reporter struct {
	mu sync.Mutex
	fn func(Event)
}

func newReporter(fn func(Event)) *reporter { return &reporter{fn: fn} }

func (r *reporter) emit(e Event) {
	if r == nil || r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(e)
}

// info logs a line outside any step; warn a warning.
func (r *reporter) info(msg string) { r.emit(Event{Kind: EventInfo, Message: msg}) }
func (r *reporter) warn(msg string) { r.emit(Event{Kind: EventWarning, Message: msg}) }

// step is a running step.
type step struct {
	r     *reporter
	name  string
	total int
	start time.Time
}

// start reports the start of a step of total units (0: none).
func (r *reporter) start(name string, total int) *step {
	s := &step{r: r, name: name, total: total, start: time.Now()}
	r.emit(Event{Kind: EventStart, Step: name, Total: total})
	return s
}

// progress reports done of the step's units.
func (s *step) progress(done int, msg string) {
	s.r.emit(Event{Kind: EventProgress, Step: s.name, Done: done, Total: s.total, Message: msg})
}

// info logs a line within the step.
func (s *step) info(msg string) { s.r.emit(Event{Kind: EventInfo, Step: s.name, Message: msg}) }

// detail reports a progress line within the step.
func (s *step) detail(msg string) { s.r.emit(Event{Kind: EventDetail, Step: s.name, Message: msg}) }

// done reports the end of the step and returns its duration.
func (s *step) done(msg string) time.Duration {
	d := time.Since(s.start)
	s.r.emit(Event{Kind: EventDone, Step: s.name, Elapsed: d, Message: msg})
	return d
}
