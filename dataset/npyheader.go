package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// maxHeaderLen bounds the header of a .npy file; numpy's own limit for
// untrusted files is 10,000 bytes.
const maxHeaderLen = 1 << 20

// npyHeader is the parsed header of a .npy file (format versions 1.0 to 3.0).
type npyHeader struct {
	dtype   dtype
	fortran bool
	shape   []int
	dataOff int64 // where the data starts, from the start of the .npy stream
}

// count is the number of elements the header promises.
func (h *npyHeader) count() int { return numElems(h.shape) }

// readNPYHeader reads and parses the header of the .npy stream r; name is for messages.
func readNPYHeader(r io.ReaderAt, name string) (npyHeader, error) {
	var h npyHeader
	var pre [12]byte
	n, err := r.ReadAt(pre[:], 0)
	if n < 10 {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return h, fmt.Errorf("dataset: %s: reading the .npy header: %w", name, err)
	}
	if string(pre[:6]) != npyMagic {
		return h, fmt.Errorf("dataset: %s: not a .npy file (no \\x93NUMPY magic)", name)
	}
	var hlen, start int
	switch pre[6] {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(pre[8:])), 10
	case 2, 3:
		if n < 12 {
			return h, fmt.Errorf("dataset: %s: truncated .npy header", name)
		}
		hlen, start = int(binary.LittleEndian.Uint32(pre[8:])), 12
	default:
		return h, fmt.Errorf("dataset: %s: unsupported .npy format version %d.%d", name, pre[6], pre[7])
	}
	if hlen > maxHeaderLen {
		return h, fmt.Errorf("dataset: %s: .npy header of %d bytes is implausibly long", name, hlen)
	}
	buf := make([]byte, hlen)
	if n, err := r.ReadAt(buf, int64(start)); n < hlen {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return h, fmt.Errorf("dataset: %s: truncated .npy header: %w", name, err)
	}
	h.dataOff = int64(start + hlen)
	if err := h.parse(string(buf)); err != nil {
		return h, fmt.Errorf("dataset: %s: bad .npy header %q: %w", name, strings.TrimSpace(string(buf)), err)
	}
	return h, nil
}

// parse parses the header dictionary, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }.
func (h *npyHeader) parse(s string) error {
	p := pyParser{s: s}
	v, err := p.value()
	if err != nil {
		return err
	}
	dict, ok := v.(map[string]any)
	if !ok {
		return errors.New("not a dictionary")
	}
	descr, ok := dict["descr"].(string)
	if !ok {
		if _, isList := dict["descr"].([]any); isList {
			return errors.New("structured dtypes are not supported")
		}
		return errors.New("'descr' missing or not a string")
	}
	h.dtype = parseDescr(descr)
	if h.fortran, ok = dict["fortran_order"].(bool); !ok {
		return errors.New("'fortran_order' missing or not a bool")
	}
	shape, ok := dict["shape"].([]any)
	if !ok {
		return errors.New("'shape' missing or not a tuple")
	}
	h.shape = make([]int, len(shape))
	// The product of the nonzero dimensions, times the element size, must
	// fit an int64, so that the bytes of the array and of every sub-shape
	// (a row of an array with 0 rows too) do.
	elemSize := int64(max(h.dtype.size, 1))
	total := int64(1)
	for i, d := range shape {
		n, ok := d.(int64)
		if !ok || n < 0 {
			return fmt.Errorf("shape entry %v is not a size", d)
		}
		h.shape[i] = int(n)
		if n == 0 {
			continue
		}
		if total > math.MaxInt64/elemSize/n {
			return errors.New("shape too large")
		}
		total *= n
	}
	return nil
}

// formatNPYHeader returns the whole header (magic to padding) of a C-order
// array; numpy pads it with spaces to a multiple of 64 bytes.
func formatNPYHeader(descr string, shape []int) []byte {
	var dims strings.Builder
	dims.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			dims.WriteString(", ")
		}
		dims.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		dims.WriteByte(',')
	}
	dims.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, dims.String())
	version, pre := byte(1), 10
	if len(dict)+1+pre > math.MaxUint16 {
		version, pre = 2, 12
	}
	total := (pre + len(dict) + 1 + 63) / 64 * 64
	var b bytes.Buffer
	b.WriteString(npyMagic)
	b.WriteByte(version)
	b.WriteByte(0)
	hlen := total - pre
	if version == 1 {
		b.Write(binary.LittleEndian.AppendUint16(nil, uint16(hlen)))
	} else {
		b.Write(binary.LittleEndian.AppendUint32(nil, uint32(hlen)))
	}
	b.WriteString(dict)
	b.WriteString(strings.Repeat(" ", total-b.Len()-1))
	b.WriteByte('\n')
	return b.Bytes()
}

// maxPyDepth bounds the nesting of containers in a .npy header; numpy's
// own headers nest two deep (a dict holding a tuple).
const maxPyDepth = 16

// pyParser parses the Python literals found in .npy headers: dicts, tuples,
// lists, strings, integers, True, False and None.
type pyParser struct {
	s     string
	i     int
	depth int // containers open
}

func (p *pyParser) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) value() (any, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.i]; {
	case (c == '{' || c == '(' || c == '[') && p.depth >= maxPyDepth:
		return nil, fmt.Errorf("containers nested more than %d deep", maxPyDepth)
	case c == '{':
		return p.dict()
	case c == '(':
		return p.seq(')')
	case c == '[':
		return p.seq(']')
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		j := p.i + 1
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		n, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil {
			return nil, err
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' { // Python 2 long
			p.i++
		}
		return n, nil
	}
	for _, w := range []struct {
		word string
		v    any
	}{{"True", true}, {"False", false}, {"None", nil}} {
		if strings.HasPrefix(p.s[p.i:], w.word) {
			p.i += len(w.word)
			return w.v, nil
		}
	}
	return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i)
}

func (p *pyParser) str() (string, error) {
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

// seq parses a tuple or list up to the closing byte.
func (p *pyParser) seq(closing byte) ([]any, error) {
	p.i++
	p.depth++
	defer func() { p.depth-- }()
	out := []any{}
	for {
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == closing {
			p.i++
			return out, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if err := p.sep(closing); err != nil {
			return nil, err
		}
	}
}

func (p *pyParser) dict() (map[string]any, error) {
	p.i++
	p.depth++
	defer func() { p.depth-- }()
	out := map[string]any{}
	for {
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return out, nil
		}
		k, err := p.value()
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("dictionary key %v is not a string", k)
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, errors.New("missing ':' in dictionary")
		}
		p.i++
		if out[key], err = p.value(); err != nil {
			return nil, err
		}
		if err := p.sep('}'); err != nil {
			return nil, err
		}
	}
}

// sep consumes a ',' or stops before the closing byte.
func (p *pyParser) sep(closing byte) error {
	p.skipSpace()
	switch {
	case p.i < len(p.s) && p.s[p.i] == ',':
		p.i++
		return nil
	case p.i < len(p.s) && p.s[p.i] == closing:
		return nil
	}
	return fmt.Errorf("expected ',' or %q at offset %d", closing, p.i)
}
