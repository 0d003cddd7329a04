package onnxio_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// unknownField is one length-delimited field with a number lethe's schema does
// not define.
func unknownField(num protowire.Number, payload string) protoreflect.RawFields {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendString(b, payload)
}

// TestUnknownFieldsSurvive puts fields lethe's schema leaves out (functions,
// training_info, quantization annotations, a future node field, a future
// tensor field) into a model and checks that load, SetInitializer and save keep
// every one of them.
func TestUnknownFieldsSurvive(t *testing.T) {
	m, err := onnxio.Decode(onnxtest.MLP(1, onnxtest.Raw, 3, 2).Bytes(), onnxio.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pb := onnxio.ProtoOf(m)
	add := func(msg proto.Message, f protoreflect.RawFields) {
		r := msg.ProtoReflect()
		r.SetUnknown(append(r.GetUnknown(), f...))
	}
	add(pb, unknownField(25, "a FunctionProto"))
	add(pb, unknownField(20, "a TrainingInfoProto"))
	add(pb.Graph, unknownField(14, "a TensorAnnotation"))
	add(pb.Graph.Node[0], unknownField(99, "a future node field"))
	add(pb.Graph.Initializer[0], unknownField(99, "a future tensor field"))
	data, err := proto.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.onnx")
	writeFile(t, in, data)

	m, err = onnxio.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetInitializer("fc1.weight", make([]float32, 6)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.onnx")
	if err := m.Save(out); err != nil {
		t.Fatal(err)
	}
	m2, err := onnxio.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	got := onnxio.ProtoOf(m2)
	for _, c := range []struct {
		what string
		msg  proto.Message
		want []protoreflect.RawFields
	}{
		{"model", got, []protoreflect.RawFields{unknownField(25, "a FunctionProto"), unknownField(20, "a TrainingInfoProto")}},
		{"graph", got.Graph, []protoreflect.RawFields{unknownField(14, "a TensorAnnotation")}},
		{"node", got.Graph.Node[0], []protoreflect.RawFields{unknownField(99, "a future node field")}},
		{"initializer", got.Graph.Initializer[0], []protoreflect.RawFields{unknownField(99, "a future tensor field")}},
	} {
		u := c.msg.ProtoReflect().GetUnknown()
		for _, w := range c.want {
			if !bytes.Contains(u, w) {
				t.Errorf("%s lost the unknown field %q (has %q)", c.what, w, u)
			}
		}
	}
}
