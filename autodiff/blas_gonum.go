//go:build !openblas || !cgo

package autodiff

import "gonum.org/v1/gonum/blas/gonum"

const blasName = "gonum"

func init() {
	blas32 = gonum.Implementation{}
	blas64 = gonum.Implementation{}
}
