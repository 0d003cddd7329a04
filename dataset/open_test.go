package dataset_test

import (
	"archive/zip"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// writeZip writes an .npz by hand: members name → .npy bytes, with the
// given compression method.
func writeZip(t *testing.T, path string, method uint16, members ...any) {
	t.Helper()
	methods := make([]uint16, len(members)/2)
	for i := range methods {
		methods[i] = method
	}
	writeZipMethods(t, path, methods, members...)
}

// writeZipMethods is writeZip with a compression method per member.
func writeZipMethods(t *testing.T, path string, methods []uint16, members ...any) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for i := 0; i < len(members); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: members[i].(string), Method: methods[i/2]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(members[i+1].([]byte)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestNPZRoundTrip(t *testing.T) {
	dir := t.TempDir()
	negZero := float32(math.Copysign(0, -1)) // the literal -0.0 is +0 in Go
	x := []float32{0.5, -1, 2, 3, 1e-30, negZero, 6, 7, 8, 9, 10, 11}
	y := []int64{3, 0, 1}
	p := filepath.Join(dir, "d.npz")
	if err := dataset.WriteNPZ(p, x, []int{2, 2}, y); err != nil {
		t.Fatal(err)
	}
	src := mustOpen(t, p, dataset.Options{})
	if src.Len() != 3 || !slices.Equal(src.SampleShape(), []int{2, 2}) {
		t.Fatalf("Len %d, SampleShape %v", src.Len(), src.SampleShape())
	}
	gx, gy := readAll(t, src)
	if !equalBits(gx, x) || !slices.Equal(gy, y) {
		t.Errorf("got %v %v, want %v %v", gx, gy, x, y)
	}
	if k, err := dataset.NumClasses(src); err != nil || k != 4 {
		t.Errorf("NumClasses = %d, %v; want 4 (max label 3 + 1)", k, err)
	}
	// Reading in a scattered order with repeats returns the right rows.
	idx := []int{2, 0, 2, 1}
	bx, by := make([]float32, 16), make([]int64, 4)
	if err := src.Read(idx, bx, by); err != nil {
		t.Fatal(err)
	}
	for k, i := range idx {
		if !equalBits(bx[4*k:4*k+4], x[4*i:4*i+4]) || by[k] != y[i] {
			t.Errorf("row %d: got %v %d", i, bx[4*k:4*k+4], by[k])
		}
	}
	// Features only.
	if err := dataset.WriteNPZ(p, x, []int{4}, nil); err != nil {
		t.Fatal(err)
	}
	src2 := mustOpen(t, p, dataset.Options{})
	if dataset.HasLabels(src2) {
		t.Error("an npz without y has labels")
	}
	if err := src2.Read([]int{0}, make([]float32, 4), make([]int64, 1)); !errors.Is(err, dataset.ErrNoLabels) {
		t.Errorf("Read with y on unlabelled npz: %v, want ErrNoLabels", err)
	}
	if _, err := dataset.NumClasses(src2); !errors.Is(err, dataset.ErrNoLabels) {
		t.Errorf("NumClasses on unlabelled npz: %v, want ErrNoLabels", err)
	}
	wantErr(t, dataset.WriteNPZ(p, x, []int{5}, nil), "not a whole number of samples")
	wantErr(t, dataset.WriteNPZ(p, x, []int{4}, []int64{1}), "3 samples but 1 labels")
}

// TestNPZCompressedAndForeignDtypes reads an archive as np.savez_compressed
// writes it (deflated members, loaded into memory) with uint8 features and
// uint8 labels, and one with float64 features and integral float labels.
func TestNPZCompressedAndForeignDtypes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.npz")
	writeZip(t, p, zip.Deflate,
		"x.npy", rawNPY("|u1", false, "(2, 1, 2)", []byte{0, 255, 51, 102}),
		"y.npy", rawNPY("|u1", false, "(2,)", []byte{9, 4}))
	src := mustOpen(t, p, dataset.Options{})
	gx, gy := readAll(t, src)
	if !slices.Equal(gx, []float32{0, 1, 0.2, 0.4}) || !slices.Equal(gy, []int64{9, 4}) || !slices.Equal(src.SampleShape(), []int{1, 2}) {
		t.Errorf("got %v %v %v", gx, gy, src.SampleShape())
	}
	gx, _ = readAll(t, mustOpen(t, p, dataset.Options{NoScale: true}))
	if !slices.Equal(gx, []float32{0, 255, 51, 102}) {
		t.Errorf("NoScale: got %v", gx)
	}
	// Compressed features with stored labels, and the other way round.
	for _, methods := range [][]uint16{{zip.Deflate, zip.Store}, {zip.Store, zip.Deflate}} {
		writeZipMethods(t, p, methods,
			"x.npy", rawNPY("<f4", false, "(2,)", le(float32(1), float32(2))),
			"y.npy", rawNPY("<i8", false, "(2,)", le(int64(5), int64(6))))
		gx, gy = readAll(t, mustOpen(t, p, dataset.Options{}))
		if !slices.Equal(gx, []float32{1, 2}) || !slices.Equal(gy, []int64{5, 6}) {
			t.Errorf("members %v: got %v %v", methods, gx, gy)
		}
	}

	writeZip(t, p, zip.Store,
		"x.npy", rawNPY(">f8", false, "(2,)", []byte{0x3f, 0xe0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0}),
		"y.npy", rawNPY("<f4", false, "(2, 1)", le(float32(1), float32(0))))
	gx, gy = readAll(t, mustOpen(t, p, dataset.Options{}))
	if !slices.Equal(gx, []float32{0.5, -2}) || !slices.Equal(gy, []int64{1, 0}) {
		t.Errorf("big-endian float64 features, float labels: got %v %v", gx, gy)
	}
}

// TestScaling checks that uint8 features are scaled to the float32 nearest
// to v/255, as torchvision's ToTensor (x.float().div(255)) computes them.
func TestScaling(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	p := writeFile(t, t.TempDir(), "u8.npy", rawNPY("|u1", false, "(256,)", all))
	gx, _ := readAll(t, mustOpen(t, p, dataset.Options{}))
	for v, got := range gx {
		exact := float64(v) / 255
		// Correct rounding: within half a float32 ulp of the exact quotient.
		ulp := float64(math.Nextafter32(got, 2) - got)
		if math.Abs(float64(got)-exact) > ulp/2 {
			t.Errorf("%d/255 scaled to %v, more than half an ulp from %v", v, got, exact)
		}
	}
	norm, err := dataset.ParseNormalize("0.1307, 0.3081")
	if err != nil {
		t.Fatal(err)
	}
	gn, _ := readAll(t, mustOpen(t, p, dataset.Options{Normalize: norm}))
	for v, got := range gn {
		s := float64(gx[v])
		want := (s - 0.1307) / 0.3081
		// float32 rounding of mean, std, the difference and the quotient:
		// a few ulps of the operands' magnitude, bounded by 2⁻²¹·(|s|+mean)/std.
		if tol := math.Ldexp((math.Abs(s)+0.1307)/0.3081, -21); math.Abs(float64(got)-want) > tol {
			t.Errorf("%d normalised to %v, want %v ± %g", v, got, want, tol)
		}
	}
}

func TestParseNormalize(t *testing.T) {
	n, err := dataset.ParseNormalize("0.5,2")
	if err != nil || n.Mean != 0.5 || n.Std != 2 {
		t.Errorf("ParseNormalize(0.5,2) = %+v, %v", n, err)
	}
	for _, bad := range []string{"", "0.5", "0.5,2,3", "a,1", "0,0", "0,-1", "NaN,1", "0,Inf", "0,1e-50"} {
		if _, err := dataset.ParseNormalize(bad); err == nil {
			t.Errorf("ParseNormalize(%q) succeeded", bad)
		}
	}
	_, err = dataset.Open("x.npz", dataset.Options{Normalize: &dataset.Normalization{Mean: 0, Std: 0}})
	wantErr(t, err, "std > 0")
	_, err = dataset.Open("x.npz", dataset.Options{NumClasses: -1})
	wantErr(t, err, "NumClasses is -1")
}

func TestOpenArraysValidation(t *testing.T) {
	dir := t.TempDir()
	x := writeFile(t, dir, "x.npy", rawNPY("<f4", false, "(3, 2)", le(make([]float32, 6))))
	cases := []struct {
		name string
		y    []byte
		opts dataset.Options
		want []string
		as   any
	}{
		{"length mismatch", rawNPY("<i8", false, "(2,)", le(int64(0), int64(1))), dataset.Options{}, []string{"has 3 samples but", "has 2 labels"}, nil},
		{"negative", rawNPY("<i4", false, "(3,)", le(int32(0), int32(-1), int32(2))), dataset.Options{}, []string{"label of sample 1 is -1", "≥ 0"}, &dataset.LabelError{}},
		{"out of declared range", rawNPY("<i2", false, "(3,)", le(int16(0), int16(9), int16(10))), dataset.Options{NumClasses: 10}, []string{"label of sample 2 is 10", "[0, 10)"}, &dataset.LabelError{}},
		{"fractional", rawNPY("<f8", false, "(3,)", le(0.0, 2.5, 1.0)), dataset.Options{}, []string{"label of sample 1 is 2.5"}, &dataset.LabelError{}},
		{"NaN label", rawNPY("<f4", false, "(3,)", le(float32(0), float32(1), float32(math.NaN()))), dataset.Options{}, []string{"label of sample 2 is NaN"}, &dataset.LabelError{}},
		{"string labels", rawNPY("<U1", false, "(3,)", make([]byte, 12)), dataset.Options{}, []string{"labels must be integers", "unicode string"}, nil},
		{"matrix labels", rawNPY("<i8", false, "(3, 2)", le(make([]int64, 6))), dataset.Options{}, []string{"shape [N]", "[3 2]"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y := writeFile(t, dir, "y.npy", c.y)
			_, err := dataset.OpenArrays(x, y, c.opts)
			wantErr(t, err, append(c.want, y)...)
			if le, ok := c.as.(*dataset.LabelError); ok && !errors.As(err, &le) {
				t.Errorf("error %v is not a *LabelError", err)
			}
		})
	}
	// Declared classes are reported even when the largest label is smaller.
	y := writeFile(t, dir, "y.npy", rawNPY("<i8", false, "(3,)", le(int64(0), int64(1), int64(1))))
	src, err := dataset.OpenArrays(x, y, dataset.Options{NumClasses: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer dataset.Close(src)
	if k, err := dataset.NumClasses(src); k != 10 || err != nil {
		t.Errorf("NumClasses = %d, %v; want the declared 10", k, err)
	}
}

// TestNonFinite: streamed features are checked on Read (or at open with
// ScanAtOpen); features held in memory are checked at open.
func TestNonFinite(t *testing.T) {
	dir := t.TempDir()
	vals := make([]float32, 4*3)
	vals[7*1+0] = 1 // a finite neighbour
	vals[2*3+1] = float32(math.NaN())
	p := writeFile(t, dir, "nan.npy", rawNPY("<f4", false, "(4, 3)", le(vals)))
	src := mustOpen(t, p, dataset.Options{})
	if err := src.Read([]int{0, 1, 3}, make([]float32, 9), nil); err != nil {
		t.Errorf("reading finite samples: %v", err)
	}
	err := src.Read([]int{3, 2}, make([]float32, 6), nil)
	var nf *dataset.NonFiniteError
	if !errors.As(err, &nf) || nf.Sample != 2 || nf.Element != 1 || !math.IsNaN(nf.Value) {
		t.Fatalf("Read of the NaN sample: %v, want a NonFiniteError at sample 2, feature 1", err)
	}
	wantErr(t, err, p, "feature 1 of sample 2 is NaN")

	_, err = dataset.Open(p, dataset.Options{ScanAtOpen: true})
	wantErr(t, err, p, "feature 1 of sample 2 is NaN")

	big := writeFile(t, dir, "big.npy", rawNPY("<f8", false, "(2,)", le(1.0, 1e39)))
	_, err = dataset.Open(big, dataset.Options{ScanAtOpen: true})
	wantErr(t, err, "feature 0 of sample 1 is 1e+39, which overflows float32")

	// Deflated npz members are in memory, hence checked at open.
	z := filepath.Join(dir, "inf.npz")
	writeZip(t, z, zip.Deflate, "x.npy", rawNPY("<f4", false, "(2,)", le(float32(0), float32(math.Inf(-1)))))
	_, err = dataset.Open(z, dataset.Options{})
	wantErr(t, err, "inf.npz/x.npy", "feature 0 of sample 1 is -Inf")

	_, err = dataset.FromArrays([]float32{0, float32(math.Inf(1))}, []int{1}, nil)
	wantErr(t, err, "feature 0 of sample 1 is +Inf")
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := dataset.Open(filepath.Join(dir, "data.parquet"), dataset.Options{})
	wantErr(t, err, "unknown data format", "mnist:train")

	p := filepath.Join(dir, "nox.npz")
	writeZip(t, p, zip.Store, "arr_0.npy", rawNPY("<f4", false, "(1,)", le(float32(0))))
	_, err = dataset.Open(p, dataset.Options{})
	wantErr(t, err, p, "no array named x", "arr_0")

	notZip := writeFile(t, dir, "bad.npz", []byte("not a zip"))
	_, err = dataset.Open(notZip, dataset.Options{})
	wantErr(t, err, notZip, "not a valid .npz")

	writeZip(t, p, zip.Store, "x.npy", rawNPY("<f4", false, "(2,)", le(float32(0), float32(1))),
		"y.npy", rawNPY("<i8", false, "(3,)", le(int64(0), int64(1), int64(2))))
	_, err = dataset.Open(p, dataset.Options{})
	wantErr(t, err, "nox.npz/x.npy has 2 samples but", "nox.npz/y.npy has 3 labels")

	// Read arguments are checked.
	src := mustOpen(t, writeFile(t, dir, "ok.npy", rawNPY("<f4", false, "(2, 2)", le(make([]float32, 4)))), dataset.Options{})
	wantErr(t, src.Read([]int{2}, make([]float32, 2), nil), "sample index 2 out of range [0, 2)")
	wantErr(t, src.Read([]int{0}, make([]float32, 3), nil), "x has 3 elements, want 2")
}
