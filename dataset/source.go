package dataset

import (
	"fmt"
	"io"
)

// Source is random access to a labelled data set. Implementations may hold the
// data in memory or read it from disk on demand; callers never assume either.
//
// Read is safe for concurrent use by multiple goroutines.
type Source interface {
	// Len is the number of samples.
	Len() int
	// SampleShape is the shape of one sample's features, without the batch axis.
	SampleShape() []int
	// Read copies the features of samples idx into x (row-major, len(idx) samples
	// of SampleShape each) and their labels into y (len(idx) entries).
	//
	// y may be nil: only features are read. A source without labels returns an
	// error wrapping ErrNoLabels when y is not nil. Indices out of [0, Len()),
	// and x or y of the wrong length, are errors.
	Read(idx []int, x []float32, y []int64) error
}

// Rows returns the features and labels (nil: none) of samples first to
// first+n-1 of src without copying them, when src holds them in memory as
// float32 values, one sample after another, and says so by implementing
//
//	Rows(first, n int) (x []float32, y []int64, ok bool)
//
// The in-memory sources of FromArrays do, and Reshape passes it through.
// ok is false for other sources and for samples out of range. The caller
// must not write into x or y.
func Rows(src Source, first, n int) (x []float32, y []int64, ok bool) {
	if r, is := src.(interface {
		Rows(first, n int) ([]float32, []int64, bool)
	}); is {
		return r.Rows(first, n)
	}
	return nil, nil, false
}

// HasLabels reports whether src has labels. A Source says it has none by
// implementing
//
//	HasLabels() bool
//
// returning false; sources without that method are taken to have labels.
func HasLabels(src Source) bool {
	if l, ok := src.(interface{ HasLabels() bool }); ok {
		return l.HasLabels()
	}
	return true
}

// NumClasses returns the number of classes of src: Options.NumClasses when it
// was declared at open, otherwise the largest label + 1. The sources of this
// package compute it once, when they are opened, and views (Subset, Without,
// Reshape) report the count of the data set they view, not of their part of
// it. For other sources NumClasses reads every label, unless the source
// implements
//
//	NumClasses() (int, error)
//
// It returns an error wrapping ErrNoLabels for a source without labels.
func NumClasses(src Source) (int, error) {
	if c, ok := src.(interface{ NumClasses() (int, error) }); ok {
		return c.NumClasses()
	}
	if !HasLabels(src) {
		return 0, fmt.Errorf("dataset: counting classes: %w", ErrNoLabels)
	}
	maxLabel := int64(-1)
	err := ForEachBatch(src, Batches(src.Len(), batchFor(src), nil), func(_ []int, _ []float32, y []int64) error {
		for _, v := range y {
			maxLabel = max(maxLabel, v)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(maxLabel + 1), nil
}

// Close releases the files held by a source returned by Open or OpenArrays.
// Sources held entirely in memory, and views, hold none: for them Close does
// nothing. Closing a source that views built on still use makes their Reads
// fail.
func Close(src Source) error {
	if c, ok := src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// checkRead validates the arguments of a Read on a source called name with n
// samples of size elements each.
func checkRead(name string, n, size int, hasLabels bool, idx []int, x []float32, y []int64) error {
	if len(x) != len(idx)*size {
		return fmt.Errorf("dataset: %s: Read: x has %d elements, want %d (%d samples of %d)", name, len(x), len(idx)*size, len(idx), size)
	}
	if y != nil {
		if !hasLabels {
			return fmt.Errorf("dataset: %s: %w", name, ErrNoLabels)
		}
		if len(y) != len(idx) {
			return fmt.Errorf("dataset: %s: Read: y has %d elements, want %d", name, len(y), len(idx))
		}
	}
	for _, i := range idx {
		if i < 0 || i >= n {
			return fmt.Errorf("dataset: %s: Read: sample index %d out of range [0, %d)", name, i, n)
		}
	}
	return nil
}

// batchFor is a batch size that keeps one batch of src near 1 MiB of float32.
func batchFor(src Source) int {
	return max(1, (1<<18)/max(1, numElems(src.SampleShape())))
}

// optioned is implemented by the sources of this package: the Options they
// were opened with, so that ParseForget converts a samples file the same way.
type optioned interface {
	openOptions() Options
}

// optionsOf returns the Options src was opened with; the zero Options for
// sources from elsewhere.
func optionsOf(src Source) Options {
	if o, ok := src.(optioned); ok {
		return o.openOptions()
	}
	return Options{}
}
