package lethe

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
)

// InputError reports bad input: a request field that is missing, out of
// range or inconsistent with another, or a file that is missing, unreadable
// or not what the request needs (a model lethe's engine cannot compile, a
// NaN feature, a label beyond the model's outputs, a forget index out of
// range). Nothing was computed on bad input, or what was is discarded, and
// nothing was written. The command line exits with code 2 on it.
//
// Test for it with errors.As:
//
//	var bad *lethe.InputError
//	if errors.As(err, &bad) { ... }
type InputError struct {
	// Field names the request field at fault, as a Go selector from the
	// request: "Forget", "Data.Path", "Objective.Radius", "Lambda". It is
	// empty when the fault is not in one field (a model file that does
	// not fit the data it is given, say).
	Field string
	// Err says what is wrong. Its text names the file, and where it applies
	// the sample, label or node at fault; the underlying error (such as a
	// *dataset.NonFiniteError or an *autodiff.UnsupportedOpError) is
	// available through errors.As.
	Err error
}

// Error returns "lethe: " followed by the field, when known, and the fault.
func (e *InputError) Error() string {
	if e.Field == "" {
		return "lethe: " + e.Err.Error()
	}
	return "lethe: " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *InputError) Unwrap() error { return e.Err }

// CheckError reports a check that failed: lethe verify found a mismatch, or
// onnxruntime disagreed with lethe's engine on a model about to be released
// (which is then not written). The command line exits with code 1 on it.
type CheckError struct {
	// Checks names the checks that failed, e.g. "parity", "output",
	// "binding" (VerifyReport.Checks has the details).
	Checks []string
	// Err describes the failure.
	Err error
}

// Error returns "lethe: " followed by the failure.
func (e *CheckError) Error() string { return "lethe: " + e.Err.Error() }

// Unwrap returns Err.
func (e *CheckError) Unwrap() error { return e.Err }

// badField returns an *InputError for a request field.
func badField(field, format string, args ...any) error {
	return &InputError{Field: field, Err: fmt.Errorf(format, args...)}
}

// badInput marks err as bad input in field (which may be empty); nil stays
// nil, and an *InputError keeps its own field.
func badInput(field string, err error) error {
	var in *InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &in):
		return err
	}
	return &InputError{Field: field, Err: err}
}

// classify returns err as an *InputError when it says that an input was
// bad: a file that is missing or is not a valid model, a data set found
// bad while it was read, an operator or input the engine does not
// support, a model written over its input. Anything else is returned as it
// is.
func classify(field string, err error) error {
	var (
		in  *InputError
		ime *onnxio.InvalidModelError
		nf  *dataset.NonFiniteError
		le  *dataset.LabelError
		rd  *readError
	)
	switch {
	case err == nil || errors.As(err, &in):
		return err
	case errors.As(err, &rd), errors.As(err, &ime), errors.As(err, &nf), errors.As(err, &le),
		errors.Is(err, fs.ErrNotExist), errors.Is(err, onnxio.ErrOverwriteInput), errors.Is(err, autodiff.ErrUnsupported):
		return &InputError{Field: field, Err: err}
	}
	return err
}

// wrapf adds the operation's context to err, a failure that is not the
// input's fault, as "op: err", without repeating a "lethe: " prefix.
func wrapf(op string, err error) error {
	if err == nil {
		return nil
	}
	var in *InputError
	var ce *CheckError
	if errors.As(err, &in) || errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("lethe: %s: %w", op, unprefixed{err, op})
}

// unprefixed is an error whose text drops a leading "lethe: " and then a
// leading "op: " (an unlearn error wrapped as "unlearn"), so that wrapping
// never repeats a prefix.
type unprefixed struct {
	err error
	op  string
}

func (u unprefixed) Error() string {
	s := strings.TrimPrefix(u.err.Error(), "lethe: ")
	return strings.TrimPrefix(s, u.op+": ")
}
func (u unprefixed) Unwrap() error { return u.err }
