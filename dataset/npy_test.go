package dataset_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"

	"github.com/lethe-ml/lethe/dataset"
)

// Float64 values whose bits must survive a write and a read: signed zeros,
// subnormals, extremes, infinities, a NaN payload and a value with no short
// decimal form.
var awkward64 = []float64{0, math.Copysign(0, -1), 5e-324, -2.2250738585072014e-308, math.MaxFloat64,
	-math.MaxFloat64, math.Inf(1), math.Inf(-1), math.Float64frombits(0x7ff8_0000_dead_beef), 0.1, 1.0 / 3}

func TestWriteReadNPYFloat64Exact(t *testing.T) {
	p := filepath.Join(t.TempDir(), "g.npy")
	if err := dataset.WriteNPY(p, awkward64, []int{len(awkward64)}); err != nil {
		t.Fatal(err)
	}
	got, shape, err := dataset.ReadNPY[float64](p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, []int{len(awkward64)}) {
		t.Fatalf("shape %v", shape)
	}
	for i := range awkward64 {
		if math.Float64bits(got[i]) != math.Float64bits(awkward64[i]) {
			t.Errorf("element %d: got %x, want %x", i, math.Float64bits(got[i]), math.Float64bits(awkward64[i]))
		}
	}
}

func TestWriteReadNPYShapes(t *testing.T) {
	dir := t.TempDir()
	f32 := []float32{1.5, -2, 3e-40, float32(math.Inf(1)), 7, 8}
	for _, shape := range [][]int{{6}, {2, 3}, {3, 1, 2}, {1, 6}} {
		p := filepath.Join(dir, "a.npy")
		if err := dataset.WriteNPY(p, f32, shape); err != nil {
			t.Fatal(err)
		}
		got, gs, err := dataset.ReadNPY[float32](p)
		if err != nil {
			t.Fatal(err)
		}
		if !equalBits(got, f32) || !slices.Equal(gs, shape) {
			t.Errorf("shape %v: got %v %v", shape, got, gs)
		}
	}
	// A scalar (shape ()) and an empty array round-trip too.
	p := filepath.Join(dir, "s.npy")
	if err := dataset.WriteNPY(p, []int64{-42}, []int{}); err != nil {
		t.Fatal(err)
	}
	if got, gs, err := dataset.ReadNPY[int64](p); err != nil || len(gs) != 0 || !slices.Equal(got, []int64{-42}) {
		t.Errorf("scalar: %v %v %v", got, gs, err)
	}
	if err := dataset.WriteNPY(p, []int64{}, []int{0, 3}); err != nil {
		t.Fatal(err)
	}
	if got, gs, err := dataset.ReadNPY[int64](p); err != nil || !slices.Equal(gs, []int{0, 3}) || len(got) != 0 {
		t.Errorf("empty: %v %v %v", got, gs, err)
	}
	wantErr(t, dataset.WriteNPY(p, f32, []int{4, 2}), "shape [4 2] holds 8 elements, data has 6")
}

