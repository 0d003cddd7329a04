package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/audit"
	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/unlearn"
)

// Baseline recipes (not certified; see unlearn.FineTune and
// unlearn.NegativeGradient). Both start from the original model and stay in
// its ball.
var (
	// fineTuneRecipe continues projected Adam on D_r for two epochs at a
	// tenth of the training learning rate, so that it refines w* instead of
	// retraining it.
	fineTuneRecipe = unlearn.TrainOptions{LearningRate: 1e-3, BatchSize: 128, Epochs: 2, Seed: 1}
	// negGradRecipe ascends the forgotten samples' mean cross-entropy (no
	// L2 term) by projected SGD: one pass over 1,000 samples in batches of
	// 128 (8 steps).
	negGradRecipe = unlearn.NegativeGradientOptions{LearningRate: 0.05, Steps: 8, BatchSize: 128, Seed: 1}
)

// demoSetup is one model and data set the demo runs on.
type demoSetup struct {
	Name      string // shown in tables, e.g. "MNIST MLP"
	Slug      string // file-name prefix, e.g. "mnist_mlp"
	Model     string // the trained model
	Train     string // its training data
	Test      string // held-out data
	Baselines bool   // add the fine-tune and negative-gradient rows
	// UnlearnFlags are extra flags of the certified update (lethe unlearn's
	// flags), e.g. fewer pairs for the M estimate where Hessian-vector
	// products are expensive.
	UnlearnFlags []string
}

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

// demoRow is one model of the results table, measured the same way as every
// other. Optional numbers are nil when they do not apply.
type demoRow struct {
	Method            string        `json:"method"`
	Certified         bool          `json:"certified"`
	Metrics           *modelMetrics `json:"metrics"`
	DistanceToRetrain *float64      `json:"distance_to_retrain,omitempty"`
	Seconds           *float64      `json:"seconds,omitempty"`
	Epsilon           *float64      `json:"epsilon,omitempty"`
	Delta             *float64      `json:"delta,omitempty"`
	Sigma             *float64      `json:"sigma,omitempty"`
	Sensitivity       *float64      `json:"sensitivity,omitempty"`
	ActiveBound       string        `json:"active_bound,omitempty"`

	kind rowKind
	w    []float64
}

// sweepPoint is one point of the privacy–utility curve.
type sweepPoint struct {
	Epsilon      float64 `json:"epsilon"`
	Sigma        float64 `json:"sigma"`
	TestAccuracy float64 `json:"test_accuracy"`
}

// demoRun is one setup's run: its inputs, what each step produced, and the
// measured rows.
type demoRun struct {
	o     *demoOptions
	setup demoSetup
	dir   string // models, certificate and forget list

	trainSpec, testSpec string // the data as used (--quick: .npz files in dir)
	ws                  *workspace
	test                dataset.Source // shaped to the model's input
	testSrc             dataset.Source // as opened, for closing
	set                 *evalSet
	forget              *dataset.ForgetSet
	forgetPath          string

	C, mu             float64
	cSource, muSource string
	recipe            retrainRecipe

	w0          []float64
	original    *modelOutputs
	update      *updateOutcome
	unlearnArgs []string
	outPath     string
	certPath    string
	cert        *certify.Certificate
	verify      *verifyReport
	retrainPath string
	wRetrain    []float64
	retrainTime time.Duration
	retrainRes  *unlearn.TrainResult

	rows         []*demoRow
	sweep        []sweepPoint
	fixedEpsilon float64
	timings      []audit.Timing
}

// step starts a progress line for a long step; its done records the timing.
func (r *demoRun) step(label string, total int) *progress {
	return r.o.global.progress(r.o.io, r.setup.Name+": "+label, total)
}

func (r *demoRun) logf(format string, args ...any) {
	if !r.o.global.JSON {
		r.o.global.logf(r.o.io, format, args...)
	}
}

