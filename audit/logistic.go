package audit

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// DefaultL2 is the ridge penalty LogisticOptions uses when L2 is zero. It is
// the λ of the mean-loss objective on standardised features (see
// FitLogistic); for a few hundred samples it is about sklearn's default
// C = 1, and it keeps the fit finite on separable data.
const DefaultL2 = 1e-3

// LogisticOptions configures FitLogistic. The zero value is the default.
type LogisticOptions struct {
	// L2 is the ridge penalty λ on the coefficients of the standardised
	// features (the intercept is not penalised). Zero means DefaultL2; a
	// negative value means no penalty (plain maximum likelihood). Separable
	// data then have no finite optimum: the fit stops with very large
	// coefficients once the vanishing gradient meets the tolerance, or
	// returns ErrNotConverged.
	L2 float64

	// MaxIterations bounds the Newton iterations. Zero means 100.
	MaxIterations int

	// Tolerance is the convergence threshold on the largest absolute entry
	// of the gradient of the (mean, penalised) objective. Zero means 1e-9.
	Tolerance float64
}

func (o *LogisticOptions) l2() float64 {
	switch {
	case o == nil || o.L2 == 0:
		return DefaultL2
	case o.L2 < 0:
		return 0
	}
	return o.L2
}

func (o *LogisticOptions) maxIterations() int {
	if o == nil || o.MaxIterations <= 0 {
		return 100
	}
	return o.MaxIterations
}

func (o *LogisticOptions) tolerance() float64 {
	if o == nil || o.Tolerance <= 0 {
		return 1e-9
	}
	return o.Tolerance
}

// LogisticModel is a fitted binary logistic regression:
// P(y = 1 | x) = σ(Intercept + Coef·x), σ the logistic function.
// Coef and Intercept are in the units of the original features; the
// standardisation used during the fit is folded into them.
type LogisticModel struct {
	Coef      []float64
	Intercept float64

	// Objective is the penalised mean loss at the solution (in standardised
	// units, as minimised), and Iterations the Newton steps taken.
	Objective  float64
	Iterations int
}

