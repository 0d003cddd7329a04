package lethe

import (
	"path"
	"runtime"

	"github.com/lethe-ml/lethe/autodiff"
)

// Engine configures lethe's native engine. The zero value computes in
// float32, with every trainable parameter of DESIGN.md §2, in batches of
// 256 samples, with one worker per CPU.
type Engine struct {
	// Precision is the arithmetic: autodiff.Float32 (as ONNX and PyTorch
	// compute) or autodiff.Float64.
	Precision autodiff.Precision
	// Freeze keeps the initializers whose names match any of these
	// path.Match globs fixed: they are not trainable parameters.
	Freeze []string
	// BatchSize is the number of samples per batch of an evaluation
	// (memory, not results). Default 256.
	BatchSize int
	// Threads is the number of worker threads. Default: one per CPU.
	Threads int
}

// validate checks the settings; field names e in the request.
func (e Engine) validate(field string) error {
	switch {
	case e.Precision != autodiff.Float32 && e.Precision != autodiff.Float64:
		return badField(field+".Precision", "precision %d: want autodiff.Float32 or autodiff.Float64", int(e.Precision))
	case e.BatchSize < 0:
		return badField(field+".BatchSize", "batch size %d: want 0 (default) or more", e.BatchSize)
	case e.Threads < 0:
		return badField(field+".Threads", "threads %d: want 0 (one per CPU) or more", e.Threads)
	}
	for _, g := range e.Freeze {
		if _, err := path.Match(g, ""); err != nil {
			return badField(field+".Freeze", "%q is not a valid glob", g)
		}
	}
	return nil
}

// threads is the worker count, defaults applied.
func (e Engine) threads() int {
	if e.Threads > 0 {
		return e.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// evalOptions are the autodiff evaluation options for loss l.
func (e Engine) evalOptions(l autodiff.Loss) autodiff.EvalOptions {
	bs := e.BatchSize
	if bs == 0 {
		bs = 256
	}
	return autodiff.EvalOptions{Loss: l, BatchSize: bs, Threads: e.threads()}
}
