package dataset_test

import (
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
)

// histogram counts the labels of src.
func histogram(t *testing.T, src dataset.Source) []int {
	t.Helper()
	h := make([]int, 10)
	err := dataset.ForEachBatch(src, dataset.Batches(src.Len(), 1000, nil), func(_ []int, _ []float32, y []int64) error {
		for _, v := range y {
			h[v]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// skipUnderRace reports whether to leave out a training split of n samples
// under the race detector, where decompressing it takes half a minute; the
// ordinary run (`make test`) checks it, and the test splits exercise the
// same code under -race.
func skipUnderRace(t *testing.T, n int) bool {
	if raceEnabled && n > 10000 {
		t.Logf("race detector: skipping the %d-sample split", n)
		return true
	}
	return false
}

func TestMNIST(t *testing.T) {
	for _, c := range []struct {
		spec       string
		n          int
		firstLabel int64
	}{{"mnist:train", 60000, 5}, {"mnist:test", 10000, 7}} {
		if skipUnderRace(t, c.n) {
			continue
		}
		src, err := dataset.Open(c.spec, dataset.Options{})
		testenv.Missing(t, "MNIST (scripts/setup.sh)", err)
		defer dataset.Close(src)
		if src.Len() != c.n || !slices.Equal(src.SampleShape(), []int{1, 28, 28}) {
			t.Fatalf("%s: Len %d, shape %v; want %d, [1 28 28]", c.spec, src.Len(), src.SampleShape(), c.n)
		}
		x, y := make([]float32, 784), make([]int64, 1)
		if err := src.Read([]int{0}, x, y); err != nil {
			t.Fatal(err)
		}
		if y[0] != c.firstLabel {
			t.Errorf("%s: first label %d, want %d", c.spec, y[0], c.firstLabel)
		}
		lo, hi := slices.Min(x), slices.Max(x)
		if lo != 0 || hi != 1 {
			t.Errorf("%s: first image spans [%v, %v], want [0, 1] after scaling", c.spec, lo, hi)
		}
		if k, err := dataset.NumClasses(src); k != 10 || err != nil {
			t.Errorf("%s: NumClasses %d, %v", c.spec, k, err)
		}
		// MNIST's classes hold between 8.9% and 11.4% of each split.
		for d, cnt := range histogram(t, src) {
			if frac := float64(cnt) / float64(c.n); frac < 0.085 || frac > 0.12 {
				t.Errorf("%s: digit %d is %.1f%% of the samples", c.spec, d, 100*frac)
			}
		}
	}
}

func TestFashionMNIST(t *testing.T) {
	for _, c := range []struct {
		spec string
		n    int
	}{{"fashion-mnist:train", 60000}, {"fashion-mnist:test", 10000}} {
		if skipUnderRace(t, c.n) {
			continue
		}
		src, err := dataset.Open(c.spec, dataset.Options{})
		testenv.Missing(t, "Fashion-MNIST (Debian dataset-fashion-mnist)", err)
		defer dataset.Close(src)
		if src.Len() != c.n || !slices.Equal(src.SampleShape(), []int{1, 28, 28}) {
			t.Fatalf("%s: Len %d, shape %v", c.spec, src.Len(), src.SampleShape())
		}
		// Fashion-MNIST is balanced: exactly a tenth of each split per class.
		for k, cnt := range histogram(t, src) {
			if cnt != c.n/10 {
				t.Errorf("%s: class %d has %d samples, want %d", c.spec, k, cnt, c.n/10)
			}
		}
	}
}
