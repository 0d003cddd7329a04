package ort

import (
	"fmt"
	"slices"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/lethe-ml/lethe/onnxio"
)

// toValue copies t into a new onnxruntime value, which the caller must
// Destroy.
func toValue(t *onnxio.Tensor) (ortgo.Value, error) {
	if n := t.NumElements(); n != valueCount(t) {
		return nil, fmt.Errorf("%d values for dims %v (%d elements)", valueCount(t), t.Dims, n)
	}
	switch t.Type {
	case onnxio.Float:
		return newValue(t.Dims, slices.Clone(t.Float32))
	case onnxio.Double:
		return newValue(t.Dims, slices.Clone(t.Float64))
	case onnxio.Int64:
		return newValue(t.Dims, slices.Clone(t.Int64))
	case onnxio.Uint64:
		return newValue(t.Dims, slices.Clone(t.Uint64))
	case onnxio.Int32:
		return newValue(t.Dims, narrow[int32](t.Int64))
	case onnxio.Int16:
		return newValue(t.Dims, narrow[int16](t.Int64))
	case onnxio.Int8:
		return newValue(t.Dims, narrow[int8](t.Int64))
	case onnxio.Uint32:
		return newValue(t.Dims, narrow[uint32](t.Int64))
	case onnxio.Uint16:
		return newValue(t.Dims, narrow[uint16](t.Int64))
	case onnxio.Uint8:
		return newValue(t.Dims, narrow[uint8](t.Int64))
	case onnxio.Bool:
		b := make([]bool, len(t.Int64))
		for i, v := range t.Int64 {
			b[i] = v != 0
		}
		return newValue(t.Dims, b)
	}
	return nil, fmt.Errorf("%s tensors are not supported", t.Type)
}

// valueCount is the number of values t holds in the slice its type uses.
func valueCount(t *onnxio.Tensor) int {
	return len(t.Float32) + len(t.Float64) + len(t.Int64) + len(t.Uint64) + len(t.Bits16) + len(t.Strings)
}

func narrow[T int8 | int16 | int32 | uint8 | uint16 | uint32](xs []int64) []T {
	out := make([]T, len(xs))
	for i, v := range xs {
		out[i] = T(v)
	}
	return out
}

// newValue wraps data (not copied) in a tensor of the given dims, or in a
// scalar when dims is empty (onnxruntime_go has no rank-0 tensors).
func newValue[T ortgo.TensorData](dims []int64, data []T) (ortgo.Value, error) {
	if len(dims) == 0 {
		return ortgo.NewScalar(data[0])
	}
	return ortgo.NewTensor(ortgo.NewShape(slices.Clone(dims)...), data)
}

// newScalar allocates a scalar output of type dt.
func newScalar(dt onnxio.DataType) (ortgo.Value, error) {
	switch dt {
	case onnxio.Float:
		return ortgo.NewEmptyScalar[float32]()
	case onnxio.Double:
		return ortgo.NewEmptyScalar[float64]()
	case onnxio.Int64:
		return ortgo.NewEmptyScalar[int64]()
	case onnxio.Uint64:
		return ortgo.NewEmptyScalar[uint64]()
	case onnxio.Int32:
		return ortgo.NewEmptyScalar[int32]()
	case onnxio.Int16:
		return ortgo.NewEmptyScalar[int16]()
	case onnxio.Int8:
		return ortgo.NewEmptyScalar[int8]()
	case onnxio.Uint32:
		return ortgo.NewEmptyScalar[uint32]()
	case onnxio.Uint16:
		return ortgo.NewEmptyScalar[uint16]()
	case onnxio.Uint8:
		return ortgo.NewEmptyScalar[uint8]()
	case onnxio.Bool:
		return ortgo.NewEmptyScalar[bool]()
	}
	return nil, fmt.Errorf("%s scalars are not supported", dt)
}

// values returns a copy of the data of a tensor or scalar of element type T.
func values[T ortgo.TensorData](v ortgo.Value) ([]T, bool) {
	switch x := v.(type) {
	case *ortgo.Tensor[T]:
		return slices.Clone(x.GetData()), true
	case *ortgo.Scalar[T]:
		return []T{x.GetData()}, true
	}
	return nil, false
}

func widen[T int8 | int16 | int32 | uint8 | uint16 | uint32](xs []T) []int64 {
	out := make([]int64, len(xs))
	for i, v := range xs {
		out[i] = int64(v)
	}
	return out
}

// fromValue copies an onnxruntime value of element type dt into a new tensor.
func fromValue(v ortgo.Value, dt onnxio.DataType) (*onnxio.Tensor, error) {
	t := &onnxio.Tensor{Type: dt, Dims: slices.Clone([]int64(v.GetShape()))}
	ok := false
	switch dt {
	case onnxio.Float:
		t.Float32, ok = values[float32](v)
	case onnxio.Double:
		t.Float64, ok = values[float64](v)
	case onnxio.Int64:
		t.Int64, ok = values[int64](v)
	case onnxio.Uint64:
		t.Uint64, ok = values[uint64](v)
	case onnxio.Int32:
		t.Int64, ok = widened[int32](v)
	case onnxio.Int16:
		t.Int64, ok = widened[int16](v)
	case onnxio.Int8:
		t.Int64, ok = widened[int8](v)
	case onnxio.Uint32:
		t.Int64, ok = widened[uint32](v)
	case onnxio.Uint16:
		t.Int64, ok = widened[uint16](v)
	case onnxio.Uint8:
		t.Int64, ok = widened[uint8](v)
	case onnxio.Bool:
		var b []bool
		if b, ok = values[bool](v); ok {
			t.Int64 = make([]int64, len(b))
			for i, x := range b {
				if x {
					t.Int64[i] = 1
				}
			}
		}
	default:
		return nil, fmt.Errorf("%s values are not supported", dt)
	}
	if !ok {
		return nil, fmt.Errorf("onnxruntime returned %T for a declared %s value", v, dt)
	}
	return t, nil
}

func widened[T int8 | int16 | int32 | uint8 | uint16 | uint32](v ortgo.Value) ([]int64, bool) {
	xs, ok := values[T](v)
	return widen(xs), ok
}
