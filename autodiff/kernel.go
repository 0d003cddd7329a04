package autodiff

import (
	"errors"
	"fmt"
	"sort"

	"github.com/lethe-ml/lethe/onnxio"
)

// kernel is the compiled form of one node for one precision. Each op family
// keeps its forward, tangent and vector-Jacobian rules side by side in one file.
//
// forward computes the outputs and, when c.tangent() is set, their tangents
// (the JVP, linear in the input tangents; nil input tangents are zero).
//
// backward receives the outputs' adjoints gout (nil when an output does not
// reach the loss) and returns the inputs' adjoints for every input with
// need[i]: the VJP, and in tangent mode its tangent — the R-operator of
// Pearlmutter (1994), which makes one backward pass an exact Hessian-vector
// product. Kernels never write into their inputs, outputs or gout.
type kernel[T Float] interface {
	forward(c *ctx[T], in []*value[T]) ([]*value[T], error)
	backward(c *ctx[T], in, out, gout []*value[T], need []bool) ([]*value[T], error)
}

// kernels pairs the two precisions of one compiled node.
type kernels struct {
	k32 kernel[float32]
	k64 kernel[float64]
}

func pair(k32 kernel[float32], k64 kernel[float64]) kernels { return kernels{k32, k64} }

// nodeInfo is what a builder sees of a node at compile time.
type nodeInfo struct {
	*onnxio.Node
	opset int64
	// constant returns the value of input i when it is a constant initializer
	// or a Constant node's output, nil otherwise.
	constant func(i int) *onnxio.Tensor
}

// builder parses a node's attributes and returns its kernels, or an error that
// explains why this node is not supported.
type builder func(n *nodeInfo) (kernels, error)

var registry = map[string]builder{}

func register(op string, b builder) {
	if _, dup := registry[op]; dup {
		panic("autodiff: op registered twice: " + op)
	}
	registry[op] = b
}

// SupportedOps lists the ONNX operator types the engine implements.
func SupportedOps() []string {
	ops := make([]string, 0, len(registry))
	for op := range registry {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// UnsupportedOpError reports a node the engine cannot compile.
type UnsupportedOpError struct {
	Op, Domain, Node string
	Opset            int64
	Reason           string // empty when the op type is unknown
}

func (e *UnsupportedOpError) Error() string {
	op := e.Op
	if e.Domain != "" && e.Domain != "ai.onnx" {
		op = e.Domain + "::" + op
	}
	if e.Reason == "" {
		return fmt.Sprintf("autodiff: unsupported op %s (opset %d) at node %q", op, e.Opset, e.Node)
	}
	return fmt.Sprintf("autodiff: unsupported use of %s (opset %d) at node %q: %s", op, e.Opset, e.Node, e.Reason)
}

// ErrUnsupported marks a use of a supported op that the engine does not
// implement, found only when the op runs (for example a 3-D convolution).
var ErrUnsupported = errors.New("not supported by lethe's engine")

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrUnsupported)
}

// UnsupportedInputError reports a graph input whose type the engine cannot feed.
type UnsupportedInputError struct {
	Input string
	Type  string
}

func (e *UnsupportedInputError) Error() string {
	return fmt.Sprintf("autodiff: graph input %q has type %s, which the engine does not support", e.Input, e.Type)
}

// NodeError wraps a failure while evaluating a node.
type NodeError struct {
	Op, Node string
	Err      error
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("autodiff: node %q (%s): %v", e.Node, e.Op, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// ctx is what a kernel sees while it runs: allocation from the pass's arena,
// the pass mode and its per-node state.
type ctx[T Float] struct {
	r    *run[T]
	node int
}

func (c *ctx[T]) tangent() bool { return c.r.tangent }

// alloc returns a tensor of the given shape with uninitialised data.
func (c *ctx[T]) alloc(shape []int) *Tensor[T] {
	return &Tensor[T]{Shape: shape, Data: c.r.ar.alloc(numel(shape))}
}

// zeros returns a zeroed tensor of the given shape.
func (c *ctx[T]) zeros(shape []int) *Tensor[T] {
	return &Tensor[T]{Shape: shape, Data: c.r.ar.allocZero(numel(shape))}
}

// primal reports whether the primal adjoint of input i is needed. It is not
// when the pass computes only an HVP and the input is a trainable parameter
// (its adjoint is read only as the gradient) or a value whose primal adjoint
// no tangent rule reads (liveness.go). Kernels may then leave that adjoint's
// data undefined and skip its cost (a weight gradient's GEMM).
func (c *ctx[T]) primal(i int) bool {
	if c.r.wantGrad {
		return true
	}
	s := c.r.p.nodes[c.node].in[i]
	return s < 0 || (!c.r.p.isParam[s] && c.r.p.primalAdj[s])
}

// outAdjoint reports whether the primal adjoints of the node's outputs are
// needed. When they are not (an HVP pass, liveness.go), the primal data of
// the output adjoints is undefined and must not be read; their tangents are
// always defined.
func (c *ctx[T]) outAdjoint() bool {
	if c.r.wantGrad {
		return true
	}
	for _, s := range c.r.p.nodes[c.node].out {
		if s >= 0 && c.r.p.primalAdj[s] {
			return true
		}
	}
	return false
}

// keep reports whether a backward pass follows this forward pass, so that a
// kernel may keep in its state, for that pass, what its backward rules would
// otherwise recompute. Forward-only passes keep nothing.
func (c *ctx[T]) keep() bool { return c.r.withBackward }

// state returns the node's state slot, which persists across passes of one run.
func (c *ctx[T]) state() *any { return &c.r.state[c.node] }
