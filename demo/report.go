package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/audit"
	"github.com/lethe-ml/lethe/onnxio"
)

// Output files of a demo run, in its folder.
const (
	tableFile       = "results.md"
	jsonFile        = "results.json"
	reportFile      = "report.html"
	privacyPNG      = "privacy_utility.png"
	rocLossPNG      = "mia_roc_loss.png"
	rocPosteriorPNG = "mia_roc_posterior.png"
)

// tableHeader names the columns of the results table: audit.FormatTable's
// columns, the canaries' columns when there are canaries, and the privacy
// parameters of each row.
func tableHeader(canaries bool) []string {
	h := []string{"method", "acc. retained", "acc. forgotten", "acc. test"}
	if canaries {
		h = append(h, "canary acc.", "canary loss")
	}
	return append(h, "MIA AUC (loss)", "MIA AUC (posterior)", "‖w − w_retrain‖₂", "time", "ε", "δ", "σ", "Δ (active bound)")
}

// hasCanaries reports whether the rows measured canaries.
func hasCanaries(rows []*Row) bool {
	return slices.ContainsFunc(rows, func(r *Row) bool { return r.Metrics != nil && r.Metrics.Canaries != nil })
}

// cells formats a row of the results table (see tableHeader).
func (row *Row) cells(canaries bool) []string {
	m := row.Metrics
	if m == nil {
		m = &lethe.Metrics{}
	}
	auc := func(a *lethe.AttackMetrics) string {
		if a == nil {
			return "—"
		}
		return fmt.Sprintf("%.3f", a.AUC)
	}
	num := func(v *float64, format string) string {
		if v == nil || math.IsNaN(*v) {
			return "—"
		}
		return fmt.Sprintf(format, *v)
	}
	secs := "—"
	if row.Seconds != nil {
		secs = formatSeconds(*row.Seconds)
	}
	eps := "—"
	switch {
	case row.Epsilon != nil:
		eps = formatEpsilon(*row.Epsilon)
	case row.kind == kindNoNoise:
		eps = "∞"
	}
	sens := num(row.Sensitivity, "%.4g")
	if row.ActiveBound != "" && row.Sensitivity != nil {
		sens += " (" + row.ActiveBound + ")"
	}
	dist := num(row.DistanceToRetrain, "%.4g")
	if row.kind == kindRetrain {
		dist = "0"
	}
	c := []string{row.Method, pct(m.Retained), pct(m.Forgotten), pct(m.Test)}
	if canaries {
		loss := "—"
		if m.Canaries != nil {
			loss = fmt.Sprintf("%.4g", m.Canaries.Loss)
		}
		c = append(c, pct(m.Canaries), loss)
	}
	return append(c, auc(m.MIALoss), auc(m.MIAPosterior), dist, secs, eps, num(row.Delta, "%.0e"), num(row.Sigma, "%.4g"), sens)
}

// formatSeconds shows a duration with about three significant digits.
func formatSeconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.3g s", s)
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// writeTable writes rows as a padded Markdown pipe table.
func writeTable(w io.Writer, rows []*Row) error {
	canaries := hasCanaries(rows)
	body := make([][]string, len(rows))
	for i, r := range rows {
		body[i] = r.cells(canaries)
	}
	return audit.WriteTable(w, tableHeader(canaries), body)
}

// auditRow converts a row for audit's HTML report, whose table has no
// privacy or canary columns: the method name carries them.
func (row *Row) auditRow() audit.Row {
	a := audit.NewRow(row.Method)
	switch row.kind {
	case kindCertified, kindFull:
		if row.Certified {
			a.Method = fmt.Sprintf("%s (ε = %s, σ = %.4g)", row.Method, formatEpsilon(*row.Epsilon), *row.Sigma)
		}
	case kindFixedSigma:
		a.Method += fmt.Sprintf(" (σ = %g, no certification claim)", *row.Sigma)
	}
	if m := row.Metrics; m != nil && m.Canaries != nil {
		a.Method += fmt.Sprintf("; canaries: accuracy %s, loss %.4g", pct(m.Canaries), m.Canaries.Loss)
	}
	if m := row.Metrics; m != nil {
		for _, s := range []struct {
			dst *float64
			m   *lethe.SplitMetrics
		}{{&a.AccRetained, m.Retained}, {&a.AccForgotten, m.Forgotten}, {&a.AccTest, m.Test}} {
			if s.m != nil {
				*s.dst = s.m.Accuracy
			}
		}
		if m.MIALoss != nil {
			a.MIALoss = m.MIALoss.AUC
		}
		if m.MIAPosterior != nil {
			a.MIAPosterior = m.MIAPosterior.AUC
		}
	}
	if row.DistanceToRetrain != nil {
		a.DistanceToRetrain = *row.DistanceToRetrain
	}
	if row.Seconds != nil {
		a.Time = time.Duration(*row.Seconds * float64(time.Second))
	}
	return a
}

