package onnxio

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by Load, Decode and ReadTensor wrap one of
// them when it applies, inside an *InvalidModelError that names the file.
var (
	// ErrNotONNX means the bytes are not an ONNX model (or tensor) at all:
	// garbage, an empty file, or a different file format.
	ErrNotONNX = errors.New("onnxio: not an ONNX file")
	// ErrTruncated means the file looks like ONNX but ends early.
	ErrTruncated = errors.New("onnxio: truncated file")
	// ErrUnsupportedIR means the model's IR version is outside
	// MinIRVersion..MaxIRVersion.
	ErrUnsupportedIR = errors.New("onnxio: unsupported IR version")
	// ErrExternalData means a tensor's external data is missing, unreadable,
	// or stored outside the model's folder.
	ErrExternalData = errors.New("onnxio: bad external data")
	// ErrTensorData means a tensor's stored values do not match its type or
	// dimensions.
	ErrTensorData = errors.New("onnxio: bad tensor data")
	// ErrTooLarge means the input exceeds DecodeOptions.MaxBytes.
	ErrTooLarge = errors.New("onnxio: input too large")
	// ErrOverwriteInput means Save was asked to write over a file the model
	// was read from.
	ErrOverwriteInput = errors.New("onnxio: refusing to overwrite an input file")
)

// InvalidModelError reports a model or tensor file that cannot be used. Path is
// the file ("" when decoding bytes that came from nowhere), Tensor the
// initializer or tensor involved ("" when none), Reason a human explanation and
// Err the sentinel above that classifies it (nil when none applies).
type InvalidModelError struct {
	Path   string
	Tensor string
	Reason string
	Err    error

	initializer bool // Tensor is a graph initializer
}

// Error implements error.
func (e *InvalidModelError) Error() string {
	msg := "onnxio: "
	if e.Path != "" {
		msg += e.Path + ": "
	}
	switch {
	case e.initializer:
		msg += fmt.Sprintf("initializer %q: ", e.Tensor)
	case e.Tensor != "":
		msg += fmt.Sprintf("tensor %q: ", e.Tensor)
	}
	return msg + e.Reason
}

// Unwrap returns the classifying sentinel, so errors.Is(err, ErrNotONNX) works.
func (e *InvalidModelError) Unwrap() error { return e.Err }

// invalid builds an *InvalidModelError without a path; Load fills it in.
func invalid(sentinel error, tensor, format string, args ...any) *InvalidModelError {
	return &InvalidModelError{Tensor: tensor, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// withPath sets the path of an *InvalidModelError inside err, if any.
func withPath(err error, path string) error {
	var ime *InvalidModelError
	if path != "" && errors.As(err, &ime) && ime.Path == "" {
		ime.Path = path
	}
	return err
}

// asInitializer marks the *InvalidModelError in err as being about a graph
// initializer, so that its message says so.
func asInitializer(err error) error {
	var ime *InvalidModelError
	if errors.As(err, &ime) {
		ime.initializer = true
	}
	return err
}
