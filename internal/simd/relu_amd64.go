package simd

//go:noescape
func reluAddAVX2(dst, src *float32, n int, b float32)

//go:noescape
func maskAddAVX2(dst, mask, src *float32, n int, b float32)

//go:noescape
func maskCopyAVX2(dst, mask, src *float32, n int)

// ReluAdd sets dst[i] = src[i] + b where that is > 0, else +0 (NaN gives
// +0), for the leading multiple of 8 elements of src, and returns how many
// it set. dst must be at least as long as src.
func ReluAdd(dst, src []float32, b float32) int {
	n := len(src) &^ 7
	if !AVX2 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	reluAddAVX2(&dst[0], &src[0], n, b)
	return n
}

// MaskAdd is ReluAdd selecting where mask[i] > 0 instead.
func MaskAdd(dst, mask, src []float32, b float32) int {
	n := len(src) &^ 7
	if !AVX2 || n == 0 {
		return 0
	}
	_, _ = dst[n-1], mask[n-1]
	maskAddAVX2(&dst[0], &mask[0], &src[0], n, b)
	return n
}

// MaskCopy sets dst[i] = src[i] where mask[i] > 0, else +0, as MaskAdd
// does without the addition (src's bits pass unchanged).
func MaskCopy(dst, mask, src []float32) int {
	n := len(src) &^ 7
	if !AVX2 || n == 0 {
		return 0
	}
	_, _ = dst[n-1], mask[n-1]
	maskCopyAVX2(&dst[0], &mask[0], &src[0], n)
	return n
}
