package dataset_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// wantLimit fails unless err is a *LimitError for file with the given limit
// (and at least size bytes, when size > 0) that wraps ErrTooLarge and whose
// text names the file and the limit.
func wantLimit(t *testing.T, err error, file string, limit, size int64) {
	t.Helper()
	var le *dataset.LimitError
	if !errors.As(err, &le) || !errors.Is(err, dataset.ErrTooLarge) {
		t.Fatalf("got %v, want a *LimitError", err)
	}
	if le.File != file || le.Limit != limit || le.Size <= limit || (size > 0 && le.Size < size) {
		t.Fatalf("%+v: want file %s, limit %d, size ≥ %d", le, file, limit, size)
	}
	if msg := err.Error(); !strings.Contains(msg, file) || !strings.Contains(msg, "Options.MaxBytes") {
		t.Fatalf("message %q does not name the file and the limit", msg)
	}
}

// allocated runs fn and returns the bytes it allocated (heap, cumulative).
// Tests of this package do not run in parallel, so other goroutines add
// little; the thresholds below are far from both sides.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// rawZip writes an archive whose single member x.npy claims sizes of the
// caller's choosing: data are stored as given, with method and claimed
// uncompressed size.
func rawZip(t *testing.T, path string, method uint16, data []byte, uncompressed uint64) {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "x.npy", Method: method, CRC32: crc32.ChecksumIEEE(data),
		CompressedSize64: uint64(len(data)), UncompressedSize64: uncompressed})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Dir(path), filepath.Base(path), b.Bytes())
}

func deflate(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestLimitNPZDecompressed: a deflated member is refused before
// decompression when it claims more than MaxBytes (a claim beyond int64
// too, without panicking), a false claim under the limit costs only the
// memory of the data that arrive, and raising MaxBytes opens a member the
// default refuses.
func TestLimitNPZDecompressed(t *testing.T) {
	dir := t.TempDir()
	npy := rawNPY("<f4", false, "(1000,)", make([]byte, 4000))
	p := filepath.Join(dir, "a.npz")
	for _, claim := range []uint64{1 << 40, 1<<63 + 5, math.MaxUint64} {
		rawZip(t, p, zip.Deflate, deflate(t, npy), claim)
		_, err := dataset.Open(p, dataset.Options{})
		wantLimit(t, err, p+"/x.npy", dataset.DefaultMaxBytes, int64(min(claim, math.MaxInt64)))
	}
	rawZip(t, p, zip.Deflate, deflate(t, npy), 1<<30) // a false claim of 1 GiB, under the limit
	var err error
	// readExactly reads in pieces of 4 MiB as the data arrive (4 KiB here).
	if n := allocated(func() { _, err = dataset.Open(p, dataset.Options{}) }); n > 8<<20 {
		t.Errorf("a member falsely claiming 1 GiB took %d bytes", n)
	}
	wantErr(t, err, p+"/x.npy", "decompressing", "unexpected EOF")

	writeZip(t, p, zip.Deflate, "x.npy", npy)
	_, err = dataset.Open(p, dataset.Options{MaxBytes: 1000})
	wantLimit(t, err, p+"/x.npy", 1000, int64(len(npy)))
	src, err := dataset.Open(p, dataset.Options{MaxBytes: int64(len(npy))})
	if err != nil || src.Len() != 1000 {
		t.Fatalf("with the limit raised to the member's size: %v", err)
	}
}

// TestLimitNPZStoredBeyondFile: a stored member claiming more bytes than
// the file holds is refused at open, naming the member.
func TestLimitNPZStoredBeyondFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.npz")
	rawZip(t, p, zip.Store, rawNPY("<f4", false, "(2,)", make([]byte, 8)), 1<<40)
	_, err := dataset.Open(p, dataset.Options{})
	wantErr(t, err, p+"/x.npy", "corrupt archive", "beyond the end")
}

