package lethe

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
)

// Data names a labelled data set (DESIGN.md §5, "Data"). Give exactly one
// of Path, X with Y, or Source. The zero value names no data.
//
// Data that lethe opens is checked before any computation: every feature
// must be finite (one sequential pass over a streamed file), and where the
// loss needs it every label must be a class of the model's output. Such
// faults are *InputError values naming the file and the sample.
type Data struct {
	// Path is a data set as dataset.Open reads it: an .npz with arrays x
	// (features [N, ...]) and y (integer labels [N]); mnist:train,
	// mnist:test, fashion-mnist:train or fashion-mnist:test; an idx images
	// file; a CSV file.
	Path string
	// X and Y are the features and the integer labels as separate .npy
	// files.
	X, Y string
	// Source is a data set that is already open, e.g. dataset.FromArrays
	// over samples in memory. lethe reads it (concurrently, as
	// dataset.Source allows) and never closes it; its features are not
	// scanned again.
	Source dataset.Source
	// Normalize, when not nil, maps every feature v (after uint8 scaling)
	// to (v − Mean)/Std as the data are opened. It does not apply to Source.
	Normalize *dataset.Normalization
	// MaxBytes bounds the memory one data file (and the forget samples
	// matched against it) may take once read: dataset.Options.MaxBytes.
	// 0 means dataset.DefaultMaxBytes (4 GiB); a file over it is an
	// *InputError wrapping dataset.ErrTooLarge, returned before the memory
	// is taken. It does not apply to Source.
	MaxBytes int64
}

// IsZero reports whether d names no data.
func (d Data) IsZero() bool { return d.Path == "" && d.X == "" && d.Y == "" && d.Source == nil }

// String is how messages name the data: Path, else X, else "the data".
func (d Data) String() string {
	switch {
	case d.Path != "":
		return d.Path
	case d.X != "":
		return d.X
	}
	return "the data"
}

// files lists the files d reads, for the check that no output overwrites
// an input.
func (d Data) files() []string { return []string{d.Path, d.X, d.Y} }

// validate checks that d names exactly one data set; field names d in the
// request.
func (d Data) validate(field string) error {
	switch {
	case d.IsZero():
		return badField(field, "no data given: set Path, X with Y, or Source")
	case d.Source != nil && (d.Path != "" || d.X != "" || d.Y != ""):
		return badField(field, "give Source or files, not both")
	case d.Path != "" && (d.X != "" || d.Y != ""):
		return badField(field, "give Path or X with Y, not both")
	case d.X != "" && d.Y == "":
		return badField(field+".Y", "X %s needs Y with the labels", d.X)
	case d.X == "" && d.Y != "":
		return badField(field+".X", "Y %s needs X with the features", d.Y)
	case d.MaxBytes < 0:
		return badField(field+".MaxBytes", "%d: want > 0 (or 0 for the default, %d)", d.MaxBytes, dataset.DefaultMaxBytes)
	}
	return nil
}

// open opens d (or returns its Source) with its features checked, and a
// function that closes what open opened.
func (d Data) open(field string) (dataset.Source, func(), error) {
	if err := d.validate(field); err != nil {
		return nil, nil, err
	}
	if d.Source != nil {
		return d.Source, func() {}, nil
	}
	opts := dataset.Options{Normalize: d.Normalize, ScanAtOpen: true, MaxBytes: d.MaxBytes}
	var src dataset.Source
	var err error
	if d.Path != "" {
		src, err = dataset.Open(d.Path, opts)
		field += ".Path"
	} else {
		src, err = dataset.OpenArrays(d.X, d.Y, opts)
		field += ".X"
	}
	if errors.Is(err, dataset.ErrTooLarge) {
		field = strings.TrimSuffix(strings.TrimSuffix(field, ".Path"), ".X") + ".MaxBytes" // the field that raises the limit
	}
	if err != nil {
		return nil, nil, badInput(field, err)
	}
	return src, func() { dataset.Close(src) }, nil
}

