// Package onnxtest builds small ONNX models in tests, with initializers stored
// in any of the three ways ONNX allows (raw_data, typed fields, external
// data), so that onnxio, the engine and the CLI can be tested on files whose
// every byte is known. It is for tests only.
package onnxtest

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
)

// Encoding says how an initializer's values are stored.
type Encoding int

// The ways ONNX stores tensor values.
const (
	Raw      Encoding = iota // little-endian raw_data, as PyTorch writes
	Typed                    // the typed field (float_data, double_data, int64_data)
	External                 // a data file next to the model (see Builder.ExternalLocation)
)

// Builder accumulates a model. Its zero value is not usable; call New.
type Builder struct {
	// ExternalLocation is the location recorded for External initializers,
	// relative to the model's folder. Empty means the model file's base name
	// plus ".data". Tests of hostile files set it to an escaping path.
	ExternalLocation string

	pb  *onnxpb.ModelProto
	ext []external
}

type external struct {
	tp   *onnxpb.TensorProto
	data []byte
}

// New starts a model with the given IR version and default-domain opset.
func New(irVersion, opset int64) *Builder {
	producer, version := "lethe-onnxtest", "1"
	return &Builder{pb: &onnxpb.ModelProto{
		IrVersion:       &irVersion,
		ProducerName:    &producer,
		ProducerVersion: &version,
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: &opset}},
		Graph:           &onnxpb.GraphProto{Name: proto.String("onnxtest")},
	}}
}

// valueInfo makes a tensor ValueInfoProto; a negative dim becomes the symbolic
// dimension "N".
func valueInfo(name string, dt onnxio.DataType, dims []int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		} else {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{Name: &name, Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt)), Shape: shape}}}}
}

// Input adds a graph input; a negative dim is the symbolic batch size "N".
func (b *Builder) Input(name string, dt onnxio.DataType, dims ...int64) *Builder {
	b.pb.Graph.Input = append(b.pb.Graph.Input, valueInfo(name, dt, dims))
	return b
}

// Output adds a graph output; a negative dim is the symbolic batch size "N".
func (b *Builder) Output(name string, dt onnxio.DataType, dims ...int64) *Builder {
	b.pb.Graph.Output = append(b.pb.Graph.Output, valueInfo(name, dt, dims))
	return b
}

// ValueInfo describes an intermediate value in the graph's value_info; a
// negative dim is the symbolic batch size "N".
func (b *Builder) ValueInfo(name string, dt onnxio.DataType, dims ...int64) *Builder {
	b.pb.Graph.ValueInfo = append(b.pb.Graph.ValueInfo, valueInfo(name, dt, dims))
	return b
}

// Float adds a float32 initializer.
func (b *Builder) Float(name string, dims []int64, values []float32, enc Encoding) *Builder {
	tp := b.tensor(name, onnxio.Float, dims)
	raw := make([]byte, 0, 4*len(values))
	for _, v := range values {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	b.store(tp, raw, enc, func() { tp.FloatData = append([]float32{}, values...) })
	return b
}

// Double adds a float64 initializer.
func (b *Builder) Double(name string, dims []int64, values []float64, enc Encoding) *Builder {
	tp := b.tensor(name, onnxio.Double, dims)
	raw := make([]byte, 0, 8*len(values))
	for _, v := range values {
		raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(v))
	}
	b.store(tp, raw, enc, func() { tp.DoubleData = append([]float64{}, values...) })
	return b
}

// Int64 adds an int64 initializer.
func (b *Builder) Int64(name string, dims []int64, values []int64, enc Encoding) *Builder {
	tp := b.tensor(name, onnxio.Int64, dims)
	raw := make([]byte, 0, 8*len(values))
	for _, v := range values {
		raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
	}
	b.store(tp, raw, enc, func() { tp.Int64Data = append([]int64{}, values...) })
	return b
}

