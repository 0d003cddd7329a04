package dataset_test

import (
	"encoding/binary"
	"errors"
	"math"

	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// forgetTrain is the training set of FuzzForget: 12 samples of 2 features
// with labels, rows 4 and 9 equal (so one sample names two rows).
var forgetTrain = struct {
	x []float32
	y []int64
}{
	x: []float32{0, 1, 2, 3, 4, 5, -1, 0.5, 7, 7, 1e-3, 2, 3, 3, 9, 9, -2, -2, 7, 7, 0.25, 0.75, 100, -100},
	y: []int64{0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 1, 0},
}

// forgetDigestRE is the form of every forget-set digest.
var forgetDigestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// forgetKinds are the forget-set file forms FuzzForget writes its bytes as.
var forgetKinds = []string{"forget.txt", "forget.npy", "forget.npz"}

// FuzzForget feeds arbitrary bytes to ParseForget as a text file of
// indices, an .npy index array or an .npz of samples, against a small
// training set. An accepted set holds sorted, unique indices in range,
// neither empty nor everything, with a sha256 digest; an index set written
// back as text and as .npy parses to the same indices and digest; a sample
// set names exactly the training rows equal to one of its samples (features
// bit for bit after conversion, and labels). Refusals must name the file.
func FuzzForget(f *testing.F) {
	f.Add([]byte("0\n3\n"), uint8(0))
	f.Add([]byte("# request 7\n 11 # last\n\n5\n"), uint8(0))
	f.Add([]byte("5\n5\n"), uint8(0))
	f.Add([]byte("-1\n"), uint8(0))
	f.Add([]byte("0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n"), uint8(0))
	f.Add([]byte("x\n"), uint8(0))
	f.Add(rawNPY("<i8", false, "(2,)", le(int64(1), int64(2))), uint8(1))
	f.Add(rawNPY("|u1", false, "(3, 1)", []byte{3, 0, 7}), uint8(1))
	f.Add(rawNPY("<i2", false, "(20,)", make([]byte, 40)), uint8(1))
	f.Add(rawNPY("<f8", false, "(1,)", le(2.0)), uint8(1))
	row := func(i int) []byte { return le(forgetTrain.x[2*i], forgetTrain.x[2*i+1]) }
	f.Add(zipBytesStored("x.npy", rawNPY("<f4", false, "(2, 2)", append(row(4), row(0)...)),
		"y.npy", rawNPY("<i8", false, "(2,)", le(forgetTrain.y[4], forgetTrain.y[0]))), uint8(2))
	f.Add(zipBytesStored("x.npy", rawNPY("<f4", false, "(1, 2)", row(1)),
		"y.npy", rawNPY("<i8", false, "(1,)", le(int64(2)))), uint8(2))
	f.Add(zipBytesStored("x.npy", rawNPY("<f4", false, "(1, 2)", row(1))), uint8(2))
	f.Add(zipBytesStored("x.npy", rawNPY("<f4", false, "(0, 2)", nil), "y.npy", rawNPY("<i8", false, "(0,)", nil)), uint8(2))

	dir := f.TempDir()
	trainPath := filepath.Join(dir, "train.npz")
	if err := dataset.WriteNPZ(trainPath, forgetTrain.x, []int{2}, forgetTrain.y); err != nil {
		f.Fatal(err)
	}
	train, err := dataset.Open(trainPath, fuzzOptions)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { dataset.Close(train) })
	n := train.Len()

	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		p := fuzzFile(t, forgetKinds[int(kind)%len(forgetKinds)], data)
		fs, err := dataset.ParseForget(p, train)
		if err != nil {
			checkRefusal(t, err, p)
			var fe *dataset.ForgetError
			if errors.As(err, &fe) && fe.File != p {
				t.Fatalf("ForgetError names %s, not %s", fe.File, p)
			}
			return
		}
		k := len(fs.Indices)
		if k < 1 || k >= n || !forgetDigestRE.MatchString(fs.Digest) {
			t.Fatalf("%d of %d indices, digest %q", k, n, fs.Digest)
		}
		for i, v := range fs.Indices {
			if v < 0 || v >= n || (i > 0 && v <= fs.Indices[i-1]) {
				t.Fatalf("indices %v are not sorted, unique and in [0, %d)", fs.Indices, n)
			}
		}
		if strings.HasSuffix(p, ".npz") {
			checkSampleSet(t, p, fs)
			return
		}
		if fs.Kind != dataset.KindIndices || fs.Requested != k {
			t.Fatalf("kind %q, %d requested for %d indices", fs.Kind, fs.Requested, k)
		}
		// The same indices in either other form give the same set and digest.
		var text strings.Builder
		idx64 := make([]int64, k)
		for i, v := range slices.Backward(fs.Indices) {
			text.WriteString(strconv.Itoa(v) + "\n")
			idx64[i] = int64(v)
		}
		tp := fuzzFileAt(t, filepath.Join(filepath.Dir(p), "again.txt"), []byte(text.String()))
		np := filepath.Join(filepath.Dir(p), "again.npy")
		if err := dataset.WriteNPY(np, idx64, []int{k}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{tp, np} {
			again, err := dataset.ParseForget(q, train)
			if err != nil || !slices.Equal(again.Indices, fs.Indices) || again.Digest != fs.Digest {
				t.Fatalf("%s: %v, %v (digest %s), want %v (%s)", filepath.Base(q), err, again, again.Digest, fs.Indices, fs.Digest)
			}
		}
	})
}

// zipBytesStored is zipBytes with members stored uncompressed, as np.savez.
func zipBytesStored(members ...any) []byte { return zipBytes(0, members...) }

// checkSampleSet checks a forget set parsed from the samples file p: its
// indices are exactly the training rows whose features (float32 bits) and
// label equal those of some sample of p, and every sample matches a row.
func checkSampleSet(t *testing.T, p string, fs *dataset.ForgetSet) {
	t.Helper()
	if fs.Kind != dataset.KindSamples {
		t.Fatalf("kind %q for a samples file", fs.Kind)
	}
	samples, err := dataset.Open(p, fuzzOptions)
	if err != nil {
		t.Fatalf("ParseForget accepts %s but Open does not: %v", p, err)
	}
	defer dataset.Close(samples)
	sx, sy := checkSource(t, samples)
	if fs.Requested != samples.Len() || len(sx) != 2*samples.Len() || sy == nil {
		t.Fatalf("requested %d, %d samples of %v, labels %v", fs.Requested, samples.Len(), samples.SampleShape(), sy)
	}
	key := func(a, b float32, label int64) string {
		var k [16]byte
		binary.LittleEndian.PutUint32(k[0:], math.Float32bits(a))
		binary.LittleEndian.PutUint32(k[4:], math.Float32bits(b))
		binary.LittleEndian.PutUint64(k[8:], uint64(label))
		return string(k[:])
	}
	wanted := map[string]bool{}
	for i := range samples.Len() {
		wanted[key(sx[2*i], sx[2*i+1], sy[i])] = false
	}
	var want []int
	for i := range len(forgetTrain.y) {
		k := key(forgetTrain.x[2*i], forgetTrain.x[2*i+1], forgetTrain.y[i])
		if _, ok := wanted[k]; ok {
			want = append(want, i)
			wanted[k] = true
		}
	}
	if !slices.Equal(fs.Indices, want) {
		t.Fatalf("indices %v, want %v", fs.Indices, want)
	}
	for _, found := range wanted {
		if !found {
			t.Fatal("a sample matching no training row was accepted")
		}
	}
}