// TestNPYInteropNpyio checks the format against an independent
// implementation, github.com/sbinet/npyio, in both directions.
func TestNPYInteropNpyio(t *testing.T) {
	dir := t.TempDir()
	// Ours → npyio.
	p := filepath.Join(dir, "ours.npy")
	if err := dataset.WriteNPY(p, awkward64, []int{len(awkward64)}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var back []float64
	if err := npyio.Read(f, &back); err != nil {
		t.Fatalf("npyio cannot read our file: %v", err)
	}
	for i := range awkward64 {
		if math.Float64bits(back[i]) != math.Float64bits(awkward64[i]) {
			t.Errorf("npyio read element %d as %v, want %v", i, back[i], awkward64[i])
		}
	}
	ints := []int64{math.MinInt64, -1, 0, math.MaxInt64}
	if err := dataset.WriteNPY(p, ints, []int{4}); err != nil {
		t.Fatal(err)
	}
	f2, _ := os.Open(p)
	defer f2.Close()
	var backInts []int64
	if err := npyio.Read(f2, &backInts); err != nil || !slices.Equal(backInts, ints) {
		t.Errorf("npyio read %v (%v), want %v", backInts, err, ints)
	}

	// npyio → ours: features as uint8, float32 and float64, labels as int16.
	write := func(name string, v any) string {
		var b bytes.Buffer
		if err := npyio.Write(&b, v); err != nil {
			t.Fatal(err)
		}
		return writeFile(t, dir, name, b.Bytes())
	}
	xf := write("x.npy", []float32{0.25, -1, 3})
	y := write("y.npy", []int16{2, 0, 1})
	src, err := dataset.OpenArrays(xf, y, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dataset.Close(src)
	gx, gy := readAll(t, src)
	if !equalBits(gx, []float32{0.25, -1, 3}) || !slices.Equal(gy, []int64{2, 0, 1}) || len(src.SampleShape()) != 0 {
		t.Errorf("got %v %v shape %v", gx, gy, src.SampleShape())
	}
	u8 := write("u8.npy", []uint8{0, 51, 255})
	gx, _ = readAll(t, mustOpen(t, u8, dataset.Options{}))
	if !slices.Equal(gx, []float32{0, 0.2, 1}) {
		t.Errorf("uint8 scaled to %v, want [0 0.2 1]", gx)
	}
	f64 := write("f64.npy", []float64{0.5, 1e-3})
	if v, _, err := dataset.ReadNPY[float64](f64); err != nil || !slices.Equal(v, []float64{0.5, 1e-3}) {
		t.Errorf("ReadNPY of npyio float64: %v %v", v, err)
	}
}

func TestReadNPYExactness(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, descr string
		data        []byte
		read        func(string) error
		want        string // "" for success
	}{
		{"f64 to f32 inexact", "<f8", le(0.1), func(p string) error { _, _, err := dataset.ReadNPY[float32](p); return err }, "element 0 (0.1) is not exactly representable as float32"},
		{"f64 to f32 exact", "<f8", le(-0.5), func(p string) error { _, _, err := dataset.ReadNPY[float32](p); return err }, ""},
		{"float to int", "<f4", le(float32(2.5)), func(p string) error { _, _, err := dataset.ReadNPY[int64](p); return err }, "element 0 (2.5)"},
		{"integral float to int", "<f4", le(float32(-7)), func(p string) error { _, _, err := dataset.ReadNPY[int64](p); return err }, ""},
		{"big int to f64", "<i8", le(int64(1)<<60 + 1), func(p string) error { _, _, err := dataset.ReadNPY[float64](p); return err }, "not exactly representable as float64"},
		{"uint64 beyond int64", "<u8", le(uint64(math.MaxUint64)), func(p string) error { _, _, err := dataset.ReadNPY[int64](p); return err }, "18446744073709551615"},
		{"big-endian int32 to f64", ">i4", []byte{0xff, 0xff, 0xff, 0xfe}, func(p string) error {
			v, _, err := dataset.ReadNPY[float64](p)
			if err == nil && v[0] != -2 {
				t.Errorf("big-endian: got %v, want -2", v[0])
			}
			return err
		}, ""},
		{"complex", "<c8", le(float32(1), float32(2)), func(p string) error { _, _, err := dataset.ReadNPY[float64](p); return err }, "unsupported element type complex64"},
	}
	for _, c := range cases {
		p := writeFile(t, dir, "v.npy", rawNPY(c.descr, false, "(1,)", c.data))
		err := c.read(p)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

func TestBadNPYFiles(t *testing.T) {
	dir := t.TempDir()
	good := rawNPY("<f4", false, "(2, 3)", le(make([]float32, 6)))
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"truncated data", good[:len(good)-5], []string{"truncated", "shape [2 3] of float32 (24 bytes)", "19 bytes"}},
		{"trailing data", append(slices.Clone(good), 0), []string{"trailing data"}},
		{"truncated header", good[:40], []string{"truncated .npy header"}},
		{"only magic", good[:8], []string{"reading the .npy header"}},
		{"bad magic", append([]byte("PK\x03\x04"), good[4:]...), []string{"not a .npy file"}},
		{"fortran", rawNPY("<f4", true, "(2, 3)", le(make([]float32, 6))), []string{"Fortran-order arrays are not supported"}},
		{"complex features", rawNPY("<c8", false, "(2, 1)", le(make([]float32, 4))), []string{"features must be float32, float64 or uint8, got complex64"}},
		{"bool features", rawNPY("|b1", false, "(2, 3)", make([]byte, 6)), []string{"got bool"}},
		{"string features", rawNPY("<U2", false, "(2,)", make([]byte, 16)), []string{`features must be float32, float64 or uint8, got unicode string "<U2"`}},
		{"int64 features", rawNPY("<i8", false, "(2,)", make([]byte, 16)), []string{"got int64"}},
		{"structured", []byte(strings.Replace(string(rawNPY("<f4", false, "(1,)", le(float32(0)))), "'<f4'", "[('a', '<f4')]", 1)), []string{"structured dtypes are not supported"}},
		{"scalar", rawNPY("<f4", false, "()", le(float32(1))), []string{"a scalar"}},
		{"no samples", rawNPY("<f4", false, "(0, 3)", nil), []string{"no samples"}},
		{"garbage header", rawNPY("<f4", false, "(2, three)", nil), []string{"bad .npy header"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.ReplaceAll(c.name, " ", "_")+".npy", c.data)
			_, err := dataset.Open(p, dataset.Options{})
			wantErr(t, err, append(c.want, p)...)
		})
	}
	_, err := dataset.Open(filepath.Join(dir, "missing.npy"), dataset.Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestWriteAtomic: a successful write leaves only the target; a failed one
// (here: the target is a folder, so the final rename fails) leaves no
// temporary file behind.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.npy")
	for range 2 { // the second write replaces the first
		if err := dataset.WriteNPY(p, []float32{1, 2}, []int{2}); err != nil {
			t.Fatal(err)
		}
	}
	blocker := filepath.Join(dir, "blocker.npz")
	if err := os.Mkdir(blocker, 0o755); err != nil {
		t.Fatal(err)
	}
	wantErr(t, dataset.WriteNPZ(blocker, []float32{1}, []int{1}, nil), "writing "+blocker)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"blocker.npz", "out.npy"}) {
		t.Errorf("folder holds %v, want only blocker.npz and out.npy", names)
	}
	err = dataset.WriteNPY(filepath.Join(dir, "missing", "x.npy"), []int64{1}, []int{1})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("writing into a missing folder: %v, want fs.ErrNotExist", err)
	}
}

