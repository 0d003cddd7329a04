package audit

import (
	"fmt"
	"math"
)

// Predict writes the predicted class of each row of logits, a row-major
// N×classes matrix, into dst and returns it: the index of the row's largest
// entry, the lowest such index on ties. NaN entries never win; a row with no
// entry above −∞ predicts class 0. If dst is nil a new slice is allocated;
// otherwise it must have length N.
//
// Predict works equally on logits, probabilities or log-probabilities, since
// softmax is monotone.
func Predict[F Float](dst []int64, logits []F, classes int) []int64 {
	n := rowCount(len(logits), classes)
	if dst == nil {
		dst = make([]int64, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("audit: dimension mismatch: dst has %d entries for %d rows", len(dst), n))
	}
	for i := range n {
		row := logits[i*classes : (i+1)*classes]
		best, arg := math.Inf(-1), 0
		for j, v := range row {
			if float64(v) > best {
				best, arg = float64(v), j
			}
		}
		dst[i] = int64(arg)
	}
	return dst
}

// Accuracy returns the fraction of rows of logits (row-major N×classes)
// whose predicted class (see Predict: argmax, ties to the lowest index)
// equals the label. It returns NaN when there are no rows. It panics when
// len(labels) is not N or a label is outside [0, classes).
func Accuracy[F Float](logits []F, classes int, labels []int64) float64 {
	n := rowCount(len(logits), classes)
	if len(labels) != n {
		panic(fmt.Sprintf("audit: dimension mismatch: %d labels for %d rows", len(labels), n))
	}
	if n == 0 {
		return math.NaN()
	}
	pred := Predict(nil, logits, classes)
	correct := 0
	for i, y := range labels {
		checkLabel(y, classes)
		if pred[i] == y {
			correct++
		}
	}
	return float64(correct) / float64(n)
}