func (b *Builder) tensor(name string, dt onnxio.DataType, dims []int64) *onnxpb.TensorProto {
	tp := &onnxpb.TensorProto{Name: &name, DataType: proto.Int32(int32(dt)), Dims: append([]int64{}, dims...)}
	b.pb.Graph.Initializer = append(b.pb.Graph.Initializer, tp)
	return tp
}

func (b *Builder) store(tp *onnxpb.TensorProto, raw []byte, enc Encoding, typed func()) {
	switch enc {
	case Raw:
		tp.RawData = raw
	case Typed:
		typed()
	case External:
		tp.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		b.ext = append(b.ext, external{tp, raw})
	default:
		panic("onnxtest: unknown encoding " + strconv.Itoa(int(enc)))
	}
}

// Attr is a node attribute; make one with Int, Ints, Float, String or Graph.
type Attr struct{ pb *onnxpb.AttributeProto }

// Int is an int attribute.
func Int(name string, v int64) Attr {
	return Attr{&onnxpb.AttributeProto{Name: &name, Type: onnxpb.AttributeProto_INT.Enum(), I: &v}}
}

// Ints is an ints attribute.
func Ints(name string, v ...int64) Attr {
	return Attr{&onnxpb.AttributeProto{Name: &name, Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}}
}

// Float is a float attribute.
func Float(name string, v float32) Attr {
	return Attr{&onnxpb.AttributeProto{Name: &name, Type: onnxpb.AttributeProto_FLOAT.Enum(), F: &v}}
}

// String is a string attribute.
func String(name, v string) Attr {
	return Attr{&onnxpb.AttributeProto{Name: &name, Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}}
}

// Graph is a graph attribute holding sub's graph, for the bodies of If, Loop
// and Scan. sub is used as it is, not copied.
func Graph(name string, sub *Builder) Attr {
	return Attr{&onnxpb.AttributeProto{Name: &name, Type: onnxpb.AttributeProto_GRAPH.Enum(), G: sub.pb.Graph}}
}

// Node appends a node of the default domain; its name is op plus its index.
func (b *Builder) Node(op string, inputs, outputs []string, attrs ...Attr) *Builder {
	name := op + "_" + strconv.Itoa(len(b.pb.Graph.Node))
	n := &onnxpb.NodeProto{Name: &name, OpType: &op, Input: inputs, Output: outputs}
	for _, a := range attrs {
		n.Attribute = append(n.Attribute, a.pb)
	}
	b.pb.Graph.Node = append(b.pb.Graph.Node, n)
	return b
}

// Metadata adds a metadata_props entry.
func (b *Builder) Metadata(key, value string) *Builder {
	b.pb.MetadataProps = append(b.pb.MetadataProps, &onnxpb.StringStringEntryProto{Key: &key, Value: &value})
	return b
}

// Write writes the model to path and, if it has External initializers, their
// data (concatenated in order) to ExternalLocation, relative to path's folder
// unless it is absolute.
// It writes plainly, not atomically: it is for test fixtures in temporary
// folders.
func (b *Builder) Write(path string) error {
	loc := b.ExternalLocation
	if loc == "" {
		loc = filepath.Base(path) + ".data"
	}
	var data []byte
	for _, e := range b.ext {
		e.tp.ExternalData = []*onnxpb.StringStringEntryProto{
			{Key: proto.String("location"), Value: proto.String(loc)},
			{Key: proto.String("offset"), Value: proto.String(strconv.Itoa(len(data)))},
			{Key: proto.String("length"), Value: proto.String(strconv.Itoa(len(e.data)))},
		}
		data = append(data, e.data...)
	}
	if len(b.ext) > 0 {
		dataPath := filepath.FromSlash(loc)
		if !filepath.IsAbs(dataPath) {
			dataPath = filepath.Join(filepath.Dir(path), dataPath)
		}
		if err := os.WriteFile(dataPath, data, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// Bytes returns the serialized model. External initializers refer to
// ExternalLocation but their data is only written by Write.
func (b *Builder) Bytes() []byte {
	out, err := proto.MarshalOptions{Deterministic: true}.Marshal(b.pb)
	if err != nil {
		panic("onnxtest: " + err.Error())
	}
	return out
}
