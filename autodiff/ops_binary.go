package autodiff

import (
	"fmt"
	"math"
)

// Broadcasting binary arithmetic. With u = unbroadcast (sum over the axes an
// operand was broadcast along):
//
//	Add  y = a + b   ẏ = ȧ + ḃ            ā = u(ȳ)          b̄ = u(ȳ)
//	Sub  y = a − b   ẏ = ȧ − ḃ            ā = u(ȳ)          b̄ = −u(ȳ)
//	Mul  y = a·b     ẏ = ȧb + aḃ          ā = u(ȳb)         b̄ = u(ȳa)
//	Div  y = a/b     ẏ = (ȧ − yḃ)/b       ā = u(ȳ/b)        b̄ = u(−ȳy/b)
//	Pow  y = a^b     ẏ = b·a^(b−1)·ȧ      ā = u(ȳ·b·a^(b−1))   (b is not differentiated)
//
// Tangents of the adjoints follow by differentiating each VJP once more:
// Add/Sub are linear (apply them to ȳ̇); Mul: ā̇ = u(ȳ̇b + ȳḃ); Div:
// ā̇ = u((ȳ̇ − āfull·ḃ)/b) with āfull = ȳ/b, b̄̇ = u(−(ȳ̇y + ȳẏ)/b + ȳyḃ/b²);
// Pow: ā̇ = u(ȳ̇·b·a^(b−1) + ȳ·b(b−1)·a^(b−2)·ȧ).
type binOp int

const (
	opAdd binOp = iota
	opSub
	opMul
	opDiv
	opPow
)

func init() {
	for name, op := range map[string]binOp{"Add": opAdd, "Sub": opSub, "Mul": opMul, "Div": opDiv, "Pow": opPow} {
		register(name, func(*nodeInfo) (kernels, error) {
			return pair(&binaryKernel[float32]{op}, &binaryKernel[float64]{op}), nil
		})
	}
}

type binaryKernel[T Float] struct{ op binOp }

func (k *binaryKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	a, b := in[0], in[1]
	if k.op == opPow && a.isInt() != b.isInt() {
		if a.isInt() {
			// An integer base keeps its type: the result is truncated.
			y, err := k.forward(c, []*value[T]{floatVal(intsToFloat[T](a.i), nil), b})
			if err != nil {
				return nil, err
			}
			t := &Tensor[int64]{Shape: y[0].f.Shape, Data: make([]int64, len(y[0].f.Data))}
			for i, v := range y[0].f.Data {
				t.Data[i] = int64(v)
			}
			return []*value[T]{intVal[T](t)}, nil
		}
		b = floatVal(intsToFloat[T](b.i), nil)
	}
	out, err := broadcastShape(a.shape(), b.shape())
	if err != nil {
		return nil, err
	}
	if a.isInt() && b.isInt() {
		return []*value[T]{intVal[T](intBinary(k.op, a.i, b.i, out))}, nil
	}
	if a.isInt() || b.isInt() {
		return nil, fmt.Errorf("mixed integer and floating-point operands")
	}
	y := c.alloc(out)
	plan := newBPlan(out, a.f.Shape, b.f.Shape)
	plan.runs(func(o int, off, inc []int, n int) {
		binaryRun(k.op, y.Data[o:o+n], a.f.Data, b.f.Data, off[0], off[1], inc[0], inc[1])
	})
	v := floatVal(y, nil)
	if !c.tangent() || (a.dot == nil && b.dot == nil) {
		return []*value[T]{v}, nil
	}
	if k.op == opPow && b.dot != nil {
		return nil, fmt.Errorf("the exponent of Pow must not depend on trainable parameters")
	}
	alloc := c.r.ar.alloc
	n := len(y.Data)
	v.dot = c.zeros(out)
	d := v.dot.Data
	var ad, bd []T
	if a.dot != nil {
		ad = expandTo(alloc, a.dot, out)
	}
	if b.dot != nil {
		bd = expandTo(alloc, b.dot, out)
	}
	switch k.op {
	case opAdd, opSub:
		if ad != nil {
			copy(d, ad)
		}
		if bd != nil {
			s := T(1)
			if k.op == opSub {
				s = -1
			}
			for i := 0; i < n; i++ {
				d[i] += s * bd[i]
			}
		}
	case opMul:
		av, bv := expandTo(alloc, a.f, out), expandTo(alloc, b.f, out)
		for i := 0; i < n; i++ {
			if ad != nil {
				d[i] += ad[i] * bv[i]
			}
			if bd != nil {
				d[i] += av[i] * bd[i]
			}
		}
	case opDiv:
		bv := expandTo(alloc, b.f, out)
		for i := 0; i < n; i++ {
			var num T
			if ad != nil {
				num = ad[i]
			}
			if bd != nil {
				num -= y.Data[i] * bd[i]
			}
			d[i] = num / bv[i]
		}
	case opPow:
		av, bv := expandTo(alloc, a.f, out), expandTo(alloc, b.f, out)
		for i := 0; i < n; i++ {
			d[i] = T(float64(bv[i])*math.Pow(float64(av[i]), float64(bv[i])-1)) * ad[i]
		}
	}
	return []*value[T]{v}, nil
}

