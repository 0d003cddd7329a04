package unlearn

import (
	"math"
	"sort"
)

// tridiagEigen computes the eigenvalues of the symmetric tridiagonal matrix
// with diagonal alpha (length n) and off-diagonal beta (length n−1), sorted
// ascending, together with the last component of each (unit) eigenvector, which
// is what Lanczos needs for its Ritz residual bounds β_k·|y_k|.
//
// It is the implicit QL algorithm with Wilkinson shifts (EISPACK imtql2)
// accumulating only the last row of the eigenvector matrix, so it costs O(n²)
// rather than the O(n³) of a full eigendecomposition. ok is false if an
// eigenvalue needed more than 60 QL sweeps.
func tridiagEigen(alpha, beta []float64) (vals, last []float64, ok bool) {
	n := len(alpha)
	if len(beta) != n-1 && !(n == 0 && len(beta) == 0) {
		panic(errDim)
	}
	d := append([]float64(nil), alpha...)
	e := make([]float64, n)
	copy(e, beta) // e[i] couples i and i+1; e[n−1] = 0
	z := make([]float64, n)
	if n > 0 {
		z[n-1] = 1 // last row of the identity
	}
	const eps = 0x1p-52
	for l := 0; l < n; l++ {
		for iter := 0; ; iter++ {
			m := l
			for ; m < n-1; m++ {
				dd := math.Abs(d[m]) + math.Abs(d[m+1])
				if math.Abs(e[m]) <= eps*dd {
					break
				}
			}
			if m == l {
				break
			}
			if iter == 60 {
				return nil, nil, false
			}
			g := (d[l+1] - d[l]) / (2 * e[l])
			r := math.Hypot(g, 1)
			g = d[m] - d[l] + e[l]/(g+math.Copysign(r, g))
			s, c, p := 1.0, 1.0, 0.0
			deflated := false
			for i := m - 1; i >= l; i-- {
				f := s * e[i]
				b := c * e[i]
				r = math.Hypot(f, g)
				e[i+1] = r
				if r == 0 {
					d[i+1] -= p
					e[m] = 0
					deflated = true
					break
				}
				s = f / r
				c = g / r
				g = d[i+1] - p
				r = (d[i]-g)*s + 2*c*b
				p = s * r
				d[i+1] = g + p
				g = c*r - b
				f = z[i+1]
				z[i+1] = s*z[i] + c*f
				z[i] = c*z[i] - s*f
			}
			if deflated {
				continue
			}
			d[l] -= p
			e[l] = g
			e[m] = 0
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return d[order[a]] < d[order[b]] })
	vals = make([]float64, n)
	last = make([]float64, n)
	for i, k := range order {
		vals[i] = d[k]
		last[i] = z[k]
	}
	return vals, last, true
}

// tridiagSolve solves (T + shift·I)y = rhs·e_1 for the symmetric tridiagonal
// T with diagonal alpha and off-diagonal beta (length len(alpha) − 1, or
// more: the extra entries are ignored), writing y. It factors T + shift·I =
// LDLᵀ without pivoting, which is backward stable when the matrix is positive
// definite; ok is false if a pivot is not positive, which proves that it is
// not.
func tridiagSolve(alpha, beta []float64, shift, rhs float64, y []float64) (ok bool) {
	k := len(alpha)
	if len(y) != k || len(beta) < k-1 {
		panic(errDim)
	}
	if k == 0 {
		return true
	}
	// d holds the pivots, l the multipliers (l[i] couples i and i+1); y holds
	// the forward substitution first.
	d := make([]float64, k)
	l := make([]float64, k)
	d[0] = alpha[0] + shift
	y[0] = rhs
	for i := 0; i+1 < k; i++ {
		if !(d[i] > 0) {
			return false
		}
		l[i] = beta[i] / d[i]
		d[i+1] = alpha[i+1] + shift - l[i]*beta[i]
		y[i+1] = -l[i] * y[i]
	}
	if !(d[k-1] > 0) {
		return false
	}
	y[k-1] /= d[k-1]
	for i := k - 2; i >= 0; i-- {
		y[i] = y[i]/d[i] - l[i]*y[i+1]
	}
	return true
}
