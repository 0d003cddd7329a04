// Package autodiff compiles an ONNX graph into a native differentiable program:
// forward evaluation, the gradient of a loss by reverse mode and exact
// Hessian-vector products by forward-over-reverse (Pearlmutter's R-operator).
package autodiff
