package dataset

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// array is a C-ordered n-dimensional array whose first axis indexes samples:
// the data part of a .npy stream, read on demand from r or held in mem.
type array struct {
	name     string // for messages: "x.npy", "data.npz/x.npy"
	dt       dtype
	shape    []int // shape[0] is the number of rows
	rowElems int   // elements per row
	rowBytes int
	r        io.ReaderAt // the data starts at off; unused when mem != nil
	off      int64
	mem      []byte // the data, when held in memory
}

// rows is the number of rows (samples).
func (a *array) rows() int { return a.shape[0] }

// openNPY reads the header of the .npy stream r of size bytes and checks that
// the stream holds exactly the data the header promises. When mem is not nil
// it is the whole stream, and the array reads from it.
func openNPY(r io.ReaderAt, size int64, name string, mem []byte) (*array, error) {
	h, err := readNPYHeader(r, name)
	if err != nil {
		return nil, err
	}
	if h.fortran && nonUnitDims(h.shape) > 1 {
		return nil, fmt.Errorf("dataset: %s: Fortran-order arrays are not supported; save np.ascontiguousarray(a) instead", name)
	}
	if len(h.shape) == 0 {
		return nil, fmt.Errorf("dataset: %s: a scalar, want an array with a sample axis", name)
	}
	if h.dtype.size == 0 {
		return nil, fmt.Errorf("dataset: %s: unsupported element type %s", name, h.dtype.name())
	}
	a := &array{name: name, dt: h.dtype, shape: h.shape, r: r, off: h.dataOff}
	a.rowElems = numElems(h.shape[1:])
	a.rowBytes = a.rowElems * h.dtype.size
	want := int64(h.count()) * int64(h.dtype.size)
	if have := size - h.dataOff; have != want {
		what := "truncated"
		if have > want {
			what = "trailing data"
		}
		return nil, fmt.Errorf("dataset: %s: %s: the header promises shape %v of %s (%d bytes) but the file holds %d bytes of data",
			name, what, h.shape, h.dtype.name(), want, have)
	}
	if mem != nil {
		a.mem = mem[h.dataOff:]
	}
	return a, nil
}

// nonUnitDims counts the axes longer than 1; an array with at most one such
// axis has the same layout in C and Fortran order.
func nonUnitDims(shape []int) int {
	n := 0
	for _, d := range shape {
		if d > 1 {
			n++
		}
	}
	return n
}

// maxChunk bounds the bytes that one ReadAt fetches when consecutive rows are
// read together.
const maxChunk = 1 << 20

var chunkPool = sync.Pool{New: func() any { return new([]byte) }}

// readRows calls fn(k, row) for k = 0..len(idx)-1 in order, with row the
// bytes of row idx[k] (valid only during the call). Runs of consecutive
// indices are fetched with one ReadAt of up to maxChunk bytes. It stops at
// the first error, from the file or from fn. Indices must be in range.
func (a *array) readRows(idx []int, fn func(k int, row []byte) error) error {
	rb := a.rowBytes
	if a.mem != nil {
		for k, i := range idx {
			if err := fn(k, a.mem[i*rb:(i+1)*rb]); err != nil {
				return err
			}
		}
		return nil
	}
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	perChunk := max(1, maxChunk/max(rb, 1))
	for k := 0; k < len(idx); {
		run := 1
		for run < perChunk && k+run < len(idx) && idx[k+run] == idx[k+run-1]+1 {
			run++
		}
		need := run * rb
		if cap(*bp) < need {
			*bp = make([]byte, need)
		}
		buf := (*bp)[:need]
		if n, err := a.r.ReadAt(buf, a.off+int64(idx[k])*int64(rb)); n < need {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("dataset: %s: reading samples %d..%d: %w", a.name, idx[k], idx[k]+run-1, err)
		}
		for j := range run {
			if err := fn(k+j, buf[j*rb:(j+1)*rb]); err != nil {
				return err
			}
		}
		k += run
	}
	return nil
}

// scanRows calls fn(i, row) for every row i in order, reading in chunks.
func (a *array) scanRows(fn func(i int, row []byte) error) error {
	block := max(1, maxChunk/max(a.rowBytes, 1))
	idx := make([]int, 0, min(block, a.rows()))
	for start := 0; start < a.rows(); start += block {
		idx = idx[:0]
		for i := start; i < min(start+block, a.rows()); i++ {
			idx = append(idx, i)
		}
		if err := a.readRows(idx, func(k int, row []byte) error { return fn(start+k, row) }); err != nil {
			return err
		}
	}
	return nil
}

// labels reads the array as a label vector (shape [N] or [N, 1]) and checks
// every label: an integer ≥ 0, below numClasses when that is positive. The
// labels, as int64, may take at most limit bytes.
func (a *array) labels(numClasses int, limit int64) ([]int64, error) {
	if !a.dt.isLabel() {
		return nil, fmt.Errorf("dataset: %s: labels must be integers, got %s", a.name, a.dt.name())
	}
	if len(a.shape) > 2 || a.rowElems != 1 {
		return nil, fmt.Errorf("dataset: %s: labels must have shape [N] (or [N, 1]), got %v", a.name, a.shape)
	}
	if need := satMul(int64(a.rows()), 8); need > limit {
		return nil, &LimitError{File: a.name, What: "the labels as int64", Size: need, Limit: limit}
	}
	y := make([]int64, a.rows())
	err := a.scanRows(func(i int, b []byte) error {
		v, ok, text := a.dt.integer(b)
		if !ok || v < 0 || (numClasses > 0 && v >= int64(numClasses)) {
			return &LabelError{File: a.name, Sample: i, Value: text, NumClasses: numClasses}
		}
		y[i] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return y, nil
}

// classCount is numClasses when positive, otherwise the largest label + 1.
func classCount(y []int64, numClasses int) int {
	if numClasses > 0 {
		return numClasses
	}
	m := int64(-1)
	for _, v := range y {
		m = max(m, v)
	}
	return int(m + 1)
}
