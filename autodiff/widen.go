package autodiff

import "github.com/lethe-ml/lethe/internal/simd"

// Conversions between a program's precision T and the float64 of the
// callers' parameter-sized buffers. float32 runs 4 elements at a time where
// the CPU has AVX2 (internal/simd), with the same results bit for bit.

// narrow sets dst[i] = T(src[i]); dst is at least as long as src.
func narrow[T Float](dst []T, src []float64) {
	done := 0
	if d, ok := any(dst).([]float32); ok {
		done = simd.Narrow(d, src)
	}
	for j, v := range src[done:] {
		dst[done+j] = T(v)
	}
}

// widen sets dst[i] = float64(src[i]); src is at least as long as dst.
func widen[T Float](dst []float64, src []T) {
	done := 0
	if s, ok := any(src).([]float32); ok {
		done = simd.Widen(dst, s)
	}
	for j, v := range src[done:len(dst)] {
		dst[done+j] = float64(v)
	}
}

// widenSum sets dst[i] = float64(a[i]) + float64(b[i]).
func widenSum[T Float](dst []float64, a, b []T) {
	done := 0
	if a32, ok := any(a).([]float32); ok {
		done = simd.WidenSum(dst, a32, any(b).([]float32))
	}
	b = b[:len(dst)]
	for j, v := range a[done:len(dst)] {
		dst[done+j] = float64(v) + float64(b[done+j])
	}
}

// addWide adds src into dst in float64.
func addWide[T Float](dst []float64, src []T) {
	done := 0
	if s, ok := any(src).([]float32); ok {
		done = simd.AddWide(dst, s)
	}
	for j, v := range src[done:len(dst)] {
		dst[done+j] += float64(v)
	}
}
