package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/audit"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/unlearn"
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
// columns plus the privacy parameters of each row.
var tableHeader = []string{
	"method", "acc. retained", "acc. forgotten", "acc. test", "MIA AUC (loss)", "MIA AUC (posterior)",
	"‖w − w_retrain‖₂", "time", "ε", "δ", "σ", "Δ (active bound)",
}

// cells formats a row of the results table.
func (row *Row) cells() []string {
	m := row.Metrics
	acc := func(s *lethe.SplitMetrics) string {
		if s == nil {
			return "—"
		}
		return fmt.Sprintf("%.2f%%", 100*s.Accuracy)
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
	c := []string{row.Method, "—", "—", "—", "—", "—", num(row.DistanceToRetrain, "%.4g"), secs, eps,
		num(row.Delta, "%.0e"), num(row.Sigma, "%.4g"), sens}
	if m != nil {
		c[1], c[2], c[3], c[4], c[5] = acc(m.Retained), acc(m.Forgotten), acc(m.Test), auc(m.MIALoss), auc(m.MIAPosterior)
	}
	if row.kind == kindRetrain {
		c[6] = "0"
	}
	return c
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
	body := make([][]string, len(rows))
	for i, r := range rows {
		body[i] = r.cells()
	}
	return audit.WriteTable(w, tableHeader, body)
}

// auditRow converts a row for audit's HTML report, whose table has no
// privacy columns: the method name carries them.
func (row *Row) auditRow() audit.Row {
	a := audit.NewRow(row.Method)
	switch row.kind {
	case kindCertified:
		if row.Certified {
			a.Method = fmt.Sprintf("lethe certified (ε = %s, σ = %.4g)", formatEpsilon(*row.Epsilon), *row.Sigma)
		}
	case kindFixedSigma:
		a.Method += fmt.Sprintf(" (σ = %g, no certification claim)", *row.Sigma)
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
	c := r.unlearned.Certificate
	if len(r.sweep) > 0 {
		var cert audit.Series
		cert.Name = "lethe certified, σ(ε) for Δ = " + fmt.Sprintf("%.4g", c.Bound.Sensitivity)
		for _, s := range r.sweep {
			cert.Epsilon = append(cert.Epsilon, s.Epsilon)
			cert.Accuracy = append(cert.Accuracy, s.TestAccuracy)
		}
		series := []audit.Series{cert}
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
			if row.kind == kindFixedSigma || row.Metrics == nil {
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

// notes are the report's "Notes and assumptions": what the numbers mean,
// honestly, then the certificate's own assumptions.
func (r *run) notes() []string {
	u, c := r.unlearned, r.unlearned.Certificate
	b := c.Bound
	var n []string
	P := len(r.w0)
	if cert := r.row(kindCertified); cert != nil && c.Sigma > 0 {
		noiseNorm := c.Sigma * math.Sqrt(float64(P))
		var what string
		switch {
		case b.Active == certify.ActiveTrivial && !b.PremiseHolds:
			what = fmt.Sprintf("Δ = %.4g is the trivial bound 2C (C = %g), because the theorem's interior-stationarity premise fails (see below) and only 2C is then rigorous", b.Sensitivity, b.C)
			if b.LambdaMinMethod != certify.LambdaMinUnneeded && b.LambdaMin <= 0 && b.Lambda+b.LambdaMin > 0 {
				what += fmt.Sprintf("; the theorem's bound would not be smaller anyway: λ_min ≈ %.3g ≤ 0, so 2C(MC + λ)/(λ + λ_min) ≥ 2Cλ/(λ + λ_min) = %.4g ≥ 2C for every M ≥ 0 (λ = %.3g), as is typical for a deep network whose Hessian is not positive definite",
					b.LambdaMin, 2*b.C*b.Lambda/(b.Lambda+b.LambdaMin), b.Lambda)
			}
		case b.Active == certify.ActiveTrivial:
			what = fmt.Sprintf("Δ = %.4g is the trivial bound 2C (C = %g): the theorem's bound plus the solver term, %.4g (M ≈ %.3g, %s; λ = %.3g, λ_min ≈ %.3g), is larger",
				b.Sensitivity, b.C, b.Theorem+b.Residual, b.M, b.MSource, b.Lambda, b.LambdaMin)
		default:
			what = fmt.Sprintf("Δ = %.4g is the theorem's bound plus the solver's residual term (M ≈ %.3g, %s)", b.Sensitivity, b.M, b.MSource)
		}
		n = append(n, fmt.Sprintf("Certified row: %s. At (ε, δ) = (%s, %g) the analytic Gaussian mechanism needs σ = %.4g; over %d parameters the noise has norm ≈ σ√P = %.4g, against ‖w‖ ≤ C = %g. Its test accuracy is %s: this is the honest price of the guarantee when 2C carries it, not a bug.",
			what, formatEpsilon(c.Epsilon), r.o.Delta, c.Sigma, P, noiseNorm, b.C, pct(cert.Metrics.Test)))
	}
	if !math.IsNaN(r.fixedEpsilon) {
		n = append(n, fmt.Sprintf("The paper's fixed σ = %g is not calibrated to any privacy budget: with the same Δ = %.4g and δ = %g it gives ε = %s, a vacuous guarantee. Its row shows what the Newton step with a little noise achieves, with no certification claim.",
			PaperSigma, b.Sensitivity, r.o.Delta, formatEpsilon(r.fixedEpsilon)))
	}
	n = append(n, fmt.Sprintf("The noise-free row is w̃, the Newton step before noise: NOT certified (anyone holding w̃ and the retrained model can tell them apart); it is shown to separate what the step does from what the noise does, and is never written to a file. The step moved the parameters by ‖u‖ = %.4g (‖w*‖ = %.4g): removing %d of %d samples moves the optimum little, while the certified noise has norm ≈ %.4g.",
		u.StepNorm, unlearn.Norm(r.w0), r.nForget, r.train.Len(), c.Sigma*math.Sqrt(float64(P))))
	if rt := r.row(kindRetrain); rt != nil && r.retrained != nil {
		orig := r.row(kindOriginal)
		n = append(n, fmt.Sprintf("The retrained reference follows the retrain recipe from a fresh initialisation (projected Adam, lr %g, batch %d, %d epochs, in the same ball); it ends at ‖∇L(w, D_r)‖ = %.3g with test accuracy %s against the original's %s. It is a different local minimum, so every model's distance to it is of the order of the ball's size; the distance measures closeness to this one retrained model, not to the unlearning target.",
			r.recipe.LR, r.recipe.BatchSize, r.recipe.Epochs, r.retrained.Final.GradNorm, pct(rt.Metrics.Test), pct(orig.Metrics.Test)))
	}
	var stages []string
	if b.LambdaMinMethod != certify.LambdaMinUnneeded {
		stages = append(stages, "power iteration for ‖H‖", "Lanczos for λ_min")
	}
	stages = append(stages, "the "+b.Solver.Name+" solve")
	if b.MSource == certify.MEstimated {
		stages = append(stages, "the M estimate")
	}
	n = append(n, fmt.Sprintf("Time: the certified update took %s for %d full-data Hessian-vector products (%s), retraining from scratch %s with lethe's engine.",
		formatSeconds(u.UpdateSeconds), u.HVPs, strings.Join(stages, ", "), formatSeconds(r.retrained.TrainSeconds)))
	if r.setup.Baselines {
		n = append(n, "Fine-tune (projected Adam on D_r from w*) and negative gradient (projected SGD ascent on D_u from w*) are heuristic baselines with no guarantee of any kind.")
	}
	n = append(n, r.miaNote())
	n = append(n, "Theorem premise: "+b.Premise+".")
	if r.verify != nil {
		var names []string
		for _, c := range r.verify.Checks {
			names = append(names, c.Name+" "+c.Status)
		}
		n = append(n, fmt.Sprintf("lethe verify on the released model and certificate: %s.", strings.Join(names, ", ")))
	}
	for _, a := range c.Assumptions {
		n = append(n, "Certificate assumption: "+a)
	}
	return n
}

// miaNote reads the attack numbers against retraining.
func (r *run) miaNote() string {
	var parts []string
	for _, k := range []rowKind{kindOriginal, kindRetrain, kindCertified, kindNoNoise} {
		row := r.row(k)
		if row == nil || row.Metrics.MIALoss == nil {
			continue
		}
		s := fmt.Sprintf("%s %.3g", row.Method, row.Metrics.MIALoss.AUC)
		if row.Metrics.MIAPosterior != nil {
			s += fmt.Sprintf("/%.3g", row.Metrics.MIAPosterior.AUC)
		}
		parts = append(parts, s)
	}
	_, nf, nt := r.ev.Sizes()
	noise := aucNoise(min(nf, nt) / 2)
	s := fmt.Sprintf("Membership inference (AUC loss/posterior; 0.5 is chance; members: %d forgotten samples, non-members: %d test samples, half fitted and half scored, so ±%.2f is sampling noise): %s. "+
		"The forgotten samples should look like test samples to an unlearned model, as they do to the retrained one; a model whose AUC equals retrain's leaks no more than retraining, which is the most any unlearning can promise.",
		nf, nt, noise, strings.Join(parts, "; "))
	if o := r.row(kindOriginal); o != nil && o.Metrics.MIALoss != nil && o.Metrics.MIAPosterior != nil &&
		math.Abs(o.Metrics.MIALoss.AUC-0.5) <= noise && math.Abs(o.Metrics.MIAPosterior.AUC-0.5) <= noise {
		s += " Here even the original model, which trained on the forgotten samples, is within sampling noise of chance: these attacks cannot detect its members, so they cannot tell good unlearning from bad in this setting either; the accuracies and the certificate carry the comparison."
	}
	return s
}

// aucNoise is about two standard errors of an AUC near 0.5 with n scored
// samples per class (Hanley–McNeil: SE ≈ √((n+n+1)/(12n²))).
func aucNoise(n int) float64 {
	if n < 1 {
		return math.NaN()
	}
	f := float64(n)
	return 2 * math.Sqrt((2*f+1)/(12*f*f))
}

func pct(s *lethe.SplitMetrics) string {
	if s == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f%%", 100*s.Accuracy)
}

// summary is the report's run summary.
func (r *run) summary() audit.RunSummary {
	u, c := r.unlearned, r.unlearned.Certificate
	s := audit.RunSummary{
		Model:       r.setup.Model,
		Data:        fmt.Sprintf("%s (%d samples); test %s (%d)", r.trainSpec, r.train.Len(), r.testSpec, r.test.Len()),
		Forget:      fmt.Sprintf("%d samples (%s, seed %d)", r.nForget, r.forgetPath, r.o.ForgetSeed),
		Mechanism:   string(c.Mechanism),
		Epsilon:     c.Epsilon,
		Delta:       c.Delta,
		Sigma:       c.Sigma,
		Sensitivity: c.Bound.Sensitivity,
		ActiveBound: fmt.Sprintf("%s (Δ_thm + ρ-term = %.4g, 2C = %.4g)", c.Bound.Active, c.Bound.Theorem+c.Bound.Residual, c.Bound.Trivial),
		Timings:     r.timings,
	}
	if !c.Certified {
		s.Epsilon = math.NaN()
	}
	mValue := fmt.Sprintf("%.4g", c.Bound.M)
	if c.Bound.MSource == certify.MUnneeded {
		mValue = "not estimated (cannot change Δ)"
	}
	lminValue, hValue := fmt.Sprintf("%.4g", u.LambdaMin), fmt.Sprintf("%.4g", u.HessianNorm)
	if !u.SpectrumEstimated {
		lminValue, hValue = certify.LambdaMinUnneeded, certify.LambdaMinUnneeded
	}
	s.Extra = []audit.Field{
		{Name: "status", Value: c.Status},
		{Name: "radius C", Value: fmt.Sprintf("%g (%s)", r.C, r.cSource)},
		{Name: "L2 weight μ", Value: fmt.Sprintf("%g (%s)", r.mu, r.muSource)},
		{Name: "λ", Value: fmt.Sprintf("%.4g (auto: %v)", u.Lambda, c.Bound.LambdaAuto)},
		{Name: "λ_min (Lanczos)", Value: lminValue},
		{Name: "‖H‖ (power iteration)", Value: hValue},
		{Name: "M (" + string(c.Bound.MSource) + ")", Value: mValue},
		{Name: "solver", Value: fmt.Sprintf("%s, %d iterations, ρ = %.3g", c.Bound.Solver.Name, c.Bound.Solver.Iterations, c.Bound.Solver.Residual)},
		{Name: "‖∇L(w*, D)‖", Value: fmt.Sprintf("%.4g", c.Bound.Stationarity.GradNorm)},
		{Name: "Newton step ‖u‖", Value: fmt.Sprintf("%.4g", u.StepNorm)},
		{Name: "parity", Value: fmt.Sprintf("onnxruntime %s, max |Δ| %.3g", c.Parity.OnnxruntimeVersion, c.Parity.MaxAbsDiff)},
		{Name: "released model", Value: u.Out},
		{Name: "certificate", Value: u.CertPath},
		{Name: "retrained model", Value: r.retrainPath},
		{Name: "command", Value: "lethe " + strings.Join(r.unlearnArgs, " ")},
	}
	return s
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
		{figs.privacy, privacyPNG, fmt.Sprintf("Test accuracy of w̃ + N(0, σ(ε)²I) with σ calibrated to the certified Δ = %.4g at δ = %g, one fresh private draw per ε; dashed: models that do not depend on ε.", r.unlearned.Certificate.Bound.Sensitivity, r.o.Delta)},
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
	// Setup names the run; Model, Data and Test are the files used (Quick: the
	// subsets written to the run's folder).
	Setup string `json:"setup"`
	Model string `json:"model"`
	Data  string `json:"data"`
	Test  string `json:"test"`
	// N, NForget and NTest count the training, forgotten and test samples.
	N       int `json:"n"`
	NForget int `json:"n_forget"`
	NTest   int `json:"n_test"`
	// ForgetFile lists the forgotten samples, chosen with ForgetSeed.
	ForgetFile string `json:"forget_file"`
	ForgetSeed uint64 `json:"forget_seed"`
	// Radius and L2 are C and μ, with where each came from.
	Radius       float64 `json:"radius"`
	RadiusSource string  `json:"radius_source"`
	L2           float64 `json:"l2"`
	L2Source     string  `json:"l2_source"`
	// Retrain is the retrain reference's recipe.
	Retrain Recipe `json:"retrain_recipe"`
	// Status, Certified and Premise are the certificate's.
	Status    string `json:"status"`
	Certified bool   `json:"certified"`
	Premise   string `json:"premise"`
	// Unlearned, Certificate and Retrained are the models and the certificate
	// written; Command is the lethe unlearn command equivalent to the release.
	Unlearned   string `json:"unlearned"`
	Certificate string `json:"certificate"`
	Retrained   string `json:"retrained"`
	Command     string `json:"command"`
	// Verify is lethe verify's report on the released model.
	Verify *lethe.VerifyReport `json:"verify"`
	// Rows are the results table, Privacy the privacy–utility curve of the
	// certified update.
	Rows    []*Row       `json:"rows"`
	Privacy []SweepPoint `json:"privacy_utility"`
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
		Setup: r.setup.Name, Model: r.setup.Model, Data: r.trainSpec, Test: r.testSpec,
		N: r.train.Len(), NForget: r.nForget, NTest: r.test.Len(),
		ForgetFile: r.forgetPath, ForgetSeed: r.o.ForgetSeed,
		Radius: r.C, RadiusSource: r.cSource, L2: r.mu, L2Source: r.muSource, Retrain: r.recipe,
		Status: c.Status, Certified: c.Certified, Premise: c.Bound.Premise,
		Unlearned: u.Out, Certificate: u.CertPath, Retrained: r.retrainPath,
		Command: "lethe " + strings.Join(r.unlearnArgs, " "), Verify: r.verify,
		Rows: r.rows, Privacy: r.sweep, Seconds: total.Seconds(), Attack: AttackSeed{Seed: r.o.AttackSeed}, dir: r.dir,
	}
	for _, t := range r.timings {
		res.Timings = append(res.Timings, Timing{Name: t.Name, Seconds: t.Duration.Seconds()})
	}
	for _, f := range []string{tableFile, jsonFile, reportFile, privacyPNG, rocLossPNG, rocPosteriorPNG} {
		if _, err := os.Stat(filepath.Join(r.dir, f)); err == nil {
			res.Files = append(res.Files, filepath.Join(r.dir, f))
		}
	}
	res.Files = append(res.Files, u.Out, u.CertPath, r.retrainPath, r.forgetPath)
	return res
}

// WriteText writes the human summary of a run: the table, the key facts
// and the files.
func (res *Result) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "lethe demo: %s, %s, forgetting %d of %d training samples\n\n", res.Model, res.Data, res.NForget, res.N)
	if err := writeTable(w, res.Rows); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "status       %s\n", res.Status)
	fmt.Fprintf(w, "premise      %s\n", res.Premise)
	if res.Verify != nil {
		fmt.Fprintf(w, "verify       %s (%s)\n", map[bool]string{true: "ok", false: "FAILED"}[res.Verify.OK], res.Verify.Tally())
	}
	fmt.Fprintf(w, "total time   %s\n", formatSeconds(res.Seconds))
	fmt.Fprintln(w, "files:")
	for _, f := range res.Files {
		fmt.Fprintf(w, "  %s\n", f)
	}
	_, err := fmt.Fprintf(w, "notes: see %s\n", filepath.Join(res.dir, tableFile))
	return err
}
