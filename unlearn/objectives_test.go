package unlearn

import (
	"context"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// This file holds pure-Go test objectives with hand-written gradients and
// Hessian-vector products. fd_test.go checks every one of them against
// finite differences, so that the rest of the suite can trust them.

// forEach calls f for every selected sample index (nil = all of 0..n−1).
func forEach(n int, idx []int, f func(i int)) int {
	if idx == nil {
		for i := 0; i < n; i++ {
			f(i)
		}
		return n
	}
	for _, i := range idx {
		f(i)
	}
	return len(idx)
}

// logReg is L2-regularised multinomial logistic regression:
// ℓ(w; x, y) = logsumexp(z) − z_y with z_c = W_c·x + b_c, plus (μ/2)‖w‖².
// Parameters are K rows of F weights followed by the bias: w[c(F+1)+j].
type logReg struct {
	x  [][]float64
	y  []int
	k  int
	mu float64
}

func (l *logReg) Dim() int { return l.k * (len(l.x[0]) + 1) }
func (l *logReg) Len() int { return len(l.x) }

// probs writes softmax(z(x)) into p.
func (l *logReg) probs(w, x, p []float64) {
	f := len(x)
	mx := math.Inf(-1)
	for c := 0; c < l.k; c++ {
		row := w[c*(f+1) : (c+1)*(f+1)]
		p[c] = floats.Dot(row[:f], x) + row[f]
		mx = math.Max(mx, p[c])
	}
	s := 0.0
	for c := range p {
		p[c] = math.Exp(p[c] - mx)
		s += p[c]
	}
	floats.Scale(1/s, p)
}

func (l *logReg) Eval(_ context.Context, w []float64, idx []int, grad []float64) (float64, error) {
	f := len(l.x[0])
	p := make([]float64, l.k)
	if grad != nil {
		clear(grad)
	}
	loss := 0.0
	cnt := forEach(len(l.x), idx, func(i int) {
		x := l.x[i]
		l.probs(w, x, p)
		loss -= math.Log(p[l.y[i]])
		if grad != nil {
			for c := 0; c < l.k; c++ {
				d := p[c]
				if c == l.y[i] {
					d--
				}
				row := grad[c*(f+1) : (c+1)*(f+1)]
				floats.AddScaled(row[:f], d, x)
				row[f] += d
			}
		}
	})
	loss /= float64(cnt)
	loss += l.mu / 2 * floats.Dot(w, w)
	if grad != nil {
		floats.Scale(1/float64(cnt), grad)
		floats.AddScaled(grad, l.mu, w)
	}
	return loss, nil
}

// HVP: with dz_c = V_c·x + v_bc, the CE Hessian in z is diag(p) − ppᵀ, so
// H·v = mean over samples of s ⊗ [x, 1] with s = p⊙dz − p(pᵀdz), plus μv.
func (l *logReg) HVP(_ context.Context, w []float64, idx []int, v, dst []float64) error {
	f := len(l.x[0])
	p := make([]float64, l.k)
	s := make([]float64, l.k)
	clear(dst)
	cnt := forEach(len(l.x), idx, func(i int) {
		x := l.x[i]
		l.probs(w, x, p)
		pdz := 0.0
		for c := 0; c < l.k; c++ {
			row := v[c*(f+1) : (c+1)*(f+1)]
			s[c] = floats.Dot(row[:f], x) + row[f]
			pdz += p[c] * s[c]
		}
		for c := 0; c < l.k; c++ {
			sc := p[c] * (s[c] - pdz)
			row := dst[c*(f+1) : (c+1)*(f+1)]
			floats.AddScaled(row[:f], sc, x)
			row[f] += sc
		}
	})
	floats.Scale(1/float64(cnt), dst)
	floats.AddScaled(dst, l.mu, v)
	return nil
}

// hessian builds the exact dense Hessian from the closed form
// mean_n (diag(p) − ppᵀ) ⊗ x̃x̃ᵀ + μI (independent of HVP).
func (l *logReg) hessian(w []float64) *mat.SymDense {
	f := len(l.x[0])
	n := l.Dim()
	h := mat.NewSymDense(n, nil)
	p := make([]float64, l.k)
	xt := make([]float64, f+1)
	for _, x := range l.x {
		l.probs(w, x, p)
		copy(xt, x)
		xt[f] = 1
		for c := 0; c < l.k; c++ {
			for d := c; d < l.k; d++ {
				a := -p[c] * p[d]
				if c == d {
					a += p[c]
				}
				for j := 0; j <= f; j++ {
					for jj := 0; jj <= f; jj++ {
						r, q := c*(f+1)+j, d*(f+1)+jj
						// Within a diagonal block only r ≤ q is stored;
						// off-diagonal blocks (c < d) always have r < q.
						if r <= q {
							h.SetSym(r, q, h.At(r, q)+a*xt[j]*xt[jj])
						}
					}
				}
			}
		}
	}
	h.ScaleSym(1/float64(len(l.x)), h)
	for i := 0; i < n; i++ {
		h.SetSym(i, i, h.At(i, i)+l.mu)
	}
	return h
}

// subset returns the objective restricted to the given samples.
func (l *logReg) subset(keep []int) *logReg {
	s := &logReg{k: l.k, mu: l.mu}
	for _, i := range keep {
		s.x = append(s.x, l.x[i])
		s.y = append(s.y, l.y[i])
	}
	return s
}

// newLogReg draws n samples with f features and k classes: class means with
// entries N(0, 4/f) and unit-variance isotropic noise scaled by 1/√f, so ‖x‖
// is O(1) and the classes overlap (the minimiser stays finite without μ too).
func newLogReg(rnd *rand.Rand, n, f, k int, mu float64) *logReg {
	means := make([][]float64, k)
	for c := range means {
		means[c] = make([]float64, f)
		for j := range means[c] {
			means[c][j] = 2 * rnd.NormFloat64() / math.Sqrt(float64(f))
		}
	}
	l := &logReg{k: k, mu: mu}
	for i := 0; i < n; i++ {
		c := rnd.IntN(k)
		x := make([]float64, f)
		for j := range x {
			x[j] = means[c][j] + rnd.NormFloat64()/math.Sqrt(float64(f))
		}
		l.x = append(l.x, x)
		l.y = append(l.y, c)
	}
	return l
}

// tanhNet is a non-convex 2-layer network with squared loss:
// ŷ = w2·tanh(W1 x + b1) + b2, ℓ = ½(ŷ − t)², plus (μ/2)‖w‖².
// Layout: W1 (h×f row-major), b1 (h), w2 (h), b2 (1).
type tanhNet struct {
	x  [][]float64
	t  []float64
	h  int
	mu float64
}

func (m *tanhNet) Dim() int { f := len(m.x[0]); return m.h*f + 2*m.h + 1 }
func (m *tanhNet) Len() int { return len(m.x) }

func (m *tanhNet) unpack(w []float64) (w1, b1, w2 []float64, b2 float64) {
	f := len(m.x[0])
	return w[:m.h*f], w[m.h*f : m.h*f+m.h], w[m.h*f+m.h : m.h*f+2*m.h], w[m.h*f+2*m.h]
}

func (m *tanhNet) forward(w, x, a []float64) float64 {
	f := len(x)
	w1, b1, w2, b2 := m.unpack(w)
	y := b2
	for j := 0; j < m.h; j++ {
		a[j] = math.Tanh(floats.Dot(w1[j*f:(j+1)*f], x) + b1[j])
		y += w2[j] * a[j]
	}
	return y
}

func (m *tanhNet) Eval(_ context.Context, w []float64, idx []int, grad []float64) (float64, error) {
	f := len(m.x[0])
	hid := make([]float64, m.h)
	if grad != nil {
		clear(grad)
	}
	_, _, w2, _ := m.unpack(w)
	loss := 0.0
	cnt := forEach(len(m.x), idx, func(i int) {
		x := m.x[i]
		r := m.forward(w, x, hid) - m.t[i]
		loss += r * r / 2
		if grad != nil {
			g1, gb1, g2, _ := m.unpack(grad)
			for j := 0; j < m.h; j++ {
				g2[j] += r * hid[j]
				delta := r * w2[j] * (1 - hid[j]*hid[j])
				floats.AddScaled(g1[j*f:(j+1)*f], delta, x)
				gb1[j] += delta
			}
			grad[len(grad)-1] += r
		}
	})
	loss /= float64(cnt)
	loss += m.mu / 2 * floats.Dot(w, w)
	if grad != nil {
		floats.Scale(1/float64(cnt), grad)
		floats.AddScaled(grad, m.mu, w)
	}
	return loss, nil
}

// HVP by the R-operator (forward-over-reverse) with direction
// v = (V1, c1, v2, c2):
//
//	Ra = V1 x + c1, Rh = s⊙Ra with s = 1 − h², Rŷ = v2·h + w2·Rh + c2, Rr = Rŷ
//	R∇w2 = Rr·h + r·Rh,  R∇b2 = Rr
//	δ = r·w2⊙s,  Rδ = Rr·w2⊙s + r·v2⊙s + r·w2⊙Rs with Rs = −2h⊙Rh
//	R∇W1 = Rδ xᵀ,  R∇b1 = Rδ
func (m *tanhNet) HVP(_ context.Context, w []float64, idx []int, v, dst []float64) error {
	f := len(m.x[0])
	hid := make([]float64, m.h)
	rh := make([]float64, m.h)
	clear(dst)
	_, _, w2, _ := m.unpack(w)
	v1, c1, v2, c2 := m.unpack(v)
	d1, db1, d2, _ := m.unpack(dst)
	cnt := forEach(len(m.x), idx, func(i int) {
		x := m.x[i]
		r := m.forward(w, x, hid) - m.t[i]
		ry := c2
		for j := 0; j < m.h; j++ {
			s := 1 - hid[j]*hid[j]
			ra := floats.Dot(v1[j*f:(j+1)*f], x) + c1[j]
			rh[j] = s * ra
			ry += v2[j]*hid[j] + w2[j]*rh[j]
		}
		for j := 0; j < m.h; j++ {
			s := 1 - hid[j]*hid[j]
			rs := -2 * hid[j] * rh[j]
			d2[j] += ry*hid[j] + r*rh[j]
			rdelta := ry*w2[j]*s + r*v2[j]*s + r*w2[j]*rs
			floats.AddScaled(d1[j*f:(j+1)*f], rdelta, x)
			db1[j] += rdelta
		}
		dst[len(dst)-1] += ry
	})
	floats.Scale(1/float64(cnt), dst)
	floats.AddScaled(dst, m.mu, v)
	return nil
}

func newTanhNet(rnd *rand.Rand, n, f, h int, mu float64) *tanhNet {
	m := &tanhNet{h: h, mu: mu}
	for i := 0; i < n; i++ {
		x := make([]float64, f)
		for j := range x {
			x[j] = rnd.NormFloat64()
		}
		m.x = append(m.x, x)
		m.t = append(m.t, math.Sin(x[0])+0.5*x[1%f]*x[2%f]+0.1*rnd.NormFloat64())
	}
	return m
}

// quad is L(w, S) = mean_{n∈S} ½wᵀA_n w − b_nᵀw with mean_n A_n = A of known
// spectrum: A_n = A + E_n with zero-mean symmetric perturbations E_n, so
// mini-batch Hessians are noisy but unbiased.
type quad struct {
	a []*mat.SymDense
	b [][]float64
	p int
}

func (q *quad) Dim() int { return q.p }
func (q *quad) Len() int { return len(q.a) }

func (q *quad) Eval(_ context.Context, w []float64, idx []int, grad []float64) (float64, error) {
	if grad != nil {
		clear(grad)
	}
	wv := mat.NewVecDense(q.p, w)
	var aw mat.VecDense
	loss := 0.0
	cnt := forEach(len(q.a), idx, func(i int) {
		aw.MulVec(q.a[i], wv)
		loss += floats.Dot(w, aw.RawVector().Data)/2 - floats.Dot(q.b[i], w)
		if grad != nil {
			floats.Add(grad, aw.RawVector().Data)
			floats.Sub(grad, q.b[i])
		}
	})
	if grad != nil {
		floats.Scale(1/float64(cnt), grad)
	}
	return loss / float64(cnt), nil
}

func (q *quad) HVP(_ context.Context, w []float64, idx []int, v, dst []float64) error {
	clear(dst)
	vv := mat.NewVecDense(q.p, v)
	var av mat.VecDense
	cnt := forEach(len(q.a), idx, func(i int) {
		av.MulVec(q.a[i], vv)
		floats.Add(dst, av.RawVector().Data)
	})
	floats.Scale(1/float64(cnt), dst)
	return nil
}

// mean returns the exact Hessian A (the same at every w).
func (q *quad) mean() *mat.SymDense {
	a := mat.NewSymDense(q.p, nil)
	for _, ai := range q.a {
		a.AddSym(a, ai)
	}
	a.ScaleSym(1/float64(len(q.a)), a)
	return a
}

// symWithSpectrum returns Q diag(eig) Qᵀ for a random orthogonal Q.
func symWithSpectrum(rnd *rand.Rand, eig []float64) *mat.SymDense {
	n := len(eig)
	g := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			g.Set(i, j, rnd.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	a := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s := 0.0
			for k := 0; k < n; k++ {
				s += q.At(i, k) * eig[k] * q.At(j, k)
			}
			a.SetSym(i, j, s)
		}
	}
	return a
}

