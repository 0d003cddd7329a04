package demo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/audit"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
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
	kindBaseline
)

// Row is one model of the results table, measured the same way as every
// other. Optional numbers are nil when they do not apply.
type Row struct {
	// Method names the row; Certified says whether the model is certified.
	Method    string `json:"method"`
	Certified bool   `json:"certified"`
	// Metrics are the row's measurements, DistanceToRetrain ‖w − w_retrain‖₂,
	// Seconds the time the method took.
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

// SweepPoint is one point of the privacy–utility curve.
type SweepPoint struct {
	// Epsilon is ε, Sigma the σ calibrated to it, TestAccuracy the test
	// accuracy of the noisy model.
	Epsilon      float64 `json:"epsilon"`
	Sigma        float64 `json:"sigma"`
	TestAccuracy float64 `json:"test_accuracy"`
}

// run is one setup's run: its inputs, what each step produced, and the
// measured rows.
type run struct {
	o     Options
	setup Setup
	dir   string // models, certificate and forget list
	rep   *reporter

	trainSpec, testSpec string // the data as used (Quick: .npz files in dir)
	train, test         dataset.Source
	ev                  *lethe.Evaluator
	forgetPath          string
	nForget             int

	C, mu             float64
	cSource, muSource string
	recipe            Recipe

	w0          []float64
	unlearned   *lethe.UnlearnResult
	unlearnArgs []string
	verify      *lethe.VerifyReport
	retrained   *lethe.RetrainResult
	retrainPath string

	rows         []*Row
	sweep        []SweepPoint
	fixedEpsilon float64
	timings      []audit.Timing
}

// Run runs the demo on Options.Model and writes its table, plots, report,
// models and certificate to Options.Out.
func Run(ctx context.Context, o Options) (*Result, error) {
	o = o.withDefaults(false)
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	started := time.Now()
	s := Setup{Name: slugOf(o.Model) + " on " + o.Data, Slug: slugOf(o.Model), Model: o.Model, Train: o.Data, Test: o.Test}
	if filepath.Base(o.Model) == "mnist_mlp.onnx" && o.Data == "mnist:train" {
		s.Name = "MNIST MLP"
	}
	r, err := runSetup(ctx, o, s, o.Out)
	if err != nil {
		return nil, err
	}
	if err := r.writeOutputs(o.Out); err != nil {
		return nil, err
	}
	return r.result(time.Since(started)), nil
}

// validate checks the options.
func (o Options) validate() error {
	bad := func(field, format string, args ...any) error {
		return &lethe.InputError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case o.NForget < 2:
		return bad("NForget", "%d: want at least 2 (the attacks split the forgotten samples in halves)", o.NForget)
	case !(o.Epsilon > 0) || math.IsInf(o.Epsilon, 0):
		return bad("Epsilon", "%g: want ε > 0", o.Epsilon)
	case !(o.Delta > 0 && o.Delta < 1):
		return bad("Delta", "%g: want a value in (0, 1)", o.Delta)
	case o.Radius < 0 || math.IsNaN(o.Radius) || math.IsInf(o.Radius, 0):
		return bad("Radius", "%g: want C > 0", o.Radius)
	case o.L2 != nil && (*o.L2 < 0 || math.IsNaN(*o.L2)):
		return bad("L2", "%g: want μ ≥ 0", *o.L2)
	case o.Epochs < 0:
		return bad("Epochs", "%d: want at least 1 (0: the recipe's)", o.Epochs)
	}
	if st, err := os.Stat(o.Out); err == nil && !st.IsDir() {
		return bad("Out", "%s is a file, not a folder", o.Out)
	}
	return nil
}

// slugOf is a model file's name without its extension, for output names.
func slugOf(model string) string {
	base := filepath.Base(model)
	return base[:len(base)-len(filepath.Ext(base))]
}

// runSetup runs the pipeline on one setup, writing models, certificate and
// forget list to dir. The plots and report are written by writeOutputs.
func runSetup(ctx context.Context, o Options, setup Setup, dir string) (*run, error) {
	r := &run{o: o, setup: setup, dir: dir, trainSpec: setup.Train, testSpec: setup.Test, rep: &reporter{fn: o.Progress}}
	defer r.close()
	steps := []func(context.Context) error{
		r.open, r.chooseForget, r.evaluator, r.certifiedRelease, r.runVerify, r.retrain,
		r.variants, r.baselines, r.measure, r.sweepEpsilon,
	}
	for _, s := range steps {
		if err := s(ctx); err != nil {
			return nil, wrap(setup.Name, err)
		}
	}
	return r, nil
}

// wrap names the setup in an error, keeping its type for errors.As.
func wrap(name string, err error) error {
	return &setupError{name: name, err: err}
}

type setupError struct {
	name string
	err  error
}

func (e *setupError) Error() string {
	return "demo: " + e.name + ": " + strings.TrimPrefix(e.err.Error(), "lethe: ")
}
func (e *setupError) Unwrap() error { return e.err }

func (r *run) close() {
	if r.ev != nil {
		r.ev.Close()
	}
	for _, s := range []dataset.Source{r.train, r.test} {
		if s != nil {
			dataset.Close(s)
		}
	}
}

// step starts a progress line for a long step of the setup.
func (r *run) step(label string, total int) *step {
	return r.rep.start(r.setup.Name+": "+label, total)
}

// engine is the engine configuration of every call.
func (r *run) engine() lethe.Engine { return r.o.Engine }

// open opens the data (for Quick, writes the small subsets first) and
// settles C, μ and the retrain recipe.
func (r *run) open(ctx context.Context) error {
	if _, err := os.Stat(r.setup.Model); err != nil {
		return &lethe.InputError{Field: "Model", Err: fmt.Errorf("%w (run lethe demo from the repository root, or give another model)", err)}
	}
	if r.o.Quick {
		if err := r.quickData(); err != nil {
			return err
		}
	}
	var err error
	opts := dataset.Options{ScanAtOpen: true}
	if r.train, err = dataset.Open(r.trainSpec, opts); err != nil {
		return &lethe.InputError{Field: "Data", Err: err}
	}
	if r.test, err = dataset.Open(r.testSpec, opts); err != nil {
		return &lethe.InputError{Field: "Test", Err: err}
	}
	return r.resolveCard(ctx)
}

// quickData writes the first samples of the training and test data to
// train.npz and test.npz in dir and uses those.
func (r *run) quickData() error {
	for _, d := range []struct {
		spec *string
		n    int
		name string
	}{{&r.trainSpec, QuickTrain, "train.npz"}, {&r.testSpec, QuickTest, "test.npz"}} {
		src, err := dataset.Open(*d.spec, dataset.Options{})
		if err != nil {
			return &lethe.InputError{Err: err}
		}
		n := min(d.n, src.Len())
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		size := 1
		for _, v := range src.SampleShape() {
			size *= v
		}
		x := make([]float32, n*size)
		y := make([]int64, n)
		err = src.Read(idx, x, y)
		dataset.Close(src)
		if err != nil {
			return &lethe.InputError{Err: err}
		}
		path := filepath.Join(r.dir, d.name)
		if err := dataset.WriteNPZ(path, x, src.SampleShape(), y); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		*d.spec = path
	}
	return nil
}

// resolveCard settles C, μ and the retrain recipe: options first, then the
// model's lethe metadata, then models/train.py's metadata, then the bundled
// model's card.
func (r *run) resolveCard(ctx context.Context) error {
	info, err := lethe.Inspect(ctx, lethe.InspectRequest{Model: r.setup.Model})
	if err != nil {
		return err
	}
	c, hasCard := bundledCards[filepath.Base(r.setup.Model)]
	r.recipe = paperRecipe
	if hasCard {
		r.recipe = c.Recipe
	}
	if r.o.Epochs > 0 {
		r.recipe.Epochs = r.o.Epochs
	}
	if r.o.Quick {
		r.recipe.Epochs = 1
	}
	resolve := func(given *float64, keys []string, fromCard float64, flag string) (float64, string, error) {
		if given != nil {
			return *given, "--" + flag, nil
		}
		for _, k := range keys {
			s, ok := info.Metadata[k]
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return 0, "", &lethe.InputError{Field: "Model", Err: fmt.Errorf("%s: metadata %s = %q is not a number", r.setup.Model, k, s)}
			}
			return v, "metadata " + k, nil
		}
		if hasCard {
			return fromCard, "model card " + slugOf(r.setup.Model) + ".md", nil
		}
		return 0, "", &lethe.InputError{Field: strings.ToUpper(flag[:1]) + flag[1:],
			Err: fmt.Errorf("%s has no %s metadata and is not a bundled model: give a value for --%s", r.setup.Model, keys[0], flag)}
	}
	var radius *float64
	if r.o.Radius > 0 {
		radius = &r.o.Radius
	}
	if r.C, r.cSource, err = resolve(radius, []string{lethe.MetaRadius, "train.radius_C"}, c.Radius, "radius"); err != nil {
		return err
	}
	if r.mu, r.muSource, err = resolve(r.o.L2, []string{lethe.MetaL2, "train.l2_mu"}, c.L2, "l2"); err != nil {
		return err
	}
	if !(r.C > 0) || !(r.mu >= 0) {
		return &lethe.InputError{Field: "Model", Err: fmt.Errorf("C = %g (%s), μ = %g (%s): want C > 0 and μ ≥ 0", r.C, r.cSource, r.mu, r.muSource)}
	}
	return nil
}

