package dataset

import (
	"errors"
	"io"
	"math"
	"slices"
)

// readStep is the memory readExactly takes before any data arrives.
const readStep = 1 << 20

// readExactly reads n bytes from r into a buffer that grows with the bytes
// that actually arrive, so that a header promising more data than its input
// holds costs no more memory than the input does. An input that ends early
// is io.ErrUnexpectedEOF, returned with the bytes read. The caller checks n
// against its limit first.
func readExactly(r io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, 0, min(n, readStep))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(int64(len(buf)), n-int64(len(buf)))))
		}
		end := int(min(int64(cap(buf)), n))
		m, err := io.ReadFull(r, buf[len(buf):end])
		buf = buf[:len(buf)+m]
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}

// satMul is a·b for a, b ≥ 0, or math.MaxInt64 when that overflows: a size
// for a message.
func satMul(a, b int64) int64 {
	if b != 0 && a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
