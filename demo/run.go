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

// run is one setup's run: its inputs, what each step produced, and the
// measured rows.
type run struct {
	o     Options
	setup Setup
	dir   string // models, certificate and forget list
	rep   *reporter

	trainSpec, testSpec string           // the data as opened (Quick, generic: .npz files in dir)
	dataName            string           // how the results name D
	train, test         dataset.Source   // D and the test data, as measured
	opened              []dataset.Source // what open opened, for close
	canaries            []int            // indices into D of the canaries, or nil
	ev                  *lethe.Evaluator
	forgetPath          string
	nForget             int

	C, mu             float64
	cSource, muSource string
	recipe            Recipe

	w0          []float64
	unlearned   *lethe.UnlearnResult // the certified row's release
	full        *lethe.UnlearnResult // Setup.FullRow's full-scope release, or nil
	unlearnArgs []string             // nil when D exists in memory only
	verify      *lethe.VerifyReport
	retrained   *lethe.RetrainResult
	retrainPath string

	rows         []*Row
	sweep        []SweepPoint
	fixedEpsilon float64
	timings      []audit.Timing
}

// Run runs the demo: on HeadSetup by default, or with Options.Model the
// generic pipeline on that model, and writes its table, plots, report,
// models and certificates to Options.Out.
func Run(ctx context.Context, o Options) (*Result, error) {
	o = o.withDefaults(false)
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	s := HeadSetup()
	if o.Model != "" {
		s = Setup{Name: slugOf(o.Model) + " on " + o.Data, Slug: slugOf(o.Model), Model: o.Model, Train: o.Data, Test: o.Test, Scope: lethe.ScopeAuto}
	}
	started := time.Now()
	r, err := runSetup(ctx, o, s, o.Out)
	if err != nil {
		return nil, err
	}
	if err := r.writeOutputs(o.Out); err != nil {
		return nil, err
	}
	return r.result(time.Since(started)), nil
}

// Validate checks the options (defaults applied or not): every error is an
// *lethe.InputError naming the field.
func (o Options) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &lethe.InputError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case o.Model == "" && (o.Data != "" || o.Test != ""):
		return bad("Data", "data %q, test %q: they apply to a model given with Model (the default demo reads the head model's private split of mnist:train)", o.Data, o.Test)
	case o.NForget != 0 && o.NForget < 2:
		return bad("NForget", "%d: want at least 2 (the attacks split the forgotten samples in halves)", o.NForget)
	case o.Epsilon < 0 || math.IsNaN(o.Epsilon) || math.IsInf(o.Epsilon, 0):
		return bad("Epsilon", "%g: want ε > 0", o.Epsilon)
	case o.Delta != 0 && !(o.Delta > 0 && o.Delta < 1):
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

// runSetup runs the pipeline on one setup, writing models, certificates
// and forget list to dir. The plots and report are written by
// writeOutputs.
func runSetup(ctx context.Context, o Options, setup Setup, dir string) (*run, error) {
	if setup.Scope == "" {
		setup.Scope = lethe.ScopeAuto
	}
	r := &run{o: o, setup: setup, dir: dir, trainSpec: setup.Train, testSpec: setup.Test, rep: &reporter{fn: o.Progress}}
	defer r.close()
	steps := []func(context.Context) error{
		r.open, r.chooseForget, r.evaluator, r.certifiedRelease, r.runVerify, r.fullRelease, r.retrain,
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
	return "demo: " + e.name + ": " + strings.TrimPrefix(strings.TrimPrefix(e.err.Error(), "lethe: "), "demo: ")
}
func (e *setupError) Unwrap() error { return e.err }

func (r *run) close() {
	if r.ev != nil {
		r.ev.Close()
	}
	for _, s := range r.opened {
		dataset.Close(s)
	}
}

// step starts a progress line for a long step of the setup.
func (r *run) step(label string, total int) *step {
	return r.rep.start(r.setup.Name+": "+label, total)
}

// engine is the engine configuration of every call.
func (r *run) engine() lethe.Engine { return r.o.Engine }

// convex reports whether the certified row is in the convex scope.
func (r *run) convex() bool { return r.unlearned.Scope == string(certify.ScopeConvex) }

// open opens the data (for Quick, the first samples), builds D for a
// private split, and settles C, μ and the retrain recipe.
func (r *run) open(ctx context.Context) error {
	if _, err := os.Stat(r.setup.Model); err != nil {
		return &lethe.InputError{Field: "Model", Err: fmt.Errorf("%w (run lethe demo from the repository root, or give another model)", err)}
	}
	if r.o.Quick && r.setup.Private == nil {
		if err := r.quickData(); err != nil {
			return err
		}
	}
	opts := dataset.Options{ScanAtOpen: true}
	for _, d := range []struct {
		spec  string
		dst   *dataset.Source
		field string
	}{{r.trainSpec, &r.train, "Data"}, {r.testSpec, &r.test, "Test"}} {
		src, err := dataset.Open(d.spec, opts)
		if err != nil {
			return &lethe.InputError{Field: d.field, Err: err}
		}
		r.opened = append(r.opened, src)
		*d.dst = src
	}
	r.dataName = r.trainSpec
	if p := r.setup.Private; p != nil {
		d, canaries, err := p.build(r.train)
		if err != nil {
			return err
		}
		r.train, r.canaries = d, canaries
		r.dataName = "D = " + p.String(r.trainSpec)
		if r.o.Quick {
			r.train = dataset.Subset(r.train, firstN(min(QuickTrain, r.train.Len())))
			r.canaries = slices.DeleteFunc(r.canaries, func(i int) bool { return i >= QuickTrain })
			r.test = dataset.Subset(r.test, firstN(min(QuickTest, r.test.Len())))
			r.dataName = fmt.Sprintf("the first %d samples of %s", r.train.Len(), r.dataName)
			r.testSpec = fmt.Sprintf("%s[0:%d]", r.testSpec, r.test.Len())
		}
	}
	return r.resolveCard(ctx)
}

// firstN returns 0..n−1.
func firstN(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
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
		x := make([]float32, n*numel(src.SampleShape()))
		y := make([]int64, n)
		err = src.Read(firstN(n), x, y)
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
		return &lethe.InputError{Field: "Model", Err: fmt.Errorf("radius C = %g (%s), μ = %g (%s): want C > 0 and μ ≥ 0", r.C, r.cSource, r.mu, r.muSource)}
	}
	return nil
}