// TestFeaturesByteOrder reads the same float32 features stored little- and
// big-endian (the two decoding paths) and checks that both give the same
// values and both find a NaN at the same place.
func TestFeaturesByteOrder(t *testing.T) {
	dir := t.TempDir()
	values := []float32{0, -1.5, 3.25e-8, math.MaxFloat32, 7, -0.125}
	y := writeFile(t, dir, "y.npy", rawNPY("<i8", false, "(3,)", le(int64(0), int64(1), int64(2))))
	encode := func(order binary.ByteOrder, vs []float32) []byte {
		b := make([]byte, 4*len(vs))
		for i, v := range vs {
			order.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	}
	for _, c := range []struct {
		descr string
		order binary.ByteOrder
	}{{"<f4", binary.LittleEndian}, {">f4", binary.BigEndian}} {
		x := writeFile(t, dir, "x.npy", rawNPY(c.descr, false, "(3, 2)", encode(c.order, values)))
		src, err := dataset.OpenArrays(x, y, dataset.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.descr, err)
		}
		got, _ := readAll(t, src)
		if !slices.Equal(got, values) {
			t.Errorf("%s: read %v, want %v", c.descr, got, values)
		}
		bad := slices.Clone(values)
		bad[3] = float32(math.NaN())
		x = writeFile(t, dir, "x.npy", rawNPY(c.descr, false, "(3, 2)", encode(c.order, bad)))
		var nf *dataset.NonFiniteError
		if _, err := dataset.OpenArrays(x, y, dataset.Options{ScanAtOpen: true}); !errors.As(err, &nf) || nf.Sample != 1 || nf.Element != 1 {
			t.Errorf("%s: a NaN at feature 1 of sample 1: got %v", c.descr, err)
		}
	}
}
