// Package parity checks that onnxruntime computes the same outputs from a
// model file as lethe's native engine: it builds probe batches (regenerable
// from a seed and a shape, or taken from data), runs both engines and
// compares every output element with an absolute-plus-relative tolerance.
//
// The probe recipe is versioned (ProbeVersion) because certificates record
// only the seed and the shape, and `lethe verify` must rebuild the same batch.
package parity
