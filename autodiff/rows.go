package autodiff

import "fmt"

// rowSource is the optional method of Data described there: samples held in
// memory as float32 features, one sample after another.
type rowSource interface {
	Rows(first, n int) (x []float32, y []int64, ok bool)
}

// readBatch returns the features of samples b and, with labels set, their
// labels. A run of consecutive samples of a rowSource is read in place,
// without a copy (kernels never write into their inputs); any other batch is
// copied into r's buffers by data.Read.
func (r *run[T]) readBatch(data Data, b []int, sampleSize int, labels bool) ([]float32, []int64, error) {
	if rs, ok := data.(rowSource); ok && consecutive(b) {
		x, y, ok := rs.Rows(b[0], len(b))
		switch {
		case !ok || (labels && y == nil):
		case len(x) != len(b)*sampleSize || (labels && len(y) != len(b)):
			return nil, nil, fmt.Errorf("autodiff: Rows(%d, %d) returned %d features and %d labels, want %d and %d",
				b[0], len(b), len(x), len(y), len(b)*sampleSize, len(b))
		case labels:
			return x, y, nil
		default:
			return x, nil, nil
		}
	}
	ny := 0
	if labels {
		ny = len(b)
	}
	x, y := r.inputBuffers(len(b)*sampleSize, ny)
	if !labels {
		y = nil
	}
	if err := data.Read(b, x, y); err != nil {
		return nil, nil, fmt.Errorf("autodiff: reading samples: %w", err)
	}
	return x, y, nil
}

// consecutive reports whether b is a non-empty run first, first+1, ...
func consecutive(b []int) bool {
	for i, v := range b {
		if v != b[0]+i {
			return false
		}
	}
	return len(b) > 0
}
