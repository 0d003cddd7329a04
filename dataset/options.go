package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Options controls how Open and OpenArrays turn stored values into float32
// features and which labels they accept. The zero value is the default
// described on each field.
type Options struct {
	// NoScale keeps uint8 features at their stored values 0..255. By default
	// they are divided by 255 in float32 arithmetic, as torchvision's ToTensor
	// does, so they lie in [0, 1]. Float features are never scaled.
	NoScale bool

	// Normalize, when not nil, maps every feature v (after any uint8 scaling)
	// to (v − Mean)/Std in float32 arithmetic, as torchvision's Normalize does.
	// The CLI flag --normalize mean,std maps to it through ParseNormalize.
	Normalize *Normalization

	// NumClasses, when positive, declares the number of classes: every label
	// must lie in [0, NumClasses) and NumClasses(src) returns it. When 0 the
	// count is the largest label + 1 and labels need only be ≥ 0.
	NumClasses int

	// LabelColumn names the label column of a CSV file. "" means the column
	// named "label" when the header has one, otherwise the last column.
	// NoLabelColumn reads a CSV file without labels.
	LabelColumn string

	// ScanAtOpen checks streamed floating-point features for NaN and ±Inf
	// while opening, in one sequential pass over the file, so that a bad file
	// fails before any work starts. By default streamed features are checked
	// as they are read: every Read checks the samples it returns. Data sets
	// held in memory are always checked completely at open.
	ScanAtOpen bool

	// MaxBytes bounds the memory that the contents of one file may take
	// once read: a deflated .npz member decompressed, an idx file's data
	// (gunzipped), a CSV file's features as float32 and labels as int64,
	// any file's labels as int64, and the samples of a forget .npz. Input
	// that would take more is a *LimitError (wrapping ErrTooLarge), returned
	// before the memory is taken, so a hostile or corrupt header cannot
	// exhaust memory. 0 means DefaultMaxBytes. Streamed .npy data (and
	// uncompressed .npz members) are read on demand and not bounded by it.
	MaxBytes int64
}

// DefaultMaxBytes is the default Options.MaxBytes: 4 GiB, about 20 times
// MNIST's training set as float32.
const DefaultMaxBytes int64 = 4 << 30

// maxBytes is the effective Options.MaxBytes.
func (o *Options) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// NoLabelColumn as Options.LabelColumn reads a CSV file without labels.
const NoLabelColumn = "-"

// Normalization is an affine map of features, v ↦ (v − Mean)/Std.
type Normalization struct {
	Mean, Std float64
}

// ParseNormalize parses "mean,std" (e.g. "0.1307,0.3081", the MNIST values)
// as given to the CLI flag --normalize. Both must be finite and Std > 0.
func ParseNormalize(s string) (*Normalization, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return nil, fmt.Errorf("dataset: normalization %q: want two numbers \"mean,std\"", s)
	}
	var v [2]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, fmt.Errorf("dataset: normalization %q: %w", s, err)
		}
		v[i] = f
	}
	n := &Normalization{Mean: v[0], Std: v[1]}
	if err := n.validate(); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Normalization) validate() error {
	if math.IsNaN(n.Mean) || math.IsInf(n.Mean, 0) || !(n.Std > 0) || math.IsInf(n.Std, 0) ||
		math.IsInf(float64(float32(n.Mean)), 0) || float32(n.Std) == 0 || math.IsInf(float64(float32(n.Std)), 0) {
		return fmt.Errorf("dataset: normalization mean %g, std %g: want a finite mean and a finite std > 0 (in float32)", n.Mean, n.Std)
	}
	return nil
}

func (o *Options) validate() error {
	if o.NumClasses < 0 {
		return fmt.Errorf("dataset: Options.NumClasses is %d; want ≥ 0 (0: max label + 1)", o.NumClasses)
	}
	if o.MaxBytes < 0 {
		return fmt.Errorf("dataset: Options.MaxBytes is %d; want ≥ 0 (0: DefaultMaxBytes)", o.MaxBytes)
	}
	if o.Normalize != nil {
		return o.Normalize.validate()
	}
	return nil
}

// transform is the per-feature conversion that Options describe, ready to apply.
type transform struct {
	u8   *[256]float32 // uint8 value → feature before normalisation
	norm bool          // apply (v − mean)/std
	mean float32
	std  float32
}

var (
	scaledU8 = func() *[256]float32 {
		var t [256]float32
		for i := range t {
			t[i] = float32(i) / float32(255) // float32 division, as torch's x.float().div(255)
		}
		return &t
	}()
	rawU8 = func() *[256]float32 {
		var t [256]float32
		for i := range t {
			t[i] = float32(i)
		}
		return &t
	}()
)

func (o *Options) transform() transform {
	t := transform{u8: scaledU8}
	if o.NoScale {
		t.u8 = rawU8
	}
	if o.Normalize != nil {
		t.norm = true
		t.mean, t.std = float32(o.Normalize.Mean), float32(o.Normalize.Std)
	}
	return t
}

// apply normalises x in place. It returns the position of the first
// feature that normalisation makes NaN or ±Inf (a finite value far from a
// tiny std's mean overflows float32), or -1, and that feature's value
// before normalisation.
func (t *transform) apply(x []float32) (bad int, before float32) {
	bad = -1
	if !t.norm {
		return bad, 0
	}
	m, s := t.mean, t.std
	for i, v := range x {
		r := (v - m) / s
		x[i] = r
		if bad < 0 && !finite32(r) {
			bad, before = i, v
		}
	}
	return bad, before
}

// nonFinite reports the feature element of sample that normalisation made
// non-finite (apply's result): the value it had and what it became.
func (t *transform) nonFinite(file string, sample, element int, before float32) *NonFiniteError {
	return &NonFiniteError{File: file, Sample: sample, Element: element, Value: float64(before),
		Normalized: &Normalization{Mean: float64(t.mean), Std: float64(t.std)}}
}
