package demo

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/audit"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/unlearn"
)

// rowKind says what a row of the results table is.
type rowKind int

const (
	kindOriginal rowKind = iota
	kindRetrain
	kindCertified
	kindFixedSigma
	kindNoNoise
	kindFull
	kindBaseline
)

// Row is one model of the results table, measured the same way as every
// other. Optional numbers are nil when they do not apply.
type Row struct {
	// Method names the row; Certified says whether the model is certified
	// and Scope, for lethe's rows, in which scope ("convex" or "full").
	Method    string `json:"method"`
	Certified bool   `json:"certified"`
	Scope     string `json:"scope,omitempty"`
	// Metrics are the row's measurements (Metrics.Canaries with canaries),
	// DistanceToRetrain ‖w − w_retrain‖₂, Seconds the time the method
	// took.
	Metrics           *lethe.Metrics `json:"metrics"`
	DistanceToRetrain *float64       `json:"distance_to_retrain,omitempty"`
	Seconds           *float64       `json:"seconds,omitempty"`
	// Epsilon, Delta, Sigma, Sensitivity and ActiveBound are the privacy
	// parameters of a lethe row: the (ε, δ) guarantee, the noise σ and the Δ
	// it is calibrated to, with the bound that gives Δ.
	Epsilon     *float64 `json:"epsilon,omitempty"`
	Delta       *float64 `json:"delta,omitempty"`
	Sigma       *float64 `json:"sigma,omitempty"`
	Sensitivity *float64 `json:"sensitivity,omitempty"`
	ActiveBound string   `json:"active_bound,omitempty"`

	kind rowKind
	w    []float64
}

// SweepPoint is one point of a privacy–utility curve.
type SweepPoint struct {
	// Scope is the release's scope ("convex" or "full") and Sensitivity the
	// Δ its σ(ε) is calibrated to.
	Scope       string  `json:"scope"`
	Sensitivity float64 `json:"sensitivity"`
	// Epsilon is ε, Sigma the σ calibrated to it, TestAccuracy the test
	// accuracy of the noise-free point with that noise on the certified
	// parameters.
	Epsilon      float64 `json:"epsilon"`
	Sigma        float64 `json:"sigma"`
	TestAccuracy float64 `json:"test_accuracy"`
}

func ptr(v float64) *float64 { return &v }

// letheRow is the row of a lethe release.
func letheRow(method string, kind rowKind, u *lethe.UnlearnResult, w []float64, delta float64) *Row {
	c := u.Certificate
	row := &Row{Method: method, Certified: c.Certified, Scope: u.Scope, kind: kind, w: w, Seconds: ptr(u.UpdateSeconds),
		Delta: &delta, Sigma: ptr(c.Sigma), ActiveBound: string(c.Bound.Active)}
	if !c.Certified {
		row.Method = "lethe (" + c.Status + ")"
	}
	if c.Bound.Sensitivity > 0 {
		row.Sensitivity = ptr(c.Bound.Sensitivity)
	}
	if c.Sigma > 0 {
		row.Epsilon = ptr(c.Epsilon)
	}
	return row
}

