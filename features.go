package lethe

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// features are the inputs of a model's certified affine part (its head),
// computed once for every sample by the frozen part (the backbone): the
// convex scope's Newton steps and bound run on them alone.
type features struct {
	// data are the features with the training data's labels: the training
	// data themselves when the certified part reads the model's input.
	data dataset.Source
	// tensor is the graph tensor the backbone ends at; engine and
	// precision say how it was computed (certify.Features).
	tensor, engine, precision string
	// backbone maps the model's input to tensor; nil when tensor is the
	// model's input.
	backbone *onnxio.Model
	// x and y are data's features and labels in memory when the backbone
	// computed them (nil otherwise), for solvers that read them in place.
	x []float32
	y []int64
}

// record is the certificate's "features".
func (f *features) record() *certify.Features {
	return &certify.Features{Tensor: f.tensor, Engine: f.engine, Precision: f.precision}
}

// computeFeatures evaluates the backbone of m (at modelPath) that ends at
// cut on every sample of data (fitted to m's input): with lethe's engine in
// the engine's precision, or with onnxruntime (float32) when the engine
// lacks one of the backbone's operators. The features are held in memory
// (samples × feature size float32 values) with the data's labels.
func computeFeatures(ctx context.Context, m *onnxio.Model, modelPath string, data dataset.Source, cut string, eng Engine, st *step) (*features, error) {
	ins := m.Graph().DataInputs()
	if len(ins) != 1 {
		return nil, badField("Model", "%s: the model has %d inputs; lethe feeds exactly one", modelPath, len(ins))
	}
	if cut == ins[0].Name {
		return &features{data: data, tensor: cut, engine: certify.FeaturesNative, precision: "float32"}, nil
	}
	backbone, err := m.Extract([]string{ins[0].Name}, []string{cut})
	if err != nil {
		return nil, badField("Model", "%s: the backbone that computes %s: %w", modelPath, cut, err)
	}
	f := &features{tensor: cut, backbone: backbone}
	n := data.Len()
	var x []float32
	var shape []int
	sink := func(first int, out []float32, s []int) error {
		if len(s) == 0 || s[0] == 0 {
			return fmt.Errorf("the backbone's output %s has shape %v, without a batch axis", cut, s)
		}
		per := len(out) / s[0]
		if x == nil {
			x, shape = make([]float32, n*per), slices.Clone(s[1:])
		}
		if !slices.Equal(s[1:], shape) {
			return fmt.Errorf("the backbone's output %s changed shape from %v to %v between batches", cut, shape, s[1:])
		}
		copy(x[first*per:], out)
		st.progress(first+s[0], "")
		return nil
	}
	opts := eng.evalOptions(autodiff.CrossEntropy)
	prog, err := autodiff.Compile(backbone, autodiff.Options{Precision: eng.Precision})
	var unsupported *autodiff.UnsupportedOpError
	tap := newLabelTap(data)
	switch {
	case err == nil:
		f.engine, f.precision = certify.FeaturesNative, eng.Precision.String()
		err = prog.Predict(ctx, checked{tap}, nil, opts, sink)
		if errors.Is(err, autodiff.ErrUnsupported) {
			tap = newLabelTap(data)
			x, err = nil, ortFeatures(ctx, backbone, tap, opts, sink)
			f.engine, f.precision = certify.FeaturesOnnxruntime, "float32"
		}
	case errors.As(err, &unsupported):
		st.info(fmt.Sprintf("lethe's engine cannot run the backbone (%v): onnxruntime computes the features", unsupported))
		f.engine, f.precision = certify.FeaturesOnnxruntime, "float32"
		err = ortFeatures(ctx, backbone, tap, opts, sink)
	}
	if err != nil {
		return nil, wrapf("features", classify("Data", err))
	}
	y, err := tap.labels()
	if err != nil {
		return nil, badInput("Data", err)
	}
	var nf *dataset.NonFiniteError
	f.x, f.y = x, y
	if f.data, err = dataset.FromArrays(x, shape, y); errors.As(err, &nf) {
		// Finite data, checked as they were opened, made the backbone
		// overflow: the model does not suit these data.
		return nil, badField("Data", "the backbone's output %s of %s is %g for sample %d (element %d): the certified part cannot be trained on it",
			cut, modelPath, nf.Value, nf.Sample, nf.Element)
	} else if err != nil {
		return nil, wrapf("features", err)
	}
	return f, nil
}

// ortFeatures runs the backbone in onnxruntime over data in batches and
// hands each batch's output to sink, as autodiff's Predict does.
func ortFeatures(ctx context.Context, backbone *onnxio.Model, data dataset.Source, opts autodiff.EvalOptions, sink func(int, []float32, []int) error) error {
	if err := ort.Init(); err != nil {
		return fmt.Errorf("the backbone needs onnxruntime: %w", err)
	}
	raw, err := backbone.Encode()
	if err != nil {
		return err
	}
	s, err := ort.NewSessionFromBytes(raw, ort.Options{IntraOpThreads: opts.Threads})
	if err != nil {
		return fmt.Errorf("onnxruntime cannot run the backbone: %w", err)
	}
	defer s.Close()
	name := backbone.Graph().DataInputs()[0].Name
	sample := toInt64(data.SampleShape())
	batches := dataset.Batches(data.Len(), opts.BatchSize, nil)
	return dataset.ForEachBatch(checked{data}, batches, func(idx []int, x []float32, _ []int64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		in := &onnxio.Tensor{Name: name, Type: onnxio.Float, Dims: append([]int64{int64(len(idx))}, sample...), Float32: x}
		out, err := s.Run([]*onnxio.Tensor{in})
		if err != nil {
			return fmt.Errorf("onnxruntime: %w", err)
		}
		if out[0].Type != onnxio.Float {
			return fmt.Errorf("the backbone's output is %s, not float32", out[0].Type)
		}
		shape := make([]int, len(out[0].Dims))
		for i, d := range out[0].Dims {
			shape[i] = int(d)
		}
		return sink(idx[0], out[0].Float32, shape)
	})
}