// figures are the run's plots as PNG bytes: the privacy–utility curve and
// the ROC curves of both attacks.
type figures struct {
	privacy, rocLoss, rocPosterior []byte
}

func (r *run) figures() (*figures, error) {
	figs := &figures{}
	title := r.setup.Name + ": "
	if len(r.sweep) > 0 {
		var series []audit.Series
		for _, u := range []*lethe.UnlearnResult{r.unlearned, r.full} {
			pts := []SweepPoint(nil)
			if u != nil {
				pts = r.curve(u.Scope)
			}
			if len(pts) == 0 {
				continue
			}
			s := audit.Series{Name: r.curveName(u, pts[0].Sensitivity)}
			for _, p := range pts {
				s.Epsilon = append(s.Epsilon, p.Epsilon)
				s.Accuracy = append(s.Accuracy, p.TestAccuracy)
			}
			series = append(series, s)
		}
		if !math.IsNaN(r.fixedEpsilon) && !math.IsInf(r.fixedEpsilon, 0) {
			series = append(series, audit.Series{Name: fmt.Sprintf("lethe fixed σ = %g (ε derived)", PaperSigma),
				Epsilon: []float64{r.fixedEpsilon}, Accuracy: []float64{r.row(kindFixedSigma).Metrics.Test.Accuracy}})
		}
		for _, k := range []rowKind{kindOriginal, kindRetrain, kindNoNoise} {
			if row := r.row(k); row != nil && row.Metrics.Test != nil {
				series = append(series, audit.Series{Name: row.Method, Accuracy: []float64{row.Metrics.Test.Accuracy}})
			}
		}
		var b bytes.Buffer
		if err := audit.RenderPrivacyUtility(&b, series, &audit.PlotOptions{Title: title + fmt.Sprintf("test accuracy against ε (δ = %g)", r.o.Delta)}); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		figs.privacy = b.Bytes()
	}
	for _, a := range []struct {
		dst   *[]byte
		pick  func(*lethe.Metrics) *lethe.AttackMetrics
		title string
	}{
		{&figs.rocLoss, func(m *lethe.Metrics) *lethe.AttackMetrics { return m.MIALoss }, "loss-threshold attack, forgotten vs test samples"},
		{&figs.rocPosterior, func(m *lethe.Metrics) *lethe.AttackMetrics { return m.MIAPosterior }, "posterior attack (vs the original), forgotten vs test samples"},
	} {
		var curves []audit.NamedROC
		for _, row := range r.rows {
			if row.kind == kindFixedSigma || row.kind == kindFull || row.Metrics == nil {
				continue
			}
			if at := a.pick(row.Metrics); at != nil && len(at.ROC) > 0 {
				curves = append(curves, audit.NamedROC{Name: row.Method, ROC: at.ROC})
			}
		}
		if len(curves) == 0 {
			continue
		}
		var b bytes.Buffer
		if err := audit.RenderROC(&b, curves, &audit.PlotOptions{Title: title + a.title}); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		*a.dst = b.Bytes()
	}
	return figs, nil
}

func pct(s *lethe.SplitMetrics) string {
	if s == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f%%", 100*s.Accuracy)
}

