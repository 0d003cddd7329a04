package autodiff

import "fmt"

// window is the geometry of a 2-D sliding window (convolution or pooling)
// over inputs [N, C, H, W]; 1-D ops use H = 1.
type window struct {
	h, w   int // input spatial size
	kh, kw int
	sh, sw int // strides
	dh, dw int // dilations
	pt, pl int // padding before (top, left)
	pb, pr int // padding after
	oh, ow int // output spatial size
	oneD   bool
	ceil   bool
}

// windowAttrs are the ONNX attributes shared by Conv and the pools.
type windowAttrs struct {
	kernel    []int64
	strides   []int64
	dilations []int64
	pads      []int64
	autoPad   string
	ceil      bool
}

func readWindowAttrs(n *nodeInfo) (windowAttrs, error) {
	if k := n.AttrInts("kernel_shape"); len(k) > 2 {
		return windowAttrs{}, fmt.Errorf("%d-D windows are not implemented, only 1-D and 2-D", len(k))
	}
	return windowAttrs{
		kernel:    n.AttrInts("kernel_shape"),
		strides:   n.AttrInts("strides"),
		dilations: n.AttrInts("dilations"),
		pads:      n.AttrInts("pads"),
		autoPad:   n.AttrString("auto_pad", "NOTSET"),
		ceil:      n.AttrInt("ceil_mode", 0) != 0,
	}, nil
}

// geometry resolves the window for an input of shape [N, C, spatial...] and
// a kernel of the given spatial size.
func (a windowAttrs) geometry(in []int, kernel []int) (window, error) {
	sp := len(in) - 2
	if sp != 1 && sp != 2 {
		return window{}, unsupported("%d-D windows (input shape %v); only 1-D and 2-D are implemented", sp, in)
	}
	if len(kernel) != sp {
		return window{}, fmt.Errorf("kernel %v does not match input %v", kernel, in)
	}
	get := func(v []int64, i int, def int) (int, error) {
		if v == nil {
			return def, nil
		}
		if len(v) != sp && len(v) != 2*sp {
			return 0, fmt.Errorf("attribute %v has the wrong length for %d spatial axes", v, sp)
		}
		return int(v[i]), nil
	}
	var g window
	dims := func(i int) (size, k, s, d, pb, pe int, err error) {
		size, k = in[2+i], kernel[i]
		if s, err = get(a.strides, i, 1); err != nil {
			return
		}
		if d, err = get(a.dilations, i, 1); err != nil {
			return
		}
		if a.pads != nil {
			if len(a.pads) != 2*sp {
				err = fmt.Errorf("pads %v must have %d entries", a.pads, 2*sp)
				return
			}
			pb, pe = int(a.pads[i]), int(a.pads[i+sp])
		}
		if s <= 0 || d <= 0 || k <= 0 {
			err = fmt.Errorf("kernel %d, stride %d and dilation %d must be positive", k, s, d)
			return
		}
		ext := (k-1)*d + 1
		switch a.autoPad {
		case "NOTSET", "":
		case "VALID":
			pb, pe = 0, 0
		case "SAME_UPPER", "SAME_LOWER":
			out := (size + s - 1) / s
			total := max(0, (out-1)*s+ext-size)
			pb, pe = total/2, total-total/2
			if a.autoPad == "SAME_LOWER" {
				pb, pe = pe, pb
			}
		default:
			err = fmt.Errorf("auto_pad %q is not supported", a.autoPad)
		}
		return
	}
	out := func(size, k, s, d, pb, pe int) int {
		ext := (k-1)*d + 1
		span := size + pb + pe - ext
		if span < 0 {
			return 0
		}
		if a.ceil {
			o := (span+s-1)/s + 1
			// The last window must start inside the input or its leading padding.
			if (o-1)*s >= size+pb {
				o--
			}
			return o
		}
		return span/s + 1
	}
	if sp == 1 {
		size, k, s, d, pb, pe, err := dims(0)
		if err != nil {
			return g, err
		}
		g = window{h: 1, w: size, kh: 1, kw: k, sh: 1, sw: s, dh: 1, dw: d, pl: pb, pr: pe, oh: 1, oneD: true}
		g.ow = out(size, k, s, d, pb, pe)
	} else {
		h, kh, sh, dh, pt, pb, err := dims(0)
		if err != nil {
			return g, err
		}
		w, kw, sw, dw, pl, pr, err := dims(1)
		if err != nil {
			return g, err
		}
		g = window{h: h, w: w, kh: kh, kw: kw, sh: sh, sw: sw, dh: dh, dw: dw, pt: pt, pl: pl, pb: pb, pr: pr}
		g.oh, g.ow = out(h, kh, sh, dh, pt, pb), out(w, kw, sw, dw, pl, pr)
	}
	g.ceil = a.ceil
	if g.oh <= 0 || g.ow <= 0 {
		return g, fmt.Errorf("window of %v over input %v leaves no output", kernel, in)
	}
	return g, nil
}

// outShape returns the output shape [N, C, spatial...].
func (g window) outShape(n, c int) []int {
	if g.oneD {
		return []int{n, c, g.ow}
	}
	return []int{n, c, g.oh, g.ow}
}

// spatial returns the kernel's spatial dimensions from a weight shape [M, C/g, k...].
func spatial(s []int) []int { return s[2:] }

// inside reports whether every window lies within the input: no padding is
// read and no window is cut short.
func (g window) inside() bool {
	return g.pt == 0 && g.pl == 0 &&
		(g.oh-1)*g.sh+(g.kh-1)*g.dh < g.h && (g.ow-1)*g.sw+(g.kw-1)*g.dw < g.w
}

// offsets lists a window's elements as offsets from its top-left corner
// within a plane, row by row.
func (g window) offsets() []int {
	rel := make([]int, 0, g.kh*g.kw)
	for i := 0; i < g.kh; i++ {
		for j := 0; j < g.kw; j++ {
			rel = append(rel, i*g.dh*g.w+j*g.dw)
		}
	}
	return rel
}
