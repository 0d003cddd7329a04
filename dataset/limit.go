package dataset

import (
	"errors"
	"io"
	"math"

	"github.com/lethe-ml/lethe/internal/hugepages"
)

// readStep is the memory readExactly takes before any data arrives, and
// the size of the pieces it reads in.
const readStep = 4 << 20

// maxDeflateRatio bounds how many bytes one byte of a deflate (gzip, zip)
// stream can decompress to: 258 bytes per length/distance code, at best a
// code per quarter byte, so 1,032.
const maxDeflateRatio = 1032

// readExactly reads n bytes from r. When the input can deliver them
// (n ≤ deliverable: what the input's own size allows, e.g. the file size
// for raw bytes or maxDeflateRatio times it for a deflate stream) it reads
// them into one buffer allocated at once. Otherwise the memory grows with the
// bytes that actually arrive, so that a header promising more data than its
// input could hold costs no more memory than the input could fill. An input
// that ends early is io.ErrUnexpectedEOF, returned with the bytes read. The
// caller checks n against its limit first.
//
// When growing, the bytes arrive in pieces of readStep, joined once at the
// end: growing one buffer instead would copy and clear it again at every
// doubling, each a long copy that the garbage collector cannot interrupt
// (reading mnist:train took 2.5 times as long). Allocating at once is faster
// still: fresh memory is paid for in page faults, and the pieces and the
// joined copy are twice the memory. The one buffer is backed by huge pages
// where the system allows it, a fault per 2 MiB instead of per 4 KiB. The
// compressed mnist:train opens in 0.2 s instead of 0.4–0.55 s, the
// decompressed one in 0.03 s.
func readExactly(r io.Reader, n, deliverable int64) ([]byte, error) {
	if n <= deliverable {
		buf := make([]byte, n)
		hugepages.Advise(buf)
		m, err := io.ReadFull(r, buf)
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return buf[:m], err
	}
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
