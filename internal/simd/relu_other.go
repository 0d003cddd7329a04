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
