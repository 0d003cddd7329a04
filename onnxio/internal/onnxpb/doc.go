// Package onnxpb is the Go code generated from lethe's subset of the ONNX
// protobuf schema (onnx.proto in this folder). Only package onnxio uses it;
// everything else sees onnxio's own types.
package onnxpb

// protoc-gen-go (google.golang.org/protobuf/cmd/protoc-gen-go, v1.36.12 like
// go.mod) is looked up in $(go env GOPATH)/bin, protoc on PATH.
//go:generate sh -c "PATH=$(go env GOPATH)/bin:$PATH protoc --go_out=. --go_opt=paths=source_relative onnx.proto"
