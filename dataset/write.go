package dataset

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/lethe-ml/lethe/internal/atomicfile"
)

// WriteNPY writes data, a C-order array of the given shape, to path as a
// .npy file (little-endian float32, float64 or int64) that numpy.load reads.
// The write is atomic: a temporary file beside path is renamed over it once
// complete. Values round-trip exactly through ReadNPY.
func WriteNPY[T float32 | float64 | int64](path string, data []T, shape []int) error {
	if err := checkShape(path, len(data), shape); err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		return encodeNPY(w, data, shape)
	})
}

// WriteNPZ writes features x (samples of sampleShape) and labels y to path as
// an .npz archive with arrays x (float32 [N, sampleShape...]) and y (int64
// [N]) that Open and numpy.load read; y nil writes x alone. Members are
// stored uncompressed, so Open streams them. The write is atomic.
func WriteNPZ(path string, x []float32, sampleShape []int, y []int64) error {
	size := numElems(sampleShape)
	if slices.ContainsFunc(sampleShape, func(d int) bool { return d < 1 }) || len(x)%size != 0 {
		return fmt.Errorf("dataset: writing %s: %d features are not a whole number of samples of shape %v", path, len(x), sampleShape)
	}
	n := len(x) / size
	if y != nil && len(y) != n {
		return fmt.Errorf("dataset: writing %s: %d samples but %d labels", path, n, len(y))
	}
	return writeAtomic(path, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		m, err := zw.CreateHeader(&zip.FileHeader{Name: "x.npy", Method: zip.Store})
		if err != nil {
			return err
		}
		if err := encodeNPY(m, x, append([]int{n}, sampleShape...)); err != nil {
			return err
		}
		if y != nil {
			m, err := zw.CreateHeader(&zip.FileHeader{Name: "y.npy", Method: zip.Store})
			if err != nil {
				return err
			}
			if err := encodeNPY(m, y, []int{n}); err != nil {
				return err
			}
		}
		return zw.Close()
	})
}

// checkShape checks that shape has n elements.
func checkShape(path string, n int, shape []int) error {
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("dataset: writing %s: negative dimension in shape %v", path, shape)
		}
	}
	if numElems(shape) != n {
		return fmt.Errorf("dataset: writing %s: shape %v holds %d elements, data has %d", path, shape, numElems(shape), n)
	}
	return nil
}

// encodeNPY writes header and little-endian data.
func encodeNPY[T float32 | float64 | int64](w io.Writer, data []T, shape []int) error {
	var descr string
	var put func(b []byte, v T)
	switch any(data).(type) {
	case []float32:
		descr = "<f4"
		put = func(b []byte, v T) { binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v))) }
	case []float64:
		descr = "<f8"
		put = func(b []byte, v T) { binary.LittleEndian.PutUint64(b, math.Float64bits(float64(v))) }
	default:
		descr = "<i8"
		put = func(b []byte, v T) { binary.LittleEndian.PutUint64(b, uint64(int64(v))) }
	}
	if _, err := w.Write(formatNPYHeader(descr, shape)); err != nil {
		return err
	}
	var zero T
	es := int(binary.Size(zero))
	buf := make([]byte, 64<<10)
	per := len(buf) / es
	for start := 0; start < len(data); start += per {
		chunk := data[start:min(start+per, len(data))]
		for i, v := range chunk {
			put(buf[i*es:], v)
		}
		if _, err := w.Write(buf[:len(chunk)*es]); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes path through a temporary file in the same folder
// (unnamed on Linux, so a killed process leaves nothing), synced and moved
// over path only when write succeeded.
func writeAtomic(path string, write func(io.Writer) error) error {
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return fmt.Errorf("dataset: writing %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		f.Abort()
		return fmt.Errorf("dataset: writing %s: %w", path, err)
	}
	if err := f.Commit(true); err != nil {
		return fmt.Errorf("dataset: writing %s: %w", path, err)
	}
	return nil
}
