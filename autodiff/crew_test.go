package autodiff

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelRunsEveryChunkOnce checks that each chunk runs exactly once, on
// the worker that owns it (w = chunk mod workers), with more workers than
// processors too, and from many callers at once.
func TestParallelRunsEveryChunkOnce(t *testing.T) {
	for _, c := range []struct{ chunks, workers int }{{1, 1}, {5, 1}, {2, 2}, {7, 2}, {9, 3}, {16, 8}} {
		t.Run(fmt.Sprintf("%d chunks on %d workers", c.chunks, c.workers), func(t *testing.T) {
			var callers sync.WaitGroup
			for range 4 {
				callers.Go(func() {
					for range 50 {
						runs := make([]atomic.Int32, c.chunks)
						errs := parallel(context.Background(), c.chunks, c.workers, func(w, j int) error {
							if w != j%c.workers {
								return fmt.Errorf("chunk %d ran on worker %d", j, w)
							}
							runs[j].Add(1)
							return nil
						})
						if len(errs) != c.workers {
							t.Errorf("%d errors, want one per worker (%d)", len(errs), c.workers)
						}
						if err := firstError(errs); err != nil {
							t.Error(err)
						}
						for j := range runs {
							if n := runs[j].Load(); n != 1 {
								t.Errorf("chunk %d ran %d times", j, n)
							}
						}
					}
				})
			}
			callers.Wait()
		})
	}
}

// TestParallelErrors checks that a worker stops at its first error, which
// parallel returns as that worker's, and that a cancelled context stops
// every worker.
func TestParallelErrors(t *testing.T) {
	bad := errors.New("bad chunk")
	var ran [6]atomic.Bool
	errs := parallel(context.Background(), 6, 2, func(w, j int) error {
		ran[j].Store(true)
		if j == 1 {
			return bad
		}
		return nil
	})
	if errs[0] != nil || errs[1] != bad {
		t.Errorf("errors %v, want [nil %v]", errs, bad)
	}
	if ran[3].Load() || ran[5].Load() {
		t.Error("worker 1 went on after its error")
	}
	if !ran[0].Load() || !ran[2].Load() || !ran[4].Load() {
		t.Error("worker 0 did not run all its chunks")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs = parallel(ctx, 4, 2, func(int, int) error {
		t.Error("a chunk ran under a cancelled context")
		return nil
	})
	for w, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("worker %d: %v, want context.Canceled", w, err)
		}
	}
}

// TestHelpersAreReusedAndExit checks that back-to-back calls hand their
// chunks to the helpers of the previous call instead of starting goroutines,
// and that idle helpers exit once they have polled for spinWindow.
func TestHelpersAreReusedAndExit(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("helpers stay only where each worker has a processor; GOMAXPROCS is 1")
	}
	time.Sleep(10 * spinWindow) // helpers of earlier tests have exited
	before := runtime.NumGoroutine()
	started := helpersStarted.Load()
	const calls = 200
	for range calls {
		parallel(context.Background(), 2, 2, func(int, int) error {
			time.Sleep(time.Microsecond)
			return nil
		})
	}
	// The first call starts both workers; the helpers of a call poll while the
	// next one starts, so a scheduler that takes a processor away for longer
	// than spinWindow costs a restart now and then, not every time.
	if n := helpersStarted.Load() - started; n > calls/2 {
		t.Errorf("%d calls of two workers started %d goroutines; helpers are not reused", calls, n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(spinWindow)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines 5 s after the calls, %d before: idle helpers do not exit", n, before)
	}
}