// FitLogistic fits an L2-regularised logistic regression with intercept to
// the rows of x (row-major N×dim) and the labels y (true = class 1).
//
// Each feature is first standardised to zero mean and unit population
// standard deviation (a constant feature is only centred), giving z_i. The
// fit minimises over the intercept b and coefficients w
//
//	f(b, w) = (1/N) Σ_i [log(1 + exp(η_i)) − y_i η_i] + (λ/2)‖w‖²,  η_i = b + w·z_i,
//
// by Newton's method (iteratively reweighted least squares) with a
// backtracking line search; each step solves the (dim+1)-square Newton
// system by Cholesky. f is convex, and strictly convex for λ > 0, so the
// minimum is unique. The solution is mapped back to the original units.
//
// It panics when dim is not positive, does not divide len(x) or len(y) is
// not N; it returns ErrInvalidInput for non-finite features,
// ErrTooFewSamples when y does not hold both classes, and ErrNotConverged
// when the iteration limit is reached first.
func FitLogistic(x []float64, dim int, y []bool, opts *LogisticOptions) (*LogisticModel, error) {
	n := rowCount(len(x), dim)
	if len(y) != n {
		panic(fmt.Sprintf("audit: dimension mismatch: %d labels for %d rows", len(y), n))
	}
	ones := 0
	for _, v := range y {
		if v {
			ones++
		}
	}
	if ones == 0 || ones == n {
		return nil, fmt.Errorf("%w: logistic regression needs both classes, got %d of %d positive", ErrTooFewSamples, ones, n)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: feature %d of row %d is %v", ErrInvalidInput, i%dim, i/dim, v)
		}
	}

	mean, scale := standardisation(x, dim)
	z := make([]float64, len(x))
	for i, v := range x {
		j := i % dim
		z[i] = (v - mean[j]) / scale[j]
	}
	lambda := opts.l2()
	p := dim + 1 // θ = (b, w_1..w_dim)
	theta := make([]float64, p)
	grad := make([]float64, p)
	hess := mat.NewSymDense(p, nil)
	eta := make([]float64, n)
	trial := make([]float64, p)
	var chol mat.Cholesky
	step := mat.NewVecDense(p, nil)
	tol := opts.tolerance()

	obj := logisticObjective(z, dim, y, theta, lambda, eta)
	for it := 0; ; it++ {
		logisticDerivatives(z, dim, y, theta, lambda, eta, grad, hess)
		if maxAbs(grad) <= tol {
			return logisticResult(theta, mean, scale, obj, it), nil
		}
		if it == opts.maxIterations() {
			return nil, fmt.Errorf("%w: logistic regression after %d Newton iterations (gradient max-norm %.3g > %.3g)",
				ErrNotConverged, it, maxAbs(grad), tol)
		}
		if err := newtonStep(&chol, hess, grad, step); err != nil {
			return nil, err
		}
		// Backtracking (Armijo) line search along the Newton direction.
		slope := mat.Dot(mat.NewVecDense(p, grad), step)
		if slope >= 0 {
			// H is positive definite, so this only happens when g·H⁻¹g
			// is lost to rounding: the iterate is as good as it gets.
			return logisticResult(theta, mean, scale, obj, it), nil
		}
		t := 1.0
		for {
			for k := range theta {
				trial[k] = theta[k] + t*step.AtVec(k)
			}
			f := logisticObjective(z, dim, y, trial, lambda, eta)
			if f <= obj+1e-4*t*slope {
				copy(theta, trial)
				obj = f
				break
			}
			t /= 2
			if t < 1e-12 {
				// No decrease measurable in float64 along a descent
				// direction: converged to rounding.
				return logisticResult(theta, mean, scale, obj, it), nil
			}
		}
	}
}

// standardisation returns the per-feature mean and population standard
// deviation of x (N×dim), with a scale of 1 for constant features.
func standardisation(x []float64, dim int) (mean, scale []float64) {
	n := float64(len(x) / dim)
	mean = make([]float64, dim)
	scale = make([]float64, dim)
	for i, v := range x {
		mean[i%dim] += v
	}
	for j := range mean {
		mean[j] /= n
	}
	for i, v := range x {
		d := v - mean[i%dim]
		scale[i%dim] += d * d
	}
	for j := range scale {
		scale[j] = math.Sqrt(scale[j] / n)
		if scale[j] <= 1e-12*math.Max(1, math.Abs(mean[j])) {
			scale[j] = 1
		}
	}
	return mean, scale
}

// softplus returns log(1 + exp(v)) without overflow.
func softplus(v float64) float64 {
	if v > 0 {
		return v + math.Log1p(math.Exp(-v))
	}
	return math.Log1p(math.Exp(v))
}

// sigmoid returns 1/(1 + exp(−v)) without overflow.
func sigmoid(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}

// logisticObjective returns f(θ) and leaves the linear predictors in eta.
func logisticObjective(z []float64, dim int, y []bool, theta []float64, lambda float64, eta []float64) float64 {
	var loss float64
	for i := range eta {
		e := theta[0]
		for j, v := range z[i*dim : (i+1)*dim] {
			e += theta[j+1] * v
		}
		eta[i] = e
		loss += softplus(e)
		if y[i] {
			loss -= e
		}
	}
	var pen float64
	for _, w := range theta[1:] {
		pen += w * w
	}
	return loss/float64(len(eta)) + lambda/2*pen
}

