// Package ort runs ONNX models in the real onnxruntime library, through
// github.com/yalue/onnxruntime_go, and compares output sets.
//
// The shared library is found through the LETHE_ORT_LIB environment variable,
// then the cache installed by `make setup` (~/.cache/lethe/onnxruntime), then
// the system loader. Nothing else in lethe needs this package to build or to
// unlearn; it is used for parity checks and `--engine ort`.
package ort
