package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// idxName matches the base name of an idx file (LeCun's MNIST format),
// e.g. train-images-idx3-ubyte.gz or t10k-labels.idx1-ubyte.
var idxName = regexp.MustCompile(`idx\d-ubyte(\.gz)?$`)

// idxRank matches the rank part of an idx file name.
var idxRank = regexp.MustCompile(`idx\d`)

// openIdx opens an idx images file and, when it exists, the labels file
// beside it: the name with "images" replaced by "labels" and "idx<k>" by
// "idx1", compressed or not (like the images file first). Images [N, H, W] have sample shape [1, H, W].
// The bytes stay in memory as uint8 and are converted on each Read.
func openIdx(path string, opts Options) (Source, error) {
	base := filepath.Base(path)
	if strings.Contains(base, "labels") {
		return nil, fmt.Errorf("dataset: %s is an idx labels file; open the images file beside it", path)
	}
	dims, data, err := readIdx(path, opts.maxBytes())
	if err != nil {
		return nil, err
	}
	if len(dims) < 2 {
		return nil, fmt.Errorf("dataset: %s: idx images need at least 2 dimensions, got %v", path, dims)
	}
	x := &array{name: path, dt: dtype{descr: "|u1", kind: 'u', size: 1, order: binary.LittleEndian}, shape: dims, mem: data}
	x.rowElems = numElems(dims[1:])
	x.rowBytes = x.rowElems
	sampleShape := dims[1:]
	if len(dims) == 3 {
		sampleShape = []int{1, dims[1], dims[2]} // one channel, as convolutional models expect
	}
	var y *array
	if lp := idxLabelsPath(path); lp != "" {
		ldims, ldata, err := readIdx(lp, opts.maxBytes())
		if err != nil {
			return nil, err
		}
		if len(ldims) != 1 {
			return nil, fmt.Errorf("dataset: %s: idx labels must have 1 dimension, got %v", lp, ldims)
		}
		y = &array{name: lp, dt: x.dt, shape: ldims, rowElems: 1, rowBytes: 1, mem: ldata}
	}
	return newArraySource(x, sampleShape, y, opts, nil)
}

// idxLabelsPath returns the labels file beside the images file path, or ""
// if there is none.
func idxLabelsPath(path string) string {
	dir, base := filepath.Split(path)
	base = strings.TrimSuffix(base, ".gz")
	i := strings.LastIndex(base, "images")
	if i < 0 {
		return ""
	}
	stem := base[:i] + "labels" + base[i+len("images"):]
	stem = idxRank.ReplaceAllString(stem, "idx1")
	cands := []string{stem + ".gz", stem}
	if !strings.HasSuffix(path, ".gz") {
		cands[0], cands[1] = stem, stem+".gz" // compressed like the images first
	}
	for _, cand := range cands {
		if _, err := os.Stat(filepath.Join(dir, cand)); err == nil {
			return filepath.Join(dir, cand)
		}
	}
	return ""
}

// readIdx reads an idx file, gzip-compressed or not (told by its first
// bytes): the dimensions and the unsigned-byte data, at most limit bytes of
// it (else a *LimitError). The memory grows with the data that arrive, not
// with what the header promises. It reads to the end of a gzip stream so
// that its checksum is verified, and refuses trailing bytes.
func readIdx(path string, limit int64) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	deliverable := st.Size() // what the file's bytes can hold
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		deliverable = satMul(deliverable, maxDeflateRatio)
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("dataset: %s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, nil, fmt.Errorf("dataset: %s: reading the idx header: %w", path, err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, nil, fmt.Errorf("dataset: %s: not an idx file (bad magic % x)", path, head)
	}
	if head[2] != 0x08 {
		return nil, nil, fmt.Errorf("dataset: %s: idx element type 0x%02x is not supported; want 0x08 (unsigned byte)", path, head[2])
	}
	ndim := int(head[3])
	if ndim == 0 {
		return nil, nil, fmt.Errorf("dataset: %s: idx file with 0 dimensions", path)
	}
	raw := make([]byte, 4*ndim)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, fmt.Errorf("dataset: %s: reading the idx header: %w", path, err)
	}
	dims := make([]int, ndim)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(raw[4*i:]))
	}
	total := int64(0) // an empty dimension makes the array empty
	if !slices.Contains(dims, 0) {
		total = 1
	}
	for _, d := range dims {
		if total > 0 && total > limit/int64(d) {
			return nil, nil, &LimitError{File: path, What: fmt.Sprintf("idx data of dimensions %v", dims), Size: satMul(total, int64(d)), Limit: limit}
		}
		total *= int64(d)
	}
	data, err := readExactly(r, total, deliverable)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, fmt.Errorf("dataset: %s: truncated: dimensions %v promise %d bytes of data, found %d", path, dims, total, len(data))
		}
		return nil, nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	// One byte more than promised is enough to refuse the file; reading on
	// to the end of a gzip stream verifies its checksum.
	if n, err := io.CopyN(io.Discard, r, 1); n > 0 {
		return nil, nil, fmt.Errorf("dataset: %s: trailing data after the %v idx array", path, dims)
	} else if !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	return dims, data, nil
}

// isIdx reports whether path names an idx file.
func isIdx(path string) bool {
	return idxName.MatchString(filepath.Base(path))
}
