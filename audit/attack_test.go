package audit

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func expSample(rng *rand.Rand, n int, mean float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.ExpFloat64() * mean
	}
	return s
}

func TestLossThresholdAttackDetectsLowerLoss(t *testing.T) {
	// Member losses ~ Exp(rate 5), non-member losses ~ Exp(rate 1), with
	// three times as many non-members (subsampled to 1000, scored 500 +
	// 500). Closed forms:
	//   AUC = P(L_m < L_n) = 5/(5+1) = 5/6;
	//   best balanced accuracy at t = ln5/4: (1 − 5^−5/4 + 5^−1/4)/2 ≈ 0.7675;
	//   TPR at FPR 1%: t = −ln 0.99, TPR = 1 − 0.99⁵ ≈ 0.049.
	rng := rand.New(rand.NewPCG(41, 42))
	members := expSample(rng, 1000, 0.2)
	nonMembers := expSample(rng, 3000, 1)
	res, err := LossThresholdAttack(members, nonMembers, &AttackOptions{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if res.Attack != AttackLoss || res.Members != 500 || res.NonMembers != 500 {
		t.Errorf("result header = %q, %d members, %d non-members; want %q, 500, 500", res.Attack, res.Members, res.NonMembers, AttackLoss)
	}
	// Hanley–McNeil standard error of the AUC for 500 + 500 at 5/6 is
	// 0.013; 0.06 is over four of them.
	if math.Abs(res.AUC-5.0/6) > 0.06 {
		t.Errorf("AUC = %v, want 5/6 ± 0.06", res.AUC)
	}
	// Binomial error of a balanced accuracy on 1000 samples ≈ 0.013, plus
	// the fitted threshold's distance from the best one: 0.06 as well.
	bestBA := (1 - math.Pow(5, -1.25) + math.Pow(5, -0.25)) / 2
	if math.Abs(res.BalancedAccuracy-bestBA) > 0.06 {
		t.Errorf("balanced accuracy = %v, want %v ± 0.06", res.BalancedAccuracy, bestBA)
	}
	// With 500 negatives, 1% FPR is 5 samples: the realised FPR varies by
	// about ±45%, the TPR (≈ 5×FPR here) by ±0.025 around 0.049, plus
	// binomial noise 0.01. 0.06 bounds both.
	if math.Abs(res.TPRAt1FPR-(1-math.Pow(0.99, 5))) > 0.06 {
		t.Errorf("TPR at 1%% FPR = %v, want 0.049 ± 0.06", res.TPRAt1FPR)
	}
	if got := AUC(res.ROC); got != res.AUC {
		t.Errorf("AUC(ROC) = %v, result %v", got, res.AUC)
	}
}

func TestLossThresholdAttackNoSignal(t *testing.T) {
	// Identical loss distributions: AUC sd for 500 + 500 is
	// √(1001/(12·500²)) = 0.018; 0.1 is 5.5 sd. The balanced accuracy of
	// a fitted threshold on 1000 samples has sd ≈ 0.016 around 0.5.
	rng := rand.New(rand.NewPCG(43, 44))
	res, err := LossThresholdAttack(expSample(rng, 1000, 1), expSample(rng, 1200, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.AUC-0.5) > 0.1 || math.Abs(res.BalancedAccuracy-0.5) > 0.1 {
		t.Errorf("no-signal attack: AUC %v, balanced accuracy %v; want both 0.5 ± 0.1", res.AUC, res.BalancedAccuracy)
	}
}

func TestAttackDeterministicAndSeeded(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	m, n := expSample(rng, 300, 0.5), expSample(rng, 500, 1)
	a, err := LossThresholdAttack(m, n, &AttackOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LossThresholdAttack(m, n, &AttackOptions{Seed: 1})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed, different results")
	}
	c, _ := LossThresholdAttack(m, n, &AttackOptions{Seed: 2})
	if reflect.DeepEqual(a.ROC, c.ROC) {
		t.Errorf("different seeds gave the same split")
	}
	// FitFraction 0.8 of 300 per class: 60 scored of each.
	d, _ := LossThresholdAttack(m, n, &AttackOptions{FitFraction: 0.8})
	if d.Members != 60 || d.NonMembers != 60 {
		t.Errorf("FitFraction 0.8 scored %d + %d, want 60 + 60", d.Members, d.NonMembers)
	}
}

func TestBalancedSplit(t *testing.T) {
	fitM, scoreM, fitN, scoreN, err := balancedSplit("test", 7, 30, 0.5, 3)
	if err != nil {
		t.Fatal(err)
	}
	// k = 7, fit round(3.5) = 4, score 3, for both classes.
	if len(fitM) != 4 || len(scoreM) != 3 || len(fitN) != 4 || len(scoreN) != 3 {
		t.Fatalf("split sizes %d/%d and %d/%d, want 4/3 and 4/3", len(fitM), len(scoreM), len(fitN), len(scoreN))
	}
	seen := map[int]bool{}
	for _, i := range append(fitM, scoreM...) {
		if i < 0 || i >= 7 || seen[i] {
			t.Errorf("member index %d out of range or repeated", i)
		}
		seen[i] = true
	}
	seen = map[int]bool{}
	for _, i := range append(fitN, scoreN...) {
		if i < 0 || i >= 30 || seen[i] {
			t.Errorf("non-member index %d out of range or repeated", i)
		}
		seen[i] = true
	}
	if _, _, _, _, err := balancedSplit("test", 1, 30, 0.5, 3); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("1 member: err = %v, want ErrTooFewSamples", err)
	}
}

func TestAttackErrors(t *testing.T) {
	if _, err := LossThresholdAttack([]float64{1}, []float64{1, 2, 3}, nil); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("1 member: err = %v, want ErrTooFewSamples", err)
	}
	if _, err := LossThresholdAttack([]float64{1, math.NaN()}, []float64{1, 2, 3}, nil); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("NaN loss: err = %v, want ErrInvalidInput", err)
	}
	p := Posteriors{Original: []float64{0.5, 0.5, 0.2, 0.8}}
	q := Posteriors{Original: []float64{0.5, 0.5, 0.2, 0.8}, Unlearned: []float64{0.5, 0.5, 0.2, 0.8}}
	for name, f := range map[string]func() error{
		"mixed pair": func() error { _, err := PosteriorAttack(p, q, 2, nil); return err },
		"ragged": func() error {
			_, err := PosteriorAttack(Posteriors{Original: []float64{1, 2, 3}}, p, 2, nil)
			return err
		},
		"zero classes": func() error { _, err := PosteriorAttack(p, p, 0, nil); return err },
		"length": func() error {
			_, err := PosteriorAttack(Posteriors{Original: p.Original, Unlearned: []float64{1, 0}}, q, 2, nil)
			return err
		},
		"NaN": func() error {
			_, err := PosteriorAttack(Posteriors{Original: []float64{math.NaN(), 1, 0, 1}}, p, 2, nil)
			return err
		},
	} {
		if err := f(); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", name, err)
		}
	}
}

