package onnxio

import (
	"fmt"
	"io"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// modelFields are the top-level ModelProto fields and their wire types,
// including the ones lethe's schema leaves to unknown fields.
var modelFields = map[protowire.Number]struct {
	name string
	typ  protowire.Type
}{
	1: {"ir_version", protowire.VarintType}, 2: {"producer_name", protowire.BytesType},
	3: {"producer_version", protowire.BytesType}, 4: {"domain", protowire.BytesType},
	5: {"model_version", protowire.VarintType}, 6: {"doc_string", protowire.BytesType},
	7: {"graph", protowire.BytesType}, 8: {"opset_import", protowire.BytesType},
	14: {"metadata_props", protowire.BytesType}, 20: {"training_info", protowire.BytesType},
	25: {"functions", protowire.BytesType}, 26: {"configuration", protowire.BytesType},
}

// diagnose explains why data failed to parse as a ModelProto: a file whose
// top-level fields are ModelProto fields but whose last field runs past the end
// is truncated; anything else is not ONNX.
func diagnose(data []byte, parseErr error) *InvalidModelError {
	b := data
	for first := true; len(b) > 0; first = false {
		num, typ, n := protowire.ConsumeTag(b)
		f, known := modelFields[num]
		if n < 0 || !known || f.typ != typ {
			if first {
				return invalid(ErrNotONNX, "", "not an ONNX model: the file does not start with an ONNX ModelProto field")
			}
			break
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			if protowire.ParseError(m) != io.ErrUnexpectedEOF {
				break
			}
			if size, k := protowire.ConsumeVarint(b[n:]); typ == protowire.BytesType && k > 0 {
				return invalid(ErrTruncated, "", "truncated: field %s at offset %d needs %d bytes but only %d remain",
					f.name, len(data)-len(b), size, len(b)-n-k)
			}
			return invalid(ErrTruncated, "", "truncated: the file ends inside field %s", f.name)
		}
		b = b[n+m:]
	}
	return invalid(ErrNotONNX, "", "not a valid ONNX model: %s", protoReason(parseErr))
}

// protoReason strips the "proto:" prefix from a protobuf error (which
// protobuf-go separates with a space or a no-break space).
func protoReason(err error) string {
	s := fmt.Sprint(err)
	if rest, ok := strings.CutPrefix(s, "proto:"); ok {
		return strings.TrimLeft(rest, " \u00a0")
	}
	return s
}
