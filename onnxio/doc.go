// Package onnxio reads and writes ONNX model files losslessly.
//
// It owns lethe's own subset of the ONNX protobuf schema (generated Go code in
// onnxio/internal/onnxpb), loading and saving models with unknown fields kept,
// reading and replacing initializer values (including raw_data and external
// data), the trainable-parameter order of DESIGN.md §2, metadata properties and
// opset imports. Saves are atomic: a temporary file in the destination folder
// is renamed over the target, so a failed save never leaves a partial file.
//
// onnxio knows nothing about gradients; it only knows which operator inputs are
// structural (shapes, axes, indices, exponents, bounds, running statistics),
// which is what the parameter order needs.
package onnxio
