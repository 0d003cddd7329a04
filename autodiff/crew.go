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

// helper is a goroutine that runs one job after another. slot holds its
// posted job, idleSlot while it polls for one, or goneSlot once it exited.
type helper struct {
	slot atomic.Pointer[func()]
}

var (
	idleSlot = new(func())
	goneSlot = new(func())
)

// idleHelpers is the stack of helpers that announced themselves idle, the
// most recent on top; some may have exited since.
var idleHelpers struct {
	sync.Mutex
	stack []*helper
}

// helpersStarted counts the helper goroutines ever started (for tests).
var helpersStarted atomic.Int64

// post hands job to an idle helper and reports whether one took it.
func post(job *func()) bool {
	idleHelpers.Lock()
	defer idleHelpers.Unlock()
	for len(idleHelpers.stack) > 0 {
		last := len(idleHelpers.stack) - 1
		h := idleHelpers.stack[last]
		idleHelpers.stack[last] = nil
		idleHelpers.stack = idleHelpers.stack[:last]
		if h.slot.CompareAndSwap(idleSlot, job) {
			return true
		}
	}
	return false
}

// startHelper runs job on a new goroutine. With stay set it then stays a
// helper: it polls for further jobs for spinWindow after each one.
func startHelper(job *func(), stay bool) {
	helpersStarted.Add(1)
	go func() {
		h := &helper{}
		for job != nil {
			(*job)()
			if !stay {
				return
			}
			job = h.await()
		}
	}()
}

// await announces h idle and polls for a job for spinWindow; it returns the
// job, or nil when none came and h has exited.
func (h *helper) await() *func() {
	h.slot.Store(idleSlot)
	idleHelpers.Lock()
	idleHelpers.stack = append(idleHelpers.stack, h)
	idleHelpers.Unlock()
	start := time.Now()
	for i := 1; ; i++ {
		if job := h.slot.Load(); job != idleSlot {
			return job
		}
		if i%pollBatch == 0 {
			if time.Since(start) > spinWindow && h.slot.CompareAndSwap(idleSlot, goneSlot) {
				return nil
			}
			runtime.Gosched()
		}
	}
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
	job := func(w int) *func() {
		f := func() {
			work(w)
			left.Add(-1)
			wg.Done()
		}
		return &f
	}
	wg.Add(workers - 1)
	left.Store(int32(workers - 1))
	// Helpers spin only where every worker has a processor of its own.
	stay := workers <= runtime.GOMAXPROCS(0)
	started := false
	for w := 1; w < workers; w++ {
		if !stay || !post(job(w)) {
			startHelper(job(w), stay)
			started = true
		}
	}
	if started {
		wg.Add(1)
		left.Add(1)
		startHelper(job(0), stay)
		wg.Wait()
		return errs
	}
	work(0)
	start := time.Now()
	for i := 1; left.Load() > 0; i++ {
		if i%pollBatch == 0 {
			if time.Since(start) > spinWindow {
				break
			}
			runtime.Gosched()
		}
	}
	wg.Wait()
	return errs
}
