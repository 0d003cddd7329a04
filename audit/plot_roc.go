package audit

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// NamedROC is one curve of an ROC plot, e.g. the membership-inference ROC
// (AttackResult.ROC) against the original, the unlearned or the retrained
// model.
type NamedROC struct {
	Name string
	ROC  []ROCPoint
}

// PlotROC writes a PNG plot of ROC curves to path, atomically (a temporary
// file renamed into place), with the defaults of PlotOptions (log-log axes).
// See RenderROC.
func PlotROC(path string, curves []NamedROC) error {
	return savePlot(path, func(w io.Writer) error { return RenderROC(w, curves, nil) })
}

// RenderROC draws ROC curves, one line per curve labelled with its name and
// AUC, the chance diagonal (dashed) and a dotted guide at FPR = 1% (LowFPR),
// and writes the plot to w as PNG.
//
// By default both axes are logarithmic, the convention for membership
// inference, where what matters is the TPR at a low FPR; the axes start at
// the largest power of ten not above the smallest positive rate of any
// curve (at most 0.01, at least 1e-5), and rates below it (FPR or TPR 0)
// are drawn on that floor. With opts.LinearROC the axes run linearly from 0
// to 1. It returns ErrInvalidInput when curves is empty or a curve has no
// points.
func RenderROC(w io.Writer, curves []NamedROC, opts *PlotOptions) error {
	if len(curves) == 0 {
		return fmt.Errorf("%w: ROC plot without curves", ErrInvalidInput)
	}
	for _, c := range curves {
		if len(c.ROC) == 0 {
			return fmt.Errorf("%w: ROC curve %q has no points", ErrInvalidInput, c.Name)
		}
	}
	linear := opts != nil && opts.LinearROC
	xLabel, yLabel := "false-positive rate", "true-positive rate"
	// On log-log axes the rates are plotted as log10 values on linear axes
	// labelled in decades: gonum/plot's LogScale centres axis labels at the
	// arithmetic midpoint of the range, which pushes a long vertical label
	// off the top of a log axis spanning several decades.
	lo, tr := 0.0, func(v float64) float64 { return v }
	var ticks plot.Ticker = plot.DefaultTicks{}
	if !linear {
		xLabel += " (log scale)"
		yLabel += " (log scale)"
		floor := rocFloor(curves)
		lo = math.Log10(floor)
		tr = func(v float64) float64 { return math.Log10(math.Max(v, floor)) }
		ticks = decadeTicks{}
	}
	p := newPlot(opts.title("Membership-inference ROC"), xLabel, yLabel)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, tr(1), lo, tr(1)
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks, ticks
	p.Add(plotter.NewGrid())

	chance, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: tr(1), Y: tr(1)}})
	if err != nil {
		return fmt.Errorf("audit: ROC plot: %w", err)
	}
	chance.Color = guideColor
	chance.Width = vg.Points(1.5)
	chance.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	low, err := plotter.NewLine(plotter.XYs{{X: tr(LowFPR), Y: lo}, {X: tr(LowFPR), Y: tr(1)}})
	if err != nil {
		return fmt.Errorf("audit: ROC plot: %w", err)
	}
	low.Color = guideColor
	low.Width = vg.Points(1)
	low.Dashes = []vg.Length{vg.Points(2), vg.Points(3)}
	p.Add(chance, low)

	for i, c := range curves {
		xys := make(plotter.XYs, len(c.ROC))
		for k, pt := range c.ROC {
			xys[k] = plotter.XY{X: tr(pt.FPR), Y: tr(pt.TPR)}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("audit: ROC curve %q: %w", c.Name, err)
		}
		line.Color = paletteColor(i)
		line.Width = vg.Points(2.25)
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("%s (AUC %.3f)", c.Name, AUC(c.ROC)), line)
	}
	p.Legend.Add("chance", chance)
	p.Legend.Add("FPR = 1%", low)
	return renderPNG(w, p, opts)
}

// rocFloor returns the lower end of log-log ROC axes: the largest power of
// ten not above the smallest positive rate, clamped to [1e-5, 1e-2].
func rocFloor(curves []NamedROC) float64 {
	minPos := math.Inf(1)
	for _, c := range curves {
		for _, pt := range c.ROC {
			for _, v := range []float64{pt.FPR, pt.TPR} {
				if v > 0 && v < minPos {
					minPos = v
				}
			}
		}
	}
	if math.IsInf(minPos, 1) {
		return 1e-2
	}
	f := math.Pow(10, math.Floor(math.Log10(minPos)))
	return math.Min(1e-2, math.Max(1e-5, f))
}

// decadeTicks marks an axis of log10 values: labelled major ticks at the
// integers (shown as 0.001, 0.01, …, 1) and minor ticks at log10(k·10^j)
// for k = 2…9.
type decadeTicks struct{}

// Ticks implements plot.Ticker.
func (decadeTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for d := math.Floor(min); d <= max; d++ {
		ticks = append(ticks, plot.Tick{Value: d, Label: strconv.FormatFloat(math.Pow(10, d), 'g', -1, 64)})
		for k := 2; k < 10; k++ {
			if v := d + math.Log10(float64(k)); v <= max {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}
