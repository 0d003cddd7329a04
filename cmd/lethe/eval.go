package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lethe-ml/lethe/audit"
	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
)

// evalOptions are the inputs of `lethe eval`.
type evalOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags
	data   dataFlags

	Model      string
	Forget     string
	Test       string
	Original   string
	AttackSeed uint64
}

func newEvalCmd(streams *ioStreams, global *globalOptions, runF func(*evalOptions) error) *cobra.Command {
	o := &evalOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "eval MODEL --data F [--forget SPEC] [--test F] [--original M0]",
		Short: "Measure accuracy and membership-inference leakage of a model",
		Long: `eval measures what a model knows about its training samples:

  accuracy   on the retained samples (the samples of --data that --forget does
             not name; all of them without --forget), on the forgotten samples
             and on the --test samples, with the mean cross-entropy of each;
  leakage    membership-inference attacks that try to tell the forgotten
             samples (members) from the test samples (non-members), with
             --forget and --test:
               loss-threshold         thresholds MODEL's per-sample loss;
               unlearning-posterior   with --original: the attack of Chen et
                                      al. (CCS 2021) used by Zhang et al. (ICML
                                      2024), a logistic regression on the
                                      original's and MODEL's softmax outputs,
                                      both sorted by the original's.
             The classes are balanced by subsampling, each attack is fitted on
             one half and scored on the other; eval reports the AUC, the
             balanced accuracy and the TPR at 1% FPR. 0.5 means the forgotten
             samples look like unseen ones, as after retraining from scratch.

--forget is a text file of sample indices (one per line), an .npy integer
array of indices, or an .npz with the samples themselves.`,
		Example: `  lethe eval mlp-unlearned.onnx --data mnist:train --forget forget.txt --test mnist:test --original mlp.onnx
  lethe eval model.onnx --data train.npz --test test.npz --json`,
		Args: exactArgs(1, "one MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runEval(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.data.register(f)
	registerEvalEngine(f, &o.engine)
	f.StringVar(&o.Forget, "forget", "", "forgotten samples of --data: a text file of indices, an .npy of indices, or an .npz with the samples")
	f.StringVar(&o.Test, "test", "", "held-out samples (non-members): an .npz with x and y, mnist:test, fashion-mnist:test, an idx or CSV file")
	f.StringVar(&o.Original, "original", "", "the model before unlearning, for the posterior attack (needs --forget and --test)")
	f.Uint64Var(&o.AttackSeed, "attack-seed", 1, "seed of the attacks' subsampling and fit/score split")
	return cmd
}

// registerEvalEngine adds the engine flags that matter for evaluation; the
// loss is always the cross-entropy of the model's output.
func registerEvalEngine(fs *pflag.FlagSet, ef *engineFlags) {
	ef.Loss = "xent"
	fs.StringVar(&ef.Precision, "precision", "float32", "arithmetic: float32 (as ONNX and PyTorch) or float64")
	fs.IntVar(&ef.BatchSize, "batch-size", 256, "samples per batch (memory, not results)")
	fs.IntVar(&ef.Threads, "threads", 0, "worker threads (0: one per CPU)")
}

// Validate checks the flags before any work.
func (o *evalOptions) Validate() error {
	if err := o.engine.validate("eval"); err != nil {
		return err
	}
	if err := o.data.validate("eval"); err != nil {
		return err
	}
	if o.Original != "" && (o.Forget == "" || o.Test == "") {
		return usageErrorf("eval: --original is for the posterior attack, which needs --forget (members) and --test (non-members)")
	}
	return nil
}

// splitMetrics are a model's accuracy and mean cross-entropy on a set of
// samples.
type splitMetrics struct {
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	Loss     float64 `json:"loss"`
}

// attackMetrics are the scores of one membership-inference attack.
type attackMetrics struct {
	Attack           string  `json:"attack"`
	AUC              float64 `json:"auc"`
	BalancedAccuracy float64 `json:"balanced_accuracy"`
	TPRAt1FPR        float64 `json:"tpr_at_1pct_fpr"`
	Members          int     `json:"members_scored"`
	NonMembers       int     `json:"non_members_scored"`

	roc []audit.ROCPoint
}

func newAttackMetrics(r audit.AttackResult) *attackMetrics {
	return &attackMetrics{Attack: r.Attack, AUC: r.AUC, BalancedAccuracy: r.BalancedAccuracy, TPRAt1FPR: r.TPRAt1FPR,
		Members: r.Members, NonMembers: r.NonMembers, roc: r.ROC}
}

// modelMetrics is everything eval measures about one model. A nil field was
// not measured.
type modelMetrics struct {
	Retained  *splitMetrics `json:"retained,omitempty"`
	Forgotten *splitMetrics `json:"forgotten,omitempty"`
	Test      *splitMetrics `json:"test,omitempty"`
	// MIALoss is the loss-threshold attack; MIAPosterior the posterior
	// attack (on the original's and the model's softmax, or on the model's
	// alone for the original itself).
	MIALoss      *attackMetrics `json:"mia_loss,omitempty"`
	MIAPosterior *attackMetrics `json:"mia_posterior,omitempty"`
}

// evalSet is what models are measured on: the training data split into
// retained and forgotten samples, and optionally a test set, with their
// labels read once.
type evalSet struct {
	train     dataset.Source // shaped to the model's input
	retained  []int          // indices into train
	forgotten []int          // indices into train; nil without a forget set
	test      dataset.Source // shaped to the model's input; nil without one
	classes   int            // the model's output width

	yRetained, yForgotten, yTest []int64
}

// newEvalSet reads the labels of the splits. classes is the model's output
// width; a label outside it is bad input.
func newEvalSet(train dataset.Source, forgotten []int, test dataset.Source, classes int) (*evalSet, error) {
	s := &evalSet{train: train, forgotten: forgotten, test: test, classes: classes,
		retained: retainedIndices(train.Len(), forgotten)}
	var err error
	if s.yRetained, err = readLabels(train, s.retained); err != nil {
		return nil, err
	}
	if len(forgotten) > 0 {
		if s.yForgotten, err = readLabels(train, forgotten); err != nil {
			return nil, err
		}
	}
	if test != nil {
		if s.yTest, err = readLabels(test, nil); err != nil {
			return nil, err
		}
	}
	for _, ys := range [][]int64{s.yRetained, s.yForgotten, s.yTest} {
		for _, y := range ys {
			if y < 0 || int(y) >= classes {
				return nil, badInput(fmt.Errorf("label %d is outside the model's %d outputs", y, classes))
			}
		}
	}
	return s, nil
}

// readLabels reads the labels of samples idx of src (nil: all).
func readLabels(src dataset.Source, idx []int) ([]int64, error) {
	if !dataset.HasLabels(src) {
		return nil, badInput(errors.New("the data has no labels; accuracy and attacks need them"))
	}
	view := src
	if idx != nil {
		view = dataset.Subset(src, idx)
	}
	out := make([]int64, 0, view.Len())
	err := dataset.ForEachBatch(view, dataset.Batches(view.Len(), 4096, nil), func(_ []int, _ []float32, y []int64) error {
		out = append(out, y...)
		return nil
	})
	if err != nil {
		return nil, badInput(err)
	}
	return out, nil
}

// outputWidth returns the width of the model's first output, from a forward
// pass on one sample of data.
func outputWidth(prog *autodiff.Program, data dataset.Source) (int, error) {
	if data.Len() == 0 {
		return 0, badInput(errors.New("the data has no samples"))
	}
	x := make([]float32, numel(data.SampleShape()))
	if err := data.Read([]int{0}, x, nil); err != nil {
		return 0, badInput(err)
	}
	_, shape, err := prog.Forward(x, data.SampleShape(), 1)
	if err != nil {
		return 0, failed(err)
	}
	return numel(shape[1:]), nil
}

// modelOutputs are one model's logits on an evalSet, row-major and classes
// wide. A split that was not evaluated is nil.
type modelOutputs struct {
	retained, forgotten, test []float32
}

// logits evaluates the program's current parameters on samples idx of src
// (nil: all) and returns the logits. A model whose output is a softmax gets
// log-probabilities, which are logits of the same softmax.
func (s *evalSet) logits(ctx context.Context, prog *autodiff.Program, opts autodiff.EvalOptions, src dataset.Source, idx []int) ([]float32, error) {
	n := src.Len()
	if idx != nil {
		n = len(idx)
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]float32, n*s.classes)
	err := prog.Predict(ctx, src, idx, opts, func(first int, o []float32, shape []int) error {
		if w := numel(shape[1:]); w != s.classes {
			return fmt.Errorf("the model has %d outputs per sample, expected %d", w, s.classes)
		}
		copy(out[first*s.classes:], o)
		return nil
	})
	if err != nil {
		return nil, failed(err)
	}
	if prog.FinalSoftmax() {
		for i, p := range out {
			out[i] = float32(math.Log(math.Max(float64(p), math.SmallestNonzeroFloat32)))
		}
	}
	return out, nil
}

