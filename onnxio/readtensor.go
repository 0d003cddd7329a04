package onnxio

import (
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
)

// ReadTensor reads a file holding one serialized TensorProto, such as the
// input_N.pb and output_N.pb files of the ONNX conformance tests. External
// data is not allowed in such files.
func ReadTensor(path string) (*Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnxio: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("onnxio: %w", err)
	} else if !st.Mode().IsRegular() {
		return nil, &InvalidModelError{Path: path, Reason: "not a regular file", Err: ErrNotONNX}
	}
	data, err := io.ReadAll(io.LimitReader(f, DefaultMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("onnxio: read %s: %w", path, err)
	}
	if int64(len(data)) > DefaultMaxBytes {
		return nil, &InvalidModelError{Path: path, Reason: "file too large", Err: ErrTooLarge}
	}
	tp := new(onnxpb.TensorProto)
	if err := (proto.UnmarshalOptions{RecursionLimit: maxRecursion}).Unmarshal(data, tp); err != nil {
		return nil, &InvalidModelError{Path: path, Reason: "not a TensorProto: " + protoReason(err), Err: ErrNotONNX}
	}
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, &InvalidModelError{Path: path, Tensor: tp.GetName(), Reason: "external data is not supported in tensor files", Err: ErrExternalData}
	}
	budget := DefaultMaxBytes
	t, err := decodeTensor(tp, nil, &budget)
	if err != nil {
		return nil, withPath(err, path)
	}
	return t, nil
}
