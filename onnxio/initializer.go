package onnxio

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
)

// SetInitializer replaces the values of the float32 initializer called name
// (row-major, len(values) must equal its element count). The values are
// stored the way the original was: raw_data stays raw_data, float_data stays
// float_data, and external data stays external (it is held in memory and
// written by Save to a new file next to the output; the input's data file is
// never touched). Other element types are an error.
func (m *Model) SetInitializer(name string, values []float32) error {
	return m.setInitializer(name, Float, values, nil)
}

// setInitializer writes f32 (dt Float) or f64 (dt Double) into an initializer.
func (m *Model) setInitializer(name string, dt DataType, f32 []float32, f64 []float64) error {
	idx := slices.IndexFunc(m.pb.Graph.Initializer, func(tp *onnxpb.TensorProto) bool { return tp.GetName() == name })
	if idx < 0 {
		return fmt.Errorf("onnxio: no initializer %q", name)
	}
	tp := m.pb.Graph.Initializer[idx]
	if got := DataType(tp.GetDataType()); got != dt {
		return fmt.Errorf("onnxio: initializer %q has type %s; cannot write %s values", name, got, dt)
	}
	n, err := tensorCount(name, tp.Dims)
	if err != nil {
		return err
	}
	t := &Tensor{Name: name, Type: dt, Dims: slices.Clone(tp.Dims), Float32: slices.Clone(f32), Float64: slices.Clone(f64)}
	if got := len(f32) + len(f64); got != n {
		return fmt.Errorf("onnxio: initializer %q has dims %v (%d elements); got %d values", name, tp.Dims, n, got)
	}
	switch {
	case tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL:
		m.ext[tp] = littleEndian(f32, f64)
	case tp.RawData != nil:
		tp.RawData = littleEndian(f32, f64)
	case dt == Float:
		tp.FloatData = slices.Clone(f32)
	default:
		tp.DoubleData = slices.Clone(f64)
	}
	g := *m.graph
	g.Initializers = slices.Clone(g.Initializers)
	g.Initializers[idx] = t
	m.graph = &g
	return nil
}

// littleEndian encodes f32 or f64 as raw_data.
func littleEndian(f32 []float32, f64 []float64) []byte {
	b := make([]byte, 0, 4*len(f32)+8*len(f64))
	for _, v := range f32 {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for _, v := range f64 {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}
