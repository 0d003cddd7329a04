package lethe

import (
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// TestCheckedRows: the engine's wrapper keeps in-memory data readable in
// place, and the label tap, which must see every read, does not offer it.
func TestCheckedRows(t *testing.T) {
	src, err := dataset.FromArrays(make([]float32, 6), []int{2}, []int64{0, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if x, y, ok := dataset.Rows(checked{src}, 1, 2); !ok || len(x) != 4 || len(y) != 2 {
		t.Errorf("checked: Rows(1, 2) = %v, %v, %v", x, y, ok)
	}
	if _, _, ok := dataset.Rows(checked{newLabelTap(src)}, 1, 2); ok {
		t.Error("the label tap serves samples in place: it would miss their labels")
	}
}
