package certify

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// gaussianFailures tests that y (noise with known mean 0) is N(0, σ²) with
// four tests, each of false-alarm probability alpha under that hypothesis,
// and returns the name and detail of each test that rejects:
//
//   - "mean": √n·ȳ/σ ~ N(0, 1), two-sided;
//   - "variance": Σy²/σ² ~ χ²(n), two-sided, exact quantiles;
//   - "ks": Kolmogorov–Smirnov against N(0, σ²): with Stephens' finite-n
//     factor (√n + 0.12 + 0.11/√n), P(K > x) ≈ 2·e^(−2x²) in the far tail
//     (the next term of the series is below alpha⁴), so x = √(ln(2/alpha)/2);
//   - "lag1": lag-1 autocorrelation, √n·r ~ N(0, 1) for independent draws.
func gaussianFailures(y []float64, sigma, alpha float64) map[string]string {
	failed := map[string]string{}
	n := float64(len(y))
	z := distuv.UnitNormal.Quantile(1 - alpha/2)

	var sum, sumSq, lag float64
	for i, v := range y {
		sum += v
		sumSq += v * v
		if i > 0 {
			lag += v * y[i-1]
		}
	}
	if m := math.Sqrt(n) * (sum / n) / sigma; math.Abs(m) > z {
		failed["mean"] = fmt.Sprintf("z-score %.3f outside ±%.3f", m, z)
	}
	chi := distuv.ChiSquared{K: n}
	lo, hi := chi.Quantile(alpha/2), chi.Quantile(1-alpha/2)
	if s := sumSq / (sigma * sigma); s < lo || s > hi {
		failed["variance"] = fmt.Sprintf("Σy²/σ² = %.1f outside the χ²(%g) band [%.1f, %.1f]; sample σ = %.6g", s, n, lo, hi, math.Sqrt(sumSq/n))
	}
	if r := math.Sqrt(n) * lag / sumSq; math.Abs(r) > z {
		failed["lag1"] = fmt.Sprintf("autocorrelation z-score %.3f outside ±%.3f", r, z)
	}
	sorted := slices.Sorted(slices.Values(y))
	d := 0.0
	for i, v := range sorted {
		f := phi(v / sigma)
		d = math.Max(d, math.Max(float64(i+1)/n-f, f-float64(i)/n))
	}
	k := (math.Sqrt(n) + 0.12 + 0.11/math.Sqrt(n)) * d
	if crit := math.Sqrt(math.Log(2/alpha) / 2); k > crit {
		failed["ks"] = fmt.Sprintf("statistic %.4f > %.4f", k, crit)
	}
	return failed
}

// checkGaussian reports every test of gaussianFailures that rejects.
func checkGaussian(t *testing.T, y []float64, sigma, alpha float64) {
	t.Helper()
	for name, detail := range gaussianFailures(y, sigma, alpha) {
		t.Errorf("σ=%g, %d draws: %s test rejects at false-alarm rate %g: %s", sigma, len(y), name, alpha, detail)
	}
}

// noiseSample adds noise to a non-zero base vector and returns what was added.
func noiseSample(t *testing.T, n *Noise, size int, sigma float64) []float64 {
	t.Helper()
	base := make([]float64, size)
	for i := range base {
		base[i] = float64(i%7) - 3
	}
	w := slices.Clone(base)
	if err := n.Add(w, sigma); err != nil {
		t.Fatal(err)
	}
	for i := range w {
		w[i] -= base[i]
	}
	return w
}

// TestSeededNoiseStatistics runs the four tests at a 1e-6 false-alarm rate
// each on P = 10⁵ draws. The seeds are fixed, so the test is deterministic;
// the false-alarm rate is the chance that these seeds were unlucky.
func TestSeededNoiseStatistics(t *testing.T) {
	const p = 100_000
	for _, seed := range []uint64{1, 2, 20240601} {
		for _, sigma := range []float64{0.37, 1, 250} {
			checkGaussian(t, noiseSample(t, NewSeededNoise(seed), p, sigma), sigma, 1e-6)
		}
	}
}

