package lethe_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/lethe-ml/lethe"
)

// TestUnlearnStopsWhenCancelled cancels Unlearn's context as the certified
// update announces its gradient on D_r (30 batches of 10 samples): the
// gradient itself must stop, so no later stage is announced, the error is
// context.Canceled and nothing is written. A deadline that has passed
// stops Unlearn with context.DeadlineExceeded.
func TestUnlearnStopsWhenCancelled(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)

	t.Run("during the gradient", func(t *testing.T) {
		req := request(t, dir, data, "cancelled.onnx")
		req.Engine = lethe.Engine{BatchSize: 10, Threads: 1}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var after []string // what the update announced after the cancellation
		cancelled := false
		req.Progress = func(e lethe.Event) {
			if e.Step != "certified update" || e.Kind != lethe.EventInfo {
				return
			}
			if cancelled {
				after = append(after, e.Message)
			}
			if e.Message == "gradient on D_r" {
				cancel()
				cancelled = true
			}
		}
		_, err := lethe.Unlearn(ctx, req)
		if !cancelled {
			t.Fatalf("the update never announced its gradient on D_r (error %v)", err)
		}
		if !errors.Is(err, context.Canceled) || len(after) > 0 {
			t.Errorf("error %v, stages announced after the cancellation %q; want context.Canceled and none", err, after)
		}
		assertNotWritten(t, req.Out)
	})

	t.Run("past deadline", func(t *testing.T) {
		req := request(t, dir, data, "late.onnx")
		ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
		defer cancel()
		if _, err := lethe.Unlearn(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want context.DeadlineExceeded", err)
		}
		assertNotWritten(t, req.Out)
	})
}

// assertNotWritten fails unless neither the model nor its certificate exists.
func assertNotWritten(t *testing.T, out string) {
	t.Helper()
	for _, p := range []string{out, lethe.CertPath(out)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want it absent", p, err)
		}
	}
}
