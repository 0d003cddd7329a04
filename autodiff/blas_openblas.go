//go:build openblas && cgo

package autodiff

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
*/
import "C"

import "gonum.org/v1/netlib/blas/netlib"

const blasName = "openblas"

func init() {
	blas32 = netlib.Implementation{}
	blas64 = netlib.Implementation{}
	// lethe parallelises over samples itself; BLAS threads would oversubscribe.
	C.openblas_set_num_threads(1)
}
