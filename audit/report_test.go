package audit

import (
	"bytes"
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-ml/lethe/internal/testenv"
)

const evil = `<script>alert("x")</script>`

// testReport builds a report with real plots, a hostile method name and
// notes that need escaping.
func testReport(t *testing.T) Report {
	t.Helper()
	var pu, roc bytes.Buffer
	if err := RenderPrivacyUtility(&pu, testSeries(), nil); err != nil {
		t.Fatal(err)
	}
	if err := RenderROC(&roc, testCurves(), nil); err != nil {
		t.Fatal(err)
	}
	rows := testRows()
	bad := NewRow(evil)
	bad.AccTest = 0.5
	rows = append(rows, bad)
	return Report{
		Title: "lethe report: MNIST MLP",
		Summary: RunSummary{
			Model: "models/mnist_mlp.onnx", Data: "mnist:train (60000)", Forget: "1000 samples (forget.txt)",
			Mechanism: "analytic", Epsilon: 1, Delta: 1e-5, Sigma: 0.0312, Sensitivity: 0.0071,
			ActiveBound: "theorem + residual",
			Timings:     []Timing{{"unlearning", 4200 * time.Millisecond}, {"retraining", 88 * time.Second}},
			Extra:       []Field{{"radius C", "10"}},
		},
		Rows:  rows,
		Notes: []string{"M estimated from Hessian differences (8 probes) & stated as an assumption", "a <b>bold</b> claim"},
		Figures: []Figure{
			{Caption: "Test accuracy against ε", PNG: pu.Bytes()},
			{Caption: "Membership-inference ROC", PNG: roc.Bytes()},
		},
	}
}

// externalRef matches attributes and CSS that could load something.
var externalRef = regexp.MustCompile(`(?i)(?:src|href)\s*=\s*"([^"]*)"|url\(|@import`)

func TestRenderReportSelfContainedAndEscaped(t *testing.T) {
	var b bytes.Buffer
	if err := RenderReport(&b, testReport(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"<title>lethe report: MNIST MLP</title>",
		`<table class="results" id="results">`,
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		"a &lt;b&gt;bold&lt;/b&gt; claim",
		"&amp; stated as an assumption",
		"theorem &#43; residual", // html/template escapes + in text
		"99.12%", "1.235", "4.20 s", "1m28s",
		"<dt>ε</dt><dd>1</dd>", "<dt>δ</dt><dd>1e-05</dd>",
		`width="960" height="600"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(page, evil) || strings.Contains(page, "<b>bold") {
		t.Error("report contains unescaped markup from its input")
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("report contains a script element")
	}
	images := 0
	for _, m := range externalRef.FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "data:image/png;base64,") {
			t.Errorf("external resource reference %q", m[0][:min(len(m[0]), 60)])
			continue
		}
		images++
	}
	if images != 2 {
		t.Errorf("%d embedded images, want 2", images)
	}
}

func TestRenderReportFigureErrors(t *testing.T) {
	var b bytes.Buffer
	err := RenderReport(&b, Report{Figures: []Figure{{Caption: "x", PNG: []byte("GIF89a")}}})
	if !errors.Is(err, ErrInvalidInput) {
		t.Errorf("non-PNG figure: err = %v, want ErrInvalidInput", err)
	}
	err = RenderReport(&b, Report{Figures: []Figure{{Path: filepath.Join(t.TempDir(), "missing.png")}}})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing figure file: err = %v, want os.ErrNotExist", err)
	}
}

func TestWriteReportFromFigureFiles(t *testing.T) {
	dir := t.TempDir()
	roc := filepath.Join(dir, "roc.png")
	if err := PlotROC(roc, testCurves()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "report.html")
	if err := WriteReport(path, Report{Rows: testRows(), Figures: []Figure{{Caption: "ROC", Path: roc}}}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("<title>lethe unlearning report</title>")) || !bytes.Contains(page, []byte("data:image/png;base64,")) {
		t.Error("report written from figure files lacks its default title or the image")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2 (no temporary file left)", len(entries))
	}
}

// TestReportInChromium opens the report in headless Chromium, which takes
// a screenshot and dumps the DOM in one run. It checks that the page loads
// without console messages (the page has no scripts, so any message is a
// load problem), that the DOM holds the table and both images, and that the
// screenshot decodes, is not blank, and shows the plots' line colours (so
// the data-URI images were decoded and drawn). Set LETHE_AUDIT_SCREENSHOT to
// a file name to keep the screenshot.
func TestReportInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	page := filepath.Join(t.TempDir(), "report.html")
	if err := WriteReport(page, testReport(t)); err != nil {
		t.Fatal(err)
	}
	dom, data := testenv.Chromium(t, page, "1200,1600")
	for _, want := range []string{`id="results"`, "<th scope=\"row\"", "original", "retrain", "lethe ε=1 | certified", "&lt;script&gt;"} {
		if !strings.Contains(dom, want) {
			t.Errorf("DOM lacks %q", want)
		}
	}
	if n := strings.Count(dom, "<img "); n != 2 {
		t.Errorf("DOM holds %d images, want 2", n)
	}
	if strings.Contains(dom, "<script>alert") {
		t.Error("DOM contains the injected script")
	}

	if keep := os.Getenv("LETHE_AUDIT_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, data, 0o644); err != nil {
			t.Errorf("keeping screenshot: %v", err)
		}
	}
	img := decodePNG(t, data, 1200, 1600)
	// Text, table shading and two plots give thousands of colours; a blank
	// page gives one. The first plot's blue line and the table header's
	// shading must be visible.
	n, found := colorStats(img, paletteColor(0), color.RGBA{0xE8, 0xF0, 0xF8, 0xFF})
	if n < 16 {
		t.Errorf("screenshot has only %d distinct colours", n)
	}
	if !found[0] {
		t.Error("screenshot lacks the plot's line colour: the embedded image was not drawn")
	}
	if !found[1] {
		t.Error("screenshot lacks the table header's shading")
	}
}
