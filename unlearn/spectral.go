package unlearn

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// SpectralEstimate is a numerical estimate of one spectral quantity of the
// Hessian H = ∇²L(w, S) on all of the objective's samples (shifted to H + σI
// when SpectralOptions.Shift is σ). It is an estimate, not a bound; the fields
// say how good it is.
type SpectralEstimate struct {
	// Value is the estimate: ‖H + σI‖₂ for PowerIteration, λ_min(H + σI) for
	// Lanczos.
	Value float64
	// Eigenvalue is the signed eigenvalue the estimate belongs to: the Rayleigh
	// quotient θ = vᵀ(H + σI)v of the final power-iteration vector (its sign
	// tells whether the dominant eigenvalue is negative), or, for Lanczos, the
	// Rayleigh quotient of the Ritz vector of the smallest Ritz value (equal
	// to Value).
	Eigenvalue float64
	// Method names the algorithm, e.g. "power iteration" or
	// "lanczos (full reorthogonalization)".
	Method string
	// Iterations is the number of iterations (one HVP each).
	Iterations int
	// Residual is ‖(H + σI)v − θv‖₂ for the final unit vector v of power
	// iteration or the Ritz vector of Lanczos, computed explicitly. In both
	// cases H + σI has an eigenvalue within Residual of Eigenvalue.
	Residual float64
	// Tol is the relative convergence tolerance that was used.
	Tol float64
	// Converged reports whether Residual ≤ Tol·scale was reached, with scale
	// the estimate of ‖H + σI‖ (the final ‖(H + σI)v‖ for power iteration, the
	// largest |Ritz value| for Lanczos).
	Converged bool
	// HVPs is the number of full-data Hessian-vector products used.
	HVPs int
	// Skipped, when not empty, says why the quantity was not estimated; the
	// other fields are then zero and carry no meaning.
	Skipped string
}

// Reorthogonalization selects how Lanczos keeps its basis orthogonal.
type Reorthogonalization int

const (
	// FullReorthogonalization orthogonalizes every new Lanczos vector against
	// all previous ones, twice ("twice is enough"). It costs O(kP) per step and
	// keeps the Ritz values free of spurious copies. The default.
	FullReorthogonalization Reorthogonalization = iota
	// SelectiveReorthogonalization (Parlett and Scott) orthogonalizes only
	// against Ritz vectors that have converged to √ε relative accuracy, which
	// is where orthogonality is lost. Cheaper per step when few Ritz pairs
	// converge; the basis is still stored to form those Ritz vectors.
	SelectiveReorthogonalization
)

func (r Reorthogonalization) String() string {
	switch r {
	case FullReorthogonalization:
		return "full reorthogonalization"
	case SelectiveReorthogonalization:
		return "selective reorthogonalization"
	}
	return fmt.Sprintf("Reorthogonalization(%d)", int(r))
}

// SpectralOptions configures PowerIteration and Lanczos. The zero value is the
// documented default.
type SpectralOptions struct {
	// MaxIter bounds the number of iterations (HVPs). Default 100; Lanczos
	// never takes more than Dim() steps, after which its Ritz values are the
	// eigenvalues.
	MaxIter int
	// Tol is the relative residual at which the estimate counts as converged
	// (see SpectralEstimate.Converged). Default 1e-6.
	Tol float64
	// Seed seeds the random start vector; equal seeds give equal results.
	Seed uint64
	// Shift σ: the estimates are for H + σI (e.g. σ = λ).
	Shift float64
	// Reorthogonalization is used by Lanczos only.
	Reorthogonalization Reorthogonalization
	// StopAtNegative (Lanczos only) stops at the first Ritz vector whose
	// explicitly computed Rayleigh quotient is negative, for callers to whom
	// only the sign of λ_min matters: a Rayleigh quotient is ≥ λ_min, so one
	// negative value proves λ_min < 0. The estimate is then that Rayleigh
	// quotient, an upper bound on λ_min, usually not converged.
	StopAtNegative bool
}

func (o SpectralOptions) defaults() SpectralOptions {
	if o.MaxIter <= 0 {
		o.MaxIter = 100
	}
	if o.Tol <= 0 {
		o.Tol = 1e-6
	}
	return o
}

