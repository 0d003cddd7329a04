package dataset

import (
	"fmt"
	"slices"
)

// memSource is a Source over float32 features and labels in memory.
type memSource struct {
	name        string
	x           []float32
	sampleShape []int
	size        int
	y           []int64 // nil: no labels
	numClasses  int
	opts        Options
}

// FromArrays returns an in-memory Source over x, len(x)/size samples of
// sampleShape (size elements each; an empty shape is a scalar sample), with
// labels y (nil for none, otherwise one per sample). It does not copy x or
// y: the caller must not change them while the source is in use. Features
// must be finite and labels ≥ 0; the number of classes is the largest label
// + 1. FromArrays applies no scaling or normalisation.
func FromArrays(x []float32, sampleShape []int, y []int64) (Source, error) {
	return newMemSource("in-memory data", x, sampleShape, y, Options{})
}

// newMemSource checks and wraps in-memory data; name is for messages.
func newMemSource(name string, x []float32, sampleShape []int, y []int64, opts Options) (*memSource, error) {
	for _, d := range sampleShape {
		if d < 1 {
			return nil, fmt.Errorf("dataset: %s: sample shape %v has a dimension < 1", name, sampleShape)
		}
	}
	size := numElems(sampleShape)
	if len(x)%size != 0 {
		return nil, fmt.Errorf("dataset: %s: %d features are not a whole number of samples of shape %v (%d elements)", name, len(x), sampleShape, size)
	}
	n := len(x) / size
	if y != nil && len(y) != n {
		return nil, fmt.Errorf("dataset: %s has %d samples but %d labels", name, n, len(y))
	}
	for i, v := range x {
		if !finite32(v) {
			return nil, &NonFiniteError{File: name, Sample: i / size, Element: i % size, Value: float64(v)}
		}
	}
	for i, v := range y {
		if v < 0 || (opts.NumClasses > 0 && v >= int64(opts.NumClasses)) {
			return nil, &LabelError{File: name, Sample: i, Value: fmt.Sprint(v), NumClasses: opts.NumClasses}
		}
	}
	s := &memSource{name: name, x: x, sampleShape: slices.Clone(sampleShape), size: size, y: y, opts: opts}
	if y != nil {
		s.numClasses = classCount(y, opts.NumClasses)
	}
	return s, nil
}

// Len is the number of samples.
func (s *memSource) Len() int { return len(s.x) / s.size }

// SampleShape returns a copy of the shape of one sample.
func (s *memSource) SampleShape() []int { return slices.Clone(s.sampleShape) }

// HasLabels reports whether the source has labels.
func (s *memSource) HasLabels() bool { return s.y != nil }

// NumClasses is the declared or observed number of classes.
func (s *memSource) NumClasses() (int, error) {
	if s.y == nil {
		return 0, fmt.Errorf("dataset: %s: %w", s.name, ErrNoLabels)
	}
	return s.numClasses, nil
}

// Read implements Source.
func (s *memSource) Read(idx []int, x []float32, y []int64) error {
	if err := checkRead(s.name, s.Len(), s.size, s.y != nil, idx, x, y); err != nil {
		return err
	}
	for k, i := range idx {
		copy(x[k*s.size:(k+1)*s.size], s.x[i*s.size:(i+1)*s.size])
		if y != nil {
			y[k] = s.y[i]
		}
	}
	return nil
}

// Rows returns samples first to first+n-1 in place (see Source); ok is false
// when they are out of range.
func (s *memSource) Rows(first, n int) (x []float32, y []int64, ok bool) {
	if first < 0 || n < 0 || first+n > s.Len() {
		return nil, nil, false
	}
	if s.y != nil {
		y = s.y[first : first+n]
	}
	return s.x[first*s.size : (first+n)*s.size], y, true
}

func (s *memSource) openOptions() Options { return s.opts }
