package dataset_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// gzipBytes compresses data with gzip.
func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// decodeIdx is the test's own idx reader, the oracle for FuzzIdx: the
// dimensions and data of an unsigned-byte idx file, gzip-compressed or not,
// with nothing after the data; ok is false for anything else.
func decodeIdx(file []byte) (dims []int, data []byte, ok bool) {
	if len(file) >= 2 && file[0] == 0x1f && file[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(file))
		if err != nil {
			return nil, nil, false
		}
		// The fuzz limit bounds what a valid file can hold; one byte more
		// is enough to tell a file that is too long.
		if file, err = io.ReadAll(io.LimitReader(zr, fuzzMaxBytes+1<<12)); err != nil {
			return nil, nil, false
		}
	}
	if len(file) < 4 || file[0] != 0 || file[1] != 0 || file[2] != 0x08 || file[3] == 0 {
		return nil, nil, false
	}
	rank := int(file[3])
	if len(file) < 4+4*rank {
		return nil, nil, false
	}
	total := 1
	for i := range rank {
		d := int(binary.BigEndian.Uint32(file[4+4*i:]))
		dims = append(dims, d)
		total *= d
		if total > fuzzMaxBytes {
			return nil, nil, false
		}
	}
	data = file[4+4*rank:]
	return dims, data, len(data) == total
}

// FuzzIdx feeds arbitrary bytes to Open as an idx images file and a labels
// file beside it (absent when labels is empty). What Open accepts must
// satisfy checkSource and agree with the test's own reader: the sample
// count, the sample shape ([1, H, W] for rank-3 images), every pixel and
// every label. Refusals must name a file.
func FuzzIdx(f *testing.F) {
	img := idxFile(0x08, []int{2, 2, 3}, []byte{0, 255, 51, 102, 153, 204, 1, 2, 3, 4, 5, 6})
	lab := idxFile(0x08, []int{2}, []byte{7, 3})
	f.Add(img, lab)
	f.Add(gzipBytes(img), gzipBytes(lab))
	f.Add(img, []byte(nil))
	f.Add(idxFile(0x08, []int{3, 2}, []byte{1, 2, 3, 4, 5, 6}), idxFile(0x08, []int{3}, []byte{0, 0, 1}))
	f.Add(idxFile(0x08, []int{1, 1, 1, 2}, []byte{9, 8}), gzipBytes(idxFile(0x08, []int{1}, []byte{4})))
	f.Add(idxFile(0x08, []int{1 << 20, 1 << 20}, nil), lab)
	f.Add(append(gzipBytes(img), gzipBytes([]byte{1})...), lab)
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		dir := t.TempDir()
		ip := filepath.Join(dir, "train-images-idx3-ubyte")
		if err := os.WriteFile(ip, images, 0o644); err != nil {
			t.Fatal(err)
		}
		if len(labels) > 0 {
			if err := os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), labels, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		src, err := dataset.Open(ip, fuzzOptions)
		if err != nil {
			if !bytes.Contains([]byte(err.Error()), []byte(dir)) {
				t.Fatalf("error names no file: %v", err)
			}
			return
		}
		x, y := checkSource(t, src)
		dims, pixels, ok := decodeIdx(images)
		if !ok || len(dims) < 2 {
			t.Fatalf("Open accepts images the test's reader refuses (dims %v)", dims)
		}
		want := dims[1:]
		if len(dims) == 3 {
			want = []int{1, dims[1], dims[2]}
		}
		if src.Len() != dims[0] || !slices.Equal(src.SampleShape(), want) {
			t.Fatalf("%d samples of %v, want %d of %v", src.Len(), src.SampleShape(), dims[0], want)
		}
		for i, p := range pixels {
			if x[i] != float32(p) {
				t.Fatalf("pixel %d: %v, want %d", i, x[i], p)
			}
		}
		if (y != nil) != (len(labels) > 0) {
			t.Fatalf("labels read: %v; labels file present: %v", y != nil, len(labels) > 0)
		}
		if y != nil {
			ldims, lbytes, ok := decodeIdx(labels)
			if !ok || len(ldims) != 1 || ldims[0] != dims[0] {
				t.Fatalf("Open accepts labels the test's reader refuses (dims %v)", ldims)
			}
			for i, l := range lbytes {
				if y[i] != int64(l) {
					t.Fatalf("label %d: %d, want %d", i, y[i], l)
				}
			}
		}
	})
}
