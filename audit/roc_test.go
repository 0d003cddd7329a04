package audit

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteForceAUC counts pairs: P(pos > neg) + ½ P(pos = neg).
func bruteForceAUC(pos, neg []float64) float64 {
	var s float64
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				s += 1
			case p == n:
				s += 0.5
			}
		}
	}
	return s / float64(len(pos)*len(neg))
}

func TestROCHandComputedWithTies(t *testing.T) {
	// Positives 3, 2, 2, 1; negatives 2, 1, 0. Distinct thresholds 3, 2, 1, 0.
	//   t=3: TP 1/4, FP 0/3
	//   t=2: TP 3/4, FP 1/3  (the tie at 2 is one diagonal step)
	//   t=1: TP 4/4, FP 2/3
	//   t=0: TP 4/4, FP 3/3
	// Pairs: 3 beats all 3; each 2 beats 1 and 0 and ties 2 (2.5 each); 1
	// beats 0 and ties 1 (1.5): (3 + 2.5 + 2.5 + 1.5)/12 = 9.5/12.
	pos := []float64{2, 3, 1, 2}
	neg := []float64{1, 0, 2}
	want := []ROCPoint{
		{0, 0, math.Inf(1)},
		{0, 0.25, 3},
		{1.0 / 3, 0.75, 2},
		{2.0 / 3, 1, 1},
		{1, 1, 0},
	}
	got := ROC(pos, neg)
	if len(got) != len(want) {
		t.Fatalf("ROC = %v, want %v", got, want)
	}
	for i := range want {
		// Rates are k/n of small integers, computed the same way: exact.
		if got[i] != want[i] {
			t.Errorf("ROC[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	// 9.5/12 as sums of a few small fractions: within a few ulps.
	const wantAUC = 9.5 / 12
	if a := AUC(got); math.Abs(a-wantAUC) > 1e-15 {
		t.Errorf("AUC = %v, want %v", a, wantAUC)
	}
	if a := MannWhitneyAUC(pos, neg); math.Abs(a-wantAUC) > 1e-15 {
		t.Errorf("MannWhitneyAUC = %v, want %v", a, wantAUC)
	}
	// Inputs are not reordered.
	if pos[0] != 2 || neg[0] != 1 {
		t.Errorf("ROC modified its inputs: %v %v", pos, neg)
	}
}

func TestAUCMatchesPairCounting(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 200 {
		np, nn := 1+rng.IntN(40), 1+rng.IntN(40)
		pos, neg := make([]float64, np), make([]float64, nn)
		// Scores on a coarse grid so that ties are frequent; a shift makes
		// the positives higher on average in some trials.
		shift := float64(rng.IntN(3))
		for i := range pos {
			pos[i] = float64(rng.IntN(6)) + shift
		}
		for i := range neg {
			neg[i] = float64(rng.IntN(6))
		}
		want := bruteForceAUC(pos, neg)
		// Up to 1600 terms of multiples of ½ divided once, against sums of
		// trapezoids or ranks: rounding of order 1e-15, bounded by 1e-12.
		if got := AUC(ROC(pos, neg)); math.Abs(got-want) > 1e-12 {
			t.Fatalf("trial %d: AUC(ROC) = %v, pair counting %v", trial, got, want)
		}
		if got := MannWhitneyAUC(pos, neg); math.Abs(got-want) > 1e-12 {
			t.Fatalf("trial %d: MannWhitneyAUC = %v, pair counting %v", trial, got, want)
		}
	}
}

func TestAUCExtremes(t *testing.T) {
	pos := []float64{5, 6, 7}
	neg := []float64{1, 2, 3, 4}
	if a := AUC(ROC(pos, neg)); a != 1 {
		t.Errorf("separable AUC = %v, want 1", a)
	}
	if a := AUC(ROC(neg, pos)); a != 0 {
		t.Errorf("inverted AUC = %v, want 0", a)
	}
	if a := AUC(ROC([]float64{1, 1}, []float64{1, 1, 1})); a != 0.5 {
		t.Errorf("all-tied AUC = %v, want 0.5", a)
	}
	roc := ROC(pos, neg)
	if tpr := TPRAtFPR(roc, 0.01); tpr != 1 {
		t.Errorf("separable TPR at 1%% FPR = %v, want 1", tpr)
	}
}

func TestAUCIdenticalDistributions(t *testing.T) {
	// Under H0 the AUC has mean ½ and variance (n₁+n₂+1)/(12 n₁ n₂)
	// (Mann–Whitney): for 2000 + 3000 samples its sd is 0.0083. 0.05 is six
	// sd: a false alarm has probability < 1e-8 (and the seed is fixed).
	rng := rand.New(rand.NewPCG(3, 5))
	pos, neg := make([]float64, 2000), make([]float64, 3000)
	for i := range pos {
		pos[i] = rng.NormFloat64()
	}
	for i := range neg {
		neg[i] = rng.NormFloat64()
	}
	if a := AUC(ROC(pos, neg)); math.Abs(a-0.5) > 0.05 {
		t.Errorf("AUC of identical distributions = %v, want 0.5 ± 0.05", a)
	}
}

func TestTPRAtFPRConservative(t *testing.T) {
	roc := []ROCPoint{{0, 0, math.Inf(1)}, {0, 0.2, 5}, {0.005, 0.3, 4}, {0.02, 0.6, 3}, {1, 1, 0}}
	for _, c := range []struct{ fpr, want float64 }{
		{0, 0.2},      // the point at FPR 0
		{0.01, 0.3},   // no interpolation towards (0.02, 0.6)
		{0.02, 0.6},   // a point exactly at the target counts
		{0.5, 0.6},    // still the last point below 1
		{1, 1},        // everything flagged
		{-0.1, 0},     // nothing qualifies
		{0.004, 0.2},  // before the 0.005 point
		{0.0199, 0.3}, // just before the 0.02 point
	} {
		if got := TPRAtFPR(roc, c.fpr); got != c.want {
			t.Errorf("TPRAtFPR(%v) = %v, want %v", c.fpr, got, c.want)
		}
	}
	// 100 negatives: FPR steps of exactly 1/100 = 0.01, which must count as
	// "at most 1%": 1.0/100 and the literal 0.01 are the same double.
	neg := make([]float64, 100)
	for i := range neg {
		neg[i] = float64(i)
	}
	pos := []float64{99.5, 98.5, 50}
	// Threshold 99 flags 99.5 and the negative 99: FPR 0.01, TPR 1/3.
	// Threshold 98.5 also flags 98.5: still FPR 0.01, TPR 2/3.
	if got := TPRAtFPR(ROC(pos, neg), 0.01); got != 2.0/3 {
		t.Errorf("TPR at 1%% FPR = %v, want 2/3", got)
	}
}

func TestBalancedAccuracyAndFitThreshold(t *testing.T) {
	pos := []float64{0.9, 0.8, 0.3, 0.7}
	neg := []float64{0.1, 0.4, 0.2, 0.85}
	// At 0.5: TP 3/4, TN 3/4.
	if ba := BalancedAccuracy(pos, neg, 0.5); ba != 0.75 {
		t.Errorf("BalancedAccuracy(0.5) = %v, want 0.75", ba)
	}
	// Candidates by hand (flag score ≥ t):
	//   t=0.9: TPR ¼, FPR 0 → 0.625;  t=0.85: ¼, ¼ → 0.5;
	//   t=0.8: ½, ¼ → 0.625;          t=0.7: ¾, ¼ → 0.75;
	//   t=0.4: ¾, ½ → 0.625;          t=0.3: 1, ½ → 0.75;  lower: worse.
	// Ties go to the higher threshold, 0.7; the midpoint to the next lower
	// score (0.4) is 0.55.
	thr, ba := FitThreshold(pos, neg)
	// 0.7/2 + 0.4/2 in floating point: within an ulp of 0.55.
	if math.Abs(thr-0.55) > 1e-15 || ba != 0.75 {
		t.Errorf("FitThreshold = (%v, %v), want (0.55, 0.75)", thr, ba)
	}
	if got := BalancedAccuracy(pos, neg, thr); got != ba {
		t.Errorf("BalancedAccuracy at the fitted threshold = %v, want %v", got, ba)
	}
	// Nothing to separate: flag nobody.
	thr, ba = FitThreshold([]float64{1, 1}, []float64{1, 1})
	if !math.IsInf(thr, 1) || ba != 0.5 {
		t.Errorf("FitThreshold on ties = (%v, %v), want (+Inf, 0.5)", thr, ba)
	}
	// Adjacent floats: the threshold must still separate them.
	hi := 1.0
	lo := math.Nextafter(hi, 0)
	thr, ba = FitThreshold([]float64{hi}, []float64{lo})
	if ba != 1 || BalancedAccuracy([]float64{hi}, []float64{lo}, thr) != 1 {
		t.Errorf("FitThreshold on adjacent floats = (%v, %v), want balanced accuracy 1", thr, ba)
	}
}

func TestROCPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"no positives": func() { ROC(nil, []float64{1}) },
		"no negatives": func() { ROC([]float64{1}, nil) },
		"NaN":          func() { ROC([]float64{math.NaN()}, []float64{1}) },
		"MW NaN":       func() { MannWhitneyAUC([]float64{1}, []float64{math.NaN()}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			f()
		})
	}
}
