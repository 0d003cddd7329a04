package lethe

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/lethe-ml/lethe/audit"
	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
)

// Evaluator measures models on fixed splits of their data: the retained
// and forgotten training samples and a test set, with the labels read once.
// It measures the model it was created for with any parameter vector (the
// original, a retrained model, a certified release, the noise-free step,
// a baseline), so that every row of a comparison is measured the same way.
//
// An Evaluator is not safe for concurrent use. Close releases its files.
type Evaluator struct {
	ws        *workspace
	eval      autodiff.EvalOptions
	retained  []int          // indices into ws.data
	forgotten []int          // indices into ws.data; nil without a forget set
	canaries  []int          // indices into ws.data; nil without canaries
	test      dataset.Source // shaped to the model's input; nil without one
	closeTest func()
	classes   int
	seed      uint64
	w0        []float64

	yRetained, yForgotten, yTest, yCanaries []int64
	original                                *outputs // the reference of the posterior attack, or nil
	originalPath                            string
}

// outputs are one model's logits on the splits, row-major and classes
// wide. A split that was not evaluated is nil.
type outputs struct {
	retained, forgotten, test, canaries []float32
}

// NewEvaluator loads the model and its data as Evaluate does: Model, Data,
// Forget, Test, Original, AttackSeed and Engine are read (the loss is
// always the cross-entropy of the model's output). With Original the
// posterior attack compares each measured model with it.
func NewEvaluator(ctx context.Context, req EvalRequest) (*Evaluator, error) {
	if req.Model == "" {
		return nil, badField("Model", "no model given")
	}
	if err := req.Engine.validate("Engine"); err != nil {
		return nil, err
	}
	if req.Original != "" && (req.Forget.IsZero() || req.Test.IsZero()) {
		return nil, badField("Original", "the posterior attack needs Forget (members) and Test (non-members)")
	}
	ws, err := load(req.Model, req.Engine, req.Data, "Data")
	if err != nil {
		return nil, err
	}
	e := &Evaluator{ws: ws, eval: req.Engine.evalOptions(autodiff.CrossEntropy), seed: req.AttackSeed, closeTest: func() {}}
	if err := e.init(ctx, req); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Evaluator) init(ctx context.Context, req EvalRequest) error {
	ws := e.ws
	var err error
	if e.w0, err = ws.params(); err != nil {
		return err
	}
	if !req.Forget.IsZero() {
		f, err := req.Forget.resolve("Forget", ws.data)
		if err != nil {
			return err
		}
		e.forgotten = f.Indices
	}
	e.retained = retainedIndices(ws.data.Len(), e.forgotten)
	if !req.Canaries.IsZero() {
		f, err := req.Canaries.resolve("Canaries", ws.data)
		if err != nil {
			return err
		}
		e.canaries = f.Indices
	}
	if !req.Test.IsZero() {
		src, closeSrc, err := req.Test.open("Test")
		if err != nil {
			return err
		}
		e.closeTest = closeSrc
		if e.test, err = fitData(ws.model, req.Model, src, req.Test.String()); err != nil {
			return err
		}
	}
	if e.classes, err = outputWidth(ws.prog, ws.data); err != nil {
		return err
	}
	if e.yRetained, err = e.labels(ws.data, e.retained, "Data", ws.name); err != nil {
		return err
	}
	if len(e.forgotten) > 0 {
		if e.yForgotten, err = e.labels(ws.data, e.forgotten, "Data", ws.name); err != nil {
			return err
		}
	}
	if e.test != nil {
		if e.yTest, err = e.labels(e.test, nil, "Test", req.Test.String()); err != nil {
			return err
		}
	}
	if len(e.canaries) > 0 {
		if e.yCanaries, err = e.labels(ws.data, e.canaries, "Canaries", ws.name); err != nil {
			return err
		}
	}
	if req.Original != "" {
		e.originalPath = req.Original
		if e.original, err = e.outputsOf(ctx, req.Original, req.Engine); err != nil {
			return err
		}
	}
	return nil
}

