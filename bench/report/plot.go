package main

import (
	"bytes"
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The plot's look follows audit/plot.go: Okabe–Ito colours, 120 dpi.
var palette = []color.RGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
}

var guide = color.RGBA{0x88, 0x88, 0x88, 0xFF}

const (
	plotWidth, plotHeight = 1440, 1080
	plotDPI               = 120
)

// writeScalingPlot draws time and peak RSS against retained-set size (top)
// and parameter count (bottom), log–log, one series per command, with the
// 2× data-set line on the memory panels, and writes the PNG to path.
func writeScalingPlot(path string, sizes, widths []scaleRow) error {
	panels := [][]*plot.Plot{
		{scalePanel(sizes, "time against retained-set size", "retained samples", "seconds (whole process)", false),
			scalePanel(sizes, "peak RSS against retained-set size", "retained samples", "MB", true)},
		{scalePanel(widths, "time against parameter count (MLP 784-W-W-10)", "parameters", "seconds (full retrain: 30 epochs, extrapolated)", false),
			scalePanel(widths, "peak RSS against parameter count", "parameters", "MB", true)},
	}
	for _, row := range panels {
		for _, p := range row {
			if p == nil {
				return nil
			}
		}
	}
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(plotWidth)/plotDPI*vg.Inch, vg.Length(plotHeight)/plotDPI*vg.Inch), vgimg.UseDPI(plotDPI))
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 2, Cols: 2, PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6), PadX: vg.Points(14), PadY: vg.Points(14)}
	canvases := plot.Align(panels, tiles, dc)
	for i := range panels {
		for j := range panels[i] {
			panels[i][j].Draw(canvases[i][j])
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// scalePanel is one panel; nil when there is nothing to draw.
func scalePanel(rows []scaleRow, title, xLabel, yLabel string, memory bool) *plot.Plot {
	if len(rows) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	for i, c := range scaleCmds {
		var pts plotter.XYs
		for _, row := range rows {
			x, found := row.runs[c.key]
			if !found {
				continue
			}
			y := row.seconds(c.key, 30)
			if memory {
				y = float64(x.MaxRSSKB) / 1024
			}
			if y > 0 {
				pts = append(pts, plotter.XY{X: row.x, Y: y})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			continue
		}
		l.Color, s.Color = palette[i%len(palette)], palette[i%len(palette)]
		l.Width = vg.Points(1.5)
		s.Shape = draw.CircleGlyph{}
		p.Add(l, s)
		p.Legend.Add(c.label, l, s)
	}
	if memory {
		var pts plotter.XYs
		for _, row := range rows {
			pts = append(pts, plotter.XY{X: row.x, Y: 2 * row.dataBytes / (1 << 20)})
		}
		if l, err := plotter.NewLine(pts); err == nil {
			l.Color = guide
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(l)
			p.Legend.Add("2 × data set", l)
		}
	}
	return p
}
