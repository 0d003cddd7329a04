// Package onnxio reads and writes ONNX model files losslessly.
//
// It owns lethe's own subset of the ONNX protobuf schema (generated Go code in
// onnxio/internal/onnxpb), loading and saving models with unknown fields kept,
// reading and replacing initializer values (including raw_data and external
// data), the trainable-parameter order of DESIGN.md §2, metadata properties and
// opset imports. onnxio knows nothing about gradients; it only knows which
// operator inputs are structural (shapes, axes, indices, exponents, bounds,
// running statistics), which is what the parameter order needs.
//
// # Loading
//
// Load reads a file, Decode bytes. Both check everything before anything is
// used: the IR version (MinIRVersion to MaxIRVersion), that every tensor holds
// as many values as its dims say, and that external data lies inside the
// model's folder (no absolute paths, no "..", no symbolic links leading out).
// Malformed or hostile input is an error, never a panic: declared sizes are
// checked against the input before allocating, nesting is limited, and
// DecodeOptions.MaxBytes bounds what one model may read. Errors name the file
// and, where it applies, the tensor, and wrap a sentinel (ErrNotONNX,
// ErrTruncated, ErrUnsupportedIR, ErrTensorData, ErrExternalData, ErrTooLarge)
// inside an *InvalidModelError.
//
// # Reading
//
// Model.Graph returns a decoded snapshot (Graph, Node, Attribute, Tensor,
// ValueInfo) that callers share and must not modify. Tensor values are
// decoded from typed fields, raw_data (little-endian) or external data alike.
// Element types float8, int4 and float4 are not decoded (loading a model that
// stores values of these types is an error).
//
// # Writing
//
// SetInitializer and SetParamVector replace initializer values, stored the
// way the original stored them; they build a new Graph snapshot and never
// change one handed out before. Save writes atomically (a temporary file in
// the destination folder, synced, then renamed), never over a file the model
// was read from, and puts external data in a new file next to the output.
// Encode returns deterministic, self-contained bytes. Everything else in the
// file, including fields this schema does not know, is written back as it
// was read: an unchanged model saves to an equal protobuf.
//
// # Parameters
//
// Model.Params lists the trainable parameters (DESIGN.md §2): the
// floating-point initializers in graph.initializer order, each flattened
// row-major, minus those used only structurally or not at all, minus
// ParamOptions.Freeze. ParamVector and SetParamVector move them to and from one
// flat float64 vector.
//
// # Sub-models
//
// Model.Extract cuts the sub-model that computes some tensors from others
// (like onnx.utils.extract_model): the head scope runs a network's backbone
// and its last affine layer as two models.
package onnxio
