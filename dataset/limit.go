package dataset

import (
	"errors"
	"io"
	"math"
)

// readStep is the memory readExactly takes before any data arrives, and
// the size of the pieces it reads in.
const readStep = 4 << 20

// readExactly reads n bytes from r into memory that grows with the bytes
// that actually arrive, so that a header promising more data than its input
// holds costs no more memory than the input does. An input that ends early
// is io.ErrUnexpectedEOF, returned with the bytes read. The caller checks n
// against its limit first.
//
// The bytes arrive in pieces of readStep, joined once at the end: growing
// one buffer instead would copy and clear it again at every doubling, each
// a long copy that the garbage collector cannot interrupt (reading
// mnist:train took 2.5 times as long).
func readExactly(r io.Reader, n int64) ([]byte, error) {
	var pieces [][]byte
	var got int64
	var err error
	for got < n && err == nil {
		piece := make([]byte, min(readStep, n-got))
		var m int
		m, err = io.ReadFull(r, piece)
		pieces = append(pieces, piece[:m])
		got += int64(m)
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	if len(pieces) == 1 {
		return pieces[0], err
	}
	buf := make([]byte, 0, got)
	for _, p := range pieces {
		buf = append(buf, p...)
	}
	return buf, err
}

// satMul is a·b for a, b ≥ 0, or math.MaxInt64 when that overflows: a size
// for a message.
func satMul(a, b int64) int64 {
	if b != 0 && a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
