// Package simd has vector loops for the engine's hottest element-wise
// float32 kernels, in assembly (the engine's package uses cgo, which cannot
// hold Go assembly). The element-wise functions handle the leading multiple
// of their vector width and return how many elements they did, so that the
// caller finishes the tail with its own loop; the pooling functions do whole
// planes. Without the CPU feature they do nothing (returning 0 or false).
// The results equal the callers' Go loops bit for bit, NaN payloads
// included; autodiff's tests compare the two.
package simd
