package autodiff

import (
	"context"
	"fmt"
	"slices"
)

// Objective binds a Program to labelled samples as the regularised loss
//
//	L(w, S) + (μ/2)·‖w‖²
//
// with S the samples Index of Data (all of them when Index is nil). It
// implements unlearn.Objective: Eval and HVP take the parameters explicitly
// and load them into the Program only when they changed since the last call.
// An Objective owns its Program's parameters while it is used; it is not safe
// for concurrent use.
type Objective struct {
	Program *Program
	Data    Data
	Index   []int
	L2      float64 // μ
	Options EvalOptions
	loaded  []float64
}

// Dim is the number of trainable parameters.
func (o *Objective) Dim() int { return o.Program.Dim() }

// Len is the number of samples in S.
func (o *Objective) Len() int {
	if o.Index != nil {
		return len(o.Index)
	}
	return o.Data.Len()
}

// load makes w the program's parameters.
func (o *Objective) load(w []float64) error {
	if len(w) != o.Program.Dim() {
		return fmt.Errorf("autodiff: %d parameters for a model with %d", len(w), o.Program.Dim())
	}
	if slices.Equal(o.loaded, w) {
		return nil
	}
	if err := o.Program.SetParams(w); err != nil {
		return err
	}
	o.loaded = append(o.loaded[:0], w...)
	return nil
}

// samples maps positions within S to positions in Data.
func (o *Objective) samples(idx []int) ([]int, error) {
	if idx == nil {
		return o.Index, nil
	}
	if o.Index == nil {
		return idx, nil
	}
	out := make([]int, len(idx))
	for i, j := range idx {
		if j < 0 || j >= len(o.Index) {
			return nil, fmt.Errorf("autodiff: sample %d outside the objective's %d samples", j, len(o.Index))
		}
		out[i] = o.Index[j]
	}
	return out, nil
}

// Eval returns L(w, S_idx) + (μ/2)‖w‖² and writes its gradient into grad when
// grad is not nil.
func (o *Objective) Eval(w []float64, idx []int, grad []float64) (float64, error) {
	if err := o.load(w); err != nil {
		return 0, err
	}
	s, err := o.samples(idx)
	if err != nil {
		return 0, err
	}
	var loss float64
	if grad == nil {
		loss, err = o.Program.Loss(context.Background(), o.Data, s, o.Options)
	} else {
		loss, err = o.Program.Gradient(context.Background(), o.Data, s, o.Options, grad)
	}
	if err != nil {
		return 0, err
	}
	if o.L2 != 0 {
		var sq float64
		for i, v := range w {
			sq += v * v
			if grad != nil {
				grad[i] += o.L2 * v
			}
		}
		loss += o.L2 / 2 * sq
	}
	return loss, nil
}

// HVP writes (∇²L(w, S_idx) + μI)·v into dst.
func (o *Objective) HVP(w []float64, idx []int, v, dst []float64) error {
	if err := o.load(w); err != nil {
		return err
	}
	s, err := o.samples(idx)
	if err != nil {
		return err
	}
	if _, err := o.Program.HVP(context.Background(), o.Data, s, o.Options, v, dst, nil); err != nil {
		return err
	}
	if o.L2 != 0 {
		for i, x := range v {
			dst[i] += o.L2 * x
		}
	}
	return nil
}
