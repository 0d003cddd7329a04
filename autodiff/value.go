package autodiff

// value is one tensor flowing through the graph: a floating-point primal f or
// an integer/boolean primal i (never both), and in tangent mode the tangent
// dot of f (nil means zero). Adjoints use the same type: f is the adjoint and
// dot its tangent.
type value[T Float] struct {
	f   *Tensor[T]
	i   *Tensor[int64]
	dot *Tensor[T]
}

func (v *value[T]) shape() []int {
	if v.f != nil {
		return v.f.Shape
	}
	return v.i.Shape
}

func (v *value[T]) isInt() bool { return v.f == nil }

func floatVal[T Float](t *Tensor[T], dot *Tensor[T]) *value[T] { return &value[T]{f: t, dot: dot} }

func intVal[T Float](t *Tensor[int64]) *value[T] { return &value[T]{i: t} }