// PowerIteration estimates ‖H + σI‖₂, the largest |eigenvalue| of the Hessian
// of obj at w on all samples, by power iteration from a random start vector.
//
// Value is ‖(H + σI)v‖ for the final unit vector v, which is a lower bound on
// the true norm that converges to it even when the two extreme eigenvalues
// have equal magnitude and opposite signs (then Eigenvalue, the Rayleigh
// quotient, does not converge and Converged stays false). Convergence is
// declared when ‖(H + σI)v − θv‖ ≤ Tol·Value.
//
// If the context is cancelled, PowerIteration returns the estimate so far and
// the context's error.
func PowerIteration(ctx context.Context, obj Objective, w []float64, opts SpectralOptions) (SpectralEstimate, error) {
	checkLen(w, obj)
	opts = opts.defaults()
	var c counter
	est, err := powerIteration(ctx, hessianOp(ctx, obj, w, opts.Shift, &c), obj.Dim(), opts)
	est.HVPs = c.calls
	return est, err
}

func powerIteration(ctx context.Context, op linop, n int, opts SpectralOptions) (SpectralEstimate, error) {
	est := SpectralEstimate{Method: "power iteration", Tol: opts.Tol}
	if n == 0 {
		est.Converged = true
		return est, nil
	}
	v := make([]float64, n)
	av := make([]float64, n)
	r := make([]float64, n)
	randomUnit(newRand(opts.Seed, streamPower), v)
	for k := 1; k <= opts.MaxIter; k++ {
		if err := ctx.Err(); err != nil {
			return est, err
		}
		if err := op(av, v); err != nil {
			return est, fmt.Errorf("unlearn: power iteration %d: %w", k, err)
		}
		est.Iterations = k
		theta := floats.Dot(v, av)
		nrm := Norm(av)
		if !isFinite(nrm) || !isFinite(theta) {
			return est, fmt.Errorf("unlearn: power iteration %d: non-finite Hessian-vector product", k)
		}
		floats.AddScaledTo(r, av, -theta, v)
		est.Value, est.Eigenvalue, est.Residual = nrm, theta, Norm(r)
		if nrm == 0 {
			// v is in the null space of a (numerically) zero operator; a random
			// start makes that happen only for the zero matrix.
			est.Converged = true
			return est, nil
		}
		if est.Residual <= opts.Tol*nrm {
			est.Converged = true
			return est, nil
		}
		floats.ScaleTo(v, 1/nrm, av)
	}
	return est, nil
}

// Lanczos estimates λ_min(H + σI), the smallest (possibly negative) eigenvalue
// of the Hessian of obj at w on all samples, by the Lanczos process from a
// random start vector with full or selective reorthogonalization.
//
// The iteration stops when the Ritz residual bound β_k·|s_k| of the smallest
// Ritz value falls below Tol·max|θ_i|, or after MaxIter steps, or, with
// StopAtNegative, as soon as a Ritz vector with a negative Rayleigh quotient
// is found. The result is then computed explicitly, with one more HVP: y is
// the (normalized) Ritz vector, Value = Eigenvalue = yᵀ(H + σI)y and Residual
// = ‖(H + σI)y − Value·y‖. So some eigenvalue of H + σI lies within Residual
// of Value, and, Value being a Rayleigh quotient, Value ≥ λ_min: the estimate
// can only err upwards (too optimistic), by at most Residual once the Krylov
// space has reached the bottom of the spectrum. Converged reports Residual ≤
// Tol·max|θ_i|. The basis is kept in memory: up to MaxIter vectors of length
// Dim().
//
// If the context is cancelled, Lanczos returns the estimate so far (the
// current smallest Ritz value and its bound) and the context's error.
func Lanczos(ctx context.Context, obj Objective, w []float64, opts SpectralOptions) (SpectralEstimate, error) {
	checkLen(w, obj)
	opts = opts.defaults()
	var c counter
	lo, _, _, err := lanczos(ctx, hessianOp(ctx, obj, w, opts.Shift, &c), obj.Dim(), opts, false)
	lo.HVPs = c.calls
	return lo, err
}

