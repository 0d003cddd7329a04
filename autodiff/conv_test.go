package autodiff

import (
	"math/rand/v2"
	"slices"
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

// sameWindows are windows of unit stride and dilation that keep the
// input's size: 3×3 and 5×5 padded evenly, 3×3 padded on one side only,
// a 1×3 kernel, and an input narrower than the kernel.
var sameWindows = []struct {
	a      windowAttrs
	kernel []int
	h, w   int
}{
	{windowAttrs{pads: []int64{1, 1, 1, 1}}, []int{3, 3}, 7, 5},
	{windowAttrs{pads: []int64{2, 2, 2, 2}}, []int{5, 5}, 6, 6},
	{windowAttrs{pads: []int64{0, 2, 2, 0}}, []int{3, 3}, 4, 5},
	{windowAttrs{pads: []int64{0, 1, 0, 1}}, []int{1, 3}, 3, 4},
	{windowAttrs{pads: []int64{1, 1, 1, 1}}, []int{3, 3}, 2, 2},
}

// TestSameWindowsMatchAny checks that im2col and col2im of a same window
// (one shifted copy or sum per kernel offset) give exactly what the general
// ones give: every element of the column matrix, written over stale
// values, and bit-identical input adjoints, contributions added in the same
// order.
func TestSameWindowsMatchAny(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range sameWindows {
		const cg = 2
		g, err := c.a.geometry([]int{1, cg, c.h, c.w}, c.kernel)
		if err != nil {
			t.Fatal(err)
		}
		if !g.same() {
			t.Fatalf("pads %v, kernel %v on %d×%d: not a same window", c.a.pads, c.kernel, c.h, c.w)
		}
		kk := cg * c.kernel[0] * c.kernel[1]
		x := make([]float32, cg*c.h*c.w)
		for i := range x {
			x[i] = rng.Float32() + 1
		}
		ld := g.oh*g.ow + 3
		want, got := make([]float32, kk*ld), make([]float32, kk*ld)
		for i := range got {
			got[i] = -1 // stale values im2col must overwrite
		}
		copy(want, got)
		im2colAny(want, x, cg, g, ld)
		im2colSame(got, x, cg, g, ld)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("im2col, pads %v, kernel %v: element %d is %g, the general one gives %g", c.a.pads, c.kernel, i, got[i], want[i])
			}
		}
		col := make([]float32, kk*ld)
		for i := range col {
			col[i] = rng.Float32() - 0.5
		}
		wantX, gotX := make([]float32, len(x)), make([]float32, len(x))
		for i := range wantX {
			wantX[i] = rng.Float32()
			gotX[i] = wantX[i]
		}
		col2imAny(wantX, slices.Clone(col), cg, g, ld)
		col2imSame(gotX, col, cg, g, ld)
		for i := range wantX {
			if gotX[i] != wantX[i] {
				t.Fatalf("col2im, pads %v, kernel %v: element %d is %g, the general one gives %g", c.a.pads, c.kernel, i, gotX[i], wantX[i])
			}
		}
	}
}
