package dataset_test

import (
	"errors"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

func TestForgetIndices(t *testing.T) {
	dir := t.TempDir()
	train := seq(t, 10)
	txt := writeFile(t, dir, "forget.txt", []byte("# request 42\n7\n\n  3  # trailing comment\n0\n"))
	fs, err := dataset.ParseForget(txt, train)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fs.Indices, []int{0, 3, 7}) || fs.Kind != dataset.KindIndices || fs.Requested != 3 {
		t.Errorf("got %+v", fs)
	}
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(fs.Digest) {
		t.Errorf("digest %q is not sha256:<64 hex digits>", fs.Digest)
	}
	// The same set as an .npy array, in another order and dtype: same digest.
	npy := writeFile(t, dir, "forget.npy", rawNPY("<i4", false, "(3,)", le(int32(3), int32(0), int32(7))))
	fs2, err := dataset.ParseForget(npy, train)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fs2.Indices, fs.Indices) || fs2.Digest != fs.Digest {
		t.Errorf("npy forget set %+v differs from the text one %+v", fs2, fs)
	}
	other, err := dataset.ParseForget(writeFile(t, dir, "other.txt", []byte("0\n3\n8\n")), train)
	if err != nil {
		t.Fatal(err)
	}
	if other.Digest == fs.Digest {
		t.Error("different forget sets have the same digest")
	}
}

func TestForgetErrors(t *testing.T) {
	dir := t.TempDir()
	train := seq(t, 4)
	cases := []struct {
		name  string
		file  string
		data  []byte
		is    error
		where string
		want  string
	}{
		{"duplicate", "f.txt", []byte("1\n2\n1\n"), dataset.ErrDuplicateIndex, "line 3", "duplicate index 1 (also on line 1)"},
		{"out of range", "f.txt", []byte("1\n4\n"), dataset.ErrIndexRange, "line 2", "index 4 out of range [0, 4)"},
		{"negative", "f.txt", []byte("-1\n"), dataset.ErrIndexRange, "line 1", "index -1 out of range"},
		{"syntax", "f.txt", []byte("1\ntwo\n"), dataset.ErrForgetSyntax, "line 2", `"two" is not a sample index`},
		{"two per line", "f.txt", []byte("1 2\n"), dataset.ErrForgetSyntax, "line 1", `"1 2" is not a sample index`},
		{"empty", "f.txt", []byte("# nothing\n\n"), dataset.ErrEmptyForget, "", "empty forget set"},
		{"everything", "f.txt", []byte("3\n2\n1\n0\n"), dataset.ErrForgetAll, "", "all 4 training samples"},
		{"npy duplicate", "f.npy", rawNPY("<i8", false, "(3,)", le(int64(2), int64(0), int64(2))), dataset.ErrDuplicateIndex, "element 2", "also on element 0"},
		{"npy out of range", "f.npy", rawNPY("<u2", false, "(1,)", le(uint16(9))), dataset.ErrIndexRange, "element 0", "index 9"},
		{"npy floats", "f.npy", rawNPY("<f8", false, "(1,)", le(1.0)), dataset.ErrForgetSyntax, "", "integer array, got float64"},
		{"npy matrix", "f.npy", rawNPY("<i8", false, "(1, 2)", le(int64(1), int64(2))), dataset.ErrForgetSyntax, "", "shape [k], got [1 2]"},
		{"npy empty", "f.npy", rawNPY("<i8", false, "(0,)", nil), dataset.ErrEmptyForget, "", "empty forget set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, c.file, c.data)
			_, err := dataset.ParseForget(p, train)
			var fe *dataset.ForgetError
			if !errors.As(err, &fe) || !errors.Is(err, c.is) || fe.Where != c.where || fe.File != p {
				t.Fatalf("got %v, want a ForgetError at %q wrapping %v", err, c.where, c.is)
			}
			wantErr(t, err, p, c.want)
		})
	}
	_, err := dataset.ParseForget(filepath.Join(dir, "missing.txt"), train)
	wantErr(t, err, "missing.txt")
}