// LanczosExtremes estimates both ends of the spectrum of H + σI from one
// Lanczos run (options and start vector as in Lanczos): lambdaMin exactly as
// Lanczos reports it, and norm, the estimate of ‖H + σI‖₂ = max(λ_max,
// −λ_min), from the Ritz value of largest magnitude. The run stops when both
// ends have converged (or as Lanczos does with StopAtNegative, or after
// MaxIter steps); the largest Ritz value converges much faster than power
// iteration, which needs ratio-of-eigenvalues many steps per digit.
//
// norm.Value is |θ| for the Rayleigh quotient θ = yᵀ(H + σI)y of the
// explicitly formed Ritz vector y of that Ritz value (one more HVP), so,
// like power iteration, it approaches ‖H + σI‖ from below; Eigenvalue is θ
// and Residual ‖(H + σI)y − θy‖. Both estimates come from the same run: its
// HVPs are counted once, in lambdaMin.HVPs (norm.HVPs is 0).
func LanczosExtremes(ctx context.Context, obj Objective, w []float64, opts SpectralOptions) (lambdaMin, norm SpectralEstimate, err error) {
	checkLen(w, obj)
	opts = opts.defaults()
	var c counter
	lambdaMin, norm, _, err = lanczos(ctx, hessianOp(ctx, obj, w, opts.Shift, &c), obj.Dim(), opts, true)
	lambdaMin.HVPs = c.calls
	return lambdaMin, norm, err
}

// krylov is the state of a Lanczos run: the basis q_1..q_k and the tridiagonal
// T_k (diagonal alpha, off-diagonal beta). Tests inspect it.
//
// With full reorthogonalization it also keeps every coefficient the
// orthogonalization took out: op(q_j) = Σ_{i≤j} coef[j][i]·q_i + r_j, where
// r_j = β_j·q_{j+1} is the vector extend returned (to rounding in float64:
// the identity does not assume the basis orthogonal). So the products the
// run made are known exactly without keeping them (see productsResidual).
type krylov struct {
	basis       [][]float64
	alpha, beta []float64
	coef        [][]float64
}

// extend appends the unit vector q to the basis, applies op to it and
// orthogonalizes the result against the basis (twice, "twice is enough") or,
// with selective reorthogonalization, against the last two vectors and the
// converged Ritz vectors good. It appends α_k = q_kᵀAq_k and returns the
// unnormalized next vector r and β_k = ‖r‖ (not yet appended: the caller
// decides whether the run goes on).
func (kr *krylov) extend(op linop, q []float64, reorth Reorthogonalization, good [][]float64) ([]float64, float64, error) {
	j := len(kr.basis)
	kr.basis = append(kr.basis, q)
	r := make([]float64, len(q))
	if err := op(r, q); err != nil {
		kr.basis = kr.basis[:j]
		return nil, 0, err
	}
	a := floats.Dot(q, r)
	floats.AddScaled(r, -a, q)
	if j > 0 {
		floats.AddScaled(r, -kr.beta[j-1], kr.basis[j-1])
	}
	var coef []float64
	switch reorth {
	case FullReorthogonalization:
		coef = make([]float64, j+1)
		for pass := 0; pass < 2; pass++ {
			for i, qi := range kr.basis {
				h := floats.Dot(qi, r)
				floats.AddScaled(r, -h, qi)
				coef[i] += h
				if i == j {
					a += h
				}
			}
		}
		coef[j] = a
		if j > 0 {
			coef[j-1] += kr.beta[j-1]
		}
	case SelectiveReorthogonalization:
		// Local reorthogonalization against the last two vectors, plus the
		// converged Ritz vectors.
		for _, i := range []int{j, j - 1} {
			if i >= 0 {
				h := floats.Dot(kr.basis[i], r)
				floats.AddScaled(r, -h, kr.basis[i])
				if i == j {
					a += h
				}
			}
		}
		for _, y := range good {
			floats.AddScaled(r, -floats.Dot(y, r), y)
		}
	default:
		panic("unlearn: unknown reorthogonalization")
	}
	if !isFinite(a) {
		kr.basis = kr.basis[:j]
		return nil, 0, errors.New("non-finite Hessian-vector product")
	}
	kr.alpha = append(kr.alpha, a)
	if coef != nil {
		kr.coef = append(kr.coef, coef)
	}
	return r, Norm(r), nil
}

// breakdown reports whether β is zero to rounding for a T of norm tnorm: the
// Krylov space is then invariant and its Ritz values are eigenvalues.
func breakdown(b, tnorm, a float64, n int) bool {
	const eps = 0x1p-52
	return b <= eps*math.Max(tnorm, math.Abs(a))*math.Sqrt(float64(n))
}