// TestPrivateNoiseStatistics runs the same tests on private (unreproducible)
// noise, at a 1e-9 false-alarm rate per test because a failure here cannot
// be replayed.
func TestPrivateNoiseStatistics(t *testing.T) {
	n, err := NewPrivateNoise()
	if err != nil {
		t.Fatal(err)
	}
	checkGaussian(t, noiseSample(t, n, 100_000, 3.2), 3.2, 1e-9)
}

// TestNoiseStatisticsCanFail shows each test rejects what it is meant to
// catch at P = 10⁵: σ 5 % too large (Σy²/σ² ≈ 1.1·n, 22 standard deviations
// off), a mean shift of 0.03σ (9.5 standard errors), uniform noise of the
// right variance (KS distance ≈ 0.03, ten times the critical value), and
// correlated draws (r = 0.5).
func TestNoiseStatisticsCanFail(t *testing.T) {
	const p = 100_000
	y := noiseSample(t, NewSeededNoise(7), p, 1)
	shifted, wide, smooth := slices.Clone(y), slices.Clone(y), slices.Clone(y)
	for i := range y {
		shifted[i] += 0.03
		wide[i] *= 1.05
		if i > 0 {
			smooth[i] = (y[i] + y[i-1]) / math.Sqrt2
		}
	}
	uniform := make([]float64, p)
	for i := range uniform {
		// Evenly spaced on [−√3, √3): variance 1, but not Gaussian.
		uniform[i] = math.Sqrt(3) * (2*(float64((i*7919)%p)+0.5)/p - 1)
	}
	for _, c := range []struct {
		name string
		y    []float64
	}{{"mean", shifted}, {"variance", wide}, {"ks", uniform}, {"lag1", smooth}} {
		if _, ok := gaussianFailures(c.y, 1, 1e-6)[c.name]; !ok {
			t.Errorf("the %s test accepted a sample built to fail it", c.name)
		}
	}
}

func TestSeededNoiseDeterministic(t *testing.T) {
	a := noiseSample(t, NewSeededNoise(42), 1000, 1)
	b := noiseSample(t, NewSeededNoise(42), 1000, 1)
	c := noiseSample(t, NewSeededNoise(43), 1000, 1)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different noise")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same noise")
	}
	n := NewSeededNoise(42)
	if n.Private() || n.Source() != NoiseSourceSeeded {
		t.Errorf("seeded noise: Private() = %v, Source() = %q", n.Private(), n.Source())
	}
	if s, ok := n.Seed(); !ok || s != 42 {
		t.Errorf("Seed() = %d, %v", s, ok)
	}
}

func TestPrivateNoiseDiffers(t *testing.T) {
	n1, err1 := NewPrivateNoise()
	n2, err2 := NewPrivateNoise()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(noiseSample(t, n1, 64, 1), noiseSample(t, n2, 64, 1)) {
		t.Error("two private noise sources produced the same noise")
	}
	if !n1.Private() || n1.Source() != NoiseSourcePrivate {
		t.Errorf("private noise: Private() = %v, Source() = %q", n1.Private(), n1.Source())
	}
	if _, ok := n1.Seed(); ok {
		t.Error("private noise reports a seed")
	}
}

func TestNoiseAddEdgeCases(t *testing.T) {
	n := NewSeededNoise(1)
	w := []float64{1, 2, 3}
	if err := n.Add(w, 0); err != nil || !slices.Equal(w, []float64{1, 2, 3}) {
		t.Errorf("σ = 0 changed %v (err %v)", w, err)
	}
	for _, s := range []float64{-1, math.NaN(), math.Inf(1)} {
		var pe *ParameterError
		if err := n.Add(w, s); !errors.As(err, &pe) || pe.Name != "sigma" {
			t.Errorf("Add(σ=%g): err = %v, want *ParameterError", s, err)
		}
	}
	for _, must := range []string{"--seed", "NOT privately unlearned", `"noise_private": false`} {
		if !strings.Contains(SeedWarning, must) {
			t.Errorf("SeedWarning does not say %q", must)
		}
	}
}
