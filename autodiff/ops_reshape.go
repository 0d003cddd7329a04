package autodiff

import (
	"fmt"
	"slices"
)

// View ops change only the shape: Reshape, Flatten, Squeeze, Unsqueeze,
// Identity and Dropout (inference). The output shares the input's data, and
// every rule is the same view: ẏ = view(ẋ), x̄ = view⁻¹(ȳ), x̄̇ = view⁻¹(ȳ̇).
type viewKernel[T Float] struct {
	shape func(in []*value[T]) ([]int, error)
	mask  bool // Dropout: a second output, the all-true mask
}

func registerView(op string, b func(n *nodeInfo) (viewShape, error)) {
	register(op, func(n *nodeInfo) (kernels, error) {
		s, err := b(n)
		if err != nil {
			return kernels{}, err
		}
		return pair(&viewKernel[float32]{shape: viewFn[float32](s), mask: op == "Dropout"},
			&viewKernel[float64]{shape: viewFn[float64](s), mask: op == "Dropout"}), nil
	})
}

// viewShape computes a view's output shape from the input shape and the
// integer inputs (nil where an input is absent or not an integer).
type viewShape func(in []int, ints []*Tensor[int64]) ([]int, error)

func viewFn[T Float](s viewShape) func(in []*value[T]) ([]int, error) {
	return func(in []*value[T]) ([]int, error) {
		ints := make([]*Tensor[int64], len(in))
		for i, v := range in {
			if i > 0 && v != nil && v.isInt() {
				ints[i] = v.i
			}
		}
		return s(in[0].shape(), ints)
	}
}

func (k *viewKernel[T]) forward(c *ctx[T], in []*value[T]) ([]*value[T], error) {
	shape, err := k.shape(in)
	if err != nil {
		return nil, err
	}
	x := in[0]
	if numel(shape) != numel(x.shape()) {
		return nil, fmt.Errorf("cannot view shape %v as %v", x.shape(), shape)
	}
	var v *value[T]
	if x.isInt() {
		v = intVal[T](&Tensor[int64]{Shape: shape, Data: x.i.Data})
	} else {
		v = floatVal(&Tensor[T]{Shape: shape, Data: x.f.Data}, nil)
		if x.dot != nil {
			v.dot = &Tensor[T]{Shape: shape, Data: x.dot.Data}
		}
	}
	if !k.mask {
		return []*value[T]{v}, nil
	}
	mask := &Tensor[int64]{Shape: shape, Data: make([]int64, numel(shape))}
	for i := range mask.Data {
		mask.Data[i] = 1
	}
	return []*value[T]{v, intVal[T](mask)}, nil
}

func (k *viewKernel[T]) backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error) {
	g, s := gout[0], in[0].f.Shape
	gx := floatVal(&Tensor[T]{Shape: s, Data: g.f.Data}, nil)
	if g.dot != nil {
		gx.dot = &Tensor[T]{Shape: s, Data: g.dot.Data}
	}
	res := make([]*value[T], len(in))
	res[0] = gx
	return res, nil
}

func init() {
	same := func(*nodeInfo) (viewShape, error) {
		return func(in []int, _ []*Tensor[int64]) ([]int, error) { return in, nil }, nil
	}
	registerView("Identity", same)
	registerView("Dropout", func(n *nodeInfo) (viewShape, error) {
		if n.AttrInt("is_test", 1) == 0 && n.opset < 7 {
			return nil, unsupported("training-mode dropout")
		}
		return func(in []int, ints []*Tensor[int64]) ([]int, error) {
			if len(ints) > 2 && ints[2] != nil && len(ints[2].Data) > 0 && ints[2].Data[0] != 0 {
				return nil, unsupported("training-mode dropout")
			}
			return in, nil
		}, nil
	})
	registerView("Reshape", func(n *nodeInfo) (viewShape, error) {
		allowZero := n.AttrInt("allowzero", 0) != 0
		return func(in []int, ints []*Tensor[int64]) ([]int, error) {
			if len(ints) < 2 || ints[1] == nil {
				return nil, fmt.Errorf("the shape input must be an integer tensor")
			}
			return reshapeTarget(in, ints[1].Data, allowZero)
		}, nil
	})
	registerView("Flatten", func(n *nodeInfo) (viewShape, error) {
		axis := int(n.AttrInt("axis", 1))
		return func(in []int, _ []*Tensor[int64]) ([]int, error) {
			a := axis
			if a < 0 {
				a += len(in)
			}
			if a < 0 || a > len(in) {
				return nil, fmt.Errorf("axis %d out of range for rank %d", axis, len(in))
			}
			return []int{numel(in[:a]), numel(in[a:])}, nil
		}, nil
	})
	registerView("Squeeze", func(n *nodeInfo) (viewShape, error) {
		attr := n.AttrInts("axes")
		return func(in []int, ints []*Tensor[int64]) ([]int, error) {
			axes := attr
			if len(ints) > 1 && ints[1] != nil {
				axes = ints[1].Data
			}
			drop := make([]bool, len(in))
			for _, a := range axes {
				ax, err := normAxis(int(a), len(in))
				if err != nil {
					return nil, err
				}
				if in[ax] != 1 {
					return nil, fmt.Errorf("cannot squeeze axis %d of size %d", ax, in[ax])
				}
				drop[ax] = true
			}
			out := []int{}
			for i, d := range in {
				if (axes == nil && d == 1) || drop[i] {
					continue
				}
				out = append(out, d)
			}
			return out, nil
		}, nil
	})
	registerView("Unsqueeze", func(n *nodeInfo) (viewShape, error) {
		attr := n.AttrInts("axes")
		return func(in []int, ints []*Tensor[int64]) ([]int, error) {
			axes := attr
			if len(ints) > 1 && ints[1] != nil {
				axes = ints[1].Data
			}
			r := len(in) + len(axes)
			ins := make([]bool, r)
			for _, a := range axes {
				ax, err := normAxis(int(a), r)
				if err != nil {
					return nil, err
				}
				if ins[ax] {
					return nil, fmt.Errorf("axis %d repeated", ax)
				}
				ins[ax] = true
			}
			out := make([]int, 0, r)
			j := 0
			for i := 0; i < r; i++ {
				if ins[i] {
					out = append(out, 1)
				} else {
					out = append(out, in[j])
					j++
				}
			}
			return out, nil
		}, nil
	})
}

// reshapeTarget resolves 0 (copy, unless allowzero) and −1 (infer) entries.
func reshapeTarget(in []int, target []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(target))
	infer := -1
	known := 1
	for i, d := range target {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", target)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("shape %v copies axis %d of a rank-%d input", target, i, len(in))
			}
			out[i] = in[i]
		case d < 0:
			return nil, fmt.Errorf("invalid dimension %d in shape %v", d, target)
		default:
			out[i] = int(d)
		}
		known *= out[i]
	}
	total := numel(in)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v into %v", in, target)
		}
		out[infer] = total / known
	}
	if numel(out) != total {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) into %v", in, total, target)
	}
	return slices.Clip(out), nil
}