// writeOutputs writes the table, the JSON results, the plots and the HTML
// report of the run to dir.
func (r *run) writeOutputs(dir string) error {
	if len(r.rows) == 0 {
		return errNoRows
	}
	p := r.step("writing the table, plots and report to "+dir, 0)
	figs, err := r.figures()
	if err != nil {
		return err
	}
	var report []audit.Figure
	for _, f := range []struct {
		png     []byte
		name    string
		caption string
	}{
		{figs.privacy, privacyPNG, fmt.Sprintf("Test accuracy of each lethe release's noise-free point w̃ with fresh private noise N(0, σ(ε)²) on its certified parameters, σ calibrated at δ = %g to the Δ of its scope (legend), one draw per ε; dashed: models that do not depend on ε.", r.o.Delta)},
		{figs.rocLoss, rocLossPNG, "Membership-inference ROC of the loss-threshold attack (forgotten samples against test samples, scored half), log-log axes."},
		{figs.rocPosterior, rocPosteriorPNG, "Membership-inference ROC of the posterior attack of Chen et al. (original and model softmax, sorted by the original's; the original itself: its own softmax)."},
	} {
		if f.png == nil {
			continue
		}
		if err := writeFile(filepath.Join(dir, f.name), f.png); err != nil {
			return err
		}
		report = append(report, audit.Figure{Caption: f.caption, PNG: f.png})
	}
	var table bytes.Buffer
	fmt.Fprintf(&table, "# lethe demo: %s\n\n", r.setup.Name)
	if err := writeTable(&table, r.rows); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	table.WriteString("\n")
	for _, n := range r.notes() {
		fmt.Fprintf(&table, "- %s\n", n)
	}
	if err := writeFile(filepath.Join(dir, tableFile), table.Bytes()); err != nil {
		return err
	}
	var rows []audit.Row
	for _, row := range r.rows {
		rows = append(rows, row.auditRow())
	}
	rep := audit.Report{
		Title:     "lethe demo: " + r.setup.Name,
		Generated: time.Now(),
		Summary:   r.summary(),
		Rows:      rows,
		Notes:     r.notes(),
		Figures:   report,
	}
	if err := audit.WriteReport(filepath.Join(dir, reportFile), rep); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	js, err := json.MarshalIndent(r.result(0), "", "  ")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := writeFile(filepath.Join(dir, jsonFile), append(js, '\n')); err != nil {
		return err
	}
	p.done("")
	return nil
}