// chooseForget picks the forgotten samples with the fixed seed and writes
// them to forget.txt, which every later step reads.
func (r *run) chooseForget(context.Context) error {
	n, k := r.train.Len(), r.o.NForget
	if r.o.Quick {
		k = min(k, QuickForget)
	}
	if k >= n {
		return &lethe.InputError{Field: "NForget", Err: fmt.Errorf("%d: the training data have only %d samples", k, n)}
	}
	idx := rand.New(rand.NewPCG(r.o.ForgetSeed, forgetStream)).Perm(n)[:k]
	slices.Sort(idx)
	var b strings.Builder
	fmt.Fprintf(&b, "# %d samples of %s to forget, chosen by lethe demo (PCG seed %d, stream %#x)\n", k, r.trainSpec, r.o.ForgetSeed, forgetStream)
	for _, i := range idx {
		fmt.Fprintln(&b, i)
	}
	r.forgetPath = filepath.Join(r.dir, "forget.txt")
	if err := os.WriteFile(r.forgetPath, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	r.nForget = k
	return nil
}

// evaluator loads the model on its splits; the original is the posterior
// attack's reference.
func (r *run) evaluator(ctx context.Context) error {
	p := r.step("loading "+r.setup.Model, 0)
	ev, err := lethe.NewEvaluator(ctx, lethe.EvalRequest{
		Model: r.setup.Model, Data: lethe.Data{Source: r.train}, Forget: lethe.Subset{File: r.forgetPath},
		Test: lethe.Data{Source: r.test}, Original: r.setup.Model, AttackSeed: r.o.AttackSeed, Engine: r.engine(),
	})
	if err != nil {
		return err
	}
	r.ev, r.w0 = ev, ev.Params()
	r.timings = append(r.timings, audit.Timing{Name: "loading", Duration: p.done(fmt.Sprintf("%d parameters, ‖w‖ = %.4g; %d training and %d test samples; C = %g (%s), μ = %g (%s)",
		len(r.w0), unlearn.Norm(r.w0), r.train.Len(), r.test.Len(), r.C, r.cSource, r.mu, r.muSource))})
	return nil
}

// objective is the model's training objective.
func (r *run) objective() lethe.Objective {
	return lethe.Objective{Radius: r.C, L2: new(r.mu)}
}

// certifiedRelease runs lethe unlearn's certified update and release: the
// same request, update, certificate and parity-gated write.
func (r *run) certifiedRelease(ctx context.Context) error {
	out := filepath.Join(r.dir, r.setup.Slug+"-unlearned.onnx")
	f := strconv.FormatFloat
	r.unlearnArgs = []string{"unlearn", r.setup.Model, "--data", r.trainSpec, "--forget", r.forgetPath,
		"--epsilon", f(r.o.Epsilon, 'g', -1, 64), "--delta", f(r.o.Delta, 'g', -1, 64),
		"--radius", f(r.C, 'g', -1, 64), "--l2", f(r.mu, 'g', -1, 64), "--precision", r.engine().Precision.String(), "-o", out}
	if t := r.engine().Threads; t > 0 {
		r.unlearnArgs = append(r.unlearnArgs, "--threads", strconv.Itoa(t))
	}
	if k := r.setup.LipschitzPairs; k > 0 {
		r.unlearnArgs = append(r.unlearnArgs, "--lipschitz-pairs", strconv.Itoa(k))
	}
	relay, stop := r.rep.relay(r.setup.Name)
	defer stop()
	res, err := lethe.Unlearn(ctx, lethe.UnlearnRequest{
		Model: r.setup.Model, Data: lethe.Data{Source: r.train}, Forget: lethe.Subset{File: r.forgetPath}, Out: out,
		Engine: r.engine(), Objective: r.objective(), Epsilon: r.o.Epsilon, Delta: r.o.Delta,
		Lipschitz: unlearn.LipschitzOptions{Pairs: r.setup.LipschitzPairs}, KeepNoiseFree: true, Progress: relay,
	})
	stop()
	if err != nil {
		return err
	}
	r.unlearned = res
	c := res.Certificate
	r.timings = append(r.timings,
		audit.Timing{Name: "certified update", Duration: seconds(res.UpdateSeconds)},
		audit.Timing{Name: "parity check and release", Duration: seconds(res.Seconds - res.UpdateSeconds)})
	r.rep.logf("%s: certified update: ‖u‖ = %.4g, ρ = %.3g; Δ = %.4g (%s), σ = %.4g; %s",
		r.setup.Name, res.StepNorm, res.Residual, c.Bound.Sensitivity, c.Bound.Active, c.Sigma, c.Status)
	return nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// runVerify runs lethe verify on the released model and its certificate,
// against the original and on the test data.
func (r *run) runVerify(ctx context.Context) error {
	u := r.unlearned
	p := r.step("lethe verify "+u.Out, 0)
	rep, err := lethe.Verify(ctx, lethe.VerifyRequest{Model: u.Out, Cert: u.CertPath, Input: r.setup.Model, Data: lethe.Data{Source: r.test}})
	if rep == nil {
		return err
	}
	r.verify = rep
	r.timings = append(r.timings, audit.Timing{Name: "verify", Duration: p.done(rep.Tally())})
	if err != nil {
		return fmt.Errorf("lethe verify %s: %w", u.Out, err)
	}
	return nil
}

// retrain trains the reference from a fresh initialisation on D_r with the
// model card's recipe in the same ball, and writes it beside the others.
func (r *run) retrain(ctx context.Context) error {
	rc := r.recipe
	r.rep.logf("%s: retrain recipe: fresh initialisation (seed %d), projected Adam, lr %g, batch %d, %d epochs, C = %g, μ = %g",
		r.setup.Name, r.o.RetrainSeed, rc.LR, rc.BatchSize, rc.Epochs, r.C, r.mu)
	r.retrainPath = filepath.Join(r.dir, r.setup.Slug+"-retrained.onnx")
	relay, stop := r.rep.relay(r.setup.Name)
	defer stop()
	res, err := lethe.Retrain(ctx, lethe.RetrainRequest{
		Model: r.setup.Model, Data: lethe.Data{Source: r.train}, Forget: lethe.Subset{File: r.forgetPath}, Out: r.retrainPath,
		Objective: lethe.Objective{Radius: r.C, L2: new(r.mu), Loss: "xent"},
		Recipe:    lethe.Recipe{Optimizer: "adam", LR: rc.LR, Schedule: "constant", BatchSize: rc.BatchSize, Epochs: rc.Epochs, Seed: r.o.RetrainSeed},
		Engine:    r.engine(), Progress: relay,
	})
	if err != nil {
		return err
	}
	r.retrained = res
	r.timings = append(r.timings, audit.Timing{Name: "retraining", Duration: seconds(res.TrainSeconds)})
	return nil
}

// variants adds the rows of the original, the retrained model and the
// three lethe outputs that share the one Newton step w̃: certified
// (released), the paper's fixed σ, and no noise.
func (r *run) variants(context.Context) error {
	u, c := r.unlearned, r.unlearned.Certificate
	delta := r.o.Delta
	f := func(v float64) *float64 { return &v }
	secs := f(u.UpdateSeconds)
	r.rows = append(r.rows,
		&Row{Method: "original", kind: kindOriginal, w: r.w0},
		&Row{Method: "retrain (reference)", kind: kindRetrain, w: r.retrained.Weights, Seconds: f(r.retrained.TrainSeconds)},
	)
	certified := &Row{Method: "lethe certified", Certified: c.Certified, kind: kindCertified, w: u.Released, Seconds: secs,
		Delta: &delta, Sigma: f(c.Sigma), ActiveBound: string(c.Bound.Active)}
	if !c.Certified {
		certified.Method = "lethe (" + c.Status + ")"
	}
	if c.Bound.Sensitivity > 0 {
		certified.Sensitivity = f(c.Bound.Sensitivity)
	}
	if c.Sigma > 0 {
		certified.Epsilon = f(c.Epsilon)
	}
	r.rows = append(r.rows, certified)

	fixed := slices.Clone(u.NoiseFree)
	noise, err := certify.NewPrivateNoise()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := noise.Add(fixed, PaperSigma); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	r.fixedEpsilon = math.NaN()
	fixedRow := &Row{Method: "lethe fixed σ, ε = —", kind: kindFixedSigma, w: fixed, Seconds: secs,
		Delta: &delta, Sigma: f(PaperSigma), ActiveBound: string(c.Bound.Active)}
	if c.Bound.Sensitivity > 0 {
		fixedRow.Sensitivity = f(c.Bound.Sensitivity)
		if eps, err := certify.EpsilonForSigma(certify.Analytic, PaperSigma, c.Bound.Sensitivity, delta); err == nil {
			r.fixedEpsilon = eps
			fixedRow.Epsilon = f(eps)
			fixedRow.Method = "lethe fixed σ, ε = " + formatEpsilon(eps)
		}
	}
	r.rows = append(r.rows, fixedRow,
		&Row{Method: "lethe noise-free (not certified)", kind: kindNoNoise, w: u.NoiseFree, Seconds: secs})
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
// from the original model and kept in its ball. Neither is certified.
func (r *run) baselines(ctx context.Context) error {
	if !r.setup.Baselines {
		return nil
	}
	ft := fineTuneRecipe
	if r.o.Quick {
		ft.Epochs = 1
	}
	ng := negGradRecipe
	ng.Steps = max(1, (r.nForget+ng.BatchSize-1)/ng.BatchSize)
	for _, b := range []struct {
		method lethe.BaselineMethod
		name   string
	}{{lethe.FineTune, "fine-tune (not certified)"}, {lethe.NegativeGradient, "negative gradient (not certified)"}} {
		relay, stop := r.rep.relay(r.setup.Name)
		res, err := lethe.Baseline(ctx, lethe.BaselineRequest{
			Model: r.setup.Model, Data: lethe.Data{Source: r.train}, Forget: lethe.Subset{File: r.forgetPath}, Method: b.method,
			Objective: r.objective(), FineTune: ft, NegativeGradient: ng, Engine: r.engine(), Progress: relay,
		})
		stop()
		if err != nil {
			return err
		}
		secs := res.Seconds
		r.timings = append(r.timings, audit.Timing{Name: string(b.method), Duration: seconds(secs)})
		r.rows = append(r.rows, &Row{Method: b.name, kind: kindBaseline, w: res.Weights, Seconds: &secs})
	}
	return nil
}

// measure evaluates every row: accuracies, both attacks (the posterior one
// against the original; on the original alone for the original row) and
// the distance to the retrained model.
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
		d := unlearn.Distance(row.w, r.retrained.Weights)
		row.DistanceToRetrain = &d
		p.progress(i+1, row.Method)
	}
	r.timings = append(r.timings, audit.Timing{Name: "evaluation", Duration: p.done("")})
	return nil
}

// sweepEpsilon measures the test accuracy of w̃ + N(0, σ(ε)²I) for each ε
// of the privacy–utility curve, σ calibrated to the certified Δ with fresh
// private noise per ε.
func (r *run) sweepEpsilon(ctx context.Context) error {
	c := r.unlearned.Certificate
	delta := c.Bound.Sensitivity
	if !(delta > 0) {
		r.rep.logf("demo: no certified sensitivity (%s): no privacy–utility curve", c.Status)
		return nil
	}
	noise, err := certify.NewPrivateNoise()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	p := r.step(fmt.Sprintf("privacy–utility curve: %d values of ε, Δ = %.4g", len(epsilons), delta), len(epsilons))
	for i, eps := range epsilons {
		sigma, err := certify.Sigma(certify.Analytic, delta, eps, r.o.Delta)
		if err != nil {
			return fmt.Errorf("demo: σ for ε = %g: %w", eps, err)
		}
		w := slices.Clone(r.unlearned.NoiseFree)
		if err := noise.Add(w, sigma); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		acc, err := r.ev.TestAccuracy(ctx, w)
		if err != nil {
			return err
		}
		r.sweep = append(r.sweep, SweepPoint{Epsilon: eps, Sigma: sigma, TestAccuracy: acc})
		p.progress(i+1, fmt.Sprintf("ε = %g: σ = %.4g, test accuracy %.2f%%", eps, sigma, 100*acc))
	}
	r.timings = append(r.timings, audit.Timing{Name: "privacy–utility curve", Duration: p.done("")})
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

// errNoRows is returned when a report is asked for before measuring.
var errNoRows = errors.New("demo: nothing measured")
