package dataset_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// idxFile builds an idx file: magic 0 0 type rank, big-endian dimensions, data.
func idxFile(typ byte, dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, typ, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestIdxRoundTrip(t *testing.T) {
	pixels := []byte{0, 255, 51, 102, 153, 204, 1, 2, 3, 4, 5, 6} // 2 images of 2×3
	labels := []byte{7, 3}
	for _, compressed := range []bool{false, true} {
		dir := t.TempDir()
		suffix, enc := "", func(b []byte) []byte { return b }
		if compressed {
			suffix, enc = ".gz", func(b []byte) []byte { return gz(t, b) }
		}
		images := writeFile(t, dir, "train-images-idx3-ubyte"+suffix, enc(idxFile(0x08, []int{2, 2, 3}, pixels)))
		writeFile(t, dir, "train-labels-idx1-ubyte"+suffix, enc(idxFile(0x08, []int{2}, labels)))
		src := mustOpen(t, images, dataset.Options{NoScale: true})
		if src.Len() != 2 || !slices.Equal(src.SampleShape(), []int{1, 2, 3}) {
			t.Fatalf("Len %d, SampleShape %v; want 2, [1 2 3]", src.Len(), src.SampleShape())
		}
		gx, gy := readAll(t, src)
		for i, p := range pixels {
			if gx[i] != float32(p) {
				t.Fatalf("gz=%v: pixel %d = %v, want %d", compressed, i, gx[i], p)
			}
		}
		if !slices.Equal(gy, []int64{7, 3}) {
			t.Errorf("labels %v", gy)
		}
		if k, _ := dataset.NumClasses(src); k != 8 {
			t.Errorf("NumClasses %d, want 8", k)
		}
	}
}

func TestIdxErrors(t *testing.T) {
	dir := t.TempDir()
	img := idxFile(0x08, []int{2, 2, 2}, make([]byte, 8))
	lone := writeFile(t, dir, "lone-images-idx3-ubyte", img)
	if src := mustOpen(t, lone, dataset.Options{}); dataset.HasLabels(src) {
		t.Error("images without a labels file have labels")
	}
	lab := writeFile(t, dir, "x-labels-idx1-ubyte", idxFile(0x08, []int{2}, []byte{0, 1}))
	_, err := dataset.Open(lab, dataset.Options{})
	wantErr(t, err, "is an idx labels file")

	cases := []struct {
		name   string
		images []byte
		labels []byte
		want   string
	}{
		{"truncated", img[:len(img)-3], nil, "truncated: dimensions [2 2 2] promise 8 bytes of data, found 5"},
		{"trailing", append(slices.Clone(img), 9), nil, "trailing data after the [2 2 2] idx array"},
		{"float idx", idxFile(0x0D, []int{2, 2}, make([]byte, 16)), nil, "element type 0x0d is not supported"},
		{"bad magic", append([]byte{1, 2}, img[2:]...), nil, "not an idx file"},
		{"1-D images", idxFile(0x08, []int{2}, []byte{0, 0}), nil, "at least 2 dimensions"},
		{"label count", img, idxFile(0x08, []int{3}, []byte{0, 1, 2}), "has 2 samples but"},
		{"label rank", img, idxFile(0x08, []int{2, 1}, []byte{0, 1}), "idx labels must have 1 dimension"},
		{"label range", img, idxFile(0x08, []int{2}, []byte{0, 10}), "label of sample 1 is 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			p := writeFile(t, d, "t-images-idx3-ubyte", c.images)
			if c.labels != nil {
				writeFile(t, d, "t-labels-idx1-ubyte", c.labels)
			}
			_, err := dataset.Open(p, dataset.Options{NumClasses: 10})
			wantErr(t, err, "t-", c.want)
		})
	}
	// A corrupt gzip stream is caught by its checksum.
	bad := gz(t, img)
	bad[len(bad)-6] ^= 0xff // inside the CRC-32 trailer
	_, err = dataset.Open(writeFile(t, dir, "c-images-idx3-ubyte.gz", bad), dataset.Options{})
	wantErr(t, err, "c-images-idx3-ubyte.gz", "checksum")
}

// TestNamedSets opens mnist:* from a folder named by LETHE_MNIST_DIR and
// checks the message when the files are missing.
func TestNamedSets(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "t10k-images-idx3-ubyte.gz", gz(t, idxFile(0x08, []int{1, 28, 28}, make([]byte, 784))))
	writeFile(t, dir, "t10k-labels-idx1-ubyte.gz", gz(t, idxFile(0x08, []int{1}, []byte{4})))
	t.Setenv(dataset.MNISTDirEnv, dir)
	src := mustOpen(t, "mnist:test", dataset.Options{})
	if src.Len() != 1 || !slices.Equal(src.SampleShape(), []int{1, 28, 28}) {
		t.Errorf("mnist:test from %s: Len %d, shape %v", dir, src.Len(), src.SampleShape())
	}
	// A decompressed copy beside the .gz (as `make setup` leaves) is read
	// instead of it.
	writeFile(t, dir, "t10k-images-idx3-ubyte", idxFile(0x08, []int{2, 28, 28}, make([]byte, 2*784)))
	writeFile(t, dir, "t10k-labels-idx1-ubyte", idxFile(0x08, []int{2}, []byte{4, 5}))
	if src := mustOpen(t, "mnist:test", dataset.Options{}); src.Len() != 2 {
		t.Errorf("mnist:test with raw files beside the .gz: Len %d, want the raw files' 2", src.Len())
	}
	_, err := dataset.Open("mnist:train", dataset.Options{})
	wantErr(t, err, "mnist:train", filepath.Join(dir, "train-images-idx3-ubyte.gz"), "not found", "make setup", dataset.MNISTDirEnv)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing MNIST: %v, want fs.ErrNotExist", err)
	}
	_, err = dataset.Open("mnist:validation", dataset.Options{})
	wantErr(t, err, `unknown split "validation"`)

	t.Setenv(dataset.FashionMNISTDirEnv, filepath.Join(dir, "nowhere"))
	_, err = dataset.Open("fashion-mnist:test", dataset.Options{})
	wantErr(t, err, "fashion-mnist:test", "make setup", dataset.FashionMNISTDirEnv)

	// Without LETHE_MNIST_DIR, $LETHE_CACHE/mnist is searched.
	t.Setenv(dataset.MNISTDirEnv, "")
	t.Setenv("LETHE_CACHE", filepath.Dir(dir))
	_, err = dataset.Open("mnist:test", dataset.Options{})
	wantErr(t, err, filepath.Join(filepath.Dir(dir), "mnist", "t10k-images-idx3-ubyte.gz"))
}
