package simd

//go:noescape
func narrowAVX(dst *float32, src *float64, n int)

//go:noescape
func widenAVX(dst *float64, src *float32, n int)

//go:noescape
func widenSumAVX(dst *float64, a, b *float32, n int)

//go:noescape
func addWideAVX(dst *float64, src *float32, n int)

// Narrow sets dst[i] = float32(src[i]) for the leading multiple of 4
// elements of src and returns how many it set (0 without AVX2). dst must be
// at least as long as src.
func Narrow(dst []float32, src []float64) int {
	n := len(src) &^ 3
	if !AVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	narrowAVX(&dst[0], &src[0], n)
	return n
}

// Widen sets dst[i] = float64(src[i]) for the leading multiple of 4
// elements of dst and returns how many it set (0 without AVX2). src must be
// at least as long as dst.
func Widen(dst []float64, src []float32) int {
	n := len(dst) &^ 3
	if !AVX2 || n == 0 {
		return 0
	}
	_ = src[n-1]
	widenAVX(&dst[0], &src[0], n)
	return n
}

// WidenSum sets dst[i] = float64(a[i]) + float64(b[i]) as Widen does.
func WidenSum(dst []float64, a, b []float32) int {
	n := len(dst) &^ 3
	if !AVX2 || n == 0 {
		return 0
	}
	_, _ = a[n-1], b[n-1]
	widenSumAVX(&dst[0], &a[0], &b[0], n)
	return n
}

// AddWide sets dst[i] += float64(src[i]) as Widen does.
func AddWide(dst []float64, src []float32) int {
	n := len(dst) &^ 3
	if !AVX2 || n == 0 {
		return 0
	}
	_ = src[n-1]
	addWideAVX(&dst[0], &src[0], n)
	return n
}
