package autodiff

import "gonum.org/v1/gonum/blas"

// The BLAS implementations GEMM runs on: OpenBLAS through gonum's netlib
// bindings when built with the openblas tag (the Makefile's default), pure-Go
// gonum otherwise. See blas_openblas.go and blas_gonum.go.
var (
	blas32 blas.Float32
	blas64 blas.Float64
)

// BLASName names the BLAS implementation this binary was built with.
func BLASName() string { return blasName }

func transFlag(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where
// op(A) is m×k and op(B) is k×n; lda, ldb and ldc are the row strides.
func gemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleInPlace(c, m, n, ldc, beta)
		return
	}
	switch c := any(c).(type) {
	case []float32:
		blas32.Sgemm(transFlag(tA), transFlag(tB), m, n, k, float32(alpha), any(a).([]float32), lda, any(b).([]float32), ldb, float32(beta), c, ldc)
	case []float64:
		blas64.Dgemm(transFlag(tA), transFlag(tB), m, n, k, float64(alpha), any(a).([]float64), lda, any(b).([]float64), ldb, float64(beta), c, ldc)
	}
}

func scaleInPlace[T Float](c []T, m, n, ldc int, beta T) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
