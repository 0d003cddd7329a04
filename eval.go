package lethe

import (
	"context"
	"time"
)

// EvalRequest asks what a model knows about its training samples
// (`lethe eval`): its accuracy on the retained, forgotten and test samples
// and how well membership-inference attacks tell the forgotten samples from
// test samples. Model and Data are required; the zero value of every other
// field is the documented default.
type EvalRequest struct {
	// Model is the ONNX file to measure.
	Model string
	// Data is its training data.
	Data Data
	// Forget names the forgotten samples of Data; without it every sample
	// counts as retained and no attack runs.
	Forget Subset
	// Test is held-out data (the attacks' non-members); without it no
	// attack runs.
	Test Data
	// Canaries names samples of Data that carry deliberately wrong labels
	// (usually inside Forget): Metrics.Canaries is the accuracy on those
	// labels and the mean loss, which show how much a model memorised them.
	Canaries Subset
	// Original is the model before unlearning. With it the posterior
	// attack of Chen et al. (CCS 2021) runs on the original's and Model's
	// softmax outputs; it needs Forget and Test.
	Original string
	// AttackSeed seeds the attacks' subsampling and fit/score split.
	AttackSeed uint64
	// Engine configures lethe's engine (its loss is always the
	// cross-entropy of the model's output).
	Engine Engine
	// Progress, when not nil, receives progress events.
	Progress func(Event)
}

// EvalReport is what Evaluate measured. Its JSON encoding is the output of
// `lethe eval --json` (schemas/eval.schema.json).
type EvalReport struct {
	// Model, Original, Data, Forget (its file) and TestSet are the
	// request's, the data as messages name them.
	Model    string `json:"model"`
	Original string `json:"original,omitempty"`
	Data     string `json:"data"`
	Forget   string `json:"forget_set,omitempty"`
	TestSet  string `json:"test_set,omitempty"`
	// Classes is the width of the model's output.
	Classes int `json:"classes"`
	Metrics
	// AttackSeed is the request's.
	AttackSeed uint64 `json:"attack_seed"`
	// Seconds is the whole call's time.
	Seconds float64 `json:"seconds"`
}

// Evaluate measures Model's accuracy and mean cross-entropy on the retained
// samples of Data (all of them without Forget), on the forgotten samples and
// on Test, and, with Forget and Test, the membership-inference attacks:
// the loss-threshold attack and, with Original, the posterior attack. The
// classes are balanced by subsampling, each attack is fitted on one half and
// scored on the other.
func Evaluate(ctx context.Context, req EvalRequest) (*EvalReport, error) {
	started := time.Now()
	e, err := NewEvaluator(ctx, req)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	st := newReporter(req.Progress).start("evaluating "+req.Model, 0)
	m, err := e.Measure(ctx, nil)
	if err != nil {
		return nil, err
	}
	st.done("")
	r := &EvalReport{Model: req.Model, Original: req.Original, Data: req.Data.String(), Forget: req.Forget.File,
		Classes: e.classes, Metrics: *m, AttackSeed: req.AttackSeed, Seconds: time.Since(started).Seconds()}
	if !req.Test.IsZero() {
		r.TestSet = req.Test.String()
	}
	return r, nil
}