// lanczos runs the Lanczos process from a random start vector and returns the
// explicit estimate of λ_min and, if both, of the norm (the Ritz value of
// largest magnitude); otherwise hi is zero.
func lanczos(ctx context.Context, op linop, n int, opts SpectralOptions, both bool) (lo, hi SpectralEstimate, kr *krylov, err error) {
	method := "lanczos (" + opts.Reorthogonalization.String() + ")"
	lo = SpectralEstimate{Method: method, Tol: opts.Tol}
	if both {
		hi = SpectralEstimate{Method: method + ", largest |Ritz value|", Tol: opts.Tol}
	}
	kr = &krylov{}
	if n == 0 {
		lo.Converged, hi.Converged = true, both
		return lo, hi, kr, nil
	}
	m := min(opts.MaxIter, n)
	var (
		good  [][]float64 // converged Ritz vectors (selective)
		goodV []float64   // their Ritz values
	)
	var vals []float64
	explicitAt := -1 // the step at which lo was last computed explicitly
	q := make([]float64, n)
	randomUnit(newRand(opts.Seed, streamLanczos), q)
	for j := 0; j < m; j++ {
		if err := ctx.Err(); err != nil {
			return lo, hi, kr, err
		}
		r, b, err := kr.extend(op, q, opts.Reorthogonalization, good)
		if err != nil {
			return lo, hi, kr, fmt.Errorf("unlearn: lanczos step %d: %w", j+1, err)
		}
		lo.Iterations, hi.Iterations = j+1, j+1
		var last []float64
		var ok bool
		vals, last, ok = tridiagEigen(kr.alpha, kr.beta)
		if !ok {
			return lo, hi, kr, errors.New("unlearn: lanczos: tridiagonal eigenvalue iteration failed")
		}
		k := len(vals)
		tnorm := math.Max(math.Abs(vals[0]), math.Abs(vals[k-1]))
		lo.Value, lo.Eigenvalue, lo.Residual = vals[0], vals[0], b*math.Abs(last[0])
		top := k - 1
		if -vals[0] > vals[k-1] {
			top = 0
		}
		hi.Value, hi.Eigenvalue, hi.Residual = math.Abs(vals[top]), vals[top], b*math.Abs(last[top])
		converged := lo.Residual <= opts.Tol*tnorm && (!both || hi.Residual <= opts.Tol*tnorm)
		stop := breakdown(b, tnorm, kr.alpha[j], n) || j+1 == n
		if !stop && !converged && opts.StopAtNegative && vals[0] < 0 && j+1 < m {
			// One negative Ritz value proves λ_min < 0 once its Rayleigh
			// quotient is confirmed explicitly; rounding could leave it ≥ 0.
			if lo, err = ritzEstimate(op, kr, lo, 0); err != nil {
				return lo, hi, kr, err
			}
			explicitAt = j
			stop = lo.Value < 0
		}
		if stop || converged {
			break
		}
		if opts.Reorthogonalization == SelectiveReorthogonalization {
			r, b = selectiveOrth(kr.basis, kr.alpha, kr.beta, vals, last, b, r, &good, &goodV, tnorm)
			if breakdown(b, tnorm, kr.alpha[j], n) {
				break
			}
		}
		kr.beta = append(kr.beta, b)
		floats.Scale(1/b, r)
		q = r
	}
	if explicitAt != len(kr.alpha)-1 {
		if lo, err = ritzEstimate(op, kr, lo, 0); err != nil {
			return lo, hi, kr, err
		}
	}
	if both {
		k := len(kr.alpha)
		top := k - 1
		if -vals[0] > vals[k-1] {
			top = 0
		}
		if top == 0 {
			hi.Value, hi.Eigenvalue, hi.Residual = math.Abs(lo.Value), lo.Value, lo.Residual
			hi.Converged = lo.Converged
		} else if hi, err = ritzEstimate(op, kr, hi, top); err != nil {
			return lo, hi, kr, err
		} else {
			hi.Value = math.Abs(hi.Eigenvalue)
		}
	}
	return lo, hi, kr, nil
}

