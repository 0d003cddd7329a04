package autodiff

// arena is a bump allocator for the tensors of one evaluation. Every pass of a
// program over a batch of the same size asks for the same buffers, so after the
// first pass an evaluation allocates nothing: reset grows the slab to the
// high-water mark of the previous pass and hands the same memory out again.
//
// Memory from alloc is not zeroed; kernels either overwrite every element or
// use allocZero.
type arena[E any] struct {
	slab []E
	off  int // next free element of slab
	used int // elements requested since the last reset, slab or not
}

// alloc returns n elements, not zeroed.
func (a *arena[E]) alloc(n int) []E {
	a.used += n
	if a.off+n > len(a.slab) {
		return make([]E, n)
	}
	s := a.slab[a.off : a.off+n : a.off+n]
	a.off += n
	return s
}

// allocZero returns n zeroed elements.
func (a *arena[E]) allocZero(n int) []E {
	s := a.alloc(n)
	clear(s)
	return s
}

// reset makes all memory available again. Nothing handed out before may be
// used after it.
func (a *arena[E]) reset() {
	if a.used > len(a.slab) {
		a.slab = make([]E, a.used+a.used/8)
	}
	a.off, a.used = 0, 0
}
