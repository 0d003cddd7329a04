package autodiff

import (
	"fmt"
	"math"
)

// Loss selects the per-sample loss ℓ applied to the model's first output.
type Loss int

const (
	// CrossEntropy is softmax cross-entropy on logits [N, K] against integer
	// labels: ℓ = logsumexp(z) − z_y. The default.
	CrossEntropy Loss = iota
	// MSE is the mean over output elements of (z − t)², with t the one-hot
	// label (or the label itself when the output has one column).
	MSE
	// BCE is binary cross-entropy with logits, the mean over output elements
	// of softplus(z) − t·z, with t as for MSE.
	BCE
	// OutputSum is not a training loss: ℓ = Σ_k z_k, the sum of the output
	// elements of a sample, whose gradient seed is 1 everywhere. On a program
	// whose parameters enter affinely, with every initializer and the input
	// replaced by its absolute value, the gradient of its mean is the
	// componentwise magnitude (1/N)·Σ_i |J_i|ᵀ·1 of the terms a float64
	// gradient sums, which bounds that gradient's rounding error. ParseLoss
	// does not accept it; labels are read but ignored.
	OutputSum
)

// ParseLoss maps the CLI names xent, mse and bce to a Loss.
func ParseLoss(s string) (Loss, error) {
	switch s {
	case "", "xent", "cross-entropy":
		return CrossEntropy, nil
	case "mse":
		return MSE, nil
	case "bce":
		return BCE, nil
	}
	return 0, fmt.Errorf("autodiff: unknown loss %q (want xent, mse or bce)", s)
}

func (l Loss) String() string {
	switch l {
	case CrossEntropy:
		return "xent"
	case MSE:
		return "mse"
	case BCE:
		return "bce"
	case OutputSum:
		return "output-sum"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// lossSeed evaluates Σ_i ℓ_i over the batch's output z and returns that sum
// together with the seed adjoint scale·∂(Σℓ)/∂z, and in tangent mode the
// seed's tangent scale·∂²(Σℓ)/∂z²·ż.
func lossSeed[T Float](c *ctx[T], l Loss, z *value[T], y []int64, scale float64) (float64, *value[T], error) {
	if z.isInt() {
		return 0, nil, fmt.Errorf("autodiff: the loss needs a floating-point output")
	}
	shape := z.f.Shape
	n := len(y)
	if len(shape) == 0 || shape[0] != n {
		return 0, nil, fmt.Errorf("autodiff: output shape %v does not match %d labels", shape, n)
	}
	k := numel(shape) / max(n, 1)
	if l == CrossEntropy && len(shape) != 2 {
		return 0, nil, fmt.Errorf("autodiff: cross-entropy needs logits of shape [N, classes], got %v", shape)
	}
	for i, lab := range y {
		if l == CrossEntropy || (k > 1 && l != OutputSum) {
			if lab < 0 || int(lab) >= k {
				return 0, nil, fmt.Errorf("autodiff: label %d of sample %d is outside the model's %d outputs", lab, i, k)
			}
		}
	}
	seed := &value[T]{f: c.alloc(shape)}
	var zd []T
	if c.tangent() {
		seed.dot = c.alloc(shape)
		if z.dot != nil {
			zd = z.dot.Data
		}
	}
	var total float64
	switch l {
	case CrossEntropy:
		total = crossEntropy(z.f.Data, zd, y, k, T(scale), seed)
	case MSE, BCE:
		total = elementLoss(l, z.f.Data, zd, y, k, T(scale/float64(k)), seed)
		total /= float64(k)
	case OutputSum:
		total = outputSum(z.f.Data, T(scale), seed)
	}
	return total, seed, nil
}

// crossEntropy: ℓ = lse(z) − z_y; ∂ℓ/∂z = s − e_y with s = softmax(z);
// tangent of the gradient: s ⊙ (ż − ⟨s, ż⟩).
func crossEntropy[T Float](z, zd []T, y []int64, k int, scale T, seed *value[T]) float64 {
	var total float64
	g := seed.f.Data
	for i, lab := range y {
		row, grow := z[i*k:(i+1)*k], g[i*k:(i+1)*k]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var sum float64
		for j, v := range row {
			e := math.Exp(float64(v - m))
			grow[j] = T(e)
			sum += e
		}
		total += float64(m) + math.Log(sum) - float64(row[lab])
		inv := 1 / sum
		for j := range grow {
			grow[j] = T(float64(grow[j]) * inv)
		}
		if seed.dot != nil {
			drow := seed.dot.Data[i*k : (i+1)*k]
			if zd == nil {
				clear(drow)
			} else {
				zrow := zd[i*k : (i+1)*k]
				var dot T
				for j, s := range grow {
					dot += s * zrow[j]
				}
				for j, s := range grow {
					drow[j] = scale * s * (zrow[j] - dot)
				}
			}
		}
		for j := range grow {
			grow[j] *= scale
		}
		grow[lab] -= scale
	}
	return total
}

// elementLoss handles MSE and BCE with targets t (one-hot, or the label when
// k == 1). MSE: ℓ = (z−t)², ℓ' = 2(z−t), ℓ” = 2. BCE: ℓ = softplus(z) − t·z,
// ℓ' = σ(z) − t, ℓ” = σ(z)(1−σ(z)).
func elementLoss[T Float](l Loss, z, zd []T, y []int64, k int, scale T, seed *value[T]) float64 {
	var total float64
	g := seed.f.Data
	for i := range z {
		var t T
		if k == 1 {
			t = T(y[i])
		} else if int(y[i/k]) == i%k {
			t = 1
		}
		var d1, d2 T
		if l == MSE {
			d := z[i] - t
			total += float64(d * d)
			d1, d2 = 2*d, 2
		} else {
			x := float64(z[i])
			total += max(x, 0) - float64(t)*x + math.Log1p(math.Exp(-math.Abs(x)))
			s := T(1 / (1 + math.Exp(-x)))
			d1, d2 = s-t, s*(1-s)
		}
		g[i] = scale * d1
		if seed.dot != nil {
			seed.dot.Data[i] = 0
			if zd != nil {
				seed.dot.Data[i] = scale * d2 * zd[i]
			}
		}
	}
	return total
}

// outputSum: ℓ = Σ_k z_k; ∂ℓ/∂z = 1; the Hessian is zero, so the seed's
// tangent is zero.
func outputSum[T Float](z []T, scale T, seed *value[T]) float64 {
	var total float64
	for i, v := range z {
		total += float64(v)
		seed.f.Data[i] = scale
	}
	if seed.dot != nil {
		clear(seed.dot.Data)
	}
	return total
}
