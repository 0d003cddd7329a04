package dataset

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
	Read(idx []int, x []float32, y []int64) error
}