// outputs evaluates the program with parameters w (nil: as loaded) on every
// split; withTrain false evaluates the test split alone.
func (s *evalSet) outputs(ctx context.Context, prog *autodiff.Program, w []float64, opts autodiff.EvalOptions, withTrain bool) (*modelOutputs, error) {
	if w != nil {
		if err := prog.SetParams(w); err != nil {
			return nil, failed(err)
		}
	}
	out := &modelOutputs{}
	var err error
	if withTrain {
		if out.retained, err = s.logits(ctx, prog, opts, s.train, s.retained); err != nil {
			return nil, err
		}
		if len(s.forgotten) > 0 {
			if out.forgotten, err = s.logits(ctx, prog, opts, s.train, s.forgotten); err != nil {
				return nil, err
			}
		}
	}
	if s.test != nil {
		if out.test, err = s.logits(ctx, prog, opts, s.test, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// split measures logits against labels.
func (s *evalSet) split(logits []float32, labels []int64) *splitMetrics {
	if len(labels) == 0 {
		return nil
	}
	loss := audit.CrossEntropy(nil, logits, s.classes, labels)
	var sum float64
	for _, l := range loss {
		sum += l
	}
	return &splitMetrics{N: len(labels), Accuracy: audit.Accuracy(logits, s.classes, labels), Loss: sum / float64(len(loss))}
}

// posteriorMode says which posterior attack measure runs.
type posteriorMode int

const (
	noPosterior     posteriorMode = iota
	singlePosterior               // the model's own softmax (for the original)
	pairPosterior                 // the original's and the model's softmax
)

// measure computes every metric of out. The attacks need forgotten and test
// samples; the pair posterior attack needs original.
func (s *evalSet) measure(out, original *modelOutputs, mode posteriorMode, seed uint64) (*modelMetrics, error) {
	m := &modelMetrics{
		Retained:  s.split(out.retained, s.yRetained),
		Forgotten: s.split(out.forgotten, s.yForgotten),
		Test:      s.split(out.test, s.yTest),
	}
	if out.forgotten == nil || out.test == nil {
		return m, nil
	}
	opts := &audit.AttackOptions{Seed: seed}
	lf := audit.CrossEntropy(nil, out.forgotten, s.classes, s.yForgotten)
	lt := audit.CrossEntropy(nil, out.test, s.classes, s.yTest)
	r, err := audit.LossThresholdAttack(lf, lt, opts)
	if err != nil {
		return nil, attackError(err)
	}
	m.MIALoss = newAttackMetrics(r)
	var members, nonMembers audit.Posteriors
	switch mode {
	case noPosterior:
		return m, nil
	case singlePosterior:
		members.Original = audit.Softmax(nil, out.forgotten, s.classes)
		nonMembers.Original = audit.Softmax(nil, out.test, s.classes)
	case pairPosterior:
		members = audit.Posteriors{Original: audit.Softmax(nil, original.forgotten, s.classes), Unlearned: audit.Softmax(nil, out.forgotten, s.classes)}
		nonMembers = audit.Posteriors{Original: audit.Softmax(nil, original.test, s.classes), Unlearned: audit.Softmax(nil, out.test, s.classes)}
	}
	if r, err = posteriorAttack(members, nonMembers, s.classes, seed); err != nil {
		return nil, attackError(err)
	}
	m.MIAPosterior = newAttackMetrics(r)
	return m, nil
}

// posteriorAttack runs audit.PosteriorAttack. Its logistic regression stops
// at a gradient max-norm of 1e-9 by default, which rounding can keep out of
// reach when features are nearly collinear (two almost equal softmax
// vectors, as for a model close to the original): the fit then ends a hair
// above the tolerance, e.g. at 1.5e-9, with ErrNotConverged. On that error
// the attack is refitted with a tolerance of 1e-6 on the mean objective's
// gradient, far below what changes a score's ranking, and more iterations.
func posteriorAttack(members, nonMembers audit.Posteriors, classes int, seed uint64) (audit.AttackResult, error) {
	r, err := audit.PosteriorAttack(members, nonMembers, classes, &audit.AttackOptions{Seed: seed})
	if errors.Is(err, audit.ErrNotConverged) {
		r, err = audit.PosteriorAttack(members, nonMembers, classes, &audit.AttackOptions{Seed: seed,
			Logistic: audit.LogisticOptions{Tolerance: 1e-6, MaxIterations: 500}})
	}
	return r, err
}

// attackError classifies an attack's error: too few samples is the user's
// input, anything else a failure.
func attackError(err error) error {
	if errors.Is(err, audit.ErrTooFewSamples) {
		return badInput(fmt.Errorf("membership inference: %w (the attacks fit on one half of the forgotten and test samples and score the other)", err))
	}
	return failed(err)
}

// evalReport is the --json output of eval.
type evalReport struct {
	Model    string `json:"model"`
	Original string `json:"original,omitempty"`
	Data     string `json:"data"`
	Forget   string `json:"forget_set,omitempty"`
	TestSet  string `json:"test_set,omitempty"`
	Classes  int    `json:"classes"`
	modelMetrics
	AttackSeed uint64  `json:"attack_seed"`
	Seconds    float64 `json:"seconds"`
}

func runEval(ctx context.Context, o *evalOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	started := time.Now()
	ws, err := loadWorkspace(o.Model, &o.engine, &o.data)
	if err != nil {
		return err
	}
	defer ws.close()
	var forgotten []int
	if o.Forget != "" {
		f, err := dataset.ParseForget(o.Forget, ws.data)
		if err != nil {
			return badInput(err)
		}
		forgotten = f.Indices
	}
	var test dataset.Source
	if o.Test != "" {
		tf := o.data
		tf.Data, tf.X, tf.Y = o.Test, "", ""
		src, err := tf.open()
		if err != nil {
			return badInput(err)
		}
		defer dataset.Close(src)
		if test, err = fitData(ws.model, o.Model, src, o.Test); err != nil {
			return err
		}
	}
	classes, err := outputWidth(ws.prog, ws.data)
	if err != nil {
		return err
	}
	set, err := newEvalSet(ws.data, forgotten, test, classes)
	if err != nil {
		return err
	}
	p := o.global.progress(o.io, "evaluating "+o.Model, 0)
	out, err := set.outputs(ctx, ws.prog, nil, ws.eval, true)
	if err != nil {
		return err
	}
	mode := noPosterior
	var orig *modelOutputs
	if o.Original != "" {
		if orig, err = o.originalOutputs(ctx, set, ws.eval); err != nil {
			return err
		}
		mode = pairPosterior
	}
	m, err := set.measure(out, orig, mode, o.AttackSeed)
	if err != nil {
		return err
	}
	p.done("")
	r := evalReport{Model: o.Model, Original: o.Original, Data: o.data.name(), Forget: o.Forget, TestSet: o.Test,
		Classes: classes, modelMetrics: *m, AttackSeed: o.AttackSeed, Seconds: time.Since(started).Seconds()}
	if o.global.JSON {
		return o.io.writeJSON(r)
	}
	printEvalReport(o.io.Out, &r)
	return nil
}

// originalOutputs loads --original and evaluates it on the forgotten and
// test samples. It must take the same input and give as many outputs.
func (o *evalOptions) originalOutputs(ctx context.Context, set *evalSet, opts autodiff.EvalOptions) (*modelOutputs, error) {
	m, err := onnxio.Load(o.Original)
	if err != nil {
		return nil, badInput(err)
	}
	prec, _ := autodiff.ParsePrecision(o.engine.Precision)
	prog, err := autodiff.Compile(m, autodiff.Options{Precision: prec})
	if err != nil {
		return nil, badInput(fmt.Errorf("%s: %w", o.Original, err))
	}
	train, err := fitData(m, o.Original, set.train, o.data.name())
	if err != nil {
		return nil, err
	}
	test, err := fitData(m, o.Original, set.test, o.Test)
	if err != nil {
		return nil, err
	}
	width, err := outputWidth(prog, train)
	if err != nil {
		return nil, err
	}
	if width != set.classes {
		return nil, badInput(fmt.Errorf("--original %s has %d outputs per sample, %s has %d", o.Original, width, o.Model, set.classes))
	}
	out := &modelOutputs{}
	if out.forgotten, err = set.logits(ctx, prog, opts, train, set.forgotten); err != nil {
		return nil, err
	}
	if out.test, err = set.logits(ctx, prog, opts, test, nil); err != nil {
		return nil, err
	}
	return out, nil
}

func printEvalReport(w io.Writer, r *evalReport) {
	fmt.Fprintf(w, "%s on %s", r.Model, r.Data)
	if r.Forget != "" {
		fmt.Fprintf(w, ", forgetting %s", r.Forget)
	}
	if r.TestSet != "" {
		fmt.Fprintf(w, ", test %s", r.TestSet)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %-10s %8s %9s %10s\n", "samples", "n", "accuracy", "mean loss")
	for _, s := range []struct {
		name string
		m    *splitMetrics
	}{{"retained", r.Retained}, {"forgotten", r.Forgotten}, {"test", r.Test}} {
		if s.m != nil {
			fmt.Fprintf(w, "  %-10s %8d %8.2f%% %10.4f\n", s.name, s.m.N, 100*s.m.Accuracy, s.m.Loss)
		}
	}
	if r.MIALoss == nil {
		fmt.Fprintln(w, "membership inference: skipped (needs --forget and --test)")
		return
	}
	fmt.Fprintln(w, "membership inference (members: forgotten samples; non-members: test samples; 0.5 is chance):")
	fmt.Fprintf(w, "  %-22s %6s %10s %10s %8s\n", "attack", "AUC", "bal. acc.", "TPR@1%FPR", "scored")
	for _, a := range []*attackMetrics{r.MIALoss, r.MIAPosterior} {
		if a != nil {
			fmt.Fprintf(w, "  %-22s %6.3f %10.3f %10.3f %8s\n", a.Attack, a.AUC, a.BalancedAccuracy, a.TPRAt1FPR, fmt.Sprintf("%d+%d", a.Members, a.NonMembers))
		}
	}
	if r.MIAPosterior == nil {
		fmt.Fprintln(w, "  (give --original for the posterior attack of Chen et al.)")
	}
}