// runSetup runs the pipeline on one setup, writing models, certificate and
// forget list to dir. The plots and report are written by writeOutputs.
func runSetup(ctx context.Context, o *demoOptions, setup demoSetup, dir string) (*demoRun, error) {
	r := &demoRun{o: o, setup: setup, dir: dir, trainSpec: setup.Train, testSpec: setup.Test}
	defer r.close()
	if err := r.open(); err != nil {
		return nil, err
	}
	steps := []func(context.Context) error{
		r.chooseForget, r.measureOriginal, r.certifiedRelease, r.runVerifyChecks, r.retrain,
		r.variants, r.baselines, r.measure, r.sweepEpsilon,
	}
	for _, s := range steps {
		if err := s(ctx); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *demoRun) close() {
	if r.testSrc != nil {
		dataset.Close(r.testSrc)
	}
	if r.ws != nil {
		r.ws.close()
	}
}

// open loads the model and the data (for --quick, writes the small subsets
// first) and settles C, μ and the retrain recipe.
func (r *demoRun) open() error {
	p := r.step("loading "+r.setup.Model, 0)
	if _, err := os.Stat(r.setup.Model); err != nil {
		return badInput(fmt.Errorf("demo: %w (run lethe demo from the repository root, or give --model)", err))
	}
	if r.o.Quick {
		if err := r.quickData(); err != nil {
			return err
		}
	}
	ws, err := loadWorkspace(r.setup.Model, &r.o.engine, &dataFlags{Data: r.trainSpec})
	if err != nil {
		return err
	}
	r.ws = ws
	if r.testSrc, err = dataset.Open(r.testSpec, dataset.Options{}); err != nil {
		return badInput(err)
	}
	if r.test, err = fitData(ws.model, r.setup.Model, r.testSrc, r.testSpec); err != nil {
		return err
	}
	if err := r.resolveCard(); err != nil {
		return err
	}
	if r.w0, err = ws.model.ParamVector(ws.prog.Params()); err != nil {
		return badInput(err)
	}
	classes, err := outputWidth(ws.prog, ws.data)
	if err != nil {
		return err
	}
	if r.set, err = newEvalSet(ws.data, nil, r.test, classes); err != nil {
		return err
	}
	r.timings = append(r.timings, audit.Timing{Name: "loading", Duration: p.done(fmt.Sprintf("%d parameters, ‖w‖ = %.4g; %d training and %d test samples; C = %g (%s), μ = %g (%s)",
		len(r.w0), unlearn.Norm(r.w0), ws.data.Len(), r.test.Len(), r.C, r.cSource, r.mu, r.muSource))})
	return nil
}

// quickData writes the first samples of the training and test data to
// train.npz and test.npz in dir and uses those.
func (r *demoRun) quickData() error {
	for _, d := range []struct {
		spec *string
		n    int
		name string
	}{{&r.trainSpec, quickTrain, "train.npz"}, {&r.testSpec, quickTest, "test.npz"}} {
		src, err := dataset.Open(*d.spec, dataset.Options{})
		if err != nil {
			return badInput(err)
		}
		n := min(d.n, src.Len())
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		x := make([]float32, n*numel(src.SampleShape()))
		y := make([]int64, n)
		err = src.Read(idx, x, y)
		dataset.Close(src)
		if err != nil {
			return badInput(err)
		}
		path := filepath.Join(r.dir, d.name)
		if err := dataset.WriteNPZ(path, x, src.SampleShape(), y); err != nil {
			return failed(err)
		}
		*d.spec = path
	}
	return nil
}

// resolveCard settles C, μ and the retrain recipe: flags first, then the
// model's lethe metadata, then models/train.py's metadata, then the bundled
// model's card.
func (r *demoRun) resolveCard() error {
	m := r.ws.model
	card, hasCard := bundledCards[filepath.Base(r.setup.Model)]
	r.recipe = paperRecipe
	if hasCard {
		r.recipe = card.Recipe
	}
	if r.o.Epochs > 0 {
		r.recipe.Epochs = r.o.Epochs
	}
	if r.o.Quick {
		r.recipe.Epochs = 1
	}
	resolve := func(flag float64, flagSet bool, keys []string, fromCard float64, flagName string) (float64, string, error) {
		if flagSet {
			return flag, "--" + flagName, nil
		}
		for _, k := range keys {
			v, ok, err := metaFloat(m, k)
			if err != nil {
				return 0, "", badInput(err)
			}
			if ok {
				return v, "metadata " + k, nil
			}
		}
		if hasCard {
			return fromCard, "model card " + strings.TrimSuffix(filepath.Base(r.setup.Model), ".onnx") + ".md", nil
		}
		return 0, "", usageErrorf("demo: %s has no %s metadata and is not a bundled model: give --%s", r.setup.Model, keys[0], flagName)
	}
	var err error
	if r.C, r.cSource, err = resolve(r.o.Radius, r.o.Radius > 0, []string{metaRadius, "train.radius_C"}, card.Radius, "radius"); err != nil {
		return err
	}
	if r.mu, r.muSource, err = resolve(r.o.L2, r.o.l2Set, []string{metaL2, "train.l2_mu"}, card.L2, "l2"); err != nil {
		return err
	}
	if !(r.C > 0) || !(r.mu >= 0) {
		return badInput(fmt.Errorf("demo: C = %g (%s), μ = %g (%s): want C > 0 and μ ≥ 0", r.C, r.cSource, r.mu, r.muSource))
	}
	return nil
}

// chooseForget picks the forgotten samples with the fixed seed, writes them
// to forget.txt and reads them back as lethe unlearn will.
func (r *demoRun) chooseForget(context.Context) error {
	n, k := r.ws.data.Len(), r.o.NForget
	if r.o.Quick {
		k = min(k, quickForget)
	}
	if k >= n {
		return usageErrorf("demo: --n-forget %d: the training data has only %d samples", k, n)
	}
	idx := rand.New(rand.NewPCG(r.o.ForgetSeed, demoForgetStream)).Perm(n)[:k]
	slices.Sort(idx)
	var b strings.Builder
	fmt.Fprintf(&b, "# %d samples of %s to forget, chosen by lethe demo (PCG seed %d, stream %#x)\n", k, r.trainSpec, r.o.ForgetSeed, demoForgetStream)
	for _, i := range idx {
		fmt.Fprintln(&b, i)
	}
	r.forgetPath = filepath.Join(r.dir, "forget.txt")
	if err := os.WriteFile(r.forgetPath, []byte(b.String()), 0o644); err != nil {
		return failed(err)
	}
	f, err := dataset.ParseForget(r.forgetPath, r.ws.data)
	if err != nil {
		return failed(err)
	}
	r.forget = f
	set, err := newEvalSet(r.ws.data, f.Indices, r.test, r.set.classes)
	if err != nil {
		return err
	}
	r.set = set
	return nil
}

// measureOriginal evaluates the original model once; the posterior attack
// compares every other model with it.
func (r *demoRun) measureOriginal(ctx context.Context) error {
	out, err := r.set.outputs(ctx, r.ws.prog, r.w0, r.ws.eval, true)
	if err != nil {
		return err
	}
	r.original = out
	return nil
}

// parseCommand parses args with a command built by newCmd and returns the
// options its run hook received: the demo runs lethe's own commands with
// exactly their flags, defaults and validation.
func parseCommand[T any](newCmd func(run func(T) error) *cobra.Command, args []string) (T, error) {
	var got T
	cmd := newCmd(func(o T) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	err := cmd.Execute()
	return got, err
}

// certifiedRelease runs lethe unlearn's certified update and release on the
// loaded model: the same flags, request, update, certificate and
// parity-gated write.
func (r *demoRun) certifiedRelease(ctx context.Context) error {
	r.outPath = filepath.Join(r.dir, r.setup.Slug+"-unlearned.onnx")
	r.unlearnArgs = []string{"unlearn", r.setup.Model, "--data", r.trainSpec, "--forget", r.forgetPath,
		"--epsilon", formatFloat(r.o.Epsilon), "--delta", formatFloat(r.o.Delta),
		"--radius", formatFloat(r.C), "--l2", formatFloat(r.mu), "--precision", r.o.engine.Precision, "-o", r.outPath}
	if r.o.engine.Threads > 0 {
		r.unlearnArgs = append(r.unlearnArgs, "--threads", strconv.Itoa(r.o.engine.Threads))
	}
	r.unlearnArgs = append(r.unlearnArgs, r.setup.UnlearnFlags...)
	uo, err := parseCommand(func(run func(*unlearnOptions) error) *cobra.Command {
		return newUnlearnCmd(r.o.io, r.o.global, run)
	}, r.unlearnArgs[1:])
	if err != nil {
		return err
	}
	if err := checkOutput(uo.Out, r.ws.model.Files()...); err != nil {
		return err
	}
	prev, err := previousCertificate(r.ws.model, uo.Model, uo.PrevCert)
	if err != nil {
		return err
	}
	started := time.Now()
	req := uo.request(r.ws, r.forget)
	p := r.step(fmt.Sprintf("certified update on D_r (%d samples, %d parameters)", r.ws.data.Len()-len(r.forget.Indices), len(r.w0)), 0)
	stage := newStageReporter(r, p)
	defer stage.stop()
	if cg, ok := req.newton.Solver.(*unlearn.CG); ok {
		cg.Progress = func(s unlearn.SolveProgress) {
			stage.set(fmt.Sprintf("conjugate gradient iteration %d (relative residual %.2g)", s.Iter, s.RelResidual))
		}
	}
	out, err := certifiedUpdate(ctx, req, stage.set)
	stage.stop()
	if err != nil {
		return err
	}
	r.update = out
	r.timings = append(r.timings, audit.Timing{Name: "certified update", Duration: p.done(fmt.Sprintf("‖u‖ = %.4g, ρ = %.3g; Δ = %.4g (%s), σ = %.4g",
		out.newton.StepNorm, out.newton.Solve.Residual, out.bound.Sensitivity, out.bound.Active, out.noise.sigma))})

	p = r.step("parity check and release of "+r.outPath, 0)
	cert, err := uo.certificate(r.ws, r.forget, req, out, prev, started)
	if err != nil {
		return err
	}
	_, err = release(&releaseRequest{
		model: r.ws.model, params: r.ws.prog.Params(), weights: out.released, sample: r.ws.data.SampleShape(),
		metadata: map[string]string{metaRadius: formatFloat(req.radius), metaL2: formatFloat(req.l2), metaLoss: uo.engine.Loss},
		outPath:  uo.Out, certPath: uo.Cert, cert: cert,
		probe: probeSpec{seed: uo.ProbeSeed, n: uo.ProbeSize},
	})
	if err != nil {
		return err
	}
	r.cert, r.certPath = cert, uo.Cert
	r.timings = append(r.timings, audit.Timing{Name: "parity check and release", Duration: p.done(cert.Status)})
	return nil
}

// stageReporter logs the certified update's stages and, while a stage runs
// without reporting, a line every 15 seconds saying which one it is.
type stageReporter struct {
	r     *demoRun
	p     *progress
	mu    sync.Mutex
	name  string
	since time.Time
	quit  chan struct{}
	once  sync.Once
}

const stageHeartbeat = 15 * time.Second

func newStageReporter(r *demoRun, p *progress) *stageReporter {
	s := &stageReporter{r: r, p: p, since: time.Now(), quit: make(chan struct{})}
	go func() {
		t := time.NewTicker(stageHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-t.C:
				s.mu.Lock()
				if s.name != "" {
					s.r.logf("  … %s (%s so far)", s.name, time.Since(s.p.start).Round(time.Second))
				}
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// set records the current stage; a new stage name is logged at once.
func (s *stageReporter) set(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(name, "conjugate gradient") {
		s.r.logf("  %s", name)
	}
	s.name, s.since = name, time.Now()
}

func (s *stageReporter) stop() { s.once.Do(func() { close(s.quit) }) }

// runVerifyChecks runs lethe verify on the released model and its
// certificate, against the original and on the test data.
func (r *demoRun) runVerifyChecks(ctx context.Context) error {
	p := r.step("lethe verify "+r.outPath, 0)
	var buf bytes.Buffer
	streams := &ioStreams{Out: &buf, Err: io.Discard}
	vo, err := parseCommand(func(run func(*verifyOptions) error) *cobra.Command {
		return newVerifyCmd(streams, &globalOptions{JSON: true, Quiet: true}, run)
	}, []string{r.outPath, "--cert", r.certPath, "--input", r.setup.Model, "--data", r.testSpec})
	if err != nil {
		return err
	}
	verr := runVerify(ctx, vo)
	var rep verifyReport
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		if verr != nil {
			return verr
		}
		return failed(fmt.Errorf("demo: reading verify's report: %w", err))
	}
	r.verify = &rep
	r.timings = append(r.timings, audit.Timing{Name: "verify", Duration: p.done(rep.tally())})
	if verr != nil {
		return fmt.Errorf("demo: lethe verify %s: %w", r.outPath, verr)
	}
	return nil
}

// retrain trains the reference from a fresh initialisation on D_r with the
// model card's recipe in the same ball, and writes it beside the others.
func (r *demoRun) retrain(ctx context.Context) error {
	obj := &autodiff.Objective{Program: r.ws.prog, Data: r.ws.data, Index: r.set.retained, L2: r.mu, Options: r.ws.eval}
	w := r.ws.prog.FreshParams(rand.New(rand.NewPCG(r.o.RetrainSeed, demoRetrainStream)))
	rc := r.recipe
	steps := rc.Epochs * ((len(r.set.retained) + rc.BatchSize - 1) / rc.BatchSize)
	r.logf("%s: retrain recipe: fresh initialisation (seed %d), projected Adam, lr %g, batch %d, %d epochs, C = %g, μ = %g",
		r.setup.Name, r.o.RetrainSeed, rc.LR, rc.BatchSize, rc.Epochs, r.C, r.mu)
	p := r.step("retraining from scratch on D_r", steps)
	res, err := unlearn.Train(ctx, obj, w, unlearn.TrainOptions{
		LearningRate: rc.LR, BatchSize: rc.BatchSize, Epochs: rc.Epochs, Radius: r.C, Seed: r.o.RetrainSeed,
		Progress: func(tp unlearn.TrainProgress) {
			p.update(tp.Step, fmt.Sprintf("epoch %d/%d, batch loss %.4f", tp.Epoch, tp.Epochs, tp.Loss))
		},
	})
	if err != nil {
		return failed(fmt.Errorf("demo: retraining: %w", err))
	}
	r.retrainTime = p.done(fmt.Sprintf("loss %.4g on D_r, ‖∇‖ %.3g, ‖w‖ %.4g", res.Loss, res.GradNorm, res.Norm))
	r.timings = append(r.timings, audit.Timing{Name: "retraining", Duration: r.retrainTime})
	r.wRetrain, r.retrainRes = w, res
	m := r.ws.model.Clone()
	if err := m.SetParamVector(r.ws.prog.Params(), w); err != nil {
		return failed(err)
	}
	m.SetMetadata(metaRadius, formatFloat(r.C))
	m.SetMetadata(metaL2, formatFloat(r.mu))
	m.SetMetadata(metaLoss, "xent")
	r.retrainPath = filepath.Join(r.dir, r.setup.Slug+"-retrained.onnx")
	if err := checkOutput(r.retrainPath, r.ws.model.Files()...); err != nil {
		return err
	}
	if err := m.Save(r.retrainPath); err != nil {
		return failed(err)
	}
	return nil
}

// variants adds the rows of the original, the retrained model and the
// three lethe outputs that share the one Newton step w̃: certified
// (released), the paper's fixed σ, and no noise.
func (r *demoRun) variants(context.Context) error {
	u := r.update
	delta := r.o.Delta
	f := func(v float64) *float64 { return &v }
	secs := f(u.elapsed.Seconds())
	r.rows = append(r.rows,
		&demoRow{Method: "original", kind: kindOriginal, w: r.w0},
		&demoRow{Method: "retrain (reference)", kind: kindRetrain, w: r.wRetrain, Seconds: f(r.retrainTime.Seconds())},
	)
	certified := &demoRow{Method: "lethe certified", Certified: u.noise.certified, kind: kindCertified, w: u.released, Seconds: secs,
		Delta: &delta, Sigma: f(u.noise.sigma), ActiveBound: string(u.bound.Active)}
	if !u.noise.certified {
		certified.Method = "lethe (" + r.cert.Status + ")"
	}
	if u.bound.Sensitivity > 0 {
		certified.Sensitivity = f(u.bound.Sensitivity)
	}
	if u.noise.sigma > 0 {
		certified.Epsilon = f(u.noise.epsilon)
	}
	r.rows = append(r.rows, certified)

	fixed := slices.Clone(u.clean)
	noise, err := certify.NewPrivateNoise()
	if err != nil {
		return failed(err)
	}
	if err := noise.Add(fixed, paperSigma); err != nil {
		return failed(err)
	}
	r.fixedEpsilon = math.NaN()
	fixedRow := &demoRow{Method: "lethe fixed σ, ε = —", kind: kindFixedSigma, w: fixed, Seconds: secs,
		Delta: &delta, Sigma: f(paperSigma), ActiveBound: string(u.bound.Active)}
	if u.bound.Sensitivity > 0 {
		fixedRow.Sensitivity = f(u.bound.Sensitivity)
		if eps, err := certify.EpsilonForSigma(certify.Analytic, paperSigma, u.bound.Sensitivity, delta); err == nil {
			r.fixedEpsilon = eps
			fixedRow.Epsilon = f(eps)
			fixedRow.Method = "lethe fixed σ, ε = " + formatEpsilon(eps)
		}
	}
	r.rows = append(r.rows, fixedRow,
		&demoRow{Method: "lethe noise-free (not certified)", kind: kindNoNoise, w: u.clean, Seconds: secs})
	return nil
}

// formatEpsilon writes ε with three significant digits.
func formatEpsilon(e float64) string {
	if e >= 1e4 {
		return strconv.FormatFloat(e, 'e', 2, 64)
	}
	return strconv.FormatFloat(e, 'g', 3, 64)
}

// baselines adds the fine-tune and negative-gradient rows, both started from
// the original model and kept in its ball. Neither is certified.
func (r *demoRun) baselines(ctx context.Context) error {
	if !r.setup.Baselines {
		return nil
	}
	ft := fineTuneRecipe
	ft.Radius = r.C
	if r.o.Quick {
		ft.Epochs = 1
	}
	w := slices.Clone(r.w0)
	obj := &autodiff.Objective{Program: r.ws.prog, Data: r.ws.data, Index: r.set.retained, L2: r.mu, Options: r.ws.eval}
	steps := ft.Epochs * ((len(r.set.retained) + ft.BatchSize - 1) / ft.BatchSize)
	p := r.step(fmt.Sprintf("baseline fine-tune: projected Adam on D_r, lr %g, %d epochs", ft.LearningRate, ft.Epochs), steps)
	ft.Progress = func(tp unlearn.TrainProgress) { p.update(tp.Step, fmt.Sprintf("epoch %d/%d", tp.Epoch, tp.Epochs)) }
	res, err := unlearn.FineTune(ctx, obj, w, ft)
	if err != nil {
		return failed(fmt.Errorf("demo: fine-tune: %w", err))
	}
	d := p.done(fmt.Sprintf("loss %.4g on D_r", res.Loss))
	r.timings = append(r.timings, audit.Timing{Name: "fine-tune", Duration: d})
	secs := d.Seconds()
	r.rows = append(r.rows, &demoRow{Method: "fine-tune (not certified)", kind: kindBaseline, w: w, Seconds: &secs})

	ng := negGradRecipe
	ng.Radius = r.C
	ng.Steps = max(1, (len(r.forget.Indices)+ng.BatchSize-1)/ng.BatchSize)
	w = slices.Clone(r.w0)
	fobj := &autodiff.Objective{Program: r.ws.prog, Data: r.ws.data, Index: r.forget.Indices, Options: r.ws.eval}
	p = r.step(fmt.Sprintf("baseline negative gradient: projected SGD ascent on D_u, lr %g, %d steps", ng.LearningRate, ng.Steps), ng.Steps)
	ngRes, err := unlearn.NegativeGradient(ctx, fobj, w, ng)
	if err != nil {
		return failed(fmt.Errorf("demo: negative gradient: %w", err))
	}
	d = p.done(fmt.Sprintf("loss on D_u %.4g → %.4g", ngRes.InitialLoss, ngRes.Loss))
	r.timings = append(r.timings, audit.Timing{Name: "negative gradient", Duration: d})
	secs2 := d.Seconds()
	r.rows = append(r.rows, &demoRow{Method: "negative gradient (not certified)", kind: kindBaseline, w: w, Seconds: &secs2})
	return nil
}

// measure evaluates every row: accuracies, both attacks (the posterior one
// against the original; on the original alone for the original row) and
// the distance to the retrained model.
func (r *demoRun) measure(ctx context.Context) error {
	p := r.step(fmt.Sprintf("evaluating %d models on %d retained, %d forgotten and %d test samples", len(r.rows), len(r.set.retained), len(r.set.forgotten), r.test.Len()), len(r.rows))
	for i, row := range r.rows {
		out := r.original
		if row.kind != kindOriginal {
			var err error
			if out, err = r.set.outputs(ctx, r.ws.prog, row.w, r.ws.eval, true); err != nil {
				return err
			}
		}
		mode := pairPosterior
		if row.kind == kindOriginal {
			mode = singlePosterior
		}
		m, err := r.set.measure(out, r.original, mode, r.o.AttackSeed)
		if err != nil {
			return err
		}
		row.Metrics = m
		d := unlearn.Distance(row.w, r.wRetrain)
		row.DistanceToRetrain = &d
		p.update(i+1, row.Method)
	}
	r.timings = append(r.timings, audit.Timing{Name: "evaluation", Duration: p.done("")})
	return nil
}

// sweepEpsilon measures the test accuracy of w̃ + N(0, σ(ε)²I) for each ε of
// the privacy–utility curve, σ calibrated to the certified Δ with fresh
// private noise per ε.
func (r *demoRun) sweepEpsilon(ctx context.Context) error {
	delta := r.update.bound.Sensitivity
	if !(delta > 0) {
		r.logf("demo: no certified sensitivity (%s): no privacy–utility curve", r.cert.Status)
		return nil
	}
	noise, err := certify.NewPrivateNoise()
	if err != nil {
		return failed(err)
	}
	p := r.step(fmt.Sprintf("privacy–utility curve: %d values of ε, Δ = %.4g", len(demoEpsilons), delta), len(demoEpsilons))
	for i, eps := range demoEpsilons {
		sigma, err := certify.Sigma(certify.Analytic, delta, eps, r.o.Delta)
		if err != nil {
			return failed(fmt.Errorf("demo: σ for ε = %g: %w", eps, err))
		}
		w := slices.Clone(r.update.clean)
		if err := noise.Add(w, sigma); err != nil {
			return failed(err)
		}
		out, err := r.set.outputs(ctx, r.ws.prog, w, r.ws.eval, false)
		if err != nil {
			return err
		}
		acc := audit.Accuracy(out.test, r.set.classes, r.set.yTest)
		r.sweep = append(r.sweep, sweepPoint{Epsilon: eps, Sigma: sigma, TestAccuracy: acc})
		p.update(i+1, fmt.Sprintf("ε = %g: σ = %.4g, test accuracy %.2f%%", eps, sigma, 100*acc))
	}
	r.timings = append(r.timings, audit.Timing{Name: "privacy–utility curve", Duration: p.done("")})
	return nil
}

// row returns the first row of a kind, or nil.
func (r *demoRun) row(k rowKind) *demoRow {
	for _, row := range r.rows {
		if row.kind == k {
			return row
		}
	}
	return nil
}

// errNoRows is returned when a report is asked for before measuring.
var errNoRows = errors.New("demo: nothing measured")

// tally counts the verify checks by status, e.g. "9 pass, 1 skip".
func (r *verifyReport) tally() string {
	var pass, fail, skip int
	for _, c := range r.Checks {
		switch c.Status {
		case "pass":
			pass++
		case "fail":
			fail++
		default:
			skip++
		}
	}
	s := fmt.Sprintf("%d pass", pass)
	if skip > 0 {
		s += fmt.Sprintf(", %d skipped", skip)
	}
	if fail > 0 {
		s += fmt.Sprintf(", %d FAIL", fail)
	}
	return s
}
