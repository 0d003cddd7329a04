package dataset_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// TestStreamingLargeNPY opens a 4 GiB .npy file (sparse on disk, so it costs
// neither disk nor time) and reads rows from its start, middle and end. The
// bytes allocated must stay tiny compared with the file: the data are read
// on demand, never loaded.
func TestStreamingLargeNPY(t *testing.T) {
	const rows, cols = 1 << 20, 1024 // 4 GiB of float32
	p := filepath.Join(t.TempDir(), "big.npy")
	header := rawNPY("<f4", false, "(1048576, 1024)", nil)
	if err := os.WriteFile(p, header, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, int64(len(header))+rows*cols*4); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	src, err := dataset.Open(p, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dataset.Close(src)
	x := make([]float32, 3*cols) // 12 KiB
	for range 10 {
		if err := src.Read([]int{0, rows / 2, rows - 1}, x, nil); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// Open and ten reads need a row-sized (4 KiB) pooled buffer and some
	// small bookkeeping, about 20 KiB; 1 MiB leaves room for runtime noise
	// and is still 1/4096 of the file.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("reading 3 rows of a 4 GiB file allocated %d bytes", alloc)
	}
	if src.Len() != rows {
		t.Errorf("Len %d, want %d", src.Len(), rows)
	}
}
