package autodiff

import (
	"math/rand/v2"
	"testing"
)

// TestCol2im3MatchesAny checks that the 3-wide col2im adds exactly what the
// general one adds, in the same order: bit-identical input adjoints, for
// paddings that leave the window's first or last column outside the input
// and for vertical strides and dilations.
func TestCol2im3MatchesAny(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, a := range []windowAttrs{
		{pads: []int64{1, 1, 1, 1}},
		{pads: []int64{0, 0, 0, 0}},
		{pads: []int64{2, 0, 1, 2}, strides: []int64{2, 1}, dilations: []int64{2, 1}},
		{pads: []int64{0, 3, 0, 3}},
	} {
		const cg, h, w = 2, 7, 5
		g, err := a.geometry([]int{1, cg, h, w}, []int{3, 3})
		if err != nil {
			t.Fatal(err)
		}
		hw := g.oh * g.ow
		col := make([]float32, cg*9*hw)
		for i := range col {
			col[i] = rng.Float32() - 0.5
		}
		want, got := make([]float32, cg*h*w), make([]float32, cg*h*w)
		for i := range want {
			want[i] = rng.Float32()
			got[i] = want[i]
		}
		col2imAny(want, col, cg, g, hw)
		col2im3(got, col, cg, g, hw)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("pads %v: element %d is %g, the general col2im gives %g", a.pads, i, got[i], want[i])
			}
		}
	}
}
