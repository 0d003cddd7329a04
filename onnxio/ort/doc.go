// Package ort runs ONNX models in the real onnxruntime library, through
// github.com/yalue/onnxruntime_go, and compares output sets.
//
// The shared library is found through the LETHE_ORT_LIB environment variable,
// then the cache installed by `make setup` (~/.cache/lethe/onnxruntime), then
// the system loader's folders (LibraryPath). Init loads it once per process;
// NewSession calls Init. Nothing else in lethe needs this package to build or
// to unlearn; it is used for parity checks and `lethe run --engine ort`.
//
// # Resources
//
// A Session owns onnxruntime memory: whoever creates it must Close it. Run
// creates and destroys every onnxruntime value it uses; the tensors it returns
// are ordinary Go values owned by the caller. The onnxruntime environment
// lives until the process exits.
//
// # Types
//
// Inputs and outputs may be float32, float64, bool or 8- to 64-bit integer
// tensors, of any rank including scalars and empty tensors. float16,
// bfloat16, string and non-tensor values are refused with an error
// (onnxruntime_go cannot copy float16 outputs correctly). An output whose rank
// the model does not declare cannot be a scalar.
//
// # Comparing
//
// Compare and CompareTensors summarise differences as a Diff: the largest
// absolute difference |a−b| and the largest symmetric relative difference
// |a−b| / max(|a|, |b|), with NaN and infinities handled as Diff documents.
package ort
