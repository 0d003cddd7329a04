package dataset

import (
	"encoding/binary"
	"math"
	"strconv"
)

// dtype is a parsed numpy array-protocol type string such as "<f4".
type dtype struct {
	descr string           // as stored, for messages
	kind  byte             // 'f' float, 'i' signed, 'u' unsigned, 'b' bool, 'c' complex, 'U', 'S', 'O', ...
	size  int              // bytes per element; 0 when unknown
	order binary.ByteOrder // little-endian unless the descr starts with '>'
}

// maxDescrSize bounds the element size parseDescr accepts.
const maxDescrSize = 1 << 20

// parseDescr parses a numpy descr. It never fails: an unsupported type
// yields a dtype whose name says what it is, and callers reject it.
func parseDescr(s string) dtype {
	d := dtype{descr: s, order: binary.LittleEndian}
	r := s
	if r != "" && (r[0] == '<' || r[0] == '>' || r[0] == '|' || r[0] == '=') {
		if r[0] == '>' {
			d.order = binary.BigEndian
		}
		r = r[1:]
	}
	if r == "" {
		return d
	}
	d.kind = r[0]
	// Sizes beyond maxDescrSize stay unknown (0), so that no byte count
	// computed from them can overflow; no supported type comes near.
	if n, err := strconv.Atoi(r[1:]); err == nil && n > 0 && n <= maxDescrSize {
		d.size = n
		if d.kind == 'U' { // the count is of UCS-4 characters
			d.size = 4 * n
		}
	}
	return d
}

// name is numpy's name of the type: "float32", "uint8", "complex64", ...
func (d dtype) name() string {
	bits := strconv.Itoa(8 * d.size)
	switch {
	case d.kind == 'f' && d.size > 0:
		return "float" + bits
	case d.kind == 'i' && d.size > 0:
		return "int" + bits
	case d.kind == 'u' && d.size > 0:
		return "uint" + bits
	case d.kind == 'c' && d.size > 0:
		return "complex" + bits
	case d.kind == 'b':
		return "bool"
	case d.kind == 'U':
		return "unicode string " + strconv.Quote(d.descr)
	case d.kind == 'S' || d.kind == 'a':
		return "byte string " + strconv.Quote(d.descr)
	case d.kind == 'O':
		return "Python object"
	}
	return "dtype " + strconv.Quote(d.descr)
}

func (d dtype) isInt() bool {
	return (d.kind == 'i' || d.kind == 'u') && (d.size == 1 || d.size == 2 || d.size == 4 || d.size == 8)
}

func (d dtype) isFloat() bool {
	return d.kind == 'f' && (d.size == 4 || d.size == 8)
}

// isFeature reports whether features may be stored as d: float32, float64, uint8.
func (d dtype) isFeature() bool {
	return d.isFloat() || (d.kind == 'u' && d.size == 1)
}

// isLabel reports whether labels may be stored as d: any integer type, or a
// float type holding integral values.
func (d dtype) isLabel() bool {
	return d.isInt() || d.isFloat()
}

// float returns element b (d.size bytes) of a float type as float64.
func (d dtype) float(b []byte) float64 {
	if d.size == 4 {
		return float64(math.Float32frombits(d.order.Uint32(b)))
	}
	return math.Float64frombits(d.order.Uint64(b))
}

// uint returns element b of an unsigned type.
func (d dtype) uint(b []byte) uint64 {
	switch d.size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(d.order.Uint16(b))
	case 4:
		return uint64(d.order.Uint32(b))
	}
	return d.order.Uint64(b)
}

// int returns element b of a signed type.
func (d dtype) int(b []byte) int64 {
	switch d.size {
	case 1:
		return int64(int8(b[0]))
	case 2:
		return int64(int16(d.order.Uint16(b)))
	case 4:
		return int64(int32(d.order.Uint32(b)))
	}
	return int64(d.order.Uint64(b))
}

// integer returns element b of an integer or float type as an int64 and
// whether it is exactly one; text is the element as stored, for messages.
func (d dtype) integer(b []byte) (v int64, ok bool, text string) {
	switch d.kind {
	case 'i':
		v = d.int(b)
		return v, true, strconv.FormatInt(v, 10)
	case 'u':
		u := d.uint(b)
		return int64(u), u <= math.MaxInt64, strconv.FormatUint(u, 10)
	}
	f := d.float(b)
	text = strconv.FormatFloat(f, 'g', -1, 64)
	// 2⁶³ is exactly representable; every float below it in magnitude and
	// integral converts exactly.
	if f != math.Trunc(f) || f >= 1<<63 || f < -(1<<63) {
		return 0, false, text
	}
	return int64(f), true, text
}

// decodeFeatures converts the stored elements src of a feature type into dst
// (len(dst) elements). uint8 values go through the table u8. It returns the
// position of the first element that is not finite in float32, or -1, and
// that element's stored value.
func (d dtype) decodeFeatures(dst []float32, src []byte, u8 *[256]float32) (bad int, value float64) {
	bad = -1
	switch {
	case d.kind == 'u':
		for i := range dst {
			dst[i] = u8[src[i]]
		}
	case d.size == 4 && d.order == binary.LittleEndian:
		// The common case, with the byte order's method called directly
		// (inlined) rather than through the interface: several times faster.
		for i := range dst {
			v := math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
			dst[i] = v
			if bad < 0 && !finite32(v) {
				bad, value = i, float64(v)
			}
		}
	case d.size == 4:
		for i := range dst {
			v := math.Float32frombits(d.order.Uint32(src[4*i:]))
			dst[i] = v
			if bad < 0 && !finite32(v) {
				bad, value = i, float64(v)
			}
		}
	default:
		for i := range dst {
			f := math.Float64frombits(d.order.Uint64(src[8*i:]))
			v := float32(f)
			dst[i] = v
			if bad < 0 && !finite32(v) {
				bad, value = i, f
			}
		}
	}
	return bad, value
}

// finite32 reports whether v is neither NaN nor ±Inf.
func finite32(v float32) bool {
	return v-v == 0
}
