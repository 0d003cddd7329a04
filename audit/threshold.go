package audit

import "math"

// FitThreshold chooses the threshold t of the rule "positive when
// score ≥ t" that maximises the balanced accuracy on the given scores, and
// returns it with that balanced accuracy.
//
// The candidates are the ROC points of (pos, neg). Every t strictly between
// one distinct score and the next lower one classifies the given samples
// the same way; FitThreshold returns the midpoint, which leaves a margin for
// samples scored later. Among equally good points the highest threshold
// (the fewest samples flagged) wins. If flagging nobody is best the
// threshold is +Inf; if flagging everybody is (strictly) best it is −Inf.
// It panics under the same conditions as ROC.
func FitThreshold(pos, neg []float64) (threshold, balancedAccuracy float64) {
	roc := ROC(pos, neg)
	best, k := math.Inf(-1), 0
	for i, p := range roc {
		if ba := (p.TPR + 1 - p.FPR) / 2; ba > best {
			best, k = ba, i
		}
	}
	switch {
	case k == 0:
		return math.Inf(1), best
	case k == len(roc)-1:
		return math.Inf(-1), best
	}
	// Halve before adding, so that scores near ±MaxFloat64 do not overflow.
	// When the two scores are adjacent floats the midpoint may round down onto
	// the lower one, which would flag it; fall back to the upper score.
	t := roc[k].Threshold/2 + roc[k+1].Threshold/2
	if t <= roc[k+1].Threshold {
		t = roc[k].Threshold
	}
	return t, best
}