// chooseForget picks the forgotten samples — every canary, and the others
// with the fixed seed — and writes them to forget.txt, which every later
// step reads.
func (r *run) chooseForget(context.Context) error {
	n, k, c := r.train.Len(), r.o.NForget, len(r.canaries)
	if r.o.Quick {
		k = min(k, QuickForget)
	}
	switch {
	case k >= n:
		return &lethe.InputError{Field: "NForget", Err: fmt.Errorf("%d: the training data have only %d samples", k, n)}
	case k < c:
		return &lethe.InputError{Field: "NForget", Err: fmt.Errorf("%d: the forget set holds the %d canaries, so it needs at least that many samples", k, c)}
	}
	idx := slices.Clone(r.canaries)
	for _, i := range rand.New(rand.NewPCG(r.o.ForgetSeed, forgetStream)).Perm(n) {
		if len(idx) == k {
			break
		}
		if _, canary := slices.BinarySearch(r.canaries, i); !canary {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	var b strings.Builder
	if p := r.setup.Private; p != nil {
		fmt.Fprintf(&b, "# %d samples of the private split D to forget (sample i of D is sample %d + i of %s): its %d canaries and %d others chosen by lethe demo (PCG seed %d, stream %#x)\n",
			k, p.From, r.trainSpec, c, k-c, r.o.ForgetSeed, forgetStream)
	} else {
		fmt.Fprintf(&b, "# %d samples of %s to forget, chosen by lethe demo (PCG seed %d, stream %#x)\n", k, r.trainSpec, r.o.ForgetSeed, forgetStream)
	}
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
	req := lethe.EvalRequest{
		Model: r.setup.Model, Data: lethe.Data{Source: r.train}, Forget: lethe.Subset{File: r.forgetPath},
		Test: lethe.Data{Source: r.test}, Original: r.setup.Model, AttackSeed: r.o.AttackSeed, Engine: r.engine(),
	}
	if len(r.canaries) > 0 {
		req.Canaries = lethe.Subset{Indices: r.canaries}
	}
	ev, err := lethe.NewEvaluator(ctx, req)
	if err != nil {
		return err
	}
	r.ev, r.w0 = ev, ev.Params()
	canaries := ""
	if c := len(r.canaries); c > 0 {
		canaries = fmt.Sprintf(" (%d canaries)", c)
	}
	r.timings = append(r.timings, audit.Timing{Name: "loading", Duration: p.done(fmt.Sprintf("%d parameters, ‖w‖ = %.4g; %d training samples%s and %d test samples; C = %g (%s), μ = %g (%s)",
		len(r.w0), unlearn.Norm(r.w0), r.train.Len(), canaries, r.test.Len(), r.C, r.cSource, r.mu, r.muSource))})
	return nil
}

// objective is the model's training objective.
func (r *run) objective() lethe.Objective {
	return lethe.Objective{Radius: r.C, L2: new(r.mu)}
}

// errNoRows is returned when a report is asked for before measuring.
var errNoRows = errors.New("demo: nothing measured")
