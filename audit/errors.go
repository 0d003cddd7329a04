package audit

import "errors"

// Errors returned by the package. They are wrapped with %w, so test for them
// with errors.Is.
var (
	// ErrTooFewSamples reports an attack or fit without enough samples in
	// each class to fit on one part and score on the other.
	ErrTooFewSamples = errors.New("audit: too few samples")

	// ErrInvalidInput reports data that cannot be audited: mismatched
	// lengths, a class count that does not divide the data, NaN scores.
	ErrInvalidInput = errors.New("audit: invalid input")

	// ErrNotConverged reports an iterative fit (logistic regression) that
	// stopped at its iteration limit before meeting its tolerance.
	ErrNotConverged = errors.New("audit: not converged")
)
