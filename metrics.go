package lethe

import (
	"errors"
	"fmt"

	"github.com/lethe-ml/lethe/audit"
)

// SplitMetrics are a model's accuracy and mean cross-entropy on a set of
// samples.
type SplitMetrics struct {
	// N counts the samples, Accuracy is the fraction classified correctly and
	// Loss the mean cross-entropy.
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	Loss     float64 `json:"loss"`
}

// AttackMetrics are the scores of one membership-inference attack that
// tries to tell the forgotten samples (members) from test samples
// (non-members): AUC 0.5 is chance.
type AttackMetrics struct {
	// Attack names the attack (audit.AttackLoss, audit.AttackUnlearning).
	Attack string `json:"attack"`
	// AUC is the area under the ROC curve, BalancedAccuracy that of the
	// decision rule fitted on the other half, TPRAt1FPR the true-positive rate
	// at a 1% false-positive rate (see audit.AttackResult).
	AUC              float64 `json:"auc"`
	BalancedAccuracy float64 `json:"balanced_accuracy"`
	TPRAt1FPR        float64 `json:"tpr_at_1pct_fpr"`
	// Members and NonMembers count the scored samples of each class.
	Members    int `json:"members_scored"`
	NonMembers int `json:"non_members_scored"`
	// ROC is the curve on the scored half, for plots.
	ROC []audit.ROCPoint `json:"-"`
}

func newAttackMetrics(r audit.AttackResult) *AttackMetrics {
	return &AttackMetrics{Attack: r.Attack, AUC: r.AUC, BalancedAccuracy: r.BalancedAccuracy, TPRAt1FPR: r.TPRAt1FPR,
		Members: r.Members, NonMembers: r.NonMembers, ROC: r.ROC}
}

// Metrics is everything an Evaluator measures about one model. A nil field
// was not measured.
type Metrics struct {
	// Retained, Forgotten and Test are the model's accuracy and loss on each
	// split.
	Retained  *SplitMetrics `json:"retained,omitempty"`
	Forgotten *SplitMetrics `json:"forgotten,omitempty"`
	Test      *SplitMetrics `json:"test,omitempty"`
	// Canaries are the accuracy on the canaries' (wrong) labels and the
	// mean loss against them: a model that memorised the canaries scores
	// high accuracy and low loss, one that never saw them (a retrain
	// without them) low accuracy and high loss.
	Canaries *SplitMetrics `json:"canaries,omitempty"`
	// MIALoss is the loss-threshold attack; MIAPosterior the posterior
	// attack of Chen et al. (CCS 2021) on the original's and the model's
	// softmax outputs (on the original's alone for the original itself).
	MIALoss      *AttackMetrics `json:"mia_loss,omitempty"`
	MIAPosterior *AttackMetrics `json:"mia_posterior,omitempty"`
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

// attackError classifies an attack's error: too few samples is the
// input's fault, anything else a failure.
func attackError(err error) error {
	if errors.Is(err, audit.ErrTooFewSamples) {
		return badField("Forget", "membership inference: %w (the attacks fit on one half of the forgotten and test samples and score the other)", err)
	}
	return fmt.Errorf("lethe: membership inference: %w", err)
}
