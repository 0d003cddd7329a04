package autodiff

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spinWindow is how long an idle helper goroutine polls for its next job
// before it exits, and how long a caller polls for its helpers to finish
// before it blocks. Waking a parked thread costs 20–30 µs on this project's
// virtual machines, a sixth of a batch-128 MLP gradient split over two
// workers; polling for a short window, as OpenMP runtimes do, takes the
// back-to-back passes of SGD steps, CG's products and LiSSA's batches off
// that path. An idle helper costs at most one window of CPU time.
const spinWindow = 100 * time.Microsecond

// pollBatch is how many polls of an atomic pass between looks at the clock
// and yields to the scheduler while spinning.
const pollBatch = 64

// job is one worker's share of a parallel call: work, then done, which tells
// the caller it is finished.
type job struct {
	work, done func()
}

// helper is a goroutine that runs one job after another. slot holds its
// posted job, idleJob while it polls for one, or goneJob once it exited.
type helper struct {
	slot atomic.Pointer[job]
}

var (
	idleJob = new(job)
	goneJob = new(job)
)

// idleHelpers is the stack of helpers that announced themselves idle, the
// most recent on top; some may have exited since.
var idleHelpers struct {
	sync.Mutex
	stack []*helper
}

// helpersStarted counts the helper goroutines ever started (for tests).
var helpersStarted atomic.Int64

// post hands j to an idle helper and reports whether one took it.
func post(j *job) bool {
	idleHelpers.Lock()
	defer idleHelpers.Unlock()
	for len(idleHelpers.stack) > 0 {
		last := len(idleHelpers.stack) - 1
		h := idleHelpers.stack[last]
		idleHelpers.stack[last] = nil
		idleHelpers.stack = idleHelpers.stack[:last]
		if h.slot.CompareAndSwap(idleJob, j) {
			return true
		}
	}
	return false
}

// startHelper runs j on a new goroutine. With stay set it then stays a
// helper: after each job it polls for the next one for spinWindow. It
// announces itself idle before it reports the job done, so that a caller
// that goes on at once to its next parallel call finds it.
func startHelper(j *job, stay bool) {
	helpersStarted.Add(1)
	go func() {
		h := &helper{}
		for j != nil {
			j.work()
			if !stay {
				j.done()
				return
			}
			h.slot.Store(idleJob)
			idleHelpers.Lock()
			idleHelpers.stack = append(idleHelpers.stack, h)
			idleHelpers.Unlock()
			j.done()
			j = h.await()
		}
	}()
}

// await polls for a job for spinWindow; it returns the job, or nil when none
// came and h has exited.
func (h *helper) await() *job {
	if poll(func() bool { return h.slot.Load() != idleJob }) || !h.slot.CompareAndSwap(idleJob, goneJob) {
		return h.slot.Load() // a job came, at the last moment perhaps
	}
	return nil
}

// poll calls done until it reports true or spinWindow has passed, yielding to
// the scheduler every pollBatch calls, and returns done's last answer.
func poll(done func() bool) bool {
	start := time.Now()
	for i := 1; !done(); i++ {
		if i%pollBatch == 0 {
			if time.Since(start) > spinWindow {
				return false
			}
			runtime.Gosched()
		}
	}
	return true
}

// parallel runs fn for every chunk, worker w taking chunks w, w+W, w+2W, ...,
// and returns each worker's first error. The caller is worker 0 when idle
// helpers (polling since their last job) take all the others; otherwise the
// workers start as new goroutines and the caller blocks, so that its own
// processor runs one of them at once (a goroutine started by a caller that
// keeps running waits for another processor to steal it, which is as slow as
// waking one).
func parallel(ctx context.Context, chunks, workers int, fn func(w, chunk int) error) []error {
	errs := make([]error, workers)
	work := func(w int) {
		for j := w; j < chunks; j += workers {
			if errs[w] = ctx.Err(); errs[w] != nil {
				return
			}
			if errs[w] = fn(w, j); errs[w] != nil {
				return
			}
		}
	}
	if workers == 1 {
		// Small batches (LiSSA's) pay no hand-off at all.
		work(0)
		return errs
	}
	var wg sync.WaitGroup
	var left atomic.Int32
	share := func(w int) *job {
		return &job{work: func() { work(w) }, done: func() {
			left.Add(-1)
			wg.Done()
		}}
	}
	wg.Add(workers - 1)
	left.Store(int32(workers - 1))
	// Helpers spin only where every worker has a processor of its own.
	stay := workers <= runtime.GOMAXPROCS(0)
	started := false
	for w := 1; w < workers; w++ {
		if j := share(w); !stay || !post(j) {
			startHelper(j, stay)
			started = true
		}
	}
	if started {
		wg.Add(1)
		left.Add(1)
		startHelper(share(0), stay)
		wg.Wait()
		return errs
	}
	work(0)
	poll(func() bool { return left.Load() == 0 }) // then block, if they are not done
	wg.Wait()
	return errs
}
