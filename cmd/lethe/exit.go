package main

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/lethe-ml/lethe/onnxio"
)

// Exit codes (DESIGN.md §5).
const (
	exitOK = 0
	// exitFailed: a check failed (such as a parity mismatch found by verify),
	// or the command could not finish for a reason that is not the user's
	// input (a missing onnxruntime, a full disk).
	exitFailed = 1
	// exitUsage: bad usage (flags, arguments) or bad input (a file that is
	// missing, not ONNX, or not what the command needs).
	exitUsage = 2
	// exitInternal: a panic, that is, a bug in lethe.
	exitInternal = 3
)

// exitError is an error that carries the exit code it must end the process
// with. usage marks command-line mistakes, after which lethe points at --help.
type exitError struct {
	code  int
	usage bool
	err   error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf reports a command-line mistake (exit code 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, usage: true, err: fmt.Errorf(format, args...)}
}

// badInput marks err as caused by an input file (exit code 2). nil stays nil.
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err}
}

// failed marks err as a failed check or run (exit code 1). nil stays nil.
func failed(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitFailed, err: err}
}

// exitCode maps an error to an exit code: the code of an *exitError; 2 for a
// model file that cannot be read; 1 otherwise.
func exitCode(err error) int {
	var ee *exitError
	var ime *onnxio.InvalidModelError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ime), errors.Is(err, fs.ErrNotExist), errors.Is(err, onnxio.ErrOverwriteInput):
		return exitUsage
	}
	return exitFailed
}

// isUsage reports whether err is a command-line mistake.
func isUsage(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.usage
}
