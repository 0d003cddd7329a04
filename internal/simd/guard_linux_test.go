package simd

import (
	"syscall"
	"testing"
	"unsafe"
)

// guarded returns n float32s that end where an unreadable page begins, so
// that reading one element past them faults.
func guarded(t *testing.T, n int) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	size := (n*4/page + 2) * page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	all := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), (size-page)/4)
	return all[len(all)-n:]
}

// TestNoReadPastEnd runs every loop on inputs that end at an unreadable
// page, with lengths that leave every tail size: a read past the input (a
// lane mask too wide, a tail loop one step too long) crashes the test.
func TestNoReadPastEnd(t *testing.T) {
	if !AVX2 {
		t.Skip("this CPU has no AVX2: the functions do nothing")
	}
	for n := 1; n <= 40; n++ {
		src, mask := guarded(t, n), guarded(t, n)
		dst := make([]float32, n)
		ReluAdd(dst, src, 0.5)
		MaskAdd(dst, mask, src, 0.5)
		MaskCopy(dst, mask, src)
		Add(dst, src)
		wide := make([]float64, n)
		Widen(wide, src)
		WidenSum(wide, src, mask)
		AddWide(wide, src)
		Narrow(dst, unsafe.Slice((*float64)(unsafe.Pointer(&guarded(t, 2*n)[0])), n))
	}
	for w := 2; w <= 33; w++ {
		for _, h := range []int{2, 3, 4} {
			p := Pool2x2{Planes: 2, IP: h * w, OH: h / 2, OW: w / 2, W: w, RowStep: 2 * w}
			x := guarded(t, p.Planes*p.IP)
			n := p.Planes * p.OH * p.OW
			y, arg := make([]float32, n), make([]int32, n)
			if !MaxPool2x2(y, x, p) || !MaxPool2x2Arg(y, arg, x, p) {
				t.Fatal("AVX2 present but the pooling did not run")
			}
		}
	}
}
