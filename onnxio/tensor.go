package onnxio

import (
	"fmt"
	"math"
	"slices"
)

// Tensor is a decoded tensor value. Exactly one of the value slices is used,
// chosen by Type:
//
//	Float32  float32, and complex64 as interleaved (re, im) pairs
//	Float64  float64 (double), and complex128 as interleaved pairs
//	Int64    int8, int16, int32, int64, uint8, uint16, uint32 and bool (0/1), widened
//	Uint64   uint64
//	Bits16   float16 and bfloat16, as their raw 16-bit patterns
//	Strings  string
//
// Values are row-major; a tensor with no dims is a scalar with one element.
type Tensor struct {
	Name    string
	Type    DataType
	Dims    []int64
	Float32 []float32
	Float64 []float64
	Int64   []int64
	Uint64  []uint64
	Bits16  []uint16
	Strings [][]byte
}

// NumElements is the product of the dims (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Dims {
		n *= int(d)
	}
	return n
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{
		Name: t.Name, Type: t.Type, Dims: slices.Clone(t.Dims),
		Float32: slices.Clone(t.Float32), Float64: slices.Clone(t.Float64),
		Int64: slices.Clone(t.Int64), Uint64: slices.Clone(t.Uint64),
		Bits16: slices.Clone(t.Bits16),
	}
	for _, s := range t.Strings {
		c.Strings = append(c.Strings, slices.Clone(s))
	}
	return c
}

// Float64s returns the values of a real numeric or boolean tensor converted to
// float64 (uint64 and int64 values above 2^53 are rounded). Complex and string
// tensors are an error.
func (t *Tensor) Float64s() ([]float64, error) {
	n := t.NumElements()
	out := make([]float64, 0, n)
	switch {
	case t.Type == Float:
		for _, v := range t.Float32 {
			out = append(out, float64(v))
		}
	case t.Type == Double:
		out = append(out, t.Float64...)
	case t.Type == Uint64:
		for _, v := range t.Uint64 {
			out = append(out, float64(v))
		}
	case t.Type == Float16:
		for _, v := range t.Bits16 {
			out = append(out, float64(halfToFloat32(v)))
		}
	case t.Type == BFloat16:
		for _, v := range t.Bits16 {
			out = append(out, float64(math.Float32frombits(uint32(v)<<16)))
		}
	case t.Type.Size() > 0 && t.Type != Complex64 && t.Type != Complex128:
		for _, v := range t.Int64 {
			out = append(out, float64(v))
		}
	default:
		return nil, fmt.Errorf("onnxio: tensor %q: %s values are not real numbers", t.Name, t.Type)
	}
	if len(out) != n {
		return nil, fmt.Errorf("onnxio: tensor %q: %d values for dims %v (%d elements)", t.Name, len(out), t.Dims, n)
	}
	return out, nil
}

// halfToFloat32 converts an IEEE 754 half-precision bit pattern to float32
// exactly (every half value is representable).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN; keep the payload.
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal: rebias 15 -> 127.
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal half: frac·2^-24 is a normal float32.
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}