func TestSortedPosteriorsHandComputed(t *testing.T) {
	ref := []float64{
		0.2, 0.5, 0.3,
		0.4, 0.2, 0.4, // tie: class order kept (0 before 2)
	}
	other := []float64{
		0.6, 0.1, 0.3,
		0.1, 0.8, 0.1,
	}
	got := SortedPosteriors(nil, 3, ref, other)
	want := []float64{
		0.5, 0.3, 0.2, 0.1, 0.3, 0.6, // order (1, 2, 0)
		0.4, 0.4, 0.2, 0.1, 0.1, 0.8, // order (0, 2, 1)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SortedPosteriors = %v, want %v", got, want)
	}
}

// posteriorRows draws n softmax rows of k classes from logits z·e_c + noise
// with c a random class, and the "unlearned" rows from the same noise with
// the true-class boost changed to zu.
func posteriorRows(rng *rand.Rand, n, k int, z, zu float64) (orig, unl []float64) {
	lo, lu := make([]float64, n*k), make([]float64, n*k)
	for i := range n {
		c := rng.IntN(k)
		for j := range k {
			e := rng.NormFloat64()
			lo[i*k+j], lu[i*k+j] = e, e
		}
		lo[i*k+c] += z
		lu[i*k+c] += zu
	}
	return Softmax(nil, lo, k), Softmax(nil, lu, k)
}

func TestPosteriorAttackDetectsUnlearningOnly(t *testing.T) {
	// The original model is equally confident on members and non-members,
	// so the single-model attack on it has nothing to find; unlearning
	// lowered its confidence on the members only, which the pair of
	// models gives away (Chen et al.'s point).
	rng := rand.New(rand.NewPCG(51, 52))
	const k = 5
	mo, mu := posteriorRows(rng, 800, k, 3, 0.5)
	no, nu := posteriorRows(rng, 1500, k, 3, 3)
	single, err := PosteriorAttack(Posteriors{Original: mo}, Posteriors{Original: no}, k, &AttackOptions{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := PosteriorAttack(Posteriors{Original: mo, Unlearned: mu}, Posteriors{Original: no, Unlearned: nu}, k, &AttackOptions{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if single.Attack != AttackPosterior || pair.Attack != AttackUnlearning {
		t.Errorf("attack names %q, %q", single.Attack, pair.Attack)
	}
	// Scored 400 + 400: AUC sd under no signal √(801/(12·400²)) = 0.02;
	// 0.1 is five sd.
	if math.Abs(single.AUC-0.5) > 0.1 {
		t.Errorf("single-model AUC = %v, want 0.5 ± 0.1", single.AUC)
	}
	// The pair separates almost perfectly: the member rows' top
	// probability drops by a factor ~e^2.5 while the non-members' is
	// unchanged. Bounds far from chance, loose enough for noise.
	if pair.AUC < 0.95 || pair.BalancedAccuracy < 0.85 || pair.TPRAt1FPR < 0.5 {
		t.Errorf("pair attack: AUC %v, balanced accuracy %v, TPR@1%%FPR %v; want ≥ 0.95, 0.85, 0.5",
			pair.AUC, pair.BalancedAccuracy, pair.TPRAt1FPR)
	}
	if pair.Members != 400 || pair.NonMembers != 400 {
		t.Errorf("scored %d + %d, want 400 + 400", pair.Members, pair.NonMembers)
	}
}

func TestPosteriorAttackSingleModelConfidence(t *testing.T) {
	// Members get confident predictions (boost 4), non-members less (1):
	// the single-model attack finds them; with equal boosts it does not.
	rng := rand.New(rand.NewPCG(53, 54))
	const k = 10
	mo, _ := posteriorRows(rng, 600, k, 4, 4)
	no, _ := posteriorRows(rng, 600, k, 1, 1)
	res, err := PosteriorAttack(Posteriors{Original: mo}, Posteriors{Original: no}, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.AUC < 0.85 {
		t.Errorf("confidence gap: AUC = %v, want ≥ 0.85", res.AUC)
	}
	same, _ := posteriorRows(rng, 600, k, 1, 1)
	res, err = PosteriorAttack(Posteriors{Original: same}, Posteriors{Original: no}, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 300 + 300 scored: sd 0.024, 0.12 is five sd.
	if math.Abs(res.AUC-0.5) > 0.12 {
		t.Errorf("no gap: AUC = %v, want 0.5 ± 0.12", res.AUC)
	}
}
