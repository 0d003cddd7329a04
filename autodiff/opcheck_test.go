package autodiff

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lethe-ml/lethe/onnxio"
)

// opCase is one operator check: a node, its inputs (float inputs listed in
// diff are differentiated), and the opset.
type opCase struct {
	name   string
	op     string
	attrs  map[string]onnxio.Attribute
	opset  int64
	inputs []*value[float64] // nil entries are omitted optional inputs
	diff   []int             // differentiable inputs
	nout   int               // outputs to check (default 1)
	relu   bool              // Conv only: with a Relu fused in (fuse.go)
}

func ints(v ...int64) onnxio.Attribute { return onnxio.Attribute{Type: onnxio.AttrTypeInts, Ints: v} }
func intAttr(v int64) onnxio.Attribute { return onnxio.Attribute{Type: onnxio.AttrTypeInt, I: v} }
func floatAttr(v float32) onnxio.Attribute {
	return onnxio.Attribute{Type: onnxio.AttrTypeFloat, F: v}
}
func strAttr(v string) onnxio.Attribute {
	return onnxio.Attribute{Type: onnxio.AttrTypeString, S: []byte(v)}
}

// randT returns a float tensor with entries uniform in ±scale, kept at least
// margin away from 0 so that kinks at 0 (Relu, Abs, …) are not within a
// finite-difference step.
func randT(rng *rand.Rand, margin float64, shape ...int) *value[float64] {
	t := &Tensor[float64]{Shape: shape, Data: make([]float64, numel(shape))}
	for i := range t.Data {
		v := rng.Float64()*2 - 1
		if math.Abs(v) < margin {
			v = math.Copysign(margin+rng.Float64()*0.1, v)
		}
		t.Data[i] = v
	}
	return floatVal(t, nil)
}

func positive(rng *rand.Rand, shape ...int) *value[float64] {
	v := randT(rng, 0, shape...)
	for i, x := range v.f.Data {
		v.f.Data[i] = 0.5 + math.Abs(x)
	}
	return v
}

func intT(shape []int, data ...int64) *value[float64] {
	return intVal[float64](&Tensor[int64]{Shape: shape, Data: data})
}

// opHarness runs one kernel outside a graph.
type opHarness struct {
	k   kernel[float64]
	r   *run[float64]
	out int
}

func newHarness(t *testing.T, c opCase) *opHarness {
	t.Helper()
	b, ok := registry[c.op]
	if !ok {
		t.Fatalf("op %s not registered", c.op)
	}
	n := &onnxio.Node{Name: c.name, OpType: c.op, Attrs: c.attrs}
	for i := range c.inputs {
		n.Inputs = append(n.Inputs, fmt.Sprint("in", i))
	}
	nout := max(c.nout, 1)
	for i := 0; i < nout; i++ {
		n.Outputs = append(n.Outputs, fmt.Sprint("out", i))
	}
	opset := c.opset
	if opset == 0 {
		opset = 17
	}
	ks, err := b(&nodeInfo{Node: n, opset: opset, constant: func(int) *onnxio.Tensor { return nil }})
	if err != nil {
		t.Fatalf("%s: build: %v", c.name, err)
	}
	if c.relu {
		ks.k64.(*convKernel[float64]).relu = true
	}
	return &opHarness{k: ks.k64, r: &run[float64]{state: make([]any, 1), wantGrad: true, withBackward: true}, out: nout}
}

// eval runs forward (with tangents v on the diff inputs when v != nil).
func (h *opHarness) eval(t *testing.T, in []*value[float64], v [][]float64, diff []int) []*value[float64] {
	t.Helper()
	h.r.tangent = v != nil
	args := make([]*value[float64], len(in))
	copy(args, in)
	for j, i := range diff {
		if v != nil {
			args[i] = floatVal(in[i].f, &Tensor[float64]{Shape: in[i].f.Shape, Data: v[j]})
		}
	}
	out, err := h.k.forward(&ctx[float64]{r: h.r}, args)
	if err != nil {
		t.Fatalf("forward: %v", err)
	}
	return out[:h.out]
}

