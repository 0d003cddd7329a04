package unlearn

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/floats"
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

// radauFactor returns f ≥ 1 such that, after k Lanczos steps on a symmetric
// A = H + shift·I from q_1 = g/‖g‖ (T the k×k tridiagonal of H with
// diagonal alpha and off-diagonal beta, b = β_k the norm of the next basis
// vector before scaling), the conjugate gradient iterate u_k satisfies
//
//	‖u_k − A⁻¹g‖_A ≤ ρ_k/√(μ·f²),  hence  ‖u_k − A⁻¹g‖₂ ≤ ρ_k/(μ·f),
//
// for every node μ with 0 < μ ≤ λ_min(A), where ρ_k is the residual. The
// residual alone gives these with f = 1; f comes from the Gauss–Radau rule
// with its fixed node at μ, which bounds gᵀA⁻¹g from above (Golub and
// Meurant, Matrices, Moments and Quadrature, 2010, Theorem 6.4), while
// u_kᵀA·u_k is the Gauss rule's value: the error's A-norm squared is their
// difference, ρ_k²/s with s the Schur complement of the Gauss–Radau
// matrix's last diagonal entry,
//
//	s = μ·(1 + b²·xᵀz),  x = (T + (shift − μ)I)⁻¹e_k,  z = (T + shift·I)⁻¹e_k,
//
// so f = √(s/μ). Both solves must be positive definite (μ below the
// smallest Ritz value of A); otherwise ok is false and f is 1. The identity
// is exact for an exact Lanczos relation; a run with full
// reorthogonalization holds it to the rounding of its products.
func radauFactor(alpha, beta []float64, shift, mu, b float64) (f float64, ok bool) {
	k := len(alpha)
	if k == 0 || len(beta) < k-1 || !(mu > 0) {
		return 1, false
	}
	// e_k of T is e_1 of T with its order reversed, which tridiagSolve takes.
	ra, rb := make([]float64, k), make([]float64, k-1)
	for i := range ra {
		ra[i] = alpha[k-1-i]
	}
	for i := range rb {
		rb[i] = beta[k-2-i]
	}
	x, z := make([]float64, k), make([]float64, k)
	if !tridiagSolve(ra, rb, shift-mu, 1, x) || !tridiagSolve(ra, rb, shift, 1, z) {
		return 1, false
	}
	return math.Sqrt(1 + b*b*max(0, floats.Dot(x, z))), true
}
