// Package simd has vector loops for the engine's hottest element-wise
// float32 kernels, in assembly (the engine's package uses cgo, which cannot
// hold Go assembly). Each function handles the leading multiple of its
// vector width and returns how many elements it did, so the caller finishes
// the tail with its own loop; without the CPU feature it does nothing and
// returns 0. The results equal the callers' Go loops bit for bit.
package simd
