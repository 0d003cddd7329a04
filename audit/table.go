package audit

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Row is one line of the results table: one model (the original, the
// retrained reference, lethe's certified update at some ε, other baselines)
// measured the same way. A metric that was not measured is NaN (see NewRow)
// and a Time that was not measured is zero; both are shown as "—".
type Row struct {
	// Method names the model, e.g. "original", "retrain", "lethe ε=1".
	Method string

	// AccRetained, AccForgotten and AccTest are accuracies (fractions in
	// [0, 1]) on the retained, the forgotten and the test samples.
	AccRetained, AccForgotten, AccTest float64

	// MIALoss is the AUC of LossThresholdAttack and MIAPosterior that of
	// PosteriorAttack (the two-model attack of Chen et al. for an unlearned
	// model, the single-model one for the original), with the forgotten
	// samples as members and test samples as non-members. 0.5 is ideal.
	MIALoss, MIAPosterior float64

	// DistanceToRetrain is ‖w − w_retrain‖₂ (see Distance).
	DistanceToRetrain float64

	// Time is the wall time the method took (training, retraining or
	// unlearning).
	Time time.Duration
}

// NewRow returns a Row for method with every metric NaN ("not measured"),
// to be filled in with what was measured.
func NewRow(method string) Row {
	nan := math.NaN()
	return Row{Method: method, AccRetained: nan, AccForgotten: nan, AccTest: nan,
		MIALoss: nan, MIAPosterior: nan, DistanceToRetrain: nan}
}

// tableHeader names the columns of Row.cells.
var tableHeader = []string{
	"method", "acc. retained", "acc. forgotten", "acc. test",
	"MIA AUC (loss)", "MIA AUC (posterior)", "‖w − w_retrain‖₂", "time",
}

// cells formats a row as the text of its table cells.
func (r Row) cells() []string {
	method := r.Method
	if method == "" {
		method = "—"
	}
	return []string{
		method,
		formatPercent(r.AccRetained), formatPercent(r.AccForgotten), formatPercent(r.AccTest),
		formatFixed(r.MIALoss, 3), formatFixed(r.MIAPosterior, 3),
		formatGeneral(r.DistanceToRetrain), formatDuration(r.Time),
	}
}

// FormatTable writes rows as a Markdown pipe table whose columns are padded
// to equal width, so that it reads as plain text in a terminal too (the CLI
// prints it; `make reproduce` writes it to results/REPRODUCTION.md).
// Accuracies are in percent, AUCs with three decimals, distances with four
// significant digits; unmeasured values are "—". It returns w's write
// error, if any.
func FormatTable(w io.Writer, rows []Row) error {
	body := make([][]string, len(rows))
	for i, r := range rows {
		body[i] = r.cells()
	}
	return WriteTable(w, tableHeader, body)
}

// WriteTable writes a Markdown pipe table with columns padded to equal width:
// the first column left-aligned, the others right-aligned (numbers). A "|"
// in the first column is escaped.
func WriteTable(w io.Writer, header []string, body [][]string) error {
	cells := [][]string{header}
	for _, row := range body {
		row = slices.Clone(row)
		row[0] = strings.ReplaceAll(row[0], "|", `\|`)
		cells = append(cells, row)
	}
	width := make([]int, len(header))
	for _, row := range cells {
		for j, c := range row {
			width[j] = max(width[j], utf8.RuneCountInString(c), 3)
		}
	}
	var b strings.Builder
	for i, row := range cells {
		for j, c := range row {
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(c))
			if j == 0 {
				fmt.Fprintf(&b, "| %s%s ", c, pad)
			} else {
				fmt.Fprintf(&b, "| %s%s ", pad, c)
			}
		}
		b.WriteString("|\n")
		if i == 0 {
			for j := range row {
				if j == 0 {
					fmt.Fprintf(&b, "|%s", strings.Repeat("-", width[j]+2))
				} else {
					fmt.Fprintf(&b, "|%s:", strings.Repeat("-", width[j]+1))
				}
			}
			b.WriteString("|\n")
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("audit: writing table: %w", err)
	}
	return nil
}

const missing = "—"

func formatPercent(v float64) string {
	if math.IsNaN(v) {
		return missing
	}
	return fmt.Sprintf("%.2f%%", 100*v)
}

func formatFixed(v float64, prec int) string {
	if math.IsNaN(v) {
		return missing
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func formatGeneral(v float64) string {
	if math.IsNaN(v) {
		return missing
	}
	return fmt.Sprintf("%.4g", v)
}

// formatDuration shows a duration with about three significant digits:
// "850 ms", "12.3 s", "4m05s".
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return missing
	case d < time.Millisecond:
		return "<1 ms"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm%02ds", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
