package audit

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Default size of the PNG plots, in pixels, and their resolution. At 120
// dots per inch the 11–16 pt text is 18–27 pixels high: readable when the
// image is shown at its natural size in the HTML report.
const (
	DefaultPlotWidth  = 960
	DefaultPlotHeight = 600
	plotDPI           = 120
)

// PlotOptions sets the look of a plot. The zero value is the default.
type PlotOptions struct {
	// Title replaces the plot's default title when not empty.
	Title string

	// Width and Height are the image size in pixels. Zero means
	// DefaultPlotWidth and DefaultPlotHeight.
	Width, Height int

	// LinearROC draws ROC curves on linear axes from 0 to 1 instead of the
	// default log-log axes, which show the low-FPR regime.
	LinearROC bool
}

func (o *PlotOptions) title(def string) string {
	if o == nil || o.Title == "" {
		return def
	}
	return o.Title
}

func (o *PlotOptions) size() (w, h int) {
	w, h = DefaultPlotWidth, DefaultPlotHeight
	if o != nil && o.Width > 0 {
		w = o.Width
	}
	if o != nil && o.Height > 0 {
		h = o.Height
	}
	return w, h
}

// palette holds the Okabe–Ito colours, distinguishable with the common
// colour-vision deficiencies, in the order series are given.
var palette = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
}

// guideColor draws chance lines and other guides.
var guideColor = color.RGBA{0x88, 0x88, 0x88, 0xFF}

func paletteColor(i int) color.RGBA { return palette[i%len(palette)] }

// newPlot returns a plot with the package's title, label and legend
// styling.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(16)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(13)
		a.Tick.Label.Font.Size = vg.Points(11)
	}
	p.Legend.TextStyle.Font.Size = vg.Points(12)
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(8)
	p.Legend.YOffs = vg.Points(8)
	p.Legend.ThumbnailWidth = vg.Points(28)
	return p
}

// renderPNG draws p on a white canvas of the requested pixel size and
// writes it to w as PNG.
func renderPNG(w io.Writer, p *plot.Plot, opts *PlotOptions) error {
	wpx, hpx := opts.size()
	c := vgimg.NewWith(
		vgimg.UseWH(vg.Length(wpx)/plotDPI*vg.Inch, vg.Length(hpx)/plotDPI*vg.Inch),
		vgimg.UseDPI(plotDPI),
	)
	p.Draw(draw.New(c))
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return fmt.Errorf("audit: encoding plot: %w", err)
	}
	return nil
}

// savePlot renders into memory and writes the PNG to path atomically.
func savePlot(path string, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// percentTicks labels a fraction axis in percent ("92.5%").
type percentTicks struct{}

// Ticks implements plot.Ticker.
func (percentTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = fmt.Sprintf("%.4g%%", ticks[i].Value*100)
		}
	}
	return ticks
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