// TestForgetSamples matches samples to training rows: repeated training rows
// are all forgotten, a row with the same features but another label is not.
func TestForgetSamples(t *testing.T) {
	dir := t.TempDir()
	// Samples of 3 features; row 5 repeats row 2; row 6 has row 2's
	// features with another label.
	x := []float32{
		0, 0, 0, 1, 1, 1, 0.1, 0.2, 0.3, 3, 3, 3, 4, 4, 4,
		0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 7, 7, 7, 8, 8, 8, 9, 9, 9,
	}
	y := []int64{0, 1, 2, 0, 1, 2, 0, 1, 2, 0}
	train, err := dataset.FromArrays(x, []int{3}, y)
	if err != nil {
		t.Fatal(err)
	}
	forget := filepath.Join(dir, "forget.npz")
	if err := dataset.WriteNPZ(forget, []float32{9, 9, 9, 0.1, 0.2, 0.3}, []int{3}, []int64{0, 2}); err != nil {
		t.Fatal(err)
	}
	fs, err := dataset.ParseForget(forget, train)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fs.Indices, []int{2, 5, 9}) || fs.Kind != dataset.KindSamples || fs.Requested != 2 {
		t.Errorf("got %+v, want indices [2 5 9] from 2 samples", fs)
	}
	// The same samples in the other order give the same digest; the digest
	// covers the samples, so it differs from that of the bare indices.
	if err := dataset.WriteNPZ(forget, []float32{0.1, 0.2, 0.3, 9, 9, 9}, []int{3}, []int64{2, 0}); err != nil {
		t.Fatal(err)
	}
	fs2, err := dataset.ParseForget(forget, train)
	if err != nil || fs2.Digest != fs.Digest {
		t.Errorf("reordered samples: %+v, %v; want digest %s", fs2, err, fs.Digest)
	}
	idx, _ := dataset.ParseForget(writeFile(t, dir, "i.txt", []byte("2\n5\n9\n")), train)
	if idx.Digest == fs.Digest {
		t.Error("the samples digest equals the indices digest")
	}

	// One ulp off, or the right features with the wrong label: not found.
	off := math.Nextafter32(0.2, 1)
	if err := dataset.WriteNPZ(forget, []float32{9, 9, 9, 0.1, off, 0.3, 1, 1, 1}, []int{3}, []int64{0, 2, 2}); err != nil {
		t.Fatal(err)
	}
	_, err = dataset.ParseForget(forget, train)
	var fe *dataset.ForgetError
	if !errors.As(err, &fe) || !errors.Is(err, dataset.ErrSampleNotFound) || fe.Where != "sample 1" {
		t.Fatalf("got %v, want ErrSampleNotFound at sample 1", err)
	}
	wantErr(t, err, forget, "2 of 3 forget samples match no training sample")

	// Missing labels, wrong shape, empty, everything.
	if err := dataset.WriteNPZ(forget, []float32{9, 9, 9}, []int{3}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = dataset.ParseForget(forget, train)
	wantErr(t, err, forget, "no array y")
	if err := dataset.WriteNPZ(forget, []float32{9, 9, 9, 9}, []int{4}, []int64{0}); err != nil {
		t.Fatal(err)
	}
	_, err = dataset.ParseForget(forget, train)
	wantErr(t, err, "forget samples have shape [4] (4 elements) but training samples [3] (3 elements)")
	if err := dataset.WriteNPZ(forget, nil, []int{3}, []int64{}); err != nil {
		t.Fatal(err)
	}
	if _, err = dataset.ParseForget(forget, train); !errors.Is(err, dataset.ErrEmptyForget) {
		t.Errorf("empty samples file: %v, want ErrEmptyForget", err)
	}
	if err := dataset.WriteNPZ(forget, x, []int{3}, y); err != nil {
		t.Fatal(err)
	}
	if _, err = dataset.ParseForget(forget, train); !errors.Is(err, dataset.ErrForgetAll) {
		t.Errorf("forgetting every sample: %v, want ErrForgetAll", err)
	}
}

// TestForgetSamplesConverted: the samples file is converted with the
// training set's Options, so uint8 samples match uint8 training data opened
// with normalisation, and float32 samples scaled as torchvision scales them
// (x.float() / 255) match too.
func TestForgetSamplesConverted(t *testing.T) {
	dir := t.TempDir()
	pixels := []byte{0, 10, 20, 30, 40, 50, 60, 70, 80, 250, 251, 252}
	trainPath := filepath.Join(dir, "train.npz")
	writeZip(t, trainPath, 0,
		"x.npy", rawNPY("|u1", false, "(4, 3)", pixels),
		"y.npy", rawNPY("<i8", false, "(4,)", le(int64(0), int64(1), int64(0), int64(1))))
	norm := &dataset.Normalization{Mean: 0.5, Std: 0.25}
	train := mustOpen(t, trainPath, dataset.Options{Normalize: norm})
	r, err := dataset.Reshape(train, []int{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "f.npz")
	writeZip(t, f, 0,
		"x.npy", rawNPY("|u1", false, "(1, 3)", pixels[9:]),
		"y.npy", rawNPY("<i8", false, "(1,)", le(int64(1))))
	fs, err := dataset.ParseForget(f, r)
	if err != nil || !slices.Equal(fs.Indices, []int{3}) {
		t.Fatalf("uint8 samples against normalised uint8 training data: %+v, %v", fs, err)
	}

	plainTrain := mustOpen(t, trainPath, dataset.Options{})
	scaled := make([]float32, 3)
	for i, p := range pixels[3:6] {
		scaled[i] = float32(p) / float32(255)
	}
	if err := dataset.WriteNPZ(f, scaled, []int{3}, []int64{1}); err != nil {
		t.Fatal(err)
	}
	fs, err = dataset.ParseForget(f, plainTrain)
	if err != nil || !slices.Equal(fs.Indices, []int{1}) {
		t.Fatalf("float32 samples scaled by 255: %+v, %v", fs, err)
	}
}
