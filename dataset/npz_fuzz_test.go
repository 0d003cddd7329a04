package dataset_test

import (
	"archive/zip"
	"bytes"
	"path/filepath"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// zipBytes builds an .npz archive in memory: members name → .npy bytes,
// each stored with the given method (zip.Store as np.savez, zip.Deflate as
// np.savez_compressed).
func zipBytes(method uint16, members ...any) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i < len(members); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: members[i].(string), Method: method})
		if err != nil {
			panic(err)
		}
		if _, err := w.Write(members[i+1].([]byte)); err != nil {
			panic(err)
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// FuzzNPZ feeds arbitrary bytes to Open as an .npz archive. An accepted
// archive must satisfy checkSource, and its samples written back with
// WriteNPZ must reopen to the same features (bit for bit), labels and class
// count. Refusals must name the file.
func FuzzNPZ(f *testing.F) {
	x := rawNPY("<f4", false, "(3, 2)", le(float32(0.5), float32(-1), float32(0), float32(2), float32(1e-3), float32(4)))
	y := rawNPY("<i8", false, "(3,)", le(int64(1), int64(0), int64(2)))
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		f.Add(zipBytes(method, "x.npy", x, "y.npy", y))
		f.Add(zipBytes(method, "x.npy", x))
		f.Add(zipBytes(method, "x.npy", rawNPY("|u1", false, "(2, 1, 2)", []byte{0, 9, 200, 255}), "y.npy", rawNPY("<f8", false, "(2, 1)", le(3.0, 0.0))))
		f.Add(zipBytes(method, "y.npy", y, "x.npy", rawNPY(">f8", false, "(3,)", make([]byte, 24))))
	}
	f.Add(zipBytes(zip.Store, "z.npy", x))
	f.Add(zipBytes(zip.Deflate, "x.npy", x, "y.npy", rawNPY("<i1", false, "(3,)", []byte{0, 0xff, 1})))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzFile(t, "a.npz", data)
		src, err := dataset.Open(p, fuzzOptions)
		if err != nil {
			checkRefusal(t, err, p)
			return
		}
		defer dataset.Close(src)
		x, y := checkSource(t, src)
		q := filepath.Join(filepath.Dir(p), "b.npz")
		if err := dataset.WriteNPZ(q, x, src.SampleShape(), y); err != nil {
			t.Fatalf("WriteNPZ of what Open read: %v", err)
		}
		again, err := dataset.Open(q, fuzzOptions)
		if err != nil {
			t.Fatalf("reopening what WriteNPZ wrote: %v", err)
		}
		defer dataset.Close(again)
		ax, ay := checkSource(t, again)
		checkSame(t, "WriteNPZ round trip", src, again, x, ax, y, ay)
		if y != nil {
			k, _ := dataset.NumClasses(src)
			if k2, _ := dataset.NumClasses(again); k != k2 {
				t.Fatalf("NumClasses %d, %d after the round trip", k, k2)
			}
		}
	})
}
