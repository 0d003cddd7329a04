package dataset

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// openNPZ opens an .npz archive holding arrays x (features) and, optionally,
// y (labels). Members stored uncompressed (np.savez) are streamed from the
// file; deflated members (np.savez_compressed) are read into memory.
func openNPZ(path string, opts Options) (Source, error) {
	f, st, err := openFile(path)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dataset: %s: not a valid .npz (zip) archive: %w", path, err)
	}
	x, err := npzMember(f, st.Size(), zr, path, "x", opts.maxBytes())
	if err != nil {
		f.Close()
		return nil, err
	}
	if x == nil {
		f.Close()
		return nil, fmt.Errorf("dataset: %s: no array named x (holds %s); save with np.savez(path, x=features, y=labels)", path, memberList(zr))
	}
	y, err := npzMember(f, st.Size(), zr, path, "y", opts.maxBytes())
	if err != nil {
		f.Close()
		return nil, err
	}
	s, err := newArraySource(x, nil, y, opts, nil)
	if err != nil {
		f.Close()
		return nil, err
	}
	if x.mem != nil {
		f.Close() // the features are in memory and the labels have been read
	} else {
		s.closer = f
	}
	return s, nil
}

// npzMember opens member name+".npy" of the archive f of fileSize bytes, or
// returns nil if there is none. A stored member reads straight from f and
// must lie within it; a compressed one is decompressed into memory, at most
// limit bytes of it.
func npzMember(f io.ReaderAt, fileSize int64, zr *zip.Reader, path, name string, limit int64) (*array, error) {
	var zf *zip.File
	for _, m := range zr.File {
		if m.Name == name+".npy" {
			zf = m
			break
		}
	}
	if zf == nil {
		return nil, nil
	}
	label := path + "/" + zf.Name
	if zf.Method == zip.Store {
		off, err := zf.DataOffset()
		if err != nil {
			return nil, fmt.Errorf("dataset: %s: %w", label, err)
		}
		if off > fileSize || zf.UncompressedSize64 > uint64(fileSize-off) {
			return nil, fmt.Errorf("dataset: %s: corrupt archive: the member claims %d bytes from offset %d, beyond the end of the %d-byte file",
				label, zf.UncompressedSize64, off, fileSize)
		}
		size := int64(zf.UncompressedSize64)
		return openNPY(io.NewSectionReader(f, off, size), size, label, nil)
	}
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, &LimitError{File: label, What: "the decompressed member", Size: int64(min(zf.UncompressedSize64, math.MaxInt64)), Limit: limit}
	}
	size := int64(zf.UncompressedSize64)
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", label, err)
	}
	defer rc.Close()
	mem, err := readExactly(rc, size, satMul(int64(min(zf.CompressedSize64, uint64(fileSize))), maxDeflateRatio))
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: decompressing: %w", label, err)
	}
	// Reading to the end makes the zip reader verify the CRC-32.
	n, err := io.Copy(io.Discard, rc)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: decompressing: %w", label, err)
	}
	if n > 0 {
		return nil, fmt.Errorf("dataset: %s: corrupt member: %d bytes beyond its declared size", label, n)
	}
	return openNPY(bytes.NewReader(mem), size, label, mem)
}

// memberList names the arrays of an archive, for messages.
func memberList(zr *zip.Reader) string {
	var names []string
	for _, m := range zr.File {
		names = append(names, strings.TrimSuffix(m.Name, ".npy"))
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "no arrays"
	}
	return strings.Join(names, ", ")
}

// openFile opens path for reading and stats it.
func openFile(path string) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	return f, st, nil
}