func (k *binaryKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	a, b, y, g := in[0], in[1], out[0].f, gout[0]
	if b.isInt() {
		b = floatVal(intsToFloat[T](b.i), nil)
	}
	shape := y.Shape
	alloc := c.r.ar.alloc
	n := len(y.Data)
	gd := g.dot // may be nil
	res := make([]*value[T], 2)
	// full computes an adjoint at the output shape, then unbroadcasts it.
	full := func(i int, s []int, f func(dst []T), fdot func(dst []T)) {
		dst := alloc(n)
		f(dst)
		v := floatVal(&Tensor[T]{Shape: s, Data: reduceTo(alloc, dst, shape, s)}, nil)
		if c.tangent() && fdot != nil {
			dd := alloc(n)
			clear(dd)
			fdot(dd)
			v.dot = &Tensor[T]{Shape: s, Data: reduceTo(alloc, dd, shape, s)}
		}
		res[i] = v
	}
	switch k.op {
	case opAdd, opSub:
		for i, x := range []*value[T]{a, b} {
			if !need[i] {
				continue
			}
			sign := T(1)
			if i == 1 && k.op == opSub {
				sign = -1
			}
			scaled := func(src []T) []T {
				if sign == 1 {
					return src
				}
				dst := alloc(n)
				for j, v := range src {
					dst[j] = -v
				}
				return dst
			}
			v := floatVal(&Tensor[T]{Shape: x.f.Shape, Data: reduceTo(alloc, scaled(g.f.Data), shape, x.f.Shape)}, nil)
			if c.tangent() && gd != nil {
				v.dot = &Tensor[T]{Shape: x.f.Shape, Data: reduceTo(alloc, scaled(gd.Data), shape, x.f.Shape)}
			}
			res[i] = v
		}
	case opMul:
		av, bv := expandTo(alloc, a.f, shape), expandTo(alloc, b.f, shape)
		var ad, bd []T
		if a.dot != nil {
			ad = expandTo(alloc, a.dot, shape)
		}
		if b.dot != nil {
			bd = expandTo(alloc, b.dot, shape)
		}
		// ā = u(ȳ·b), ā̇ = u(ȳ̇·b + ȳ·ḃ); symmetric for b̄.
		for i, pr := range [][2][]T{{bv, bd}, {av, ad}} {
			if !need[i] {
				continue
			}
			other, otherDot := pr[0], pr[1]
			full(i, in[i].f.Shape, func(dst []T) {
				for j := range dst {
					dst[j] = g.f.Data[j] * other[j]
				}
			}, func(dst []T) {
				if gd != nil {
					for j := range dst {
						dst[j] = gd.Data[j] * other[j]
					}
				}
				if otherDot != nil {
					for j := range dst {
						dst[j] += g.f.Data[j] * otherDot[j]
					}
				}
			})
		}
	case opDiv:
		bv := expandTo(alloc, b.f, shape)
		var ad, bd []T
		if a.dot != nil {
			ad = expandTo(alloc, a.dot, shape)
		}
		if b.dot != nil {
			bd = expandTo(alloc, b.dot, shape)
		}
		if need[0] {
			full(0, a.f.Shape, func(dst []T) {
				for j := range dst {
					dst[j] = g.f.Data[j] / bv[j]
				}
			}, func(dst []T) {
				for j := range dst {
					var v T
					if gd != nil {
						v = gd.Data[j]
					}
					if bd != nil {
						v -= g.f.Data[j] / bv[j] * bd[j]
					}
					dst[j] = v / bv[j]
				}
			})
		}
		if need[1] {
			// ẏ = (ȧ − y·ḃ)/b is needed for b̄̇.
			full(1, b.f.Shape, func(dst []T) {
				for j := range dst {
					dst[j] = -g.f.Data[j] * y.Data[j] / bv[j]
				}
			}, func(dst []T) {
				for j := range dst {
					var yd T
					if ad != nil {
						yd = ad[j]
					}
					if bd != nil {
						yd -= y.Data[j] * bd[j]
					}
					yd /= bv[j]
					var gdj T
					if gd != nil {
						gdj = gd.Data[j]
					}
					v := -(gdj*y.Data[j] + g.f.Data[j]*yd) / bv[j]
					if bd != nil {
						v += g.f.Data[j] * y.Data[j] * bd[j] / (bv[j] * bv[j])
					}
					dst[j] = v
				}
			})
		}
	case opPow:
		if need[1] {
			return nil, fmt.Errorf("the exponent of Pow must not depend on trainable parameters")
		}
		av, bv := expandTo(alloc, a.f, shape), expandTo(alloc, b.f, shape)
		var ad []T
		if a.dot != nil {
			ad = expandTo(alloc, a.dot, shape)
		}
		full(0, a.f.Shape, func(dst []T) {
			for j := range dst {
				dst[j] = g.f.Data[j] * T(float64(bv[j])*math.Pow(float64(av[j]), float64(bv[j])-1))
			}
		}, func(dst []T) {
			for j := range dst {
				p, x := float64(bv[j]), float64(av[j])
				var v float64
				if gd != nil {
					v = float64(gd.Data[j]) * p * math.Pow(x, p-1)
				}
				if ad != nil {
					v += float64(g.f.Data[j]) * p * (p - 1) * math.Pow(x, p-2) * float64(ad[j])
				}
				dst[j] = T(v)
			}
		})
	}
	return res, nil
}

