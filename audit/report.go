package audit

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"io"
	"math"
	"os"
	"time"
)

// Report is the content of the HTML audit report (see WriteReport).
type Report struct {
	// Title heads the page. Empty means "lethe unlearning report".
	Title string

	// Generated is shown in the footer; the zero time omits it, which keeps
	// the output a pure function of the other fields.
	Generated time.Time

	// Summary describes the run.
	Summary RunSummary

	// Rows form the main table, in order (see Row).
	Rows []Row

	// Notes are shown as a list under "Notes and assumptions", e.g. the
	// certificate's stated assumptions and which bound is active.
	Notes []string

	// Figures are embedded as images, in order.
	Figures []Figure
}

// RunSummary describes an unlearning run. Text fields left empty and
// numbers left NaN are shown as "—"; numbers are shown with four
// significant digits.
type RunSummary struct {
	// Model, Data and Forget describe the model file, the data set and the
	// forget set (e.g. "1000 samples from forget.txt").
	Model, Data, Forget string

	// Mechanism is the Gaussian mechanism ("analytic" or "classic").
	Mechanism string

	// Epsilon and Delta are the privacy parameters, Sigma the noise standard
	// deviation and Sensitivity the certified Δ that Sigma is calibrated to.
	Epsilon, Delta, Sigma, Sensitivity float64

	// ActiveBound says which term of Δ is active, e.g. "trivial 2C" or
	// "theorem + residual".
	ActiveBound string

	// Timings lists the wall time of the run's stages.
	Timings []Timing

	// Extra holds further name–value pairs, shown after the others.
	Extra []Field
}

// Timing is the wall time of one stage of a run.
type Timing struct {
	Name     string
	Duration time.Duration
}

// Field is a name–value pair of the run summary.
type Field struct {
	Name, Value string
}

// Figure is an image of the report. The PNG bytes are embedded as they are;
// when PNG is nil the file at Path is read instead.
type Figure struct {
	Caption string
	PNG     []byte
	Path    string
}

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Parse(reportTemplateText))

// Views of the report handed to the template: every value already a
// string, so that the template only lays out and html/template escapes.
type (
	reportView struct {
		Title     string
		Generated string
		Summary   []Field
		Header    []string
		Rows      [][]string
		Notes     []string
		Figures   []figureView
	}
	figureView struct {
		Caption       string
		Src           template.URL
		Width, Height int
	}
)

// WriteReport writes r as a single self-contained HTML file to path,
// atomically (a temporary file renamed into place). See RenderReport.
func WriteReport(path string, r Report) error {
	var buf bytes.Buffer
	if err := RenderReport(&buf, r); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// RenderReport writes r to w as a single self-contained HTML page: inline
// CSS, no scripts, no external resources, the figures embedded as base64
// PNG data URIs. Every string from r is escaped by html/template. The page
// holds the title, the run summary, the main table (the same columns as
// FormatTable) with a legend of its columns, the notes, and the figures
// with their captions.
//
// It returns an error when a figure's file cannot be read or its bytes are
// not a PNG image (ErrInvalidInput), and w's write error.
func RenderReport(w io.Writer, r Report) error {
	v := reportView{
		Title:   r.Title,
		Summary: summaryFields(r.Summary),
		Header:  tableHeader,
		Notes:   r.Notes,
	}
	if v.Title == "" {
		v.Title = "lethe unlearning report"
	}
	if !r.Generated.IsZero() {
		v.Generated = r.Generated.UTC().Format(time.RFC3339)
	}
	for _, row := range r.Rows {
		v.Rows = append(v.Rows, row.cells())
	}
	for i, f := range r.Figures {
		data := f.PNG
		if data == nil {
			var err error
			if data, err = os.ReadFile(f.Path); err != nil {
				return fmt.Errorf("audit: report figure %d: %w", i+1, err)
			}
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%w: report figure %d (%q) is not a PNG image: %v", ErrInvalidInput, i+1, f.Caption, err)
		}
		v.Figures = append(v.Figures, figureView{
			Caption: f.Caption,
			// A data URI of our own base64 text cannot carry markup or a
			// script, so it is marked safe for the src attribute, which
			// html/template would otherwise neutralise.
			Src:    template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(data)),
			Width:  cfg.Width,
			Height: cfg.Height,
		})
	}
	if err := reportTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("audit: writing report: %w", err)
	}
	return nil
}

// summaryFields lists the run summary as name–value pairs.
func summaryFields(s RunSummary) []Field {
	text := func(v string) string {
		if v == "" {
			return missing
		}
		return v
	}
	num := func(v float64) string {
		if math.IsNaN(v) {
			return missing
		}
		return fmt.Sprintf("%.4g", v)
	}
	f := []Field{
		{"model", text(s.Model)},
		{"data", text(s.Data)},
		{"forget set", text(s.Forget)},
		{"mechanism", text(s.Mechanism)},
		{"ε", num(s.Epsilon)},
		{"δ", num(s.Delta)},
		{"σ (noise)", num(s.Sigma)},
		{"Δ (sensitivity)", num(s.Sensitivity)},
		{"active bound", text(s.ActiveBound)},
	}
	for _, t := range s.Timings {
		f = append(f, Field{"time: " + t.Name, formatDuration(t.Duration)})
	}
	return append(f, s.Extra...)
}
