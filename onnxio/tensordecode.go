package onnxio

import (
	"encoding/binary"
	"math"

	"github.com/lethe-ml/lethe/onnxio/internal/onnxpb"
)

// maxElements bounds the element count computed from a tensor's dims, so that
// count×size never overflows; real data is further bounded by the input size.
const maxElements = 1 << 48

// tensorCount validates dims and returns their product.
func tensorCount(name string, dims []int64) (int, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, invalid(ErrTensorData, name, "negative dimension in dims %v", dims)
		}
		if d != 0 && n > maxElements/d {
			return 0, invalid(ErrTensorData, name, "dims %v have too many elements", dims)
		}
		n *= d
	}
	return int(n), nil
}

// decodedSize is the bytes one element of type dt takes once decoded (a
// Tensor holds every integer type as int64, so an int8 tensor takes eight
// times its stored bytes), 0 for strings (which take their stored bytes).
func decodedSize(dt DataType) int64 {
	switch dt {
	case Float, Complex64:
		return 4
	case Float16, BFloat16:
		return 2
	case String:
		return 0
	}
	return 8
}

// charge takes the memory n decoded elements of t take from budget (nil:
// unlimited), or returns an error wrapping ErrTooLarge when it would go
// below zero.
func charge(budget *int64, t *Tensor, n int) error {
	if budget == nil {
		return nil
	}
	need := int64(n) * decodedSize(t.Type)
	if need > *budget {
		return invalid(ErrTooLarge, t.Name, "%s data for dims %v take %d bytes of memory once decoded, over the remaining limit of %d bytes (DecodeOptions.MaxBytes)",
			t.Type, t.Dims, need, *budget)
	}
	*budget -= need
	return nil
}

// decodeTensor decodes tp. ext holds the tensor's bytes when it is stored as
// external data (data_location = EXTERNAL), and is ignored otherwise. budget,
// when not nil, is the memory the decoded values may still take; it is
// checked before they are allocated and reduced by what they take.
func decodeTensor(tp *onnxpb.TensorProto, ext []byte, budget *int64) (*Tensor, error) {
	name := tp.GetName()
	t := &Tensor{Name: name, Type: DataType(tp.GetDataType()), Dims: append([]int64(nil), tp.GetDims()...)}
	if tp.Segment != nil {
		return nil, invalid(ErrTensorData, name, "segmented tensors are not supported")
	}
	n, err := tensorCount(name, t.Dims)
	if err != nil {
		return nil, err
	}
	if t.Type == Complex64 || t.Type == Complex128 {
		n *= 2 // interleaved (re, im) pairs
	}
	switch {
	case tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL:
		err = decodeRaw(t, ext, n, budget)
	case tp.RawData != nil:
		err = decodeRaw(t, tp.RawData, n, budget)
	default:
		err = decodeTyped(t, tp, n, budget)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// decodeRaw decodes little-endian raw bytes holding n values of t.Type,
// charging budget before it allocates them.
func decodeRaw(t *Tensor, raw []byte, n int, budget *int64) error {
	size := t.Type.Size()
	switch {
	case t.Type == Complex64:
		size = 4
	case t.Type == Complex128:
		size = 8
	case size == 0:
		return invalid(ErrTensorData, t.Name, "raw data of type %s is not supported", t.Type)
	}
	if len(raw)%size != 0 || len(raw)/size != n {
		return invalid(ErrTensorData, t.Name, "%d bytes of %s data for dims %v (%d elements need %d bytes)",
			len(raw), t.Type, t.Dims, n, n*size)
	}
	if err := charge(budget, t, n); err != nil {
		return err
	}
	le := binary.LittleEndian
	switch t.Type {
	case Float, Complex64:
		t.Float32 = make([]float32, n)
		for i := range t.Float32 {
			t.Float32[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case Double, Complex128:
		t.Float64 = make([]float64, n)
		for i := range t.Float64 {
			t.Float64[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	case Uint64:
		t.Uint64 = make([]uint64, n)
		for i := range t.Uint64 {
			t.Uint64[i] = le.Uint64(raw[8*i:])
		}
	case Float16, BFloat16:
		t.Bits16 = make([]uint16, n)
		for i := range t.Bits16 {
			t.Bits16[i] = le.Uint16(raw[2*i:])
		}
	default:
		t.Int64 = make([]int64, n)
		for i := range t.Int64 {
			t.Int64[i] = rawInt(t.Type, raw[i*size:])
		}
	}
	return nil
}

// rawInt reads one little-endian integer or bool of type dt from b.
func rawInt(dt DataType, b []byte) int64 {
	le := binary.LittleEndian
	switch dt {
	case Int8:
		return int64(int8(b[0]))
	case Uint8:
		return int64(b[0])
	case Bool:
		if b[0] != 0 {
			return 1
		}
		return 0
	case Int16:
		return int64(int16(le.Uint16(b)))
	case Uint16:
		return int64(le.Uint16(b))
	case Int32:
		return int64(int32(le.Uint32(b)))
	case Uint32:
		return int64(le.Uint32(b))
	}
	return int64(le.Uint64(b)) // Int64
}

// decodeTyped decodes n values from the typed field ONNX assigns to t.Type
// and charges budget for them (the typed fields already hold them in
// memory, at least half as large as decoded).
func decodeTyped(t *Tensor, tp *onnxpb.TensorProto, n int, budget *int64) error {
	var got int
	switch t.Type {
	case Float, Complex64:
		t.Float32, got = append([]float32(nil), tp.FloatData...), len(tp.FloatData)
	case Double, Complex128:
		t.Float64, got = append([]float64(nil), tp.DoubleData...), len(tp.DoubleData)
	case Int64:
		t.Int64, got = append([]int64(nil), tp.Int64Data...), len(tp.Int64Data)
	case Uint64:
		t.Uint64, got = append([]uint64(nil), tp.Uint64Data...), len(tp.Uint64Data)
	case Uint32:
		got = len(tp.Uint64Data)
		for _, v := range tp.Uint64Data {
			t.Int64 = append(t.Int64, int64(uint32(v)))
		}
	case Int8, Uint8, Int16, Uint16, Int32, Bool:
		got = len(tp.Int32Data)
		for _, v := range tp.Int32Data {
			t.Int64 = append(t.Int64, narrowInt(t.Type, v))
		}
	case Float16, BFloat16:
		got = len(tp.Int32Data)
		for _, v := range tp.Int32Data {
			t.Bits16 = append(t.Bits16, uint16(v))
		}
	case String:
		got = len(tp.StringData)
		for _, s := range tp.StringData {
			t.Strings = append(t.Strings, append([]byte(nil), s...))
		}
	default:
		return invalid(ErrTensorData, t.Name, "data type %s is not supported", t.Type)
	}
	if got != n {
		return invalid(ErrTensorData, t.Name, "%d values of %s data for dims %v (%d elements)", got, t.Type, t.Dims, n)
	}
	return charge(budget, t, n)
}

// narrowInt converts an int32_data entry to dt's range, as a C cast would.
func narrowInt(dt DataType, v int32) int64 {
	switch dt {
	case Int8:
		return int64(int8(v))
	case Uint8:
		return int64(uint8(v))
	case Int16:
		return int64(int16(v))
	case Uint16:
		return int64(uint16(v))
	case Bool:
		if v != 0 {
			return 1
		}
		return 0
	}
	return int64(v)
}