// ritzEstimate replaces the running estimate by the explicit one: the Rayleigh
// quotient and residual of the Ritz vector of the i-th smallest Ritz value.
func ritzEstimate(op linop, kr *krylov, est SpectralEstimate, i int) (SpectralEstimate, error) {
	k := len(kr.alpha)
	t := mat.NewSymDense(k, nil)
	for i := 0; i < k; i++ {
		t.SetSym(i, i, kr.alpha[i])
		if i+1 < k {
			t.SetSym(i, i+1, kr.beta[i])
		}
	}
	var es mat.EigenSym
	if !es.Factorize(t, true) {
		return est, errors.New("unlearn: lanczos: eigendecomposition of T failed")
	}
	vals := es.Values(nil)
	tnorm := math.Max(math.Abs(vals[0]), math.Abs(vals[k-1]))
	var s mat.Dense
	es.VectorsTo(&s)
	n := len(kr.basis[0])
	y := make([]float64, n)
	for l := 0; l < k; l++ {
		floats.AddScaled(y, s.At(l, i), kr.basis[l])
	}
	floats.Scale(1/Norm(y), y)
	ay := make([]float64, n)
	if err := op(ay, y); err != nil {
		return est, fmt.Errorf("unlearn: lanczos ritz vector: %w", err)
	}
	theta := floats.Dot(y, ay)
	floats.AddScaled(ay, -theta, y)
	est.Value, est.Eigenvalue, est.Residual = theta, theta, Norm(ay)
	est.Converged = est.Residual <= est.Tol*tnorm
	return est, nil
}

// selectiveOrth finds Ritz pairs that have converged to √ε·‖T‖ and are not yet
// in good, forms their Ritz vectors, and orthogonalizes r against them.
func selectiveOrth(basis [][]float64, alpha, beta, vals, last []float64, b float64, r []float64,
	good *[][]float64, goodV *[]float64, tnorm float64) ([]float64, float64) {
	tol := math.Sqrt(0x1p-52) * tnorm
	var fresh []int
	for i, t := range vals {
		if b*math.Abs(last[i]) > tol {
			continue
		}
		known := false
		for _, g := range *goodV {
			if math.Abs(g-t) <= tol {
				known = true
				break
			}
		}
		if !known {
			fresh = append(fresh, i)
		}
	}
	if len(fresh) == 0 {
		return r, b
	}
	k := len(alpha)
	t := mat.NewSymDense(k, nil)
	for i := 0; i < k; i++ {
		t.SetSym(i, i, alpha[i])
		if i+1 < k {
			t.SetSym(i, i+1, beta[i])
		}
	}
	var es mat.EigenSym
	if !es.Factorize(t, true) {
		return r, b
	}
	var s mat.Dense
	es.VectorsTo(&s)
	n := len(r)
	for _, i := range fresh {
		y := make([]float64, n)
		for l := 0; l < k; l++ {
			floats.AddScaled(y, s.At(l, i), basis[l])
		}
		if ny := Norm(y); ny > 0 {
			floats.Scale(1/ny, y)
		}
		*good = append(*good, y)
		*goodV = append(*goodV, vals[i])
		floats.AddScaled(r, -floats.Dot(y, r), y)
	}
	return r, Norm(r)
}

// combine returns Σ_i y_i·q_i, the vector of coordinates y in the basis.
func (kr *krylov) combine(y []float64) []float64 {
	u := make([]float64, len(kr.basis[0]))
	for i, qi := range kr.basis {
		floats.AddScaled(u, y[i], qi)
	}
	return u
}

// productsResidual returns ‖(H + λI)u − g‖ for u = Σ y_i·q_i, the iterate of
// a run with full reorthogonalization whose last extend returned r, from the
// products the run already made: (H + λI)u = Σ_j y_j·op(q_j) + λu, and each
// op(q_j) is a combination of the basis and r (see krylov). It costs k + 3
// vector updates instead of an HVP and is the residual of the full-data
// products the solve computed, exact to float64 rounding; it differs from a
// separate HVP of u only by the rounding inside the products.
func (kr *krylov) productsResidual(y, r []float64, lambda float64, u, g []float64) float64 {
	k := len(y)
	if len(kr.coef) != k || len(kr.basis) != k {
		panic("unlearn: productsResidual needs a fully reorthogonalized run of len(y) steps")
	}
	z := make([]float64, k)
	for j, c := range kr.coef {
		floats.AddScaled(z[:len(c)], y[j], c)
		if j+1 < k {
			z[j+1] += y[j] * kr.beta[j]
		}
	}
	res := make([]float64, len(u))
	for i, qi := range kr.basis {
		floats.AddScaled(res, z[i], qi)
	}
	floats.AddScaled(res, y[k-1], r)
	floats.AddScaled(res, lambda, u)
	floats.Sub(res, g)
	return Norm(res)
}