// variants adds the rows of the original, the retrained model, the
// certified release and its noise-free point w̃ (in the full scope also
// the paper's fixed σ on w̃), and the full-network release.
func (r *run) variants(context.Context) error {
	u := r.unlearned
	delta := r.o.Delta
	method := "lethe certified"
	if r.convex() {
		method += ", " + map[bool]string{true: "head", false: "convex"}[r.setup.Scope == lethe.ScopeHead] + " scope"
	}
	r.rows = append(r.rows,
		&Row{Method: "original", kind: kindOriginal, w: r.w0},
		&Row{Method: "retrain (reference)", kind: kindRetrain, w: r.retrained.Weights, Seconds: ptr(r.retrained.TrainSeconds)},
		letheRow(method, kindCertified, u, u.Released, delta))
	r.fixedEpsilon = math.NaN()
	if !r.convex() {
		fixed, err := u.Renoised(PaperSigma)
		if err != nil {
			return err
		}
		row := &Row{Method: "lethe fixed σ, ε = —", Scope: u.Scope, kind: kindFixedSigma, w: fixed, Seconds: ptr(u.UpdateSeconds),
			Delta: &delta, Sigma: ptr(PaperSigma), ActiveBound: string(u.Certificate.Bound.Active)}
		if s := u.Certificate.Bound.Sensitivity; s > 0 {
			row.Sensitivity = ptr(s)
			if eps, err := certify.EpsilonForSigma(certify.Analytic, PaperSigma, s, delta); err == nil {
				r.fixedEpsilon = eps
				row.Epsilon = ptr(eps)
				row.Method = "lethe fixed σ, ε = " + formatEpsilon(eps)
			}
		}
		r.rows = append(r.rows, row)
	}
	r.rows = append(r.rows, &Row{Method: "lethe noise-free (not certified)", Scope: u.Scope, kind: kindNoNoise, w: u.NoiseFree, Seconds: ptr(u.UpdateSeconds)})
	if r.full != nil {
		r.rows = append(r.rows, letheRow("lethe certified, full network", kindFull, r.full, r.full.Released, delta))
	}
	return nil
}

// formatEpsilon writes ε with three significant digits.
func formatEpsilon(e float64) string {
	if e >= 1e4 {
		return strconv.FormatFloat(e, 'e', 2, 64)
	}
	return strconv.FormatFloat(e, 'g', 3, 64)
}

// baselines adds the fine-tune and negative-gradient rows, both started
// from the original model and kept in its ball. Beside a convex-scope
// release they change only its certified parameters (the rest frozen), as
// lethe does. Neither is certified.
func (r *run) baselines(ctx context.Context) error {
	if !r.setup.Baselines {
		return nil
	}
	ft := fineTuneRecipe
	if r.o.Quick {
		ft.Epochs = 1
	}
	ng := negGradRecipe
	if r.setup.NegGradLR > 0 {
		ng.LearningRate = r.setup.NegGradLR
	}
	ng.Steps = max(1, (r.nForget+ng.BatchSize-1)/ng.BatchSize)
	eng := r.engine()
	if fp := r.unlearned.Certificate.FrozenParameters; r.convex() && fp != nil {
		eng.Freeze = literalGlobs(fp.Names)
	}
	for _, b := range []struct {
		method lethe.BaselineMethod
		name   string
	}{{lethe.FineTune, "fine-tune (not certified)"}, {lethe.NegativeGradient, "negative gradient (not certified)"}} {
		relay, stop := r.rep.relay(r.setup.Name)
		res, err := lethe.Baseline(ctx, lethe.BaselineRequest{
			Model: r.setup.Model, Data: lethe.Data{Source: r.train}, Forget: lethe.Subset{File: r.forgetPath}, Method: b.method,
			Objective: r.objective(), FineTune: ft, NegativeGradient: ng, Engine: eng, Progress: relay,
		})
		stop()
		if err != nil {
			return err
		}
		w, err := expand(r.setup.Model, eng.Freeze, r.w0, res.Weights)
		if err != nil {
			return err
		}
		secs := res.Seconds
		r.timings = append(r.timings, audit.Timing{Name: string(b.method), Duration: seconds(secs)})
		r.rows = append(r.rows, &Row{Method: b.name, kind: kindBaseline, w: w, Seconds: &secs})
	}
	return nil
}

