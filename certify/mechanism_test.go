package certify

import (
	"errors"
	"math"
	"math/big"
	"testing"
)

var ln3 = math.Log(3)

// TestAnalyticDeltaPublished checks δ(σ, Δ, ε) against the values published
// in the tests of Google's differential-privacy library
// (google/differential-privacy, go/noise/gaussian_noise_test.go,
// TestDeltaForGaussian and the threshold cases), which implements the same
// Balle–Wang condition. There l2 sensitivity = lInf·√l0.
func TestAnalyticDeltaPublished(t *testing.T) {
	for _, c := range []struct {
		sigma, sens, eps, want float64
	}{
		{10, 1, 0.1, 0.008751768145810},
		{20, 2, 0.1, 0.008751768145810},
		{10, 5, ln3, 0.004159742234000802},
		{0.5, 1, 0, 0.6826894921370859},
		{1, 1, ln3, 0.10985556344445052},
		{1, 0.5, ln3, 0.0041597422340007885},
		{2, 2, ln3, 0.10985556344445052},
		{1, math.Sqrt2, ln3, 0.26546844106038714},
	} {
		got, err := AnalyticDelta(c.sigma, c.sens, c.eps)
		if err != nil {
			t.Fatal(err)
		}
		// 1e-10 absolute is the tolerance the published test itself uses; the
		// values are given to 13-17 digits, so we also demand 1e-13 relative.
		if math.Abs(got-c.want) > 1e-10 || math.Abs(got-c.want) > 1e-13*c.want {
			t.Errorf("AnalyticDelta(σ=%g, Δ=%g, ε=%g) = %.17g, want %.17g", c.sigma, c.sens, c.eps, got, c.want)
		}
	}
}

// TestAnalyticSigmaPublished inverts the published δ values above (the
// library's tests state which σ produced them) and compares with σ values
// published for a second implementation.
func TestAnalyticSigmaPublished(t *testing.T) {
	// Exact inversions: δ was computed from σ, so Sigma must return that σ.
	for _, c := range []struct {
		sens, eps, delta, sigma float64
	}{
		{1, 0.1, 0.008751768145810, 10},
		{5, ln3, 0.004159742234000802, 10},
		{1, ln3, 0.10985556344445052, 1},
		{0.5, ln3, 0.0041597422340007885, 1},
		{math.Sqrt2, ln3, 0.26546844106038714, 1},
	} {
		got, err := AnalyticSigma(c.sens, c.eps, c.delta)
		if err != nil {
			t.Fatal(err)
		}
		// The published δ carries 13-17 digits and dlnδ/dlnσ is O(1-10) here,
		// so σ is determined to ~1e-12; 1e-10 leaves room for the 1e-13 δ
		// truncation of the first case.
		if math.Abs(got-c.sigma) > 1e-10*c.sigma {
			t.Errorf("AnalyticSigma(Δ=%g, ε=%g, δ=%g) = %.15g, want %g", c.sens, c.eps, c.delta, got, c.sigma)
		}
	}
	// The same library's statistics test publishes σ² for its own calibration,
	// which stops its bisection at 1e-3 relative and returns the upper end:
	// σ_pub ∈ [σ*, 1.001·σ*].
	for _, c := range []struct{ eps, delta, variance float64 }{
		{ln3, 1e-10, 28.76478576660},
		{2 * ln3, 1e-10, 7.65948867798},
		{ln3, 1e-5, 11.73597717285},
	} {
		got, _ := AnalyticSigma(1, c.eps, c.delta)
		pub := math.Sqrt(c.variance)
		if !(got <= pub && pub <= 1.001*got) {
			t.Errorf("AnalyticSigma(1, %g, %g) = %.10g, published σ = %.10g not in [σ, 1.001σ]", c.eps, c.delta, got, pub)
		}
	}
	// σ values published in the tests of a Rust implementation of the
	// analytic Gaussian mechanism (calc_sigma_dp(Δ, ε, δ)). It also returns a
	// bisection upper end, so its values may only be above ours; the gaps
	// observed are ≤ 2e-9 relative, 1e-8 bounds them.
	for _, c := range []struct{ sens, eps, delta, sigma float64 }{
		{math.Sqrt(30), 6, 0.5, 1.4659731497780966},
		{math.Sqrt(30), 6, 1e-5, 4.182602139814776},
		{10, 0.1, 1e-5, 307.49566132862844},
		{10, 0.1, 0.5, 7.016745810753165},
		{math.Sqrt(0.1), 0.1, 0.5, 0.221888985244248},
		{math.Sqrt(0.1), 0.1, 1.0 / 20000, 8.370597761781507},
	} {
		got, _ := AnalyticSigma(c.sens, c.eps, c.delta)
		if !(got <= c.sigma*(1+1e-15) && c.sigma <= got*(1+1e-8)) {
			t.Errorf("AnalyticSigma(%g, %g, %g) = %.17g, published %.17g", c.sens, c.eps, c.delta, got, c.sigma)
		}
	}
}

