package lethe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
)

// workspace is a model compiled for the engine with its data, shaped to fit.
type workspace struct {
	path  string
	model *onnxio.Model
	prog  *autodiff.Program
	data  dataset.Source // fitted to the model's input; nil without data
	name  string         // how messages name the data
	close func()
}

// openModel loads the model at path, after checking that no output is one
// of its files.
func openModel(path string, outputs ...string) (*onnxio.Model, error) {
	m, err := onnxio.Load(path)
	if err != nil {
		return nil, classify("Model", err)
	}
	for _, out := range outputs {
		if err := CheckOutput(out, m.Files()...); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// compileModel compiles m (at path) for the engine. A model without
// trainable parameters is bad input.
func compileModel(m *onnxio.Model, path string, eng Engine) (*autodiff.Program, error) {
	prog, err := autodiff.Compile(m, autodiff.Options{Precision: eng.Precision, Freeze: eng.Freeze})
	if err != nil {
		return nil, badInput("Model", fmt.Errorf("%s: %w", path, err))
	}
	if prog.Dim() == 0 {
		return nil, badField("Engine.Freeze", "%s: no trainable parameters (check Freeze)", path)
	}
	return prog, nil
}

// loadModel loads and compiles the model at path, after checking that no
// output is one of its files.
func loadModel(path string, eng Engine, outputs ...string) (*onnxio.Model, *autodiff.Program, error) {
	m, err := openModel(path, outputs...)
	if err != nil {
		return nil, nil, err
	}
	prog, err := compileModel(m, path, eng)
	if err != nil {
		return nil, nil, err
	}
	return m, prog, nil
}

// load loads the model and opens the data (field names it in the request),
// reshaped to the model's input.
func load(path string, eng Engine, data Data, field string, outputs ...string) (*workspace, error) {
	m, prog, err := loadModel(path, eng, outputs...)
	if err != nil {
		return nil, err
	}
	return withData(m, prog, path, data, field)
}

// withData opens the data for the loaded model m (at path; prog is nil when
// the model is not compiled as a whole), reshaped to its input.
func withData(m *onnxio.Model, prog *autodiff.Program, path string, data Data, field string) (*workspace, error) {
	src, closeSrc, err := data.open(field)
	if err != nil {
		return nil, err
	}
	fit, err := fitData(m, path, src, data.String())
	if err != nil {
		closeSrc()
		return nil, err
	}
	return &workspace{path: path, model: m, prog: prog, data: fit, name: data.String(), close: closeSrc}, nil
}

// openTraining loads the model and its training data for training on the
// retained samples (Retrain, Baseline): the objective resolved from the
// model's metadata, the data checked for the loss, the forget set read.
// The caller closes the workspace.
func openTraining(model string, eng Engine, data Data, o Objective, forget Subset, outputs ...string) (*workspace, objective, *dataset.ForgetSet, error) {
	ws, err := load(model, eng, data, "Data", outputs...)
	if err != nil {
		return nil, objective{}, nil, err
	}
	obj, err := o.resolve(ws.model, model)
	if err == nil {
		err = ws.checkData("Data", obj.loss)
	}
	var f *dataset.ForgetSet
	if err == nil {
		f, err = forget.resolve("Forget", ws.data)
	}
	if err != nil {
		ws.close()
		return nil, obj, nil, err
	}
	return ws, obj, f, nil
}

// params returns the model's trainable parameters w*.
func (ws *workspace) params() ([]float64, error) {
	w, err := ws.model.ParamVector(ws.prog.Params())
	if err != nil {
		return nil, badInput("Model", err)
	}
	return w, nil
}

// checkData refuses data the loss cannot use: data without labels, or
// (for cross-entropy, and for any loss on an output wider than one column,
// whose targets are one-hot) labels that are not classes of the model's
// output.
func (ws *workspace) checkData(field string, loss autodiff.Loss) error {
	if err := requireLabels(ws.data, ws.name, field); err != nil {
		return err
	}
	width, err := outputWidth(ws.prog, ws.data)
	if err != nil {
		return err
	}
	if loss != autodiff.CrossEntropy && width == 1 {
		return nil
	}
	return checkLabels(ws.data, ws.name, field, width)
}

// outputWidth returns the width of the program's first output per sample,
// from a forward pass on one sample of data.
func outputWidth(prog *autodiff.Program, data dataset.Source) (int, error) {
	if data.Len() == 0 {
		return 0, &InputError{Err: errors.New("the data have no samples")}
	}
	x := make([]float32, numel(data.SampleShape()))
	if err := data.Read([]int{0}, x, nil); err != nil {
		return 0, &InputError{Err: err}
	}
	_, shape, err := prog.Forward(x, data.SampleShape(), 1)
	if err != nil {
		return 0, classify("Model", err)
	}
	return numel(shape[1:]), nil
}

func numel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// CheckOutput returns an *InputError (field "Out") when out names one of
// the inputs (the same path, or the same file through a link), so that
// nothing lethe writes ever replaces what it reads, when out's folder
// does not exist, or when out is a folder. Every function that writes checks its outputs with it
// before any work, and writes atomically (a temporary file renamed into
// place), so an output appears complete or not at all.
func CheckOutput(out string, inputs ...string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return badField("Out", "%s: %v", out, err)
	}
	outInfo, outErr := os.Stat(abs)
	for _, in := range inputs {
		if in == "" {
			continue
		}
		inAbs, err := filepath.Abs(in)
		same := err == nil && inAbs == abs
		if !same && outErr == nil {
			if inInfo, err := os.Stat(in); err == nil {
				same = os.SameFile(outInfo, inInfo)
			}
		}
		if same {
			return badField("Out", "output %s is also an input (%s); lethe never writes over its inputs", out, in)
		}
	}
	if st, err := os.Stat(filepath.Dir(abs)); err != nil || !st.IsDir() {
		return badField("Out", "output %s: folder %s does not exist", out, filepath.Dir(abs))
	}
	if outErr == nil && outInfo.IsDir() {
		return badField("Out", "output %s is a folder; give a file name", out)
	}
	return nil
}