// goe returns a random symmetric matrix with N(0, 1/n) entries (spectrum
// roughly semicircular on [−2, 2], indefinite).
func goe(rnd *rand.Rand, n int) *mat.SymDense {
	a := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s := rnd.NormFloat64() / math.Sqrt(float64(n))
			if i == j {
				s *= math.Sqrt2
			}
			a.SetSym(i, j, s)
		}
	}
	return a
}

// newQuad returns a quad with mean Hessian a, nSamples samples and per-sample
// perturbations of spectral size ~noise.
func newQuad(rnd *rand.Rand, a *mat.SymDense, nSamples int, noise float64) *quad {
	p := a.SymmetricDim()
	q := &quad{p: p}
	sum := mat.NewSymDense(p, nil)
	for i := 0; i < nSamples; i++ {
		e := goe(rnd, p)
		e.ScaleSym(noise/2, e)
		sum.AddSym(sum, e)
		q.a = append(q.a, e)
		b := make([]float64, p)
		for j := range b {
			b[j] = rnd.NormFloat64()
		}
		q.b = append(q.b, b)
	}
	sum.ScaleSym(-1/float64(nSamples), sum)
	for i := range q.a {
		q.a[i].AddSym(q.a[i], sum) // centre the perturbations
		q.a[i].AddSym(q.a[i], a)
	}
	return q
}