// writeFile writes data to path atomically.
func writeFile(path string, data []byte) error {
	err := onnxio.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// Result is what a demo run measured and wrote. Its JSON encoding is the
// output of `lethe demo --json` and results.json
// (schemas/demo.schema.json).
type Result struct {
	// Setup names the run; Model, Data and Test are the model and the data
	// used (Quick: the subsets; a private split: D in words).
	Setup string `json:"setup"`
	Model string `json:"model"`
	Data  string `json:"data"`
	Test  string `json:"test"`
	// N, NForget and NTest count the training, forgotten and test samples,
	// NCanaries the canaries (all of them forgotten).
	N         int `json:"n"`
	NForget   int `json:"n_forget"`
	NTest     int `json:"n_test"`
	NCanaries int `json:"n_canaries"`
	// ForgetFile lists the forgotten samples, chosen with ForgetSeed.
	ForgetFile string `json:"forget_file"`
	ForgetSeed uint64 `json:"forget_seed"`
	// Radius and L2 are C and μ, with where each came from.
	Radius       float64 `json:"radius"`
	RadiusSource string  `json:"radius_source"`
	L2           float64 `json:"l2"`
	L2Source     string  `json:"l2_source"`
	// Reference says how the retrain reference was made; Retrain is its
	// recipe in the full scope, nil for the convex scope's exact retrain;
	// RetrainGradNorm is ‖∇L(w, D_r)‖ (μ included) at the reference as
	// written.
	Reference       string  `json:"reference"`
	Retrain         *Recipe `json:"retrain_recipe"`
	RetrainGradNorm float64 `json:"retrain_grad_norm"`
	// Scope and ScopeReason are the certified release's scope ("convex" or
	// "full") and why; Status, Certified and Premise are its certificate's
	// (Premise is the full scope's premise test, empty in the convex
	// scope).
	Scope       string `json:"scope"`
	ScopeReason string `json:"scope_reason"`
	// BoundPosterior is the convex scope's a-posteriori bound on the
	// distance from the noise-free point to the exact retrain (0 in the
	// full scope).
	BoundPosterior float64 `json:"bound_posterior,omitempty"`
	Status         string  `json:"status"`
	Certified      bool    `json:"certified"`
	Premise        string  `json:"premise"`
	// Unlearned, Certificate and Retrained are the models and the certificate
	// written (FullUnlearned: the full-network release, when there is one);
	// Command is the lethe unlearn command equivalent to the release, empty
	// when D exists only in memory (a private split).
	Unlearned     string `json:"unlearned"`
	Certificate   string `json:"certificate"`
	FullUnlearned string `json:"full_unlearned,omitempty"`
	Retrained     string `json:"retrained"`
	Command       string `json:"command,omitempty"`
	// Verify is lethe verify's report on the released model.
	Verify *lethe.VerifyReport `json:"verify"`
	// Rows are the results table, Privacy the privacy–utility curves of the
	// lethe releases.
	Rows    []*Row       `json:"rows"`
	Privacy []SweepPoint `json:"privacy_utility"`
	// Notes explain the numbers in words (results.md's notes, without the
	// certificate's assumptions).
	Notes []string `json:"notes"`
	// Timings time the steps; Files lists what the run wrote; Seconds is the
	// whole run's time; Attack the attacks' seed.
	Timings []Timing   `json:"timings"`
	Files   []string   `json:"files,omitempty"`
	Seconds float64    `json:"seconds,omitempty"`
	Attack  AttackSeed `json:"attack"`

	dir string // the run's folder
}

// Timing is how long one step of the run took.
type Timing struct {
	// Name is the step, Seconds its duration.
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// AttackSeed is the seed of the attacks' subsampling and fit/score split.
type AttackSeed struct {
	// Seed is the attacks' seed.
	Seed uint64 `json:"seed"`
}

// result collects the run; total is the whole run's time (0: not known
// yet).
func (r *run) result(total time.Duration) *Result {
	u, c := r.unlearned, r.unlearned.Certificate
	res := &Result{
		Setup: r.setup.Name, Model: r.setup.Model, Data: r.dataName, Test: r.testSpec,
		N: r.train.Len(), NForget: r.nForget, NTest: r.test.Len(), NCanaries: len(r.canaries),
		ForgetFile: r.forgetPath, ForgetSeed: r.o.ForgetSeed,
		Radius: r.C, RadiusSource: r.cSource, L2: r.mu, L2Source: r.muSource, Reference: r.referenceText(),
		RetrainGradNorm: r.retrained.Final.GradNorm, BoundPosterior: u.PosteriorBound, Scope: u.Scope, ScopeReason: u.ScopeReason, Status: c.Status, Certified: c.Certified, Premise: c.Bound.Premise,
		Unlearned: u.Out, Certificate: u.CertPath, Retrained: r.retrainPath, Verify: r.verify,
		Rows: r.rows, Privacy: r.sweep, Seconds: total.Seconds(), Attack: AttackSeed{Seed: r.o.AttackSeed}, dir: r.dir,
	}
	if !r.convex() {
		rc := r.recipe
		res.Retrain = &rc
	}
	if r.unlearnArgs != nil {
		res.Command = "lethe " + strings.Join(r.unlearnArgs, " ")
	}
	for _, n := range r.notes() {
		if !strings.HasPrefix(n, assumptionPrefix) {
			res.Notes = append(res.Notes, n)
		}
	}
	for _, t := range r.timings {
		res.Timings = append(res.Timings, Timing{Name: t.Name, Seconds: t.Duration.Seconds()})
	}
	for _, f := range []string{tableFile, jsonFile, reportFile, privacyPNG, rocLossPNG, rocPosteriorPNG} {
		if _, err := os.Stat(filepath.Join(r.dir, f)); err == nil {
			res.Files = append(res.Files, filepath.Join(r.dir, f))
		}
	}
	res.Files = append(res.Files, u.Out, u.CertPath)
	if r.full != nil {
		res.FullUnlearned = r.full.Out
		res.Files = append(res.Files, r.full.Out, r.full.CertPath)
	}
	res.Files = append(res.Files, r.retrainPath, r.forgetPath)
	return res
}

// WriteText writes the human summary of a run: the table, the key facts
// and the files.
func (res *Result) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "lethe demo: %s\n%s: %s, forgetting %s of %s training samples", res.Setup, res.Model, res.Data, thousands(res.NForget), thousands(res.N))
	if res.NCanaries > 0 {
		fmt.Fprintf(w, " (the %d canaries among them)", res.NCanaries)
	}
	fmt.Fprint(w, "\n\n")
	if err := writeTable(w, res.Rows); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "scope        %s: %s\n", res.Scope, res.ScopeReason)
	fmt.Fprintf(w, "status       %s\n", res.Status)
	if res.Premise != "" {
		fmt.Fprintf(w, "premise      %s\n", res.Premise)
	}
	if res.Verify != nil {
		fmt.Fprintf(w, "verify       %s (%s)\n", map[bool]string{true: "ok", false: "FAILED"}[res.Verify.OK], res.Verify.Tally())
	}
	fmt.Fprintf(w, "total time   %s\n", formatSeconds(res.Seconds))
	fmt.Fprintln(w, "\nnotes:")
	for _, n := range res.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	fmt.Fprintln(w, "\nfiles:")
	for _, f := range res.Files {
		fmt.Fprintf(w, "  %s\n", f)
	}
	_, err := fmt.Fprintf(w, "the certificate's assumptions: %s\n", filepath.Join(res.dir, tableFile))
	return err
}
