package onnxio

import "github.com/lethe-ml/lethe/onnxio/internal/onnxpb"

// ProtoOf exposes a model's protobuf to the external tests.
func ProtoOf(m *Model) *onnxpb.ModelProto { return m.pb }