// logisticDerivatives writes the gradient and Hessian of f at θ, given the
// linear predictors eta at θ:
// ∇f = (1/N) Σ (p_i − y_i)(1, z_i) + λ(0, w),
// ∇²f = (1/N) Σ p_i(1 − p_i)(1, z_i)(1, z_i)ᵀ + λ diag(0, 1, …, 1).
func logisticDerivatives(z []float64, dim int, y []bool, theta []float64, lambda float64, eta, grad []float64, hess *mat.SymDense) {
	p := dim + 1
	n := float64(len(eta))
	clear(grad)
	h := make([]float64, p*p) // upper triangle accumulated row-major
	row := make([]float64, p)
	row[0] = 1
	for i, e := range eta {
		copy(row[1:], z[i*dim:(i+1)*dim])
		pi := sigmoid(e)
		r := pi
		if y[i] {
			r -= 1
		}
		wgt := pi * (1 - pi)
		for a := range p {
			grad[a] += r * row[a]
			ra := wgt * row[a]
			for b := a; b < p; b++ {
				h[a*p+b] += ra * row[b]
			}
		}
	}
	for a := range p {
		grad[a] /= n
		for b := a; b < p; b++ {
			v := h[a*p+b] / n
			if a == b && a > 0 {
				v += lambda
			}
			hess.SetSym(a, b, v)
		}
	}
	for a := 1; a < p; a++ {
		grad[a] += lambda * theta[a]
	}
}

// newtonStep solves H·step = −g by Cholesky. Without a penalty H can be
// singular (constant features, saturated probabilities); a small ridge,
// grown tenfold until the factorisation succeeds, then keeps the step
// defined.
func newtonStep(chol *mat.Cholesky, hess *mat.SymDense, grad []float64, step *mat.VecDense) error {
	p := len(grad)
	neg := mat.NewVecDense(p, nil)
	for k, g := range grad {
		neg.SetVec(k, -g)
	}
	var trace float64
	for k := range p {
		trace += hess.At(k, k)
	}
	damped := mat.NewSymDense(p, nil)
	damped.CopySym(hess)
	jitter := 0.0
	for range 20 {
		if chol.Factorize(damped) {
			if err := chol.SolveVecTo(step, neg); err == nil {
				return nil
			}
		}
		if jitter == 0 {
			jitter = 1e-12 * math.Max(trace, 1)
		} else {
			jitter *= 10
		}
		damped.CopySym(hess)
		for k := range p {
			damped.SetSym(k, k, hess.At(k, k)+jitter)
		}
	}
	return fmt.Errorf("%w: logistic regression Newton system is not positive definite", ErrNotConverged)
}

// logisticResult maps θ in standardised units back to the original ones:
// w·(x − m)/s + b = (w/s)·x + (b − Σ w_j m_j / s_j).
func logisticResult(theta, mean, scale []float64, obj float64, it int) *LogisticModel {
	m := &LogisticModel{Coef: make([]float64, len(mean)), Intercept: theta[0], Objective: obj, Iterations: it}
	for j := range mean {
		m.Coef[j] = theta[j+1] / scale[j]
		m.Intercept -= theta[j+1] * mean[j] / scale[j]
	}
	return m
}

func maxAbs(s []float64) float64 {
	var m float64
	for _, v := range s {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// Decision writes the log-odds Intercept + Coef·x_i of each row of x
// (row-major N×len(Coef)) into dst and returns it. If dst is nil a new slice
// is allocated; otherwise it must have N entries.
func (m *LogisticModel) Decision(dst, x []float64) []float64 {
	n := rowCount(len(x), len(m.Coef))
	dst = checkDst(dst, n)
	d := len(m.Coef)
	for i := range n {
		s := m.Intercept
		for j, v := range x[i*d : (i+1)*d] {
			s += m.Coef[j] * v
		}
		dst[i] = s
	}
	return dst
}

// Probability writes P(y = 1 | x_i) = σ(Decision(x_i)) of each row of x into
// dst and returns it, with the allocation rules of Decision.
func (m *LogisticModel) Probability(dst, x []float64) []float64 {
	dst = m.Decision(dst, x)
	for i, v := range dst {
		dst[i] = sigmoid(v)
	}
	return dst
}