var gridDelta = []float64{0.5, 1e-3, 1e-5, 1e-8, 1e-10, 1e-15, 1e-30}

// gridEps returns the ε grid of the arbitrary-precision tests; ε = 1e3 costs
// most of their time (the reference then works with ~6000-bit numbers) and
// is left out with -short.
func gridEps() []float64 {
	g := []float64{1e-6, 1e-4, 1e-2, 0.1, 0.5, 0.99, 1, 2, 8, 50}
	if !testing.Short() {
		g = append(g, 1e3)
	}
	return g
}

// TestAnalyticSigmaCondition checks the defining property on a grid: the
// condition holds at σ and fails at σ·(1 − 1e-6), both in float64 and in the
// independent arbitrary-precision evaluation.
func TestAnalyticSigmaCondition(t *testing.T) {
	for _, eps := range gridEps() {
		for _, delta := range gridDelta {
			for _, sens := range []float64{1, 3.5} {
				sigma, err := AnalyticSigma(sens, eps, delta)
				if err != nil {
					t.Fatalf("ε=%g δ=%g: %v", eps, delta, err)
				}
				at, _ := AnalyticDelta(sigma, sens, eps)
				below, _ := AnalyticDelta(sigma*(1-1e-6), sens, eps)
				if !(at <= delta) || !(below > delta) {
					t.Errorf("ε=%g δ=%g Δ=%g: δ(σ)=%.17g, δ(σ(1−1e-6))=%.17g", eps, delta, sens, at, below)
				}
				D := big.NewFloat(delta)
				if refAnalyticDelta(sens/sigma, eps).Cmp(D) > 0 {
					t.Errorf("ε=%g δ=%g Δ=%g: reference δ(σ) > δ", eps, delta, sens)
				}
				if refAnalyticDelta(sens/(sigma*(1-1e-6)), eps).Cmp(D) <= 0 {
					t.Errorf("ε=%g δ=%g Δ=%g: reference δ(σ(1−1e-6)) ≤ δ", eps, delta, sens)
				}
			}
		}
	}
}

// TestAnalyticDeltaAccuracy is the measurement behind DeltaMargin: the float64
// δ(σ) agrees with the arbitrary-precision one to 1e-13 relative over the
// supported range, a hundred times inside the 1e-12 margin.
func TestAnalyticDeltaAccuracy(t *testing.T) {
	worst := 0.0
	for _, eps := range gridEps() {
		for _, delta := range gridDelta {
			sigma, _ := AnalyticSigma(1, eps, delta)
			for _, f := range []float64{0.9, 1, 1.1} {
				s := 1 / (sigma * f)
				got := math.Exp(logAnalyticDelta(s, eps))
				worst = math.Max(worst, refRelErr(got, refAnalyticDelta(s, eps)))
			}
		}
	}
	if worst > 1e-13 {
		t.Errorf("worst relative error of δ(σ) = %.3g > 1e-13", worst)
	}
	t.Logf("worst relative error of δ(σ) over the grid: %.3g", worst)
}

// TestAnalyticNotAboveClassic: the analytic σ never exceeds the classic one
// where the classic one is defined, as Balle & Wang (2018) show.
func TestAnalyticNotAboveClassic(t *testing.T) {
	for eps := 0.01; eps < 1; eps += 0.01 {
		for _, delta := range []float64{1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10} {
			a, err := AnalyticSigma(2, eps, delta)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ClassicSigma(2, eps, delta)
			if err != nil {
				t.Fatal(err)
			}
			if a > c {
				t.Errorf("ε=%g δ=%g: analytic σ %g > classic σ %g", eps, delta, a, c)
			}
		}
	}
}