// TestLimitIdx: idx dimensions promising more than MaxBytes are refused
// from the header, a promise under the limit that the file does not keep
// costs only what the file holds, and MaxBytes raises the limit.
func TestLimitIdx(t *testing.T) {
	dir := t.TempDir()
	huge := writeFile(t, dir, "huge-images-idx3-ubyte", idxFile(0x08, []int{65536, 65536, 65536}, nil))
	_, err := dataset.Open(huge, dataset.Options{})
	wantLimit(t, err, huge, dataset.DefaultMaxBytes, 1<<48)

	gzHuge := writeFile(t, dir, "gz-images-idx3-ubyte.gz", gz(t, idxFile(0x08, []int{1 << 30, 2}, nil)))
	_, err = dataset.Open(gzHuge, dataset.Options{MaxBytes: 1 << 30})
	wantLimit(t, err, gzHuge, 1<<30, 1<<31)

	lying := writeFile(t, dir, "lying-images-idx3-ubyte.gz", gz(t, idxFile(0x08, []int{1 << 10, 1 << 10, 1 << 10}, []byte{1, 2, 3})))
	if n := allocated(func() { _, err = dataset.Open(lying, dataset.Options{}) }); n > 8<<20 {
		t.Errorf("an idx file promising 1 GiB and holding 3 bytes took %d bytes", n)
	}
	wantErr(t, err, lying, "truncated", "promise 1073741824 bytes of data, found 3")

	img := writeFile(t, dir, "ok-images-idx3-ubyte", idxFile(0x08, []int{10, 10, 10}, make([]byte, 1000)))
	_, err = dataset.Open(img, dataset.Options{MaxBytes: 999})
	wantLimit(t, err, img, 999, 1000)
	if src, err := dataset.Open(img, dataset.Options{MaxBytes: 1000}); err != nil || src.Len() != 10 {
		t.Fatalf("with MaxBytes 1000: %v", err)
	}
}

// TestIdxReadsOnce: an idx file whose size can hold what its header
// promises, raw or gzip-compressed, is read into one buffer of the data's
// size, not in pieces joined into a second one.
func TestIdxReadsOnce(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 12<<20) // three pieces of readStep
	for i := range data {
		data[i] = byte(i * 7)
	}
	raw := idxFile(0x08, []int{len(data) / 256, 16, 16}, data)
	for _, p := range []string{
		writeFile(t, dir, "raw-images-idx3-ubyte", raw),
		writeFile(t, dir, "gz-images-idx3-ubyte.gz", gz(t, raw)),
	} {
		var err error
		n := allocated(func() { _, err = dataset.Open(p, dataset.Options{}) })
		if err != nil {
			t.Fatal(err)
		}
		if n > uint64(len(data))+2<<20 {
			t.Errorf("%s: opening %d bytes of data took %d bytes", filepath.Base(p), len(data), n)
		}
	}
}

// TestLimitCSV: a CSV file whose features and labels exceed MaxBytes is
// refused, naming the file, and so is a single endless row (an unclosed
// quote), before it is read whole.
func TestLimitCSV(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,b,c,d,label\n")
	for range 100 {
		b.WriteString("1,2,3,4,0\n")
	}
	p := writeFile(t, dir, "a.csv", []byte(b.String()))
	_, err := dataset.Open(p, dataset.Options{MaxBytes: 1000})
	wantLimit(t, err, p, 1000, 0)
	if src, err := dataset.Open(p, dataset.Options{MaxBytes: 100 * (4*4 + 8)}); err != nil || src.Len() != 100 {
		t.Fatalf("with the limit at the data's size: %v", err)
	}
	endless := writeFile(t, dir, "b.csv", append([]byte("a,label\n\"1"), bytes.Repeat([]byte("9"), 1<<20)...))
	_, err = dataset.Open(endless, dataset.Options{MaxBytes: 4096})
	wantLimit(t, err, endless, 4096, 0)
	wantErr(t, err, "one CSV row")
}

// TestLimitLabels: labels are held in memory as int64 and count against
// MaxBytes; streamed features do not.
func TestLimitLabels(t *testing.T) {
	dir := t.TempDir()
	x := writeFile(t, dir, "x.npy", rawNPY("<f4", false, "(100, 1)", make([]byte, 400)))
	y := writeFile(t, dir, "y.npy", rawNPY("|u1", false, "(100,)", make([]byte, 100)))
	_, err := dataset.OpenArrays(x, y, dataset.Options{MaxBytes: 500})
	wantLimit(t, err, y, 500, 800)
	if _, err := dataset.OpenArrays(x, y, dataset.Options{MaxBytes: 800}); err != nil {
		t.Fatal(err)
	}
	_, err = dataset.Open(x, dataset.Options{MaxBytes: -1})
	wantErr(t, err, "Options.MaxBytes is -1")
}