// binaryRun computes one broadcast run of y = a op b.
func binaryRun[T Float](op binOp, y, a, b []T, ia, ib, da, db int) {
	n := len(y)
	if da == 1 && db == 1 {
		a, b = a[ia:ia+n], b[ib:ib+n]
		switch op {
		case opAdd:
			for i := range y {
				y[i] = a[i] + b[i]
			}
		case opSub:
			for i := range y {
				y[i] = a[i] - b[i]
			}
		case opMul:
			for i := range y {
				y[i] = a[i] * b[i]
			}
		case opDiv:
			for i := range y {
				y[i] = a[i] / b[i]
			}
		case opPow:
			for i := range y {
				y[i] = T(math.Pow(float64(a[i]), float64(b[i])))
			}
		}
		return
	}
	for i := range y {
		x, z := a[ia+i*da], b[ib+i*db]
		switch op {
		case opAdd:
			y[i] = x + z
		case opSub:
			y[i] = x - z
		case opMul:
			y[i] = x * z
		case opDiv:
			y[i] = x / z
		case opPow:
			y[i] = T(math.Pow(float64(x), float64(z)))
		}
	}
}

// intBinary is integer arithmetic for shape computations; Div truncates.
func intBinary(op binOp, a, b *Tensor[int64], out []int) *Tensor[int64] {
	y := &Tensor[int64]{Shape: out, Data: make([]int64, numel(out))}
	newBPlan(out, a.Shape, b.Shape).runs(func(o int, off, inc []int, n int) {
		for i := 0; i < n; i++ {
			x, z := a.Data[off[0]+i*inc[0]], b.Data[off[1]+i*inc[1]]
			var v int64
			switch op {
			case opAdd:
				v = x + z
			case opSub:
				v = x - z
			case opMul:
				v = x * z
			case opDiv:
				if z != 0 {
					v = x / z
				}
			case opPow:
				v = int64(math.Pow(float64(x), float64(z)))
			}
			y.Data[o+i] = v
		}
	})
	return y
}

// intsToFloat converts an integer tensor to floating point.
func intsToFloat[T Float](t *Tensor[int64]) *Tensor[T] {
	d := make([]T, len(t.Data))
	for i, v := range t.Data {
		d[i] = T(v)
	}
	return &Tensor[T]{Shape: t.Shape, Data: d}
}