func TestClassicSigma(t *testing.T) {
	got, err := ClassicSigma(2, 0.5, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	// (Δ/ε)·√(2 ln(1.25/δ)) = 4·√(2·ln 125000) = 4·4.8448... by hand.
	want := 4 * math.Sqrt(2*math.Log(125000))
	if got != want {
		t.Errorf("ClassicSigma = %.17g, want %.17g", got, want)
	}
	for _, eps := range []float64{1, 1.5, 10} {
		_, err := ClassicSigma(1, eps, 1e-5)
		var re *ClassicRangeError
		if !errors.As(err, &re) || re.Epsilon != eps {
			t.Errorf("ClassicSigma(ε=%g): err = %v, want *ClassicRangeError", eps, err)
		}
		if s, err := Sigma(Analytic, 1, eps, 1e-5); err != nil || !(s > 0) {
			t.Errorf("Sigma(Analytic, ε=%g) = %g, %v: the analytic mechanism covers every ε > 0", eps, s, err)
		}
	}
}

func TestMechanismParameterErrors(t *testing.T) {
	for _, m := range []Mechanism{Analytic, Classic} {
		for _, c := range []struct {
			name             string
			sens, eps, delta float64
		}{
			{"sensitivity", 0, 0.5, 1e-5},
			{"sensitivity", -1, 0.5, 1e-5},
			{"sensitivity", math.Inf(1), 0.5, 1e-5},
			{"epsilon", 1, 0, 1e-5},
			{"epsilon", 1, -0.1, 1e-5},
			{"epsilon", 1, math.NaN(), 1e-5},
			{"delta", 1, 0.5, 0},
			{"delta", 1, 0.5, 1},
			{"delta", 1, 0.5, -1e-5},
			{"delta", 1, 0.5, math.NaN()},
		} {
			_, err := Sigma(m, c.sens, c.eps, c.delta)
			var pe *ParameterError
			if !errors.As(err, &pe) || pe.Name != c.name {
				t.Errorf("Sigma(%s, %g, %g, %g): err = %v, want *ParameterError for %s", m, c.sens, c.eps, c.delta, err, c.name)
			}
		}
	}
	if _, err := Sigma("laplace", 1, 0.5, 1e-5); err == nil {
		t.Error("Sigma with an unknown mechanism succeeded")
	}
	if _, err := ParseMechanism(""); err == nil {
		t.Error(`ParseMechanism("") succeeded; the certificate must name its mechanism`)
	}
	if m, err := ParseMechanism("classic"); m != Classic || err != nil {
		t.Errorf("ParseMechanism(classic) = %q, %v", m, err)
	}
}

// TestEpsilonForSigma checks the fixed-noise inverse: ε is rounded up, so
// Sigma(ε) ≤ σ, and it recovers the ε that produced σ.
func TestEpsilonForSigma(t *testing.T) {
	for _, eps := range []float64{1e-4, 0.01, 0.3, 1, 5, 100} {
		for _, delta := range []float64{1e-3, 1e-5, 1e-10} {
			sigma, _ := AnalyticSigma(2, eps, delta)
			got, err := EpsilonForSigma(Analytic, sigma, 2, delta)
			if err != nil {
				t.Fatal(err)
			}
			// Both directions round up by ≤ 1e-12 relative and δ(ε) is smooth, so
			// the round trip closes to ~1e-11; 1e-9 is CheckRelTol.
			if math.Abs(got-eps) > 1e-9*eps {
				t.Errorf("EpsilonForSigma(Sigma(ε=%g)) = %.15g", eps, got)
			}
			if back, _ := AnalyticSigma(2, got, delta); back > sigma {
				t.Errorf("ε=%g δ=%g: Sigma(EpsilonForSigma(σ)) = %.17g > σ = %.17g", eps, delta, back, sigma)
			}
		}
	}
	// Enormous σ: even ε → 0 is certified; the result is the tiny floor, > 0.
	got, err := EpsilonForSigma(Analytic, 1e9, 1, 1e-5)
	if err != nil || !(got > 0 && got <= 1e-12) {
		t.Errorf("EpsilonForSigma(σ=1e9) = %g, %v", got, err)
	}
	// Classic: closed form below 1, typed error (with the value) at or above.
	sigma, _ := ClassicSigma(1, 0.4, 1e-5)
	if got, err := EpsilonForSigma(Classic, sigma, 1, 1e-5); err != nil || math.Abs(got-0.4) > 1e-15 {
		t.Errorf("EpsilonForSigma(Classic) = %.17g, %v, want 0.4", got, err)
	}
	got, err = EpsilonForSigma(Classic, 1, 1, 1e-5)
	var re *ClassicRangeError
	if !errors.As(err, &re) || got < 1 || re.Epsilon != got {
		t.Errorf("EpsilonForSigma(Classic, σ=1) = %g, %v, want ε ≥ 1 with *ClassicRangeError", got, err)
	}
}

// TestAnalyticExtremeEpsilon: e^ε is never formed, so very large ε neither
// overflows nor loses the condition.
func TestAnalyticExtremeEpsilon(t *testing.T) {
	for _, eps := range []float64{1e4, 1e6} {
		sigma, err := AnalyticSigma(1, eps, 1e-5)
		if err != nil || !(sigma > 0) || math.IsInf(sigma, 0) {
			t.Fatalf("AnalyticSigma(ε=%g) = %g, %v", eps, sigma, err)
		}
		at, _ := AnalyticDelta(sigma, 1, eps)
		below, _ := AnalyticDelta(sigma*(1-1e-6), 1, eps)
		if !(at <= 1e-5 && below > 1e-5) {
			t.Errorf("ε=%g: δ(σ)=%g δ(σ(1−1e-6))=%g", eps, at, below)
		}
	}
}
