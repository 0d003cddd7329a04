package hugepages

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestAdvise: a buffer spanning several huge pages is advised (the kernel
// then reports an AnonHugePages mapping once it is filled, where the
// transparent_hugepage setting allows it), and slices too small to hold an
// aligned huge page, empty or nil, are left alone without a fault.
func TestAdvise(t *testing.T) {
	Advise([]byte(nil))
	Advise(make([]float32, 10))
	buf := make([]byte, 8*hugePage)
	Advise(buf)
	for i := range buf {
		buf[i] = 1
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages unavailable here (%q, %v)", mode, err)
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	// Advising splits the mapping at the first whole huge page inside buf.
	first := (uintptr(unsafe.Pointer(&buf[0])) + hugePage - 1) &^ (hugePage - 1)
	if kb := anonHugeKB(string(smaps), first); kb == 0 {
		t.Errorf("no huge pages back the advised buffer")
	}
}

// anonHugeKB returns the AnonHugePages of the smaps mapping holding addr.
func anonHugeKB(smaps string, addr uintptr) int {
	inside := false
	for _, line := range strings.Split(smaps, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			var lo, hi uintptr
			if _, err := fmt.Sscanf(f[0], "%x-%x", &lo, &hi); err == nil {
				inside = lo <= addr && addr < hi
			}
			continue
		}
		if inside && len(f) >= 2 && f[0] == "AnonHugePages:" {
			var kb int
			fmt.Sscan(f[1], &kb)
			return kb
		}
	}
	return 0
}