// perturbed returns the inputs with x_i + s·v_i on the diff inputs.
func perturbed(in []*value[float64], v [][]float64, diff []int, s float64) []*value[float64] {
	p := make([]*value[float64], len(in))
	copy(p, in)
	for j, i := range diff {
		d := make([]float64, len(in[i].f.Data))
		for k, x := range in[i].f.Data {
			d[k] = x + s*v[j][k]
		}
		p[i] = floatVal(&Tensor[float64]{Shape: in[i].f.Shape, Data: d}, nil)
	}
	return p
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// backwardAt runs forward then backward with output adjoints u (tangents w,
// and input tangents v, in tangent mode) and returns the diff inputs' adjoints
// and, in tangent mode, their tangents.
func (h *opHarness) backwardAt(t *testing.T, in []*value[float64], v [][]float64, u, w [][]float64, diff []int) ([][]float64, [][]float64) {
	t.Helper()
	out := h.eval(t, in, v, diff)
	args := make([]*value[float64], len(in))
	copy(args, in)
	for j, i := range diff {
		if v != nil {
			args[i] = floatVal(in[i].f, &Tensor[float64]{Shape: in[i].f.Shape, Data: v[j]})
		}
	}
	gout := make([]*value[float64], len(out))
	for k, o := range out {
		g := floatVal(&Tensor[float64]{Shape: o.f.Shape, Data: u[k]}, nil)
		if w != nil {
			g.dot = &Tensor[float64]{Shape: o.f.Shape, Data: w[k]}
		}
		gout[k] = g
	}
	need := make([]bool, len(in))
	for _, i := range diff {
		need[i] = true
	}
	full := make([]*value[float64], len(out))
	copy(full, out)
	gin, err := h.k.backward(&ctx[float64]{r: h.r}, args, full, gout, need)
	if err != nil {
		t.Fatalf("backward: %v", err)
	}
	adj := make([][]float64, len(diff))
	tan := make([][]float64, len(diff))
	for j, i := range diff {
		adj[j] = make([]float64, len(in[i].f.Data))
		tan[j] = make([]float64, len(in[i].f.Data))
		if i < len(gin) && gin[i] != nil {
			copy(adj[j], gin[i].f.Data)
			if gin[i].dot != nil {
				copy(tan[j], gin[i].dot.Data)
			}
		}
	}
	return adj, tan
}

func flat(vs [][]float64) []float64 {
	var out []float64
	for _, v := range vs {
		out = append(out, v...)
	}
	return out
}

func dotf(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// checkOp verifies, in float64, for random directions:
//  1. the tangent rule against central finite differences of the forward;
//  2. the adjoint identity ⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩ between tangent and VJP;
//  3. the tangent of the VJP (what makes HVPs exact) against central finite
//     differences of the VJP along (v, w).
//
// The tolerance 1e-6 (relative, norm-wise) is the issue's: a central
// difference with h = 1e-5 has truncation error O(h²·f”') ≈ 1e-10 and
// rounding error O(ε/h) ≈ 1e-11 for these O(1) inputs.
func checkOp(t *testing.T, c opCase) {
	t.Helper()
	const h, tol = 1e-5, 1e-6
	rng := rand.New(rand.NewPCG(7, uint64(len(c.name))))
	hs := newHarness(t, c)
	v := make([][]float64, len(c.diff))
	for j, i := range c.diff {
		v[j] = randVec(rng, len(c.inputs[i].f.Data))
	}
	out := hs.eval(t, c.inputs, v, c.diff)
	plus := hs.eval(t, perturbed(c.inputs, v, c.diff, h), nil, c.diff)
	minus := hs.eval(t, perturbed(c.inputs, v, c.diff, -h), nil, c.diff)
	u := make([][]float64, len(out))
	w := make([][]float64, len(out))
	var jvp, fd, us []float64
	for k, o := range out {
		u[k] = randVec(rng, len(o.f.Data))
		w[k] = randVec(rng, len(o.f.Data))
		d := make([]float64, len(o.f.Data))
		if o.dot != nil {
			copy(d, o.dot.Data)
		}
		for i := range d {
			fd = append(fd, (plus[k].f.Data[i]-minus[k].f.Data[i])/(2*h))
		}
		jvp = append(jvp, d...)
		us = append(us, u[k]...)
	}
	if e := relErr(jvp, fd); e > tol {
		t.Errorf("%s: tangent vs finite differences: relative error %.3g", c.name, e)
	}
	adj, _ := hs.backwardAt(t, c.inputs, nil, u, nil, c.diff)
	lhs, rhs := dotf(us, jvp), dotf(flat(adj), flat(v))
	if e := math.Abs(lhs-rhs) / max(math.Abs(lhs), 1e-12); e > 1e-10 {
		t.Errorf("%s: ⟨u, Jv⟩ = %.12g but ⟨Jᵀu, v⟩ = %.12g", c.name, lhs, rhs)
	}
	_, tan := hs.backwardAt(t, c.inputs, v, u, w, c.diff)
	up, um := make([][]float64, len(u)), make([][]float64, len(u))
	for k := range u {
		up[k], um[k] = make([]float64, len(u[k])), make([]float64, len(u[k]))
		for i := range u[k] {
			up[k][i], um[k][i] = u[k][i]+h*w[k][i], u[k][i]-h*w[k][i]
		}
	}
	ap, _ := hs.backwardAt(t, perturbed(c.inputs, v, c.diff, h), nil, up, nil, c.diff)
	am, _ := hs.backwardAt(t, perturbed(c.inputs, v, c.diff, -h), nil, um, nil, c.diff)
	fa, fm := flat(ap), flat(am)
	fdt := make([]float64, len(fa))
	for i := range fa {
		fdt[i] = (fa[i] - fm[i]) / (2 * h)
	}
	if e := relErr(flat(tan), fdt); e > tol {
		t.Errorf("%s: VJP tangent vs finite differences: relative error %.3g", c.name, e)
	}
}

func TestOpRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := func(shape ...int) *value[float64] { return randT(rng, 0.05, shape...) }
	cases := []opCase{
		{name: "Add/broadcast", op: "Add", inputs: []*value[float64]{r(2, 3, 4), r(3, 1)}, diff: []int{0, 1}},
		{name: "Sub/broadcast", op: "Sub", inputs: []*value[float64]{r(4), r(2, 3, 4)}, diff: []int{0, 1}},
		{name: "Mul/broadcast", op: "Mul", inputs: []*value[float64]{r(2, 3, 4), r(2, 1, 4)}, diff: []int{0, 1}},
		{name: "Div/broadcast", op: "Div", inputs: []*value[float64]{r(2, 3), positive(rng, 3)}, diff: []int{0, 1}},
		{name: "Pow", op: "Pow", inputs: []*value[float64]{positive(rng, 2, 3), floatVal(&Tensor[float64]{Shape: []int{}, Data: []float64{2.5}}, nil)}, diff: []int{0}},
		{name: "MatMul/2D", op: "MatMul", inputs: []*value[float64]{r(3, 4), r(4, 5)}, diff: []int{0, 1}},
		{name: "MatMul/batched", op: "MatMul", inputs: []*value[float64]{r(2, 3, 4), r(2, 4, 5)}, diff: []int{0, 1}},
		{name: "MatMul/broadcast", op: "MatMul", inputs: []*value[float64]{r(2, 1, 3, 4), r(3, 4, 2)}, diff: []int{0, 1}},
		{name: "MatMul/3Dx2D", op: "MatMul", inputs: []*value[float64]{r(2, 3, 4), r(4, 5)}, diff: []int{0, 1}},
		{name: "MatMul/vec", op: "MatMul", inputs: []*value[float64]{r(4), r(2, 4, 3)}, diff: []int{0, 1}},
		{name: "MatMul/matvec", op: "MatMul", inputs: []*value[float64]{r(3, 4), r(4)}, diff: []int{0, 1}},
		{name: "Gemm", op: "Gemm", inputs: []*value[float64]{r(3, 4), r(4, 5), r(5)}, diff: []int{0, 1, 2}},
		{name: "Gemm/trans", op: "Gemm", attrs: map[string]onnxio.Attribute{"transA": intAttr(1), "transB": intAttr(1), "alpha": floatAttr(0.7), "beta": floatAttr(1.3)},
			inputs: []*value[float64]{r(4, 3), r(5, 4), r(3, 1)}, diff: []int{0, 1, 2}},
		{name: "Conv", op: "Conv", attrs: map[string]onnxio.Attribute{"pads": ints(1, 1, 1, 1)}, inputs: []*value[float64]{r(2, 2, 5, 5), r(3, 2, 3, 3), r(3)}, diff: []int{0, 1, 2}},
		{name: "Conv/strided-dilated-groups", op: "Conv", attrs: map[string]onnxio.Attribute{"pads": ints(2, 1, 0, 2), "strides": ints(2, 1), "dilations": ints(2, 1), "group": intAttr(2)},
			inputs: []*value[float64]{r(2, 4, 7, 6), r(4, 2, 2, 3)}, diff: []int{0, 1}},
		{name: "Conv+Relu", op: "Conv", relu: true, attrs: map[string]onnxio.Attribute{"pads": ints(1, 1, 1, 1)}, inputs: []*value[float64]{r(2, 2, 5, 5), r(3, 2, 3, 3), r(3)}, diff: []int{0, 1, 2}},
		// 460 output positions per sample: blocks of 4 samples and 1 (convColumns).
		{name: "Conv+Relu/strided-groups-blocks", op: "Conv", relu: true, attrs: map[string]onnxio.Attribute{"pads": ints(1, 0, 1, 1), "strides": ints(2, 1), "group": intAttr(2)},
			inputs: []*value[float64]{r(5, 4, 40, 24), r(6, 2, 3, 3), r(6)}, diff: []int{0, 1, 2}},
		// 900 output positions per sample: blocks of 2, 2 and 1 samples.
		{name: "Conv/blocks", op: "Conv", attrs: map[string]onnxio.Attribute{"pads": ints(1, 1, 1, 1)}, inputs: []*value[float64]{r(5, 2, 30, 30), r(3, 2, 3, 3), r(3)}, diff: []int{0, 1, 2}},
		{name: "Conv/1x1", op: "Conv", inputs: []*value[float64]{r(2, 3, 4, 4), r(2, 3, 1, 1)}, diff: []int{0, 1}},
		{name: "Conv/1D", op: "Conv", attrs: map[string]onnxio.Attribute{"pads": ints(1, 1)}, inputs: []*value[float64]{r(2, 2, 7), r(3, 2, 3), r(3)}, diff: []int{0, 1, 2}},
		{name: "MaxPool", op: "MaxPool", attrs: map[string]onnxio.Attribute{"kernel_shape": ints(2, 2), "strides": ints(2, 2), "pads": ints(0, 0, 1, 1)}, inputs: []*value[float64]{r(2, 3, 5, 5)}, diff: []int{0}},
		{name: "AveragePool", op: "AveragePool", attrs: map[string]onnxio.Attribute{"kernel_shape": ints(3, 3), "strides": ints(2, 2), "pads": ints(1, 1, 1, 1)}, inputs: []*value[float64]{r(2, 3, 6, 6)}, diff: []int{0}},
		{name: "AveragePool/include-pad", op: "AveragePool", attrs: map[string]onnxio.Attribute{"kernel_shape": ints(3, 3), "pads": ints(1, 1, 1, 1), "count_include_pad": intAttr(1)}, inputs: []*value[float64]{r(1, 2, 4, 4)}, diff: []int{0}},
		{name: "GlobalAveragePool", op: "GlobalAveragePool", inputs: []*value[float64]{r(2, 3, 4, 4)}, diff: []int{0}},
		{name: "MaxPool/2x2", op: "MaxPool", attrs: map[string]onnxio.Attribute{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}, inputs: []*value[float64]{r(2, 3, 6, 6)}, diff: []int{0}},
		{name: "MaxPool/2x2-stride1", op: "MaxPool", attrs: map[string]onnxio.Attribute{"kernel_shape": ints(2, 2)}, inputs: []*value[float64]{r(2, 2, 5, 5)}, diff: []int{0}},
		{name: "MaxPool/2x2-untiled", op: "MaxPool", attrs: map[string]onnxio.Attribute{"kernel_shape": ints(2, 2), "strides": ints(2, 2)}, inputs: []*value[float64]{r(2, 3, 7, 7)}, diff: []int{0}},
		{name: "MaxPool/overlapping-dilated", op: "MaxPool", attrs: map[string]onnxio.Attribute{"kernel_shape": ints(2, 2), "dilations": ints(2, 2)}, inputs: []*value[float64]{r(2, 2, 6, 6)}, diff: []int{0}},
		{name: "GlobalMaxPool", op: "GlobalMaxPool", inputs: []*value[float64]{r(2, 3, 4, 4)}, diff: []int{0}},
		{name: "BatchNormalization", op: "BatchNormalization", inputs: []*value[float64]{r(2, 3, 4), r(3), r(3), r(3), positive(rng, 3)}, diff: []int{0, 1, 2}},
		{name: "LayerNormalization", op: "LayerNormalization", inputs: []*value[float64]{r(2, 3, 5), r(5), r(5)}, diff: []int{0, 1, 2}},
		{name: "LayerNormalization/axis1", op: "LayerNormalization", attrs: map[string]onnxio.Attribute{"axis": intAttr(1)}, inputs: []*value[float64]{r(2, 3, 4), r(3, 4)}, diff: []int{0, 1}},
		{name: "Softmax", op: "Softmax", inputs: []*value[float64]{r(3, 5)}, diff: []int{0}},
		{name: "Softmax/axis1", op: "Softmax", attrs: map[string]onnxio.Attribute{"axis": intAttr(1)}, inputs: []*value[float64]{r(2, 3, 4)}, diff: []int{0}},
		{name: "Softmax/legacy", op: "Softmax", opset: 11, inputs: []*value[float64]{r(2, 3, 4)}, diff: []int{0}},
		{name: "LogSoftmax", op: "LogSoftmax", inputs: []*value[float64]{r(3, 5)}, diff: []int{0}},
		{name: "ReduceSum", op: "ReduceSum", opset: 11, attrs: map[string]onnxio.Attribute{"axes": ints(1)}, inputs: []*value[float64]{r(2, 3, 4)}, diff: []int{0}},
		{name: "ReduceMean", op: "ReduceMean", attrs: map[string]onnxio.Attribute{"axes": ints(-1), "keepdims": intAttr(0)}, inputs: []*value[float64]{r(2, 3, 4)}, diff: []int{0}},
		{name: "ReduceSumSquare", op: "ReduceSumSquare", attrs: map[string]onnxio.Attribute{"axes": ints(0, 2)}, inputs: []*value[float64]{r(2, 3, 4)}, diff: []int{0}},
		{name: "ReduceMax", op: "ReduceMax", attrs: map[string]onnxio.Attribute{"axes": ints(1)}, inputs: []*value[float64]{r(2, 3, 4)}, diff: []int{0}},
		{name: "Transpose", op: "Transpose", attrs: map[string]onnxio.Attribute{"perm": ints(2, 0, 1)}, inputs: []*value[float64]{r(2, 3, 4)}, diff: []int{0}},
		{name: "Reshape", op: "Reshape", inputs: []*value[float64]{r(2, 3, 4), intT([]int{2}, 0, -1)}, diff: []int{0}},
		{name: "Flatten", op: "Flatten", inputs: []*value[float64]{r(2, 3, 4)}, diff: []int{0}},
		{name: "Squeeze", op: "Squeeze", inputs: []*value[float64]{r(2, 1, 4), intT([]int{1}, 1)}, diff: []int{0}},
		{name: "Unsqueeze", op: "Unsqueeze", inputs: []*value[float64]{r(2, 4), intT([]int{1}, -1)}, diff: []int{0}},
		{name: "Concat", op: "Concat", attrs: map[string]onnxio.Attribute{"axis": intAttr(1)}, inputs: []*value[float64]{r(2, 3), r(2, 1), r(2, 2)}, diff: []int{0, 1, 2}},
		{name: "Split", op: "Split", nout: 2, attrs: map[string]onnxio.Attribute{"axis": intAttr(1)}, inputs: []*value[float64]{r(2, 5), intT([]int{2}, 2, 3)}, diff: []int{0}},
		{name: "Slice", op: "Slice", inputs: []*value[float64]{r(4, 5), intT([]int{2}, 1, 4), intT([]int{2}, -1, 0), intT([]int{2}, 0, 1), intT([]int{2}, 2, -2)}, diff: []int{0}},
		{name: "Pad/constant", op: "Pad", inputs: []*value[float64]{r(2, 3), intT([]int{4}, 1, 0, 2, 1)}, diff: []int{0}},
		{name: "Pad/reflect", op: "Pad", attrs: map[string]onnxio.Attribute{"mode": strAttr("reflect")}, inputs: []*value[float64]{r(3, 4), intT([]int{4}, 2, 1, 1, 2)}, diff: []int{0}},
		{name: "Pad/edge", op: "Pad", attrs: map[string]onnxio.Attribute{"mode": strAttr("edge")}, inputs: []*value[float64]{r(3, 4), intT([]int{4}, 2, 1, 1, 2)}, diff: []int{0}},
		{name: "Expand", op: "Expand", inputs: []*value[float64]{r(3, 1), intT([]int{3}, 2, 3, 4)}, diff: []int{0}},
		{name: "Tile", op: "Tile", inputs: []*value[float64]{r(2, 3), intT([]int{2}, 2, 2)}, diff: []int{0}},
		{name: "Gather", op: "Gather", attrs: map[string]onnxio.Attribute{"axis": intAttr(1)}, inputs: []*value[float64]{r(3, 4), intT([]int{2, 2}, 0, 3, 3, -1)}, diff: []int{0}},
		{name: "Where", op: "Where", inputs: []*value[float64]{intT([]int{3, 1}, 1, 0, 1), r(3, 4), r(4)}, diff: []int{1, 2}},
		{name: "Clip", op: "Clip", inputs: []*value[float64]{r(3, 4), floatVal(&Tensor[float64]{Shape: []int{}, Data: []float64{-0.5}}, nil), floatVal(&Tensor[float64]{Shape: []int{}, Data: []float64{0.52}}, nil)}, diff: []int{0}},
		{name: "Identity", op: "Identity", inputs: []*value[float64]{r(2, 3)}, diff: []int{0}},
		{name: "Dropout", op: "Dropout", inputs: []*value[float64]{r(2, 3)}, diff: []int{0}},
		{name: "Cast", op: "Cast", attrs: map[string]onnxio.Attribute{"to": intAttr(int64(onnxio.Double))}, inputs: []*value[float64]{r(2, 3)}, diff: []int{0}},
		{name: "Relu", op: "Relu", inputs: []*value[float64]{r(3, 4)}, diff: []int{0}},
	}
	for _, op := range []string{"Sum", "Mean", "Max", "Min"} {
		cases = append(cases, opCase{name: op, op: op, inputs: []*value[float64]{r(2, 3), r(3), r(2, 1)}, diff: []int{0, 1, 2}})
	}
	for _, op := range []string{"Neg", "Abs", "Exp", "Sigmoid", "Tanh", "Softplus", "Softsign", "Erf", "Sin", "Cos", "LeakyRelu", "Elu", "Selu", "Celu", "HardSigmoid", "Gelu",
		"Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Atanh", "HardSwish"} {
		x := r(3, 4)
		for i := range x.f.Data {
			x.f.Data[i] *= 0.8 // keep Asin, Acos and Atanh away from their poles at ±1
		}
		cases = append(cases, opCase{name: op, op: op, inputs: []*value[float64]{x}, diff: []int{0}})
	}
	for _, op := range []string{"Log", "Sqrt", "Reciprocal"} {
		cases = append(cases, opCase{name: op, op: op, inputs: []*value[float64]{positive(rng, 3, 4)}, diff: []int{0}})
	}
	acosh := positive(rng, 3, 4)
	for i := range acosh.f.Data {
		acosh.f.Data[i] += 1 // Acosh needs x > 1
	}
	cases = append(cases, opCase{name: "Acosh", op: "Acosh", inputs: []*value[float64]{acosh}, diff: []int{0}})
	cases = append(cases, opCase{name: "Gelu/tanh", op: "Gelu", attrs: map[string]onnxio.Attribute{"approximate": strAttr("tanh")}, inputs: []*value[float64]{r(3, 4)}, diff: []int{0}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkOp(t, c) })
	}
}
