// Package certify turns a Newton update into an (ε, δ) guarantee: the
// sensitivity bound Δ with all of its terms, the Gaussian mechanisms that
// calibrate σ, private noise, and the certificate with its signature.
package certify
