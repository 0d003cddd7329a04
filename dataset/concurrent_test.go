package dataset_test

import (
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// TestConcurrentReads reads from several goroutines at once, each checking
// what it reads against the data written; run with -race.
func TestConcurrentReads(t *testing.T) {
	const n, size = 500, 7
	x := make([]float32, n*size)
	y := make([]int64, n)
	for i := range n {
		for j := range size {
			x[i*size+j] = float32(i) + float32(j)/8
		}
		y[i] = int64(i % 10)
	}
	p := filepath.Join(t.TempDir(), "d.npz")
	if err := dataset.WriteNPZ(p, x, []int{size}, y); err != nil {
		t.Fatal(err)
	}
	streamed := mustOpen(t, p, dataset.Options{})
	mem, err := dataset.FromArrays(x, []int{size}, y)
	if err != nil {
		t.Fatal(err)
	}
	removed := []int{3, 100, 499}
	sources := map[string]dataset.Source{
		"streamed npz":  streamed,
		"in memory":     mem,
		"retained view": dataset.Without(streamed, removed),
		"subset view":   dataset.Subset(streamed, []int{9, 8, 7, 400}),
		"reshaped view": must(dataset.Reshape(streamed, []int{7, 1})),
	}
	// original maps a view's sample back to its row in x.
	original := map[string]func(int) int{
		"streamed npz":  func(i int) int { return i },
		"in memory":     func(i int) int { return i },
		"retained view": func(i int) int { return i + countBelowEq(removed, i) },
		"subset view":   func(i int) int { return []int{9, 8, 7, 400}[i] },
		"reshaped view": func(i int) int { return i },
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(g), 9))
					bx, by := make([]float32, 32*size), make([]int64, 32)
					for range 50 {
						idx := make([]int, 1+rng.IntN(32))
						for k := range idx {
							idx[k] = rng.IntN(src.Len())
						}
						if err := src.Read(idx, bx[:len(idx)*size], by[:len(idx)]); err != nil {
							t.Error(err)
							return
						}
						for k, i := range idx {
							o := original[name](i)
							if bx[k*size+1] != x[o*size+1] || by[k] != y[o] {
								t.Errorf("sample %d (row %d) read as %v, %d", i, o, bx[k*size:(k+1)*size], by[k])
								return
							}
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// countBelowEq maps a retained position to the number of removed rows
// before its original index (removed sorted).
func countBelowEq(removed []int, r int) int {
	k := 0
	for _, v := range removed {
		if v-k <= r {
			k++
		}
	}
	return k
}

func must(src dataset.Source, err error) dataset.Source {
	if err != nil {
		panic(err)
	}
	return src
}
