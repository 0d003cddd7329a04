package main

import (
	"fmt"
	"io"
	"reflect"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/lethe-ml/lethe/onnxio"
)

// writeNpy writes t as a NumPy .npy array of its dims: float32 and float64
// as themselves, integers and bools as int64, uint64 as uint64.
func writeNpy(w io.Writer, t *onnxio.Tensor) error {
	var flat any
	switch t.Type {
	case onnxio.Float:
		flat = t.Float32
	case onnxio.Double:
		flat = t.Float64
	case onnxio.Uint64:
		flat = t.Uint64
	case onnxio.Int8, onnxio.Int16, onnxio.Int32, onnxio.Int64, onnxio.Uint8, onnxio.Uint16, onnxio.Uint32, onnxio.Bool:
		flat = t.Int64
	default:
		return fmt.Errorf("output %q: %s values cannot be written as .npy", t.Name, t.Type)
	}
	dims := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		dims[i] = int(d)
	}
	v := reflect.ValueOf(flat)
	if len(dims) == 0 {
		return npy.Write(w, v.Index(0).Interface())
	}
	return npy.Write(w, nested(v, dims).Interface())
}

// nested reshapes the flat slice v into nested slices of the given dims,
// which is how npyio learns an array's shape.
func nested(v reflect.Value, dims []int) reflect.Value {
	if len(dims) == 1 {
		return v
	}
	inner := 1
	for _, d := range dims[1:] {
		inner *= d
	}
	typ := v.Type()
	for range dims[1:] {
		typ = reflect.SliceOf(typ)
	}
	out := reflect.MakeSlice(typ, dims[0], dims[0])
	for i := range dims[0] {
		out.Index(i).Set(nested(v.Slice(i*inner, (i+1)*inner), dims[1:]))
	}
	return out
}
