package dataset

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// ErrNoLabels is returned (wrapped) by Read when labels are requested from a
// source that has none, such as a lone .npy file, and by NumClasses for such a
// source. Test for it with errors.Is.
var ErrNoLabels = errors.New("data set has no labels")

// Sentinel errors carried by a ForgetError; test for them with errors.Is.
var (
	// ErrEmptyForget: the forget set names no sample.
	ErrEmptyForget = errors.New("empty forget set")
	// ErrForgetAll: the forget set names every training sample, so nothing would remain.
	ErrForgetAll = errors.New("forget set contains every training sample")
	// ErrDuplicateIndex: an index is listed more than once.
	ErrDuplicateIndex = errors.New("duplicate index")
	// ErrIndexRange: an index is negative or not below the training set size.
	ErrIndexRange = errors.New("index out of range")
	// ErrSampleNotFound: a sample of a samples file matches no training sample.
	ErrSampleNotFound = errors.New("sample not found in the training set")
	// ErrForgetSyntax: a line or an element is not a sample index.
	ErrForgetSyntax = errors.New("not a sample index")
)

// ErrTooLarge is wrapped by every *LimitError; test for it with errors.Is.
var ErrTooLarge = errors.New("input too large")

// LimitError reports input that would take more memory than
// Options.MaxBytes (or ReadNPYLimit's limit) allows. It is returned before
// that memory is taken.
type LimitError struct {
	File  string // the file (or archive member)
	What  string // what would be held, e.g. "decompressed member", "features as float32"
	Size  int64  // the bytes it would take, at least
	Limit int64  // the limit in force
}

// Error names the file, the size and the limit, and how to raise it.
func (e *LimitError) Error() string {
	return fmt.Sprintf("dataset: %s: %s would take at least %d bytes of memory, over the %d-byte limit (Options.MaxBytes)",
		e.File, e.What, e.Size, e.Limit)
}

// Unwrap returns ErrTooLarge.
func (e *LimitError) Unwrap() error { return ErrTooLarge }

// NonFiniteError reports a feature that is NaN or infinite, a float64
// feature too large for float32, or a finite feature that
// Options.Normalize maps to ±Inf or NaN, and where it is.
type NonFiniteError struct {
	File    string  // the file (or data set) holding the feature
	Sample  int     // the sample's index in that file
	Element int     // the feature's position within the sample, row-major
	Value   float64 // the value as stored (after uint8 scaling)
	// Normalized, when not nil, is the normalisation (in float32) that
	// made the finite Value non-finite.
	Normalized *Normalization
}

// Error describes the feature and where it is.
func (e *NonFiniteError) Error() string {
	what := "is " + strconv.FormatFloat(e.Value, 'g', -1, 64)
	switch n := e.Normalized; {
	case n != nil:
		r := (float32(e.Value) - float32(n.Mean)) / float32(n.Std)
		what += fmt.Sprintf(", which the normalisation (v − %g)/%g makes %g", float32(n.Mean), float32(n.Std), r)
	case !math.IsNaN(e.Value) && !math.IsInf(e.Value, 0):
		what += ", which overflows float32"
	}
	return fmt.Sprintf("dataset: %s: feature %d of sample %d %s; features must be finite", e.File, e.Element, e.Sample, what)
}

// LabelError reports a label that is not a valid class index: negative, not an
// integer, or not below the declared number of classes.
type LabelError struct {
	File       string // the file holding the labels
	Sample     int    // the sample's index in that file
	Value      string // the label as stored, formatted as text
	NumClasses int    // the declared number of classes, 0 when none was declared
}

// Error describes the label and the valid range.
func (e *LabelError) Error() string {
	want := "labels must be integers ≥ 0"
	if e.NumClasses > 0 {
		want = fmt.Sprintf("labels must be integers in [0, %d)", e.NumClasses)
	}
	return fmt.Sprintf("dataset: %s: label of sample %d is %s; %s", e.File, e.Sample, e.Value, want)
}

// ShapeError reports a sample shape that does not fit the shape asked for, as
// when a data set is reshaped to a model's input shape.
type ShapeError struct {
	Have []int // the data set's sample shape
	Want []int // the requested shape
}

// Error names both shapes and their element counts.
func (e *ShapeError) Error() string {
	return fmt.Sprintf("dataset: sample shape %v (%d elements) does not match %v (%d elements)",
		e.Have, numElems(e.Have), e.Want, numElems(e.Want))
}

// ForgetError reports a bad forget set: which file, where in it (a line, an
// element or a sample position; empty when the error concerns the whole set),
// and which of the sentinel errors above it is.
type ForgetError struct {
	File  string // the forget-set file
	Where string // e.g. "line 4", "element 3", "sample 7"; "" for the set as a whole
	Err   error  // ErrEmptyForget, ErrForgetAll, ErrDuplicateIndex, ErrIndexRange, ErrSampleNotFound or ErrForgetSyntax
	msg   string
}

// Error names the file, the place and the problem.
func (e *ForgetError) Error() string {
	s := "dataset: " + e.File + ": "
	if e.Where != "" {
		s += e.Where + ": "
	}
	return s + e.msg
}

// Unwrap returns the sentinel error.
func (e *ForgetError) Unwrap() error { return e.Err }

// numElems is the number of elements of shape, 1 for a scalar shape.
func numElems(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
