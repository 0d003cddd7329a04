// Package unlearn implements the certified Newton update of DESIGN.md §1:
// projection onto the C-ball, projected training, inverse-Hessian-vector
// solvers (LiSSA, conjugate gradient), spectral estimates and the Newton step.
//
// It works on the Objective interface and never prints or reads files.
package unlearn