// harmonicCubic is f(w) = (c/6)(w0³ − 3w0w1²) + ½Σ_{i≥2} w_i². Its Hessian
// c[[w0, −w1], [−w1, −w0]] ⊕ I is linear in w, and the first block has
// eigenvalues ±c·‖(w0, w1)‖, so ‖H_a − H_b‖₂ = c‖(a − b)_{0,1}‖ ≤ c‖a − b‖:
// the Hessian-Lipschitz constant is exactly c, attained for every pair when
// Dim = 2. One sample.
type harmonicCubic struct {
	c float64
	p int
}

func (h *harmonicCubic) Dim() int { return h.p }
func (h *harmonicCubic) Len() int { return 1 }

func (h *harmonicCubic) Eval(_ context.Context, w []float64, _ []int, grad []float64) (float64, error) {
	c := h.c
	f := c / 6 * (w[0]*w[0]*w[0] - 3*w[0]*w[1]*w[1])
	for i := 2; i < h.p; i++ {
		f += w[i] * w[i] / 2
	}
	if grad != nil {
		grad[0] = c / 2 * (w[0]*w[0] - w[1]*w[1])
		grad[1] = -c * w[0] * w[1]
		for i := 2; i < h.p; i++ {
			grad[i] = w[i]
		}
	}
	return f, nil
}