// fitData reshapes a data set, named name in messages, to the single data
// input of the model at modelPath.
func fitData(m *onnxio.Model, modelPath string, src dataset.Source, name string) (dataset.Source, error) {
	ins := m.Graph().DataInputs()
	if len(ins) != 1 {
		return nil, badField("Model", "%s: the model has %d inputs; lethe feeds exactly one", modelPath, len(ins))
	}
	dims, err := sampleDims(ins[0], src.SampleShape())
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("%s does not fit %s: %w", name, modelPath, err)}
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		shape[i] = int(d)
	}
	out, err := dataset.Reshape(src, shape)
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("%s does not fit %s: %w", name, modelPath, err)}
	}
	return out, nil
}

// sampleDims returns the dims one sample is fed with: the input's own dims
// (after the batch axis) when they are all fixed and hold as many values as
// a sample, otherwise the sample's shape when it agrees with every fixed
// one.
func sampleDims(in onnxio.ValueInfo, sample []int) ([]int64, error) {
	out := make([]int64, len(sample))
	n := int64(1)
	for i, d := range sample {
		out[i] = int64(d)
		n *= int64(d)
	}
	if !in.HasShape || len(in.Shape) == 0 {
		return out, nil
	}
	model := in.Shape[1:]
	fixed := make([]int64, 0, len(model))
	want := int64(1)
	for _, d := range model {
		if d.Param != "" || d.Value < 0 {
			break
		}
		fixed = append(fixed, d.Value)
		want *= d.Value
	}
	if len(fixed) == len(model) {
		if want != n {
			return nil, fmt.Errorf("samples of shape %v have %d values; input %q takes %v (%d values)", sample, n, in.Name, fixed, want)
		}
		return fixed, nil
	}
	if len(model) != len(sample) {
		return nil, fmt.Errorf("samples of shape %v do not fit input %q of rank %d", sample, in.Name, len(in.Shape))
	}
	for i, d := range model {
		if d.Param == "" && d.Value >= 0 && d.Value != out[i] {
			return nil, fmt.Errorf("samples of shape %v do not fit input %q: dimension %d is %d, want %d", sample, in.Name, i+1, out[i], d.Value)
		}
	}
	return out, nil
}

// requireLabels refuses a data set without labels: the loss needs them.
func requireLabels(src dataset.Source, name, field string) error {
	if !dataset.HasLabels(src) {
		return badField(field, "%s has no labels; the loss needs labelled data (an .npz with x and y, or X with Y)", name)
	}
	return nil
}

// checkLabels checks that every label of src (named name) is one of the
// model's classes outputs, reading the labels only when the class count
// the data set reports exceeds it.
func checkLabels(src dataset.Source, name, field string, classes int) error {
	if !dataset.HasLabels(src) {
		return nil
	}
	k, err := dataset.NumClasses(src)
	if err != nil {
		return badInput(field, err)
	}
	if k <= classes {
		return nil
	}
	bad := errors.New("found")
	var at int
	var label int64
	err = dataset.ForEachBatch(src, dataset.Batches(src.Len(), 4096, nil), func(idx []int, _ []float32, y []int64) error {
		for i, v := range y {
			if v < 0 || v >= int64(classes) {
				at, label = idx[i], v
				return bad
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, bad):
		return badField(field, "%s: sample %d has label %d, outside the model's %d outputs", name, at, label, classes)
	case err != nil:
		return badInput(field, err)
	}
	return nil
}

// checked marks the errors of reading a data set, so that a file found bad
// while it is streamed (a truncated member, say) is reported as bad input
// rather than as a failed computation. It is for the engine's computations
// only: dataset functions such as ParseForget take the source itself.
type checked struct{ dataset.Source }

func (d checked) Read(idx []int, x []float32, y []int64) error {
	if err := d.Source.Read(idx, x, y); err != nil {
		return &readError{err}
	}
	return nil
}

// HasLabels reports whether the data set has labels.
func (d checked) HasLabels() bool { return dataset.HasLabels(d.Source) }

// Rows lets the engine read in-memory samples in place (dataset.Rows).
func (d checked) Rows(first, n int) ([]float32, []int64, bool) {
	return dataset.Rows(d.Source, first, n)
}

// readError is a failure to read the data set.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }
