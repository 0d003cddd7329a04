package parity

import (
	"fmt"
	"sync"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// Evaluator is lethe's side of a parity check: it computes a model's
// outputs on the probe input in the given precision (Float32 for the
// comparison, Float64 for the rounding reference). It may compute only a
// prefix of the model's outputs.
type Evaluator func(in *onnxio.Tensor, p autodiff.Precision) ([]*onnxio.Tensor, error)

// Native evaluates every output of m with lethe's engine, compiling m once
// per precision when first needed.
func Native(m *onnxio.Model) Evaluator {
	var mu sync.Mutex
	progs := map[autodiff.Precision]*autodiff.Program{}
	return func(in *onnxio.Tensor, p autodiff.Precision) ([]*onnxio.Tensor, error) {
		mu.Lock()
		prog, ok := progs[p]
		if !ok {
			var err error
			if prog, err = autodiff.Compile(m, autodiff.Options{Precision: p}); err != nil {
				mu.Unlock()
				return nil, err
			}
			progs[p] = prog
		}
		mu.Unlock()
		return prog.Run(map[string]*onnxio.Tensor{in.Name: in})
	}
}

// Split is lethe's engine on a model whose first part, the backbone, has an
// operator lethe's engine cannot run: onnxruntime computes the backbone's
// output (the feature tensor the head reads, in float32), and lethe's engine
// computes the head from it in the requested precision. backbone maps the
// model's data input to the features, head the features to the model's
// first output (see onnxio.Model.Extract). The float64 reference therefore
// measures the head's rounding only. Close releases the onnxruntime session.
type Split struct {
	session *ort.Session
	head    *onnxio.Model
	feature string

	mu    sync.Mutex
	progs map[autodiff.Precision]*autodiff.Program
}

// NewSplit opens an onnxruntime session on the backbone. It needs
// onnxruntime (ort.Init).
func NewSplit(backbone, head *onnxio.Model) (*Split, error) {
	hin := head.Graph().DataInputs()
	if len(hin) != 1 {
		return nil, fmt.Errorf("parity: the head has %d data inputs, want the one feature tensor", len(hin))
	}
	raw, err := backbone.Encode()
	if err != nil {
		return nil, fmt.Errorf("parity: %w", err)
	}
	s, err := session(func() (*ort.Session, error) { return ort.NewSessionFromBytes(raw, ort.Options{}) })
	if err != nil {
		return nil, err
	}
	return &Split{session: s, head: head, feature: hin[0].Name, progs: map[autodiff.Precision]*autodiff.Program{}}, nil
}

// Close releases the backbone's onnxruntime session.
func (s *Split) Close() error { return s.session.Close() }

// Evaluate implements Evaluator: the backbone in onnxruntime, the head in
// lethe's engine.
func (s *Split) Evaluate(in *onnxio.Tensor, p autodiff.Precision) ([]*onnxio.Tensor, error) {
	feats, err := s.session.Run([]*onnxio.Tensor{in})
	if err != nil {
		return nil, fmt.Errorf("parity: backbone in onnxruntime: %w", err)
	}
	s.mu.Lock()
	prog, ok := s.progs[p]
	if !ok {
		if prog, err = autodiff.Compile(s.head, autodiff.Options{Precision: p}); err != nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("parity: head: %w", err)
		}
		s.progs[p] = prog
	}
	s.mu.Unlock()
	f := feats[0]
	f.Name = s.feature
	out, err := prog.Run(map[string]*onnxio.Tensor{s.feature: f})
	if err != nil {
		return nil, fmt.Errorf("parity: head: %w", err)
	}
	return out[:1], nil
}
