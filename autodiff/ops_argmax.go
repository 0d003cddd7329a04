package autodiff

import "fmt"

// ArgMax and ArgMin return integer indices and end differentiation.
func init() {
	for _, op := range []string{"ArgMax", "ArgMin"} {
		isMax := op == "ArgMax"
		registerConst(op, func(n *nodeInfo) (func(*ctx[float32], []*value[float32]) ([]*value[float32], error), func(*ctx[float64], []*value[float64]) ([]*value[float64], error), error) {
			a := argAttrs{
				axis: int(n.AttrInt("axis", 0)), keep: n.AttrInt("keepdims", 1) != 0,
				last: n.AttrInt("select_last_index", 0) != 0, max: isMax,
			}
			return argOp[float32](a), argOp[float64](a), nil
		})
	}
}

type argAttrs struct {
	axis       int
	keep, last bool
	max        bool
}

func argOp[T Float](a argAttrs) func(*ctx[T], []*value[T]) ([]*value[T], error) {
	return func(c *ctx[T], in []*value[T]) ([]*value[T], error) {
		x := in[0]
		s := x.shape()
		ax, err := normAxis(a.axis, len(s))
		if err != nil {
			return nil, err
		}
		get := func(i int) float64 { return scalarAt(x, i) }
		outer, inner := numel(s[:ax]), numel(s[ax+1:])
		d := s[ax]
		if d == 0 {
			return nil, fmt.Errorf("cannot reduce an empty axis")
		}
		var out []int
		for i, v := range s {
			if i != ax {
				out = append(out, v)
			} else if a.keep {
				out = append(out, 1)
			}
		}
		if out == nil {
			out = []int{}
		}
		t := &Tensor[int64]{Shape: out, Data: make([]int64, outer*inner)}
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				best, arg := get(o*d*inner+i), 0
				for j := 1; j < d; j++ {
					v := get((o*d+j)*inner + i)
					better := (a.max && v > best) || (!a.max && v < best)
					if better || (a.last && v == best) {
						best, arg = v, j
					}
				}
				t.Data[o*inner+i] = int64(arg)
			}
		}
		return []*value[T]{intVal[T](t)}, nil
	}
}