// TestLimitReadNPY: ReadNPYLimit counts the file's data and the converted
// result.
func TestLimitReadNPY(t *testing.T) {
	p := writeFile(t, t.TempDir(), "v.npy", rawNPY("<f4", false, "(100,)", make([]byte, 400)))
	_, _, err := dataset.ReadNPYLimit[float64](p, 1199)
	wantLimit(t, err, p, 1199, 1200)
	if v, _, err := dataset.ReadNPYLimit[float64](p, 1200); err != nil || len(v) != 100 {
		t.Fatalf("at the limit: %v", err)
	}
}

// TestLimitForget: forget index files are read no further than one entry
// past the training set's size, so a huge file costs little and still gets
// its first real error; the samples of a forget .npz count against
// MaxBytes.
func TestLimitForget(t *testing.T) {
	dir := t.TempDir()
	trainPath := filepath.Join(dir, "train.npz")
	if err := dataset.WriteNPZ(trainPath, forgetTrain.x, []int{2}, forgetTrain.y); err != nil {
		t.Fatal(err)
	}
	train := mustOpen(t, trainPath, dataset.Options{MaxBytes: 300})

	// 4 MiB of int32 indices 0, 1, 2, ...: element 12 is out of range.
	idx := make([]byte, 4<<20)
	for i := range len(idx) / 4 {
		copy(idx[4*i:], le(int32(i)))
	}
	npy := writeFile(t, dir, "f.npy", rawNPY("<i4", false, "(1048576,)", idx))
	var err error
	// Reading every element would take over 40 MiB of entries.
	if n := allocated(func() { _, err = dataset.ParseForget(npy, train) }); n > 8<<20 {
		t.Errorf("a forget array of 2^20 indices took %d bytes against 12 training samples", n)
	}
	wantErr(t, err, npy, "element 12", "out of range [0, 12)")
	txt := writeFile(t, dir, "f.txt", bytes.Repeat([]byte("3\n"), 1<<20))
	_, err = dataset.ParseForget(txt, train)
	if !errors.Is(err, dataset.ErrDuplicateIndex) {
		t.Fatalf("got %v, want a duplicate index", err)
	}
	wantErr(t, err, txt, "line 2")

	// 10 samples of 2 features with labels: 10 × (24 + 8 + 8) = 400 bytes.
	var xs []float32
	var ys []int64
	for range 10 {
		xs = append(xs, forgetTrain.x[0], forgetTrain.x[1])
		ys = append(ys, forgetTrain.y[0])
	}
	samples := filepath.Join(dir, "s.npz")
	if err := dataset.WriteNPZ(samples, xs, []int{2}, ys); err != nil {
		t.Fatal(err)
	}
	_, err = dataset.ParseForget(samples, train)
	wantLimit(t, err, samples, 300, 400)
	if fs, err := dataset.ParseForget(samples, mustOpen(t, trainPath, dataset.Options{})); err != nil || len(fs.Indices) != 1 {
		t.Fatalf("with the default limit: %v, %v", fs, err)
	}
}

// TestNPYHeaderHostile: headers that nest deeply, name absurd element
// sizes or shapes whose byte counts overflow are refused with errors.
func TestNPYHeaderHostile(t *testing.T) {
	dir := t.TempDir()
	nested := "{'descr': '<f4', 'fortran_order': False, 'shape': " + strings.Repeat("(", 5000) + "}"
	hdr := []byte("\x93NUMPY\x01\x00")
	hdr = append(hdr, le(uint16(len(nested)))...)
	p := writeFile(t, dir, "n.npy", append(hdr, nested...))
	_, err := dataset.Open(p, dataset.Options{})
	wantErr(t, err, p, "nested more than 16 deep")

	for _, tc := range []struct{ descr, shape, want string }{
		{"<f99999999999999", "(1,)", "unsupported element type"},
		{"<U1048576", "(1, 4611686018427387904)", "shape too large"},
		{"<f8", "(0, 4611686018427387904, 4611686018427387904)", "shape too large"},
	} {
		p := writeFile(t, dir, "a.npy", rawNPY(tc.descr, false, tc.shape, nil))
		_, err := dataset.Open(p, dataset.Options{})
		wantErr(t, err, p, tc.want)
		_, _, err = dataset.ReadNPY[float64](p)
		if err == nil {
			t.Errorf("%s %s: ReadNPY accepted it", tc.descr, tc.shape)
		}
	}
}
