package simd

//go:noescape
func addAVX2(dst, src *float32, n int)

// Add sets dst[i] += src[i] for the leading multiple of 8 elements of dst
// and returns how many it did (0 without AVX2). src must be at least as
// long as dst.
func Add(dst, src []float32) int {
	n := len(dst) &^ 7
	if !AVX2 || n == 0 {
		return 0
	}
	_ = src[n-1]
	addAVX2(&dst[0], &src[0], n)
	return n
}
