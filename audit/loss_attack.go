package audit

// LossThresholdAttack runs the loss-threshold membership-inference attack
// (Yeom et al., 2018): a sample is flagged as a member when its loss is
// below a threshold, because training drives the loss of its own samples
// down. memberLoss holds the per-sample losses (e.g. CrossEntropy) of the
// members, the forgotten samples, and nonMemberLoss those of non-members,
// samples the model never trained on (the test set), both under the model
// being audited.
//
// The score is −loss. The classes are balanced by subsampling the larger
// one, each is split into a fitting and a scoring part (see AttackOptions),
// the threshold is chosen on the fitting part to maximise balanced accuracy
// (FitThreshold), and AUC, balanced accuracy at that threshold and TPR at 1%
// FPR are measured on the scoring part. A model that forgot its members
// scores AUC ≈ 0.5. Infinite losses are allowed (they score −Inf); NaN
// losses are ErrInvalidInput, fewer than 2 samples in a group
// ErrTooFewSamples.
func LossThresholdAttack(memberLoss, nonMemberLoss []float64, opts *AttackOptions) (AttackResult, error) {
	if err := checkNotNaN(AttackLoss, "memberLoss", memberLoss); err != nil {
		return AttackResult{}, err
	}
	if err := checkNotNaN(AttackLoss, "nonMemberLoss", nonMemberLoss); err != nil {
		return AttackResult{}, err
	}
	fitM, scoreM, fitN, scoreN, err := balancedSplit(AttackLoss, len(memberLoss), len(nonMemberLoss), opts.fitFraction(), opts.seed())
	if err != nil {
		return AttackResult{}, err
	}
	neg := func(loss []float64, idx []int) []float64 {
		out := make([]float64, len(idx))
		for k, i := range idx {
			out[k] = -loss[i]
		}
		return out
	}
	threshold, _ := FitThreshold(neg(memberLoss, fitM), neg(nonMemberLoss, fitN))
	return score(AttackLoss, neg(memberLoss, scoreM), neg(nonMemberLoss, scoreN), threshold), nil
}
