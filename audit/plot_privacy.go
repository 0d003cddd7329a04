package audit

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of a privacy–utility plot: the test accuracy (a
// fraction in [0, 1]) a method reached at each privacy budget ε. A Series
// with no Epsilon and exactly one Accuracy is a reference that does not
// depend on ε, such as the original model or retraining from scratch, and is
// drawn as a dashed horizontal line.
type Series struct {
	Name     string
	Epsilon  []float64
	Accuracy []float64
}

func (s Series) reference() bool { return len(s.Epsilon) == 0 && len(s.Accuracy) == 1 }

// PlotPrivacyUtility writes a PNG plot of test accuracy against ε (log-x
// axis) to path, atomically (a temporary file renamed into place), with the
// defaults of PlotOptions. See RenderPrivacyUtility.
func PlotPrivacyUtility(path string, series []Series) error {
	return savePlot(path, func(w io.Writer) error { return RenderPrivacyUtility(w, series, nil) })
}

// RenderPrivacyUtility draws the privacy–utility plot and writes it to w as
// PNG: one line with markers per ε-dependent series (points sorted by ε),
// one dashed horizontal line per reference series, a legend, the ε values
// as tick labels on a logarithmic x axis and accuracy in percent on the y
// axis. It returns ErrInvalidInput when series is empty, a series mixes up
// its lengths, an ε is not positive and finite or an accuracy not finite.
func RenderPrivacyUtility(w io.Writer, series []Series, opts *PlotOptions) error {
	if len(series) == 0 {
		return fmt.Errorf("%w: privacy-utility plot without series", ErrInvalidInput)
	}
	var eps, accs []float64
	for _, s := range series {
		if !s.reference() && (len(s.Epsilon) == 0 || len(s.Epsilon) != len(s.Accuracy)) {
			return fmt.Errorf("%w: series %q has %d ε values and %d accuracies", ErrInvalidInput, s.Name, len(s.Epsilon), len(s.Accuracy))
		}
		for _, e := range s.Epsilon {
			if !finite(e) || e <= 0 {
				return fmt.Errorf("%w: series %q: ε = %v is not positive and finite (log axis)", ErrInvalidInput, s.Name, e)
			}
		}
		for _, a := range s.Accuracy {
			if !finite(a) {
				return fmt.Errorf("%w: series %q: accuracy %v is not finite", ErrInvalidInput, s.Name, a)
			}
		}
		eps = append(eps, s.Epsilon...)
		accs = append(accs, s.Accuracy...)
	}

	p := newPlot(opts.title("Privacy–utility trade-off"), "privacy budget ε (log scale)", "test accuracy")
	p.X.Scale = plot.LogScale{}
	xMin, xMax := 0.1, 10.0
	if len(eps) > 0 {
		// Pad a quarter of a factor on both sides so end markers stay clear
		// of the frame.
		xMin, xMax = slices.Min(eps)/1.25, slices.Max(eps)*1.25
	}
	p.X.Min, p.X.Max = xMin, xMax
	p.X.Tick.Marker = epsilonTicks(eps)

	yMin, yMax := slices.Min(accs), slices.Max(accs)
	pad := math.Max((yMax-yMin)*0.08, 0.01)
	p.Y.Min, p.Y.Max = math.Max(0, yMin-pad), math.Min(1, yMax+pad)
	if p.Y.Min >= p.Y.Max { // accuracies outside [0, 1]: show them anyway
		p.Y.Min, p.Y.Max = yMin-pad, yMax+pad
	}
	p.Y.Tick.Marker = percentTicks{}
	p.Add(plotter.NewGrid())

	for i, s := range series {
		col := paletteColor(i)
		if s.reference() {
			line, err := plotter.NewLine(plotter.XYs{{X: xMin, Y: s.Accuracy[0]}, {X: xMax, Y: s.Accuracy[0]}})
			if err != nil {
				return fmt.Errorf("audit: privacy-utility plot: %w", err)
			}
			line.Color = col
			line.Width = vg.Points(2)
			line.Dashes = []vg.Length{vg.Points(8), vg.Points(5)}
			p.Add(line)
			p.Legend.Add(s.Name, line)
			continue
		}
		idx := make([]int, len(s.Epsilon))
		for k := range idx {
			idx[k] = k
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case s.Epsilon[a] < s.Epsilon[b]:
				return -1
			case s.Epsilon[a] > s.Epsilon[b]:
				return 1
			}
			return 0
		})
		xys := make(plotter.XYs, len(idx))
		for k, j := range idx {
			xys[k] = plotter.XY{X: s.Epsilon[j], Y: s.Accuracy[j]}
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("audit: privacy-utility plot: %w", err)
		}
		line.Color = col
		line.Width = vg.Points(2)
		points.Color = col
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(3.5)
		p.Add(line, points)
		p.Legend.Add(s.Name, line, points)
	}
	return renderPNG(w, p, opts)
}

// epsilonTicks labels the distinct ε values themselves when there are few
// of them (the budgets a user asked for), and powers of ten otherwise.
func epsilonTicks(eps []float64) plot.Ticker {
	distinct := slices.Clone(eps)
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	if len(distinct) == 0 || len(distinct) > 12 {
		return plot.LogTicks{Prec: -1}
	}
	ticks := make(plot.ConstantTicks, len(distinct))
	for i, e := range distinct {
		ticks[i] = plot.Tick{Value: e, Label: strconv.FormatFloat(e, 'g', 4, 64)}
	}
	return ticks
}
