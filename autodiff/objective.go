package autodiff

import (
	"context"
	"fmt"
)

// Objective binds a Program to labelled samples as the regularised loss
//
//	L(w, S) + (μ/2)·‖w‖²
//
// with S the samples Index of Data (all of them when Index is nil). It
// implements unlearn.Objective: Eval and HVP take the parameters explicitly
// and load them into the Program only when they differ from those in use.
// Eval and HVP are safe for concurrent use (calls with different parameters
// take turns), also across Objectives that share a Program; calling the
// Program's SetParams directly meanwhile is not. Like the Program's methods,
// they check ctx before every batch of samples and return ctx.Err() once it
// is done.
type Objective struct {
	Program *Program
	Data    Data
	Index   []int
	L2      float64 // μ
	Options EvalOptions
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
func (o *Objective) Eval(ctx context.Context, w []float64, idx []int, grad []float64) (float64, error) {
	s, err := o.samples(idx)
	if err != nil {
		return 0, err
	}
	var loss float64
	err = o.Program.withParams(w, func() (err error) {
		if grad == nil {
			loss, err = o.Program.Loss(ctx, o.Data, s, o.Options)
		} else {
			loss, err = o.Program.Gradient(ctx, o.Data, s, o.Options, grad)
		}
		return err
	})
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
func (o *Objective) HVP(ctx context.Context, w []float64, idx []int, v, dst []float64) error {
	s, err := o.samples(idx)
	if err != nil {
		return err
	}
	err = o.Program.withParams(w, func() error {
		_, err := o.Program.HVP(ctx, o.Data, s, o.Options, v, dst, nil)
		return err
	})
	if err != nil {
		return err
	}
	if o.L2 != 0 {
		for i, x := range v {
			dst[i] += o.L2 * x
		}
	}
	return nil
}
