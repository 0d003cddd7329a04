package audit

import (
	"math"
	"slices"
)

// ROCPoint is one point of a receiver operating characteristic curve: the
// false- and true-positive rates of the rule "flag a sample as a member
// (positive) when its score is ≥ Threshold".
type ROCPoint struct {
	FPR, TPR  float64
	Threshold float64
}

// ROC returns the ROC curve of scores where higher means "more likely
// positive" (a member): pos holds the scores of the positives, neg those of
// the negatives. The curve starts at (0, 0) with Threshold +Inf (nothing is
// flagged), has one point per distinct score in decreasing order, and ends
// at (1, 1). Tied scores are one threshold, so a tie between a positive and a
// negative is a single diagonal step; the area under the trapezoids is then
// exactly the Mann–Whitney statistic with ties counted one half (see AUC).
//
// ROC panics when pos or neg is empty or a score is NaN. It does not modify
// its arguments.
func ROC(pos, neg []float64) []ROCPoint {
	if len(pos) == 0 || len(neg) == 0 {
		panic("audit: ROC needs at least one positive and one negative score")
	}
	p := sortedDesc(pos)
	n := sortedDesc(neg)
	np, nn := float64(len(p)), float64(len(n))
	pts := make([]ROCPoint, 1, len(p)+len(n)+1)
	pts[0] = ROCPoint{Threshold: math.Inf(1)}
	i, j := 0, 0
	for i < len(p) || j < len(n) {
		var t float64
		switch {
		case i == len(p):
			t = n[j]
		case j == len(n):
			t = p[i]
		default:
			t = math.Max(p[i], n[j])
		}
		for i < len(p) && p[i] == t {
			i++
		}
		for j < len(n) && n[j] == t {
			j++
		}
		pts = append(pts, ROCPoint{FPR: float64(j) / nn, TPR: float64(i) / np, Threshold: t})
	}
	return pts
}

// sortedDesc returns a copy of s sorted in decreasing order; it panics on
// NaN.
func sortedDesc(s []float64) []float64 {
	c := slices.Clone(s)
	for _, v := range c {
		if math.IsNaN(v) {
			panic("audit: NaN score")
		}
	}
	slices.SortFunc(c, func(a, b float64) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	return c
}

// AUC returns the area under an ROC curve by the trapezoidal rule. For a
// curve made by ROC it equals the probability that a random positive
// scores above a random negative, ties counting one half: the Mann–Whitney
// U statistic divided by |pos|·|neg| (see MannWhitneyAUC, which computes the
// same number from ranks). 0.5 means the scores carry no information, 1
// perfect separation, and values below 0.5 an inverted signal.
func AUC(roc []ROCPoint) float64 {
	var a float64
	for k := 1; k < len(roc); k++ {
		a += (roc[k].FPR - roc[k-1].FPR) * (roc[k].TPR + roc[k-1].TPR) / 2
	}
	return a
}

// MannWhitneyAUC returns the AUC of pos against neg computed from ranks,
// independently of ROC: with R the sum of the mid-ranks of the positives in
// the pooled sample (ties share the mean of their ranks),
// U = R − |pos|(|pos|+1)/2 and AUC = U / (|pos|·|neg|). It panics under the
// same conditions as ROC.
func MannWhitneyAUC(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		panic("audit: MannWhitneyAUC needs at least one positive and one negative score")
	}
	type obs struct {
		v   float64
		pos bool
	}
	all := make([]obs, 0, len(pos)+len(neg))
	for _, v := range pos {
		all = append(all, obs{v, true})
	}
	for _, v := range neg {
		all = append(all, obs{v, false})
	}
	for _, o := range all {
		if math.IsNaN(o.v) {
			panic("audit: NaN score")
		}
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		// Ranks i+1..j (1-based) share their mean.
		mid := float64(i+1+j) / 2
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += mid
			}
		}
		i = j
	}
	np, nn := float64(len(pos)), float64(len(neg))
	return (rankSum - np*(np+1)/2) / (np * nn)
}

// TPRAtFPR returns the true-positive rate an attacker reaches while keeping
// the false-positive rate at or below maxFPR (e.g. 0.01 for "TPR at 1%
// FPR", the low-false-alarm regime that membership-inference evaluations
// report). It is conservative: the largest TPR among the curve's points with
// FPR ≤ maxFPR, each of which a plain threshold achieves; it does not
// interpolate towards the next point (which only a randomised rule would
// reach). With few negatives, 1/|neg| may exceed maxFPR, and the answer is
// then the TPR at FPR 0.
func TPRAtFPR(roc []ROCPoint, maxFPR float64) float64 {
	best := 0.0
	for _, p := range roc {
		if p.FPR <= maxFPR && p.TPR > best {
			best = p.TPR
		}
	}
	return best
}

// BalancedAccuracy returns (TPR + TNR)/2 of the rule "positive when
// score ≥ threshold" on the scores pos of the positives and neg of the
// negatives: the accuracy on a data set with equally many of each, so 0.5 is
// chance whatever the class sizes. It returns NaN when pos or neg is empty.
func BalancedAccuracy(pos, neg []float64, threshold float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return math.NaN()
	}
	tp, tn := 0, 0
	for _, v := range pos {
		if v >= threshold {
			tp++
		}
	}
	for _, v := range neg {
		if v < threshold {
			tn++
		}
	}
	return (float64(tp)/float64(len(pos)) + float64(tn)/float64(len(neg))) / 2
}
