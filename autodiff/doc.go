// Package autodiff compiles an ONNX graph into a native differentiable
// program: forward evaluation, the gradient of a loss by reverse mode, and
// exact Hessian-vector products by forward-over-reverse differentiation
// (Pearlmutter's R-operator).
//
// # Programs
//
// Compile turns an onnxio.Model into a Program whose trainable parameters are
// the model's floating-point initializers in the order of DESIGN.md §2
// (onnxio.Model.Params). A Program computes in float32 (the default, as ONNX
// and PyTorch do) or float64. Shape subgraphs (Shape → Gather → Concat →
// Reshape and the like) run as integer computations on every pass, so the
// batch size is free.
//
// Batched evaluation (Loss, Gradient, HVP, Predict) reads samples from a Data
// source in chunks of at most EvalOptions.BatchSize and runs the chunks on
// EvalOptions.Threads workers. Worker w takes chunks w, w+W, …; per-worker
// gradients are summed in float64 in worker order, so results are
// deterministic for a given thread count. Objective adapts a Program and a
// data set to unlearn.Objective, adding the L2 term (μ/2)‖w‖².
//
// # Rules
//
// Every ONNX operator is a kernel with two methods, kept side by side in one
// file per op family with the formulas in comments:
//
//   - forward computes the outputs and, in tangent mode, their tangents
//     ẏ = J·ẋ (the JVP);
//   - backward computes the inputs' adjoints x̄ = Jᵀ·ȳ (the VJP) and, in
//     tangent mode, their tangents x̄̇ = Jᵀ·ȳ̇ + (d/dt Jᵀ)·ȳ.
//
// A gradient is one forward and one backward pass; a loss is the forward
// pass alone. An HVP seeds the parameters' tangents with v and runs the same
// two passes in tangent mode: the tangent of the gradient is H·v, exactly,
// for roughly two to three times the cost of a gradient. Nil tangents stand
// for zero and are never computed, so the data input costs nothing extra,
// and an HVP pass skips the primal adjoints no tangent rule reads (a
// compile-time liveness analysis, liveness.go: in a CNN everything that
// only feeds the first layer's input adjoint).
//
// Compile fuses a Relu that alone reads a Conv's output into the Conv
// (fuse.go), whose kernel applies the Relu's rules where it copies results
// out and adjoints in; the values and their order of computation are
// unchanged. A forward pass that a backward pass follows leaves kernels state
// for it (ctx.keep): a Conv keeps its im2col matrices, a MaxPool its argmax.
//
// A node the engine cannot compile is an *UnsupportedOpError naming the op,
// the node and the opset; a supported op used in an unsupported way (for
// example a 3-D convolution) fails when it runs with an error wrapping
// ErrUnsupported.
//
// # Memory and BLAS
//
// Each worker owns a run: value slots, adjoints, per-node state and an arena
// that hands out the same memory on every pass of the same batch size, so
// steady-state passes allocate almost nothing. Matrix products go through
// OpenBLAS (gonum's netlib bindings) when built with the openblas tag, as the
// Makefile does, and through pure-Go gonum otherwise; BLASName says which.
// OpenBLAS runs single-threaded inside lethe's own workers.
//
// Kernels never write into their inputs: outputs of view ops (Reshape,
// Identity, …) share their input's data, and the first adjoint reaching a
// value may be shared with another node's.
//
// # The convex scope
//
// ProveAffine and LastAffineLayer prove the convex scope of DESIGN.md §1
// structurally, on the graph alone (no compilation, so they also work on
// models with ops the engine lacks): the certified parameters reach the
// first output only through affine ops. RoundingMargin then bounds the
// float64 rounding error of such a model's gradient, using the OutputSum
// loss on the model with absolute values.
package autodiff
