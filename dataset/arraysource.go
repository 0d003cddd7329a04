package dataset

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// errNoSamples marks a data file holding no sample.
var errNoSamples = errors.New("no samples")

// arraySource is a Source over a feature array (streamed or in memory) and
// labels held in memory.
type arraySource struct {
	x           *array
	name        string // for messages
	sampleShape []int
	labels      []int64 // nil: no labels
	numClasses  int
	opts        Options
	tf          transform
	lazyCheck   bool      // check features for NaN/Inf on every Read
	closer      io.Closer // the open file, if any
}

// newArraySource checks that x can hold features and that y (nil when there
// are no labels) has one label per row, reads and checks the labels, and
// checks the features for NaN and Inf now (in memory, or opts.ScanAtOpen) or
// arranges for Read to check them.
func newArraySource(x *array, sampleShape []int, y *array, opts Options, closer io.Closer) (*arraySource, error) {
	if !x.dt.isFeature() {
		return nil, fmt.Errorf("dataset: %s: features must be float32, float64 or uint8, got %s", x.name, x.dt.name())
	}
	if x.rows() == 0 {
		return nil, fmt.Errorf("dataset: %s: %w (shape %v)", x.name, errNoSamples, x.shape)
	}
	if x.rowElems == 0 {
		return nil, fmt.Errorf("dataset: %s: samples have no features (shape %v)", x.name, x.shape)
	}
	if sampleShape == nil {
		sampleShape = slices.Clone(x.shape[1:])
	}
	s := &arraySource{x: x, name: x.name, sampleShape: sampleShape, opts: opts, tf: opts.transform(), closer: closer}
	if y != nil {
		if y.rows() != x.rows() {
			return nil, fmt.Errorf("dataset: %s has %d samples but %s has %d labels", x.name, x.rows(), y.name, y.rows())
		}
		labels, err := y.labels(opts.NumClasses, opts.maxBytes())
		if err != nil {
			return nil, err
		}
		s.labels = labels
		s.numClasses = classCount(labels, opts.NumClasses)
	}
	// Float features may be stored non-finite; any feature, uint8 ones
	// included, may become so when normalised.
	if x.dt.isFloat() || s.tf.norm {
		if x.mem != nil || opts.ScanAtOpen {
			if err := s.scanFinite(); err != nil {
				return nil, err
			}
		} else {
			s.lazyCheck = true
		}
	}
	return s, nil
}

// scanFinite checks every feature for NaN and Inf, as stored and after
// normalisation.
func (s *arraySource) scanFinite() error {
	buf := make([]float32, s.x.rowElems)
	return s.x.scanRows(func(i int, row []byte) error {
		if bad, v := s.x.dt.decodeFeatures(buf, row, s.tf.u8); bad >= 0 {
			return &NonFiniteError{File: s.name, Sample: i, Element: bad, Value: v}
		}
		if bad, v := s.tf.apply(buf); bad >= 0 {
			return s.tf.nonFinite(s.name, i, bad, v)
		}
		return nil
	})
}

// Len is the number of samples.
func (s *arraySource) Len() int { return s.x.rows() }

// SampleShape returns a copy of the shape of one sample.
func (s *arraySource) SampleShape() []int { return slices.Clone(s.sampleShape) }

// HasLabels reports whether the source was opened with labels.
func (s *arraySource) HasLabels() bool { return s.labels != nil }

// NumClasses is the declared or observed number of classes.
func (s *arraySource) NumClasses() (int, error) {
	if s.labels == nil {
		return 0, fmt.Errorf("dataset: %s: %w", s.name, ErrNoLabels)
	}
	return s.numClasses, nil
}

// Read implements Source.
func (s *arraySource) Read(idx []int, x []float32, y []int64) error {
	size := s.x.rowElems
	if err := checkRead(s.name, s.Len(), size, s.labels != nil, idx, x, y); err != nil {
		return err
	}
	err := s.x.readRows(idx, func(k int, row []byte) error {
		dst := x[k*size : (k+1)*size]
		bad, v := s.x.dt.decodeFeatures(dst, row, s.tf.u8)
		if bad >= 0 && s.lazyCheck {
			return &NonFiniteError{File: s.name, Sample: idx[k], Element: bad, Value: v}
		}
		if bad, v := s.tf.apply(dst); bad >= 0 && s.lazyCheck {
			return s.tf.nonFinite(s.name, idx[k], bad, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if y != nil {
		for k, i := range idx {
			y[k] = s.labels[i]
		}
	}
	return nil
}

// Close closes the file the source reads from, if any.
func (s *arraySource) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

func (s *arraySource) openOptions() Options { return s.opts }
