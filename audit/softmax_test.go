package audit

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSoftmaxHandComputed(t *testing.T) {
	// Row (0, ln 2, ln 3): exp = (1, 2, 3), sum 6.
	logits := []float64{0, math.Log(2), math.Log(3)}
	want := []float64{1.0 / 6, 2.0 / 6, 3.0 / 6}
	got := Softmax(nil, logits, 3)
	for i := range want {
		// A few ulps: one exp and one log of values near 1.
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Errorf("Softmax[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	loss := CrossEntropy(nil, logits, 3, []int64{0})
	// −log(1/6): same few-ulp rounding.
	if math.Abs(loss[0]-math.Log(6)) > 1e-15 {
		t.Errorf("CrossEntropy = %v, want ln 6 = %v", loss[0], math.Log(6))
	}
}

func TestSoftmaxStableForLargeLogits(t *testing.T) {
	// A naive exp overflows at 710; the shifted form is exact here:
	// log-softmax of (1000, 0) is (−log(1+e^−1000), −1000 − log(1+e^−1000))
	// = (0, −1000) in float64.
	logits := []float32{1000, 0, -1000, 1000}
	ls := LogSoftmax(nil, logits, 2)
	want := []float64{0, -1000, -2000, 0}
	for i := range want {
		if ls[i] != want[i] {
			t.Errorf("LogSoftmax[%d] = %v, want %v", i, ls[i], want[i])
		}
	}
	ce := CrossEntropy(nil, logits, 2, []int64{1, 0})
	if ce[0] != 1000 || ce[1] != 2000 {
		t.Errorf("CrossEntropy = %v, want [1000 2000]", ce)
	}
	p := Softmax(nil, logits, 2)
	if p[0] != 1 || p[1] != 0 || p[2] != 0 || p[3] != 1 {
		t.Errorf("Softmax = %v, want [1 0 0 1]", p)
	}
}

func TestSoftmaxAgainstNaive(t *testing.T) {
	// For moderate logits the naive formula is accurate; compare with it on
	// random rows.
	rng := rand.New(rand.NewPCG(1, 2))
	const n, k = 50, 7
	logits := make([]float64, n*k)
	labels := make([]int64, n)
	for i := range logits {
		logits[i] = rng.NormFloat64() * 5
	}
	for i := range labels {
		labels[i] = int64(rng.IntN(k))
	}
	p := Softmax(nil, logits, k)
	ls := LogSoftmax(make([]float64, n*k), logits, k)
	ce := CrossEntropy(nil, logits, k, labels)
	for i := range n {
		var sum, psum float64
		for j := range k {
			sum += math.Exp(logits[i*k+j])
		}
		for j := range k {
			naive := math.Exp(logits[i*k+j]) / sum
			psum += p[i*k+j]
			// Relative 1e-12: both are a handful of correctly rounded
			// operations on values with |x| ≲ 25.
			if math.Abs(p[i*k+j]-naive) > 1e-12*naive {
				t.Fatalf("Softmax[%d,%d] = %v, naive %v", i, j, p[i*k+j], naive)
			}
			if math.Abs(ls[i*k+j]-math.Log(naive)) > 1e-12*math.Max(1, math.Abs(math.Log(naive))) {
				t.Fatalf("LogSoftmax[%d,%d] = %v, naive %v", i, j, ls[i*k+j], math.Log(naive))
			}
		}
		// Sum of 7 probabilities: within a few ulps of 1.
		if math.Abs(psum-1) > 1e-14 {
			t.Errorf("row %d sums to %v", i, psum)
		}
		naiveCE := -math.Log(math.Exp(logits[i*k+int(labels[i])]) / sum)
		if math.Abs(ce[i]-naiveCE) > 1e-12*math.Max(1, naiveCE) {
			t.Errorf("CrossEntropy[%d] = %v, naive %v", i, ce[i], naiveCE)
		}
	}
}

func TestSoftmaxInPlace(t *testing.T) {
	logits := []float64{1, 2, 3, -4, 0, 4}
	want := Softmax(nil, logits, 3)
	got := Softmax(logits, logits, 3)
	for i := range want {
		// Same operations in the same order: bit-identical.
		if got[i] != want[i] {
			t.Errorf("in-place Softmax[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}