// literalGlobs returns path.Match patterns that match exactly names.
func literalGlobs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		var b strings.Builder
		for _, c := range n {
			if strings.ContainsRune(`*?[]\`, c) {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		}
		out[i] = b.String()
	}
	return out
}

// expand returns the model's full parameter vector base (DESIGN.md §2,
// nothing frozen) with the parameters of w, laid out as with the Freeze
// patterns freeze, written over it.
func expand(model string, freeze []string, base, w []float64) ([]float64, error) {
	if len(freeze) == 0 {
		return w, nil
	}
	m, err := onnxio.Load(model)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	all, err := m.Params(onnxio.ParamOptions{})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	some, err := m.Params(onnxio.ParamOptions{Freeze: freeze})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	out := slices.Clone(base)
	for _, p := range some {
		i := slices.IndexFunc(all, func(q onnxio.Param) bool { return q.Name == p.Name })
		if i < 0 || all[i].Size != p.Size || p.Offset+p.Size > len(w) || all[i].Offset+p.Size > len(out) {
			return nil, fmt.Errorf("demo: parameter %s does not fit the model's parameter vector", p.Name)
		}
		copy(out[all[i].Offset:], w[p.Offset:p.Offset+p.Size])
	}
	return out, nil
}

// measure evaluates every row: accuracies, canaries, both attacks (the
// posterior one against the original; on the original alone for the
// original row) and the distance to the retrained model.
func (r *run) measure(ctx context.Context) error {
	nr, nf, nt := r.ev.Sizes()
	p := r.step(fmt.Sprintf("evaluating %d models on %d retained, %d forgotten and %d test samples", len(r.rows), nr, nf, nt), len(r.rows))
	for i, row := range r.rows {
		var m *lethe.Metrics
		var err error
		if row.kind == kindOriginal {
			m, err = r.ev.MeasureOriginal(ctx)
		} else {
			m, err = r.ev.Measure(ctx, row.w)
		}
		if err != nil {
			return err
		}
		row.Metrics = m
		row.DistanceToRetrain = ptr(unlearn.Distance(row.w, r.retrained.Weights))
		p.progress(i+1, row.Method)
	}
	r.timings = append(r.timings, audit.Timing{Name: "evaluation", Duration: p.done("")})
	return nil
}

// sweepEpsilon measures, for each lethe release and each ε of the
// privacy–utility curve, the test accuracy of its noise-free point with
// fresh private noise N(0, σ(ε)²) on its certified parameters, σ(ε)
// calibrated to the release's Δ (the convex scope's budget, or 2C).
func (r *run) sweepEpsilon(ctx context.Context) error {
	for _, u := range []*lethe.UnlearnResult{r.unlearned, r.full} {
		if u == nil {
			continue
		}
		c := u.Certificate
		sens := c.Bound.Sensitivity
		if !(sens > 0) {
			r.rep.logf("%s: no certified sensitivity in the %s scope (%s): no privacy–utility curve", r.setup.Name, u.Scope, c.Status)
			continue
		}
		p := r.step(fmt.Sprintf("privacy–utility curve (%s scope): %d values of ε, Δ = %.4g", u.Scope, len(epsilons), sens), len(epsilons))
		for i, eps := range epsilons {
			sigma, err := certify.Sigma(c.Mechanism, sens, eps, r.o.Delta)
			if err != nil {
				return fmt.Errorf("demo: σ for ε = %g: %w", eps, err)
			}
			w, err := u.Renoised(sigma)
			if err != nil {
				return err
			}
			acc, err := r.ev.TestAccuracy(ctx, w)
			if err != nil {
				return err
			}
			r.sweep = append(r.sweep, SweepPoint{Scope: u.Scope, Sensitivity: sens, Epsilon: eps, Sigma: sigma, TestAccuracy: acc})
			p.progress(i+1, fmt.Sprintf("ε = %g: σ = %.4g, test accuracy %.2f%%", eps, sigma, 100*acc))
		}
		r.timings = append(r.timings, audit.Timing{Name: "privacy–utility curve (" + u.Scope + " scope)", Duration: p.done("")})
	}
	return nil
}

// row returns the first row of a kind, or nil.
func (r *run) row(k rowKind) *Row {
	for _, row := range r.rows {
		if row.kind == k {
			return row
		}
	}
	return nil
}

// curve returns the privacy–utility points of one scope.
func (r *run) curve(scope string) []SweepPoint {
	var out []SweepPoint
	for _, p := range r.sweep {
		if p.Scope == scope {
			out = append(out, p)
		}
	}
	return out
}