func (h *harmonicCubic) HVP(_ context.Context, w []float64, _ []int, v, dst []float64) error {
	c := h.c
	dst[0] = c * (w[0]*v[0] - w[1]*v[1])
	dst[1] = c * (-w[1]*v[0] - w[0]*v[1])
	for i := 2; i < h.p; i++ {
		dst[i] = v[i]
	}
	return nil
}

// denseHessian builds the Hessian of obj at w on all samples from Dim() HVPs.
func denseHessian(obj Objective, w []float64) *mat.SymDense {
	n := obj.Dim()
	h := mat.NewSymDense(n, nil)
	e := make([]float64, n)
	col := make([]float64, n)
	for j := 0; j < n; j++ {
		e[j] = 1
		if err := obj.HVP(context.Background(), w, nil, e, col); err != nil {
			panic(err)
		}
		e[j] = 0
		for i := 0; i <= j; i++ {
			h.SetSym(i, j, col[i])
		}
	}
	return h
}

// eigenvalues returns the ascending eigenvalues of a.
func eigenvalues(a mat.Symmetric) []float64 {
	var es mat.EigenSym
	if !es.Factorize(a, false) {
		panic("eigen failed")
	}
	return es.Values(nil)
}

// denseSolve returns (a + λI)⁻¹g by Cholesky.
func denseSolve(a mat.Symmetric, lambda float64, g []float64) []float64 {
	n := a.SymmetricDim()
	b := mat.NewSymDense(n, nil)
	b.CopySym(a)
	for i := 0; i < n; i++ {
		b.SetSym(i, i, b.At(i, i)+lambda)
	}
	var ch mat.Cholesky
	if !ch.Factorize(b) {
		panic("not positive definite")
	}
	var u mat.VecDense
	if err := ch.SolveVecTo(&u, mat.NewVecDense(n, append([]float64(nil), g...))); err != nil {
		panic(err)
	}
	return append([]float64(nil), u.RawVector().Data...)
}

// minimize runs damped Newton with dense solves on obj from w (in place) until
// ‖∇L‖ ≤ tol; the exact reference minimiser for the convex checks.
func minimize(obj Objective, w []float64, tol float64) int {
	n := len(w)
	g := make([]float64, n)
	for it := 1; it <= 100; it++ {
		f0, _ := obj.Eval(context.Background(), w, nil, g)
		if Norm(g) <= tol {
			return it
		}
		step := denseSolve(denseHessian(obj, w), 0, g)
		// Backtracking for safety; full steps near the optimum.
		t := 1.0
		trial := make([]float64, n)
		for {
			floats.AddScaledTo(trial, w, -t, step)
			f1, _ := obj.Eval(context.Background(), trial, nil, nil)
			if f1 <= f0 || t < 1e-8 {
				break
			}
			t /= 2
		}
		copy(w, trial)
	}
	panic("minimize did not converge")
}