// labels reads the labels of samples idx of src (nil: all), checking that
// each is a class of the model's output.
func (e *Evaluator) labels(src dataset.Source, idx []int, field, name string) ([]int64, error) {
	if err := requireLabels(src, name, field); err != nil {
		return nil, err
	}
	if err := checkLabels(src, name, field, e.classes); err != nil {
		return nil, err
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
		return nil, badInput(field, err)
	}
	return out, nil
}

// Close releases the data files the Evaluator opened.
func (e *Evaluator) Close() error {
	e.closeTest()
	e.ws.close()
	return nil
}

// Params returns a copy of the model's own parameters, in lethe's
// parameter order (DESIGN.md §2).
func (e *Evaluator) Params() []float64 { return slices.Clone(e.w0) }

// Classes is the width of the model's output.
func (e *Evaluator) Classes() int { return e.classes }

// Sizes returns the number of retained, forgotten and test samples.
func (e *Evaluator) Sizes() (retained, forgotten, test int) {
	if e.test != nil {
		test = e.test.Len()
	}
	return len(e.retained), len(e.forgotten), test
}

// Measure measures the model with parameters w (nil: its own): accuracy
// and mean loss on every split, and, with forgotten and test samples, the
// loss-threshold attack and (with an Original) the posterior attack against
// the original.
func (e *Evaluator) Measure(ctx context.Context, w []float64) (*Metrics, error) {
	out, err := e.outputs(ctx, w, true)
	if err != nil {
		return nil, err
	}
	return e.measure(out, e.original != nil, false)
}

// MeasureOriginal measures the Original model itself; its posterior attack
// uses its own softmax outputs alone. It needs an Original.
func (e *Evaluator) MeasureOriginal(ctx context.Context) (*Metrics, error) {
	if e.original == nil {
		return nil, badField("Original", "no original model given")
	}
	if e.original.retained == nil {
		m, prog, err := loadModel(e.originalPath, Engine{Precision: e.ws.prog.Precision()})
		if err != nil {
			return nil, err
		}
		train, err := fitData(m, e.originalPath, e.ws.data, e.ws.name)
		if err != nil {
			return nil, err
		}
		if e.original.retained, err = e.logits(ctx, prog, train, e.retained); err != nil {
			return nil, err
		}
		if len(e.canaries) > 0 {
			if e.original.canaries, err = e.logits(ctx, prog, train, e.canaries); err != nil {
				return nil, err
			}
		}
	}
	return e.measure(e.original, true, true)
}

// TestAccuracy is the accuracy of the model with parameters w (nil: its
// own) on the test samples.
func (e *Evaluator) TestAccuracy(ctx context.Context, w []float64) (float64, error) {
	if e.test == nil {
		return 0, badField("Test", "no test data given")
	}
	out, err := e.outputs(ctx, w, false)
	if err != nil {
		return 0, err
	}
	return audit.Accuracy(out.test, e.classes, e.yTest), nil
}

