package audit

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// decodePNG decodes a PNG and checks its size.
func decodePNG(t *testing.T, data []byte, w, h int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("image is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	return img
}

// colorStats returns the number of distinct colours of img and whether
// each wanted colour occurs (within a small distance, to allow for
// anti-aliasing at line edges).
func colorStats(img image.Image, want ...color.RGBA) (distinct int, found []bool) {
	seen := map[color.RGBA]bool{}
	found = make([]bool, len(want))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			seen[c] = true
			for i, w := range want {
				if colorClose(c, w, 24) {
					found[i] = true
				}
			}
		}
	}
	return len(seen), found
}

func colorClose(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) <= tol && d(a.G, b.G) <= tol && d(a.B, b.B) <= tol
}

func testSeries() []Series {
	return []Series{
		{Name: "lethe (certified)", Epsilon: []float64{10, 0.1, 1, 0.5, 5, 2}, Accuracy: []float64{0.968, 0.71, 0.93, 0.88, 0.962, 0.95}},
		{Name: "original", Accuracy: []float64{0.975}},
		{Name: "retrain", Accuracy: []float64{0.971}},
	}
}

func testCurves() []NamedROC {
	pos := make([]float64, 400)
	neg := make([]float64, 400)
	for i := range pos {
		// Deterministic, interleaved scores with different separations.
		pos[i] = math.Sin(float64(i)*12.9898) + 0.8
		neg[i] = math.Sin(float64(i)*78.233 + 1)
	}
	weak := make([]float64, len(pos))
	for i := range weak {
		weak[i] = pos[i] - 0.7
	}
	return []NamedROC{
		{Name: "original", ROC: ROC(pos, neg)},
		{Name: "lethe ε=1", ROC: ROC(weak, neg)},
		{Name: "retrain", ROC: ROC(neg[:200], neg[200:])},
	}
}

func TestPlotPrivacyUtility(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "privacy.png")
	if err := PlotPrivacyUtility(path, testSeries()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, data, DefaultPlotWidth, DefaultPlotHeight)
	// White background, black text, grid grey and the three series
	// colours: a blank or one-colour image fails. Anti-aliasing adds many
	// more, so 8 is a floor, not an estimate.
	n, found := colorStats(img, paletteColor(0), paletteColor(1), paletteColor(2), color.RGBA{255, 255, 255, 255})
	if n < 8 {
		t.Errorf("only %d distinct colours", n)
	}
	for i, ok := range found {
		if !ok {
			t.Errorf("wanted colour %d not drawn", i)
		}
	}
	// Only the plot is left in the directory: the temporary file was
	// renamed, not copied.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}
	// A custom size is honoured.
	var buf bytes.Buffer
	if err := RenderPrivacyUtility(&buf, testSeries(), &PlotOptions{Width: 500, Height: 300, Title: "custom"}); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, buf.Bytes(), 500, 300)
}

func TestPlotROC(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roc.png")
	if err := PlotROC(path, testCurves()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, data, DefaultPlotWidth, DefaultPlotHeight)
	n, found := colorStats(img, paletteColor(0), paletteColor(1), paletteColor(2), guideColor)
	if n < 8 {
		t.Errorf("only %d distinct colours", n)
	}
	for i, ok := range found {
		if !ok {
			t.Errorf("wanted colour %d not drawn", i)
		}
	}
	var buf bytes.Buffer
	if err := RenderROC(&buf, testCurves(), &PlotOptions{LinearROC: true}); err != nil {
		t.Fatal(err)
	}
	decodePNG(t, buf.Bytes(), DefaultPlotWidth, DefaultPlotHeight)
}

func TestPlotErrors(t *testing.T) {
	var buf bytes.Buffer
	for name, err := range map[string]error{
		"no series":    RenderPrivacyUtility(&buf, nil, nil),
		"zero ε":       RenderPrivacyUtility(&buf, []Series{{Name: "x", Epsilon: []float64{0, 1}, Accuracy: []float64{0.5, 0.6}}}, nil),
		"lengths":      RenderPrivacyUtility(&buf, []Series{{Name: "x", Epsilon: []float64{1, 2}, Accuracy: []float64{0.5}}}, nil),
		"NaN accuracy": RenderPrivacyUtility(&buf, []Series{{Name: "x", Accuracy: []float64{math.NaN()}}}, nil),
		"no curves":    RenderROC(&buf, nil, nil),
		"empty curve":  RenderROC(&buf, []NamedROC{{Name: "x"}}, nil),
	} {
		if !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", name, err)
		}
	}
	// A failed plot leaves no file behind.
	path := filepath.Join(t.TempDir(), "bad.png")
	if err := PlotROC(path, nil); err == nil {
		t.Error("PlotROC(nil) succeeded")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("failed plot left %s: %v", path, err)
	}
}
