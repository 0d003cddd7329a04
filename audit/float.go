package audit

import "fmt"

// Float is the element type of model outputs the package accepts: logits,
// probabilities and parameters come as float32 (what ONNX models usually
// produce) or float64. Every computation is carried out in float64.
type Float interface {
	~float32 | ~float64
}

// rowCount returns the number of rows of a row-major N×classes matrix
// stored in a slice of length n. It panics, as gonum does for a dimension
// mismatch, when classes is not positive or does not divide n.
func rowCount(n, classes int) int {
	if classes <= 0 {
		panic(fmt.Sprintf("audit: classes must be positive, got %d", classes))
	}
	if n%classes != 0 {
		panic(fmt.Sprintf("audit: dimension mismatch: %d values are not rows of %d classes", n, classes))
	}
	return n / classes
}

// checkLabel panics when a label is not a class index in [0, classes).
func checkLabel(label int64, classes int) {
	if label < 0 || label >= int64(classes) {
		panic(fmt.Sprintf("audit: label %d out of range [0, %d)", label, classes))
	}
}