// outputs evaluates the program with parameters w (nil: as loaded) on every
// split; withTrain false evaluates the test split alone.
func (e *Evaluator) outputs(ctx context.Context, w []float64, withTrain bool) (*outputs, error) {
	if w == nil {
		w = e.w0
	}
	if len(w) != e.ws.prog.Dim() {
		return nil, badField("Params", "%d parameters given; the model has %d", len(w), e.ws.prog.Dim())
	}
	if err := e.ws.prog.SetParams(w); err != nil {
		return nil, fmt.Errorf("lethe: evaluate: %w", err)
	}
	out := &outputs{}
	var err error
	if withTrain {
		if out.retained, err = e.logits(ctx, e.ws.prog, e.ws.data, e.retained); err != nil {
			return nil, err
		}
		if len(e.forgotten) > 0 {
			if out.forgotten, err = e.logits(ctx, e.ws.prog, e.ws.data, e.forgotten); err != nil {
				return nil, err
			}
		}
		if len(e.canaries) > 0 {
			if out.canaries, err = e.logits(ctx, e.ws.prog, e.ws.data, e.canaries); err != nil {
				return nil, err
			}
		}
	}
	if e.test != nil {
		if out.test, err = e.logits(ctx, e.ws.prog, e.test, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// outputsOf loads another model with the same input and output width and
// evaluates it on the forgotten and test samples.
func (e *Evaluator) outputsOf(ctx context.Context, path string, eng Engine) (*outputs, error) {
	m, prog, err := loadModel(path, Engine{Precision: eng.Precision})
	if err != nil {
		return nil, badInput("Original", err)
	}
	train, err := fitData(m, path, e.ws.data, e.ws.name)
	if err != nil {
		return nil, err
	}
	test, err := fitData(m, path, e.test, "the test data")
	if err != nil {
		return nil, err
	}
	width, err := outputWidth(prog, train)
	if err != nil {
		return nil, err
	}
	if width != e.classes {
		return nil, badField("Original", "%s has %d outputs per sample, %s has %d", path, width, e.ws.path, e.classes)
	}
	out := &outputs{}
	if out.forgotten, err = e.logits(ctx, prog, train, e.forgotten); err != nil {
		return nil, err
	}
	if out.test, err = e.logits(ctx, prog, test, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// logits evaluates prog's current parameters on samples idx of src (nil:
// all). A model whose output is a softmax gets log-probabilities, which are
// logits of the same softmax.
func (e *Evaluator) logits(ctx context.Context, prog *autodiff.Program, src dataset.Source, idx []int) ([]float32, error) {
	n := src.Len()
	if idx != nil {
		n = len(idx)
	}
	if n == 0 {
		return nil, nil
	}
	k := e.classes
	out := make([]float32, n*k)
	err := prog.Predict(ctx, checked{src}, idx, e.eval, func(first int, o []float32, shape []int) error {
		if w := numel(shape[1:]); w != k {
			return fmt.Errorf("the model has %d outputs per sample, expected %d", w, k)
		}
		copy(out[first*k:], o)
		return nil
	})
	if err != nil {
		return nil, wrapf("evaluate", classify("Data", err))
	}
	if prog.FinalSoftmax() {
		for i, p := range out {
			out[i] = float32(math.Log(math.Max(float64(p), math.SmallestNonzeroFloat32)))
		}
	}
	return out, nil
}

// split measures logits against labels.
func (e *Evaluator) split(logits []float32, labels []int64) *SplitMetrics {
	if len(labels) == 0 {
		return nil
	}
	loss := audit.CrossEntropy(nil, logits, e.classes, labels)
	var sum float64
	for _, l := range loss {
		sum += l
	}
	return &SplitMetrics{N: len(labels), Accuracy: audit.Accuracy(logits, e.classes, labels), Loss: sum / float64(len(loss))}
}

// measure computes every metric of out. The attacks need forgotten and test
// samples; the posterior attack runs when posterior is set, on the
// original's and out's softmax, or on out's alone when self is set.
func (e *Evaluator) measure(out *outputs, posterior, self bool) (*Metrics, error) {
	m := &Metrics{
		Retained:  e.split(out.retained, e.yRetained),
		Forgotten: e.split(out.forgotten, e.yForgotten),
		Test:      e.split(out.test, e.yTest),
		Canaries:  e.split(out.canaries, e.yCanaries),
	}
	if out.forgotten == nil || out.test == nil {
		return m, nil
	}
	k := e.classes
	opts := &audit.AttackOptions{Seed: e.seed}
	lf := audit.CrossEntropy(nil, out.forgotten, k, e.yForgotten)
	lt := audit.CrossEntropy(nil, out.test, k, e.yTest)
	r, err := audit.LossThresholdAttack(lf, lt, opts)
	if err != nil {
		return nil, attackError(err)
	}
	m.MIALoss = newAttackMetrics(r)
	if !posterior {
		return m, nil
	}
	var members, nonMembers audit.Posteriors
	if self {
		members.Original = audit.Softmax(nil, out.forgotten, k)
		nonMembers.Original = audit.Softmax(nil, out.test, k)
	} else {
		o := e.original
		members = audit.Posteriors{Original: audit.Softmax(nil, o.forgotten, k), Unlearned: audit.Softmax(nil, out.forgotten, k)}
		nonMembers = audit.Posteriors{Original: audit.Softmax(nil, o.test, k), Unlearned: audit.Softmax(nil, out.test, k)}
	}
	if r, err = posteriorAttack(members, nonMembers, k, e.seed); err != nil {
		return nil, attackError(err)
	}
	m.MIAPosterior = newAttackMetrics(r)
	return m, nil
}
