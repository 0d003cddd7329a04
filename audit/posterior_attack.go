package audit

import (
	"fmt"
	"slices"
)

// Posteriors holds the softmax outputs (see Softmax) of one group of samples,
// members or non-members, each a row-major N×classes matrix.
type Posteriors struct {
	// Original holds the original model's probabilities.
	Original []float64
	// Unlearned holds the unlearned model's probabilities for the same
	// samples in the same order, or nil for a single-model attack.
	Unlearned []float64
}

// SortedPosteriors writes the attack features of the rows of ref (row-major
// N×classes probabilities) into dst and returns it: for each row, the
// permutation that sorts ref's row in descending order (ties keep class
// order) is applied to that row and then to the same row of every matrix in
// others, and the results are concatenated, giving N rows of
// classes·(1+len(others)) features. Sorting removes the class identity,
// which would otherwise let the attack model learn labels instead of
// membership; sorting every model by the same (original) order keeps the
// per-class change that unlearning made visible.
//
// If dst is nil a new slice is allocated; otherwise it must have the length
// of the result. It panics when classes does not divide len(ref) or a matrix
// in others has a different length.
func SortedPosteriors(dst []float64, classes int, ref []float64, others ...[]float64) []float64 {
	n := rowCount(len(ref), classes)
	for _, o := range others {
		if len(o) != len(ref) {
			panic(fmt.Sprintf("audit: dimension mismatch: %d and %d probabilities", len(o), len(ref)))
		}
	}
	width := classes * (1 + len(others))
	dst = checkDst(dst, n*width)
	order := make([]int, classes)
	for i := range n {
		row := ref[i*classes : (i+1)*classes]
		for j := range order {
			order[j] = j
		}
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case row[a] > row[b]:
				return -1
			case row[a] < row[b]:
				return 1
			}
			return 0
		})
		out := dst[i*width : (i+1)*width]
		for m, src := range append([][]float64{ref}, others...) {
			srow := src[i*classes : (i+1)*classes]
			for j, c := range order {
				out[m*classes+j] = srow[c]
			}
		}
	}
	return dst
}

// PosteriorAttack runs a membership-inference attack whose attack model is
// a logistic regression (FitLogistic) on sorted softmax vectors.
//
// When members and nonMembers carry Unlearned probabilities it is the
// attack of Chen et al., "When Machine Unlearning Jeopardizes Privacy" (CCS
// 2021), as used by Zhang et al. (ICML 2024) to audit certified unlearning:
// the features of a sample are the original model's softmax vector and the
// unlearned model's softmax vector, both sorted by the original's
// descending order and concatenated (2·classes features, see
// SortedPosteriors). It asks whether the pair of models gives away which
// samples were deleted: members are the forgotten samples, non-members
// unseen (test) samples. With Original only it is the classic single-model
// attack on that model's sorted softmax (classes features), e.g. original
// model versus test samples, or unlearned model versus test samples.
//
// The classes are balanced and split as in LossThresholdAttack; the
// logistic regression is fitted on the fitting part and the scoring part is
// scored with its log-odds. The balanced accuracy is that of the fitted
// classifier's own rule (member when P ≥ ½, i.e. log-odds ≥ 0), which is
// calibrated because both classes are equally large in the fit.
//
// It returns ErrInvalidInput when classes is not positive or does not divide
// the data, when only one of the groups carries Unlearned, when Unlearned and
// Original differ in length, or for NaN probabilities; ErrTooFewSamples and
// ErrNotConverged as LossThresholdAttack and FitLogistic.
func PosteriorAttack(members, nonMembers Posteriors, classes int, opts *AttackOptions) (AttackResult, error) {
	name := AttackPosterior
	pair := members.Unlearned != nil
	if pair {
		name = AttackUnlearning
	}
	if err := checkPosteriors(name, members, nonMembers, classes); err != nil {
		return AttackResult{}, err
	}
	features := func(p Posteriors) []float64 {
		if pair {
			return SortedPosteriors(nil, classes, p.Original, p.Unlearned)
		}
		return SortedPosteriors(nil, classes, p.Original)
	}
	fm, fn := features(members), features(nonMembers)
	width := classes
	if pair {
		width *= 2
	}
	fitM, scoreM, fitN, scoreN, err := balancedSplit(name, len(fm)/width, len(fn)/width, opts.fitFraction(), opts.seed())
	if err != nil {
		return AttackResult{}, err
	}
	x := append(gather(fm, width, fitM), gather(fn, width, fitN)...)
	y := make([]bool, len(fitM)+len(fitN))
	for i := range fitM {
		y[i] = true
	}
	model, err := FitLogistic(x, width, y, opts.logistic())
	if err != nil {
		return AttackResult{}, fmt.Errorf("audit: %s attack: %w", name, err)
	}
	sm := model.Decision(nil, gather(fm, width, scoreM))
	sn := model.Decision(nil, gather(fn, width, scoreN))
	return score(name, sm, sn, 0), nil
}

// checkPosteriors validates the inputs of PosteriorAttack.
func checkPosteriors(name string, members, nonMembers Posteriors, classes int) error {
	if classes <= 0 {
		return fmt.Errorf("%w: %s attack: classes must be positive, got %d", ErrInvalidInput, name, classes)
	}
	if (members.Unlearned == nil) != (nonMembers.Unlearned == nil) {
		return fmt.Errorf("%w: %s attack: Unlearned is given for only one of members and non-members", ErrInvalidInput, name)
	}
	for _, g := range []struct {
		what string
		p    Posteriors
	}{{"members", members}, {"nonMembers", nonMembers}} {
		if len(g.p.Original)%classes != 0 {
			return fmt.Errorf("%w: %s attack: %s has %d probabilities, not rows of %d classes",
				ErrInvalidInput, name, g.what, len(g.p.Original), classes)
		}
		if g.p.Unlearned != nil && len(g.p.Unlearned) != len(g.p.Original) {
			return fmt.Errorf("%w: %s attack: %s has %d original and %d unlearned probabilities",
				ErrInvalidInput, name, g.what, len(g.p.Original), len(g.p.Unlearned))
		}
		if err := checkNotNaN(name, g.what+".Original", g.p.Original); err != nil {
			return err
		}
		if err := checkNotNaN(name, g.what+".Unlearned", g.p.Unlearned); err != nil {
			return err
		}
	}
	return nil
}
