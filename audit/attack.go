package audit

import (
	"fmt"
	"math"
)

// Names of the attacks, as they appear in AttackResult.Attack.
const (
	// AttackLoss is LossThresholdAttack.
	AttackLoss = "loss-threshold"
	// AttackPosterior is PosteriorAttack on one model's sorted softmax.
	AttackPosterior = "posterior"
	// AttackUnlearning is PosteriorAttack on the original and the unlearned
	// model's softmax together (Chen et al.).
	AttackUnlearning = "unlearning-posterior"
)

// LowFPR is the false-positive rate at which AttackResult.TPRAt1FPR is read
// off the ROC curve (see TPRAtFPR).
const LowFPR = 0.01

// AttackOptions configures the membership-inference attacks. The zero value
// is the default.
type AttackOptions struct {
	// Seed determines the subsampling of the larger group and the split into
	// fitting and scoring parts. Every seed, zero included, is valid; the
	// same seed and inputs give the same result.
	Seed uint64

	// FitFraction is the share of each (balanced) class used to fit the
	// attack; the rest is scored. Zero means 0.5, the "fit on one half, score
	// on the other" protocol. Values outside (0, 1) are clamped so that both
	// parts keep at least one sample of each class.
	FitFraction float64

	// Logistic configures the attack model of PosteriorAttack.
	Logistic LogisticOptions
}

func (o *AttackOptions) seed() uint64 {
	if o == nil {
		return 0
	}
	return o.Seed
}

func (o *AttackOptions) fitFraction() float64 {
	if o == nil || o.FitFraction == 0 || math.IsNaN(o.FitFraction) {
		return 0.5
	}
	return o.FitFraction
}

func (o *AttackOptions) logistic() *LogisticOptions {
	if o == nil {
		return nil
	}
	return &o.Logistic
}

// AttackResult is what a membership-inference attack achieved on the
// scoring part of the samples, members (forgotten samples) being the
// positive class. An attack that cannot tell members from non-members has
// AUC ≈ 0.5, BalancedAccuracy ≈ 0.5 and TPRAt1FPR ≈ 0.01.
type AttackResult struct {
	// Attack names the attack (AttackLoss, AttackPosterior,
	// AttackUnlearning).
	Attack string

	// AUC is the area under ROC; BalancedAccuracy the balanced accuracy of
	// the decision rule fitted on the fitting part; TPRAt1FPR the
	// conservative TPR at LowFPR (see TPRAtFPR).
	AUC, BalancedAccuracy, TPRAt1FPR float64

	// ROC is the curve of the scoring part, for plotting.
	ROC []ROCPoint

	// Members and NonMembers count the scored samples of each class (equal
	// by construction).
	Members, NonMembers int
}

// score evaluates membership scores of the scoring part (higher = member)
// with a decision threshold fitted beforehand.
func score(name string, members, nonMembers []float64, threshold float64) AttackResult {
	roc := ROC(members, nonMembers)
	return AttackResult{
		Attack:           name,
		AUC:              AUC(roc),
		BalancedAccuracy: BalancedAccuracy(members, nonMembers, threshold),
		TPRAt1FPR:        TPRAtFPR(roc, LowFPR),
		ROC:              roc,
		Members:          len(members),
		NonMembers:       len(nonMembers),
	}
}

// checkNotNaN returns ErrInvalidInput naming the attack and the input when
// s holds a NaN.
func checkNotNaN(attack, what string, s []float64) error {
	for i, v := range s {
		if math.IsNaN(v) {
			return fmt.Errorf("%w: %s attack: %s[%d] is NaN", ErrInvalidInput, attack, what, i)
		}
	}
	return nil
}
