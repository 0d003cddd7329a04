package audit

import (
	"fmt"
	"math"
)

// logSumExp returns log Σ exp(row[j]) computed stably as
// m + log Σ exp(row[j] − m) with m the row maximum, so that no exponential
// overflows and at least one term equals 1.
func logSumExp[F Float](row []F) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

// checkDst allocates dst when it is nil and panics when its length differs
// from n.
func checkDst(dst []float64, n int) []float64 {
	if dst == nil {
		return make([]float64, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("audit: dimension mismatch: dst has %d entries, want %d", len(dst), n))
	}
	return dst
}

// LogSoftmax writes the row-wise log-softmax of logits (row-major
// N×classes), x_ij − log Σ_k exp(x_ik), into dst and returns it. If dst is
// nil a new slice is allocated; otherwise it must have len(logits) entries,
// and it may be logits itself (float64 logits) to work in place.
// The log-sum-exp is shifted by the row maximum, so large logits neither
// overflow nor lose the small probabilities. Rows holding +Inf or NaN, or only
// −Inf, give NaN.
func LogSoftmax[F Float](dst []float64, logits []F, classes int) []float64 {
	n := rowCount(len(logits), classes)
	dst = checkDst(dst, len(logits))
	for i := range n {
		row := logits[i*classes : (i+1)*classes]
		lse := logSumExp(row)
		for j, v := range row {
			dst[i*classes+j] = float64(v) - lse
		}
	}
	return dst
}

// Softmax writes the row-wise softmax of logits (row-major N×classes),
// exp(x_ij) / Σ_k exp(x_ik), into dst and returns it, with the same
// allocation rules and numerical care as LogSoftmax. Each finite row sums to
// 1 within rounding.
func Softmax[F Float](dst []float64, logits []F, classes int) []float64 {
	dst = LogSoftmax(dst, logits, classes)
	for i, v := range dst {
		dst[i] = math.Exp(v)
	}
	return dst
}

// CrossEntropy writes the per-sample softmax cross-entropy loss
// −log softmax(x_i)[y_i] = log Σ_k exp(x_ik) − x_iy of each row of logits
// into dst and returns it. If dst is nil a new slice is allocated; otherwise
// it must have N entries. It panics when len(labels) is not N or a label is
// outside [0, classes).
func CrossEntropy[F Float](dst []float64, logits []F, classes int, labels []int64) []float64 {
	n := rowCount(len(logits), classes)
	if len(labels) != n {
		panic(fmt.Sprintf("audit: dimension mismatch: %d labels for %d rows", len(labels), n))
	}
	dst = checkDst(dst, n)
	for i, y := range labels {
		checkLabel(y, classes)
		row := logits[i*classes : (i+1)*classes]
		dst[i] = logSumExp(row) - float64(row[y])
	}
	return dst
}
