//go:build !amd64

package simd

// AVX2 is false off amd64: the functions do nothing.
var AVX2 = false

// ReluAdd does nothing off amd64 (see the amd64 version).
func ReluAdd(dst, src []float32, b float32) int { return 0 }

// MaskAdd does nothing off amd64 (see the amd64 version).
func MaskAdd(dst, mask, src []float32, b float32) int { return 0 }

// MaskCopy does nothing off amd64 (see the amd64 version).
func MaskCopy(dst, mask, src []float32) int { return 0 }

// Pool2x2 describes 2×2 max-pooling (see the amd64 version).
type Pool2x2 struct {
	Planes, IP, OH, OW, W, RowStep int
}

// MaxPool2x2 does nothing off amd64 (see the amd64 version).
func MaxPool2x2(y, x []float32, p Pool2x2) bool { return false }

// MaxPool2x2Arg does nothing off amd64 (see the amd64 version).
func MaxPool2x2Arg(y []float32, arg []int32, x []float32, p Pool2x2) bool { return false }

// Add does nothing off amd64 (see the amd64 version).
func Add(dst, src []float32) int { return 0 }

// Narrow does nothing off amd64 (see the amd64 version).
func Narrow(dst []float32, src []float64) int { return 0 }

// Widen does nothing off amd64 (see the amd64 version).
func Widen(dst []float64, src []float32) int { return 0 }

// WidenSum does nothing off amd64 (see the amd64 version).
func WidenSum(dst []float64, a, b []float32) int { return 0 }

// AddWide does nothing off amd64 (see the amd64 version).
func AddWide(dst []float64, src []float32) int { return 0 }
