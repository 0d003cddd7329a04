package dataset

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// recorder is an io.ReaderAt over b that records the byte ranges read.
type recorder struct {
	b     []byte
	mu    sync.Mutex
	reads [][2]int64 // [offset, end)
}

func (r *recorder) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	r.reads = append(r.reads, [2]int64{off, off + int64(len(p))})
	r.mu.Unlock()
	return bytes.NewReader(r.b).ReadAt(p, off)
}

// TestReadTouchesOnlyRequestedRows opens an uncompressed .npz member through
// a recording reader and checks that Read fetches exactly the requested rows,
// consecutive ones in one read.
func TestReadTouchesOnlyRequestedRows(t *testing.T) {
	const n, size = 100, 10
	x := make([]float32, n*size)
	for i := range x {
		x[i] = float32(i)
	}
	p := filepath.Join(t.TempDir(), "d.npz")
	if err := WriteNPZ(p, x, []int{size}, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{b: raw}
	zr, err := zip.NewReader(rec, int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := npzMember(rec, int64(len(raw)), zr, p, "x", DefaultMaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	src, err := newArraySource(a, nil, nil, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	zf := zr.File[0]
	memberOff, _ := zf.DataOffset()
	dataOff := memberOff + a.off
	rec.reads = nil
	got := make([]float32, 4*size)
	if err := src.Read([]int{5, 6, 40, 99}, got, nil); err != nil {
		t.Fatal(err)
	}
	row := func(i int64) int64 { return dataOff + i*size*4 }
	want := [][2]int64{{row(5), row(7)}, {row(40), row(41)}, {row(99), row(100)}}
	if !slices.Equal(rec.reads, want) {
		t.Errorf("reads %v, want %v (rows 5-6, 40, 99)", rec.reads, want)
	}
	for k, i := range []int{5, 6, 40, 99} {
		if got[k*size] != float32(i*size) {
			t.Errorf("row %d starts with %v", i, got[k*size])
		}
	}
}
