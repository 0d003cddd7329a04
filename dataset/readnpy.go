package dataset

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
)

// ReadNPY reads a whole .npy file into memory, converting every element to
// T exactly: a value that might not be represented exactly (an integer
// beyond ±2⁵³ for float64, beyond ±2²⁴ or a float64 that is not a float32
// for float32, a non-integral float for int64) is an error naming the
// element. Any float or integer dtype, in
// either byte order, is accepted; the shape is returned with the data. It is
// meant for vectors such as the CLI's --vector V.npy. The file's data and
// the result together may take at most DefaultMaxBytes of memory (else a
// *LimitError); ReadNPYLimit sets another limit.
func ReadNPY[T float32 | float64 | int64](path string) ([]T, []int, error) {
	return ReadNPYLimit[T](path, DefaultMaxBytes)
}

// ReadNPYLimit is ReadNPY with the limit maxBytes (> 0) on the memory the
// file's data and the result take together.
func ReadNPYLimit[T float32 | float64 | int64](path string, maxBytes int64) ([]T, []int, error) {
	if maxBytes <= 0 {
		panic("dataset: ReadNPYLimit: maxBytes must be > 0")
	}
	f, st, err := openFile(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	h, err := readNPYHeader(f, path)
	if err != nil {
		return nil, nil, err
	}
	if h.fortran && nonUnitDims(h.shape) > 1 {
		return nil, nil, fmt.Errorf("dataset: %s: Fortran-order arrays are not supported; save np.ascontiguousarray(a) instead", path)
	}
	dt := h.dtype
	if !dt.isInt() && !dt.isFloat() {
		return nil, nil, fmt.Errorf("dataset: %s: unsupported element type %s; want a float or integer array", path, dt.name())
	}
	want := int64(h.count()) * int64(dt.size)
	if have := st.Size() - h.dataOff; have != want {
		return nil, nil, fmt.Errorf("dataset: %s: the header promises shape %v of %s (%d bytes) but the file holds %d bytes of data",
			path, h.shape, dt.name(), want, have)
	}
	var zero T
	if need := want + satMul(int64(h.count()), int64(binary.Size(zero))); need > maxBytes {
		return nil, nil, &LimitError{File: path, What: fmt.Sprintf("the data and its conversion to %T", zero), Size: need, Limit: maxBytes}
	}
	raw := make([]byte, want)
	if _, err := f.ReadAt(raw, h.dataOff); err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	out := make([]T, h.count())
	for i := range out {
		b := raw[i*dt.size:]
		v, ok := convertExact[T](dt, b)
		if !ok {
			return nil, nil, fmt.Errorf("dataset: %s: element %d (%s) is not exactly representable as %T", path, i, elemText(dt, b), zero)
		}
		out[i] = v
	}
	return out, h.shape, nil
}

// convertExact converts element b of dt to T, reporting whether exactly.
func convertExact[T float32 | float64 | int64](dt dtype, b []byte) (T, bool) {
	var zero T
	switch any(zero).(type) {
	case int64:
		v, ok, _ := dt.integer(b)
		return T(v), ok
	case float64:
		if dt.isFloat() {
			return T(dt.float(b)), true
		}
		v, ok, _ := dt.integer(b)
		return T(float64(v)), ok && v >= -(1<<53) && v <= 1<<53
	}
	if dt.isFloat() {
		f := dt.float(b)
		return T(float32(f)), math.IsNaN(f) || float64(float32(f)) == f
	}
	v, ok, _ := dt.integer(b)
	return T(float32(v)), ok && v >= -(1<<24) && v <= 1<<24
}

// elemText formats element b of dt as stored.
func elemText(dt dtype, b []byte) string {
	if dt.isFloat() {
		return strconv.FormatFloat(dt.float(b), 'g', -1, 64)
	}
	_, _, text := dt.integer(b)
	return text
}
