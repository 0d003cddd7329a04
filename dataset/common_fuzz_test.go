package dataset_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// fuzzMaxBytes is the Options.MaxBytes of the fuzz targets: big enough for
// every seed, small enough that no input can make a run slow or large.
const fuzzMaxBytes = 16 << 20

// fuzzOptions opens fuzzed files: features checked at open (so Read must
// never fail afterwards) and uint8 features unscaled (so they compare with
// the stored bytes exactly).
var fuzzOptions = dataset.Options{MaxBytes: fuzzMaxBytes, ScanAtOpen: true, NoScale: true}

// fuzzFile writes data to name in a fresh temporary folder and returns its path.
func fuzzFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	return fuzzFileAt(t, filepath.Join(t.TempDir(), name), data)
}

// fuzzFileAt writes data to path and returns it.
func fuzzFileAt(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkRefusal checks an error a parser returned for the file path: it must
// name the file (every data problem does), and a *LimitError must carry
// the limit in force.
func checkRefusal(t *testing.T, err error, path string) {
	t.Helper()
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error does not name the file %s: %v", path, err)
	}
	var le *dataset.LimitError
	if errors.As(err, &le) && (le.Limit != fuzzMaxBytes || le.Size <= le.Limit || !errors.Is(err, dataset.ErrTooLarge)) {
		t.Fatalf("limit error with limit %d, size %d (want limit %d < size): %v", le.Limit, le.Size, fuzzMaxBytes, err)
	}
}

// checkSource checks what every accepted source must satisfy and returns
// its features and labels (nil without labels): at least one sample, a
// sample shape of positive dimensions, every feature finite, every label in
// [0, NumClasses), scattered reads with repeats equal to the full read, and
// out-of-range reads refused.
func checkSource(t *testing.T, src dataset.Source) ([]float32, []int64) {
	t.Helper()
	n, shape := src.Len(), src.SampleShape()
	if n < 1 {
		t.Fatalf("accepted a source of %d samples", n)
	}
	size := 1
	for _, d := range shape {
		if d < 1 {
			t.Fatalf("sample shape %v has a dimension < 1", shape)
		}
		size *= d
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x := make([]float32, n*size)
	var y []int64
	if dataset.HasLabels(src) {
		y = make([]int64, n)
	}
	if err := src.Read(idx, x, y); err != nil {
		t.Fatalf("Read of every sample: %v", err)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("feature %d of sample %d is %v", i%size, i/size, v)
		}
	}
	k, err := dataset.NumClasses(src)
	switch {
	case y == nil && !errors.Is(err, dataset.ErrNoLabels):
		t.Fatalf("NumClasses of a source without labels: %d, %v", k, err)
	case y != nil && err != nil:
		t.Fatalf("NumClasses: %v", err)
	}
	for i, v := range y {
		if v < 0 || v >= int64(k) {
			t.Fatalf("label of sample %d is %d, outside [0, %d)", i, v, k)
		}
	}
	if y == nil {
		if err := src.Read([]int{0}, make([]float32, size), make([]int64, 1)); !errors.Is(err, dataset.ErrNoLabels) {
			t.Fatalf("labels read from a source without labels: %v", err)
		}
	}
	pick := []int{n - 1, 0, n / 2, n - 1}
	px := make([]float32, len(pick)*size)
	var py []int64
	if y != nil {
		py = make([]int64, len(pick))
	}
	if err := src.Read(pick, px, py); err != nil {
		t.Fatalf("Read(%v): %v", pick, err)
	}
	for k, i := range pick {
		if !equalBits(px[k*size:(k+1)*size], x[i*size:(i+1)*size]) || (y != nil && py[k] != y[i]) {
			t.Fatalf("Read(%v): sample %d differs from the full read", pick, i)
		}
	}
	if err := src.Read([]int{n}, make([]float32, size), nil); err == nil {
		t.Fatalf("Read of sample %d of %d succeeded", n, n)
	}
	return x, y
}

// checkSame fails unless two sources hold the same shape, features (bit for
// bit) and labels.
func checkSame(t *testing.T, what string, a, b dataset.Source, ax, bx []float32, ay, by []int64) {
	t.Helper()
	if a.Len() != b.Len() || !slices.Equal(a.SampleShape(), b.SampleShape()) {
		t.Fatalf("%s: %d samples of %v, then %d of %v", what, a.Len(), a.SampleShape(), b.Len(), b.SampleShape())
	}
	if !equalBits(ax, bx) {
		t.Fatalf("%s: features differ", what)
	}
	if !slices.Equal(ay, by) || (ay == nil) != (by == nil) {
		t.Fatalf("%s: labels differ: %v, then %v", what, ay, by)
	}
}
