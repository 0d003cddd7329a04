package simd

import "golang.org/x/sys/cpu"

// AVX2 says whether the functions use their AVX2 loops. Tests turn it off to
// compare against the callers' Go loops.
var AVX2 = cpu.X86.HasAVX2
