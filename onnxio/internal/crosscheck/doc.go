// Package crosscheck has no code of its own: its tests compare onnxio with an
// independent ONNX decoder (github.com/owulveryck/onnx-go). They live apart
// from onnxio's tests so that the onnxio fuzz target's binary does not link
// that decoder's large dependency tree, which slows coverage-guided fuzzing
// down by orders of magnitude.
package crosscheck
