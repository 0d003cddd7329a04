package autodiff

import (
	"fmt"
	"slices"
)

// Float is the element type of the floating-point tensors the engine computes with.
type Float interface{ ~float32 | ~float64 }

// Tensor is a dense row-major array. Integer and boolean values use Tensor[int64].
type Tensor[E any] struct {
	Shape []int
	Data  []E
}

// numel returns the number of elements of a shape (1 for a scalar).
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// stridesOf returns row-major element strides for shape.
func stridesOf(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

// broadcastShape returns the numpy-style broadcast of the given shapes.
func broadcastShape(shapes ...[]int) ([]int, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			switch {
			case out[off+i] == d || d == 1:
			case out[off+i] == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %v are not broadcastable", shapes)
			}
		}
	}
	return out, nil
}

// broadcastStrides returns, for an operand of shape s broadcast to out, the
// element stride of each output axis in the operand (0 where it is broadcast).
func broadcastStrides(s, out []int) []int {
	st := make([]int, len(out))
	src := stridesOf(s)
	off := len(out) - len(s)
	for i, d := range s {
		if d != 1 {
			st[off+i] = src[i]
		}
	}
	return st
}

// sameShape reports whether two shapes are equal.
func sameShape(a, b []int) bool { return slices.Equal(a, b) }

// intsToShape converts int64 dims (validated non-negative) into a shape.
func intsToShape(d []int64) ([]int, error) {
	s := make([]int, len(d))
	for i, v := range d {
		if v < 0 {
			return nil, fmt.Errorf("negative dimension %d in %v", v, d)
		}
		s[i] = int(v)
	}
	return s, nil
}
