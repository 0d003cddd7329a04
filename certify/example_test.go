package certify_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/lethe-ml/lethe/certify"
)

// A deep network: the theorem bound exceeds 2C, so the re-projected output is
// certified with the trivial bound, and σ is calibrated to it.
func ExampleComputeBound() {
	b, err := certify.ComputeBound(certify.BoundInputs{
		C: 5, M: 0.8, MSource: certify.MEstimated, MMethod: "Hessian differences", MSamples: 8,
		Lambda:      12,
		HessianNorm: 9.7, HessianNormMethod: "power iteration", HessianNormIterations: 60,
		LambdaMin: -0.31, LambdaMinMethod: "Lanczos", LambdaMinIterations: 40, LambdaMinResidual: 1e-4,
		Solver:       certify.Solver{Name: "lissa", Residual: 0.02},
		Projected:    true,
		Stationarity: certify.Stationarity{GradNorm: 4e-4, WNorm: 4.2},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("Δ_thm = %.4f, ρ term = %.6f, 2C = %g\n", b.Theorem, b.Residual, b.Trivial)
	fmt.Printf("Δ = %g (%s)\n", b.Sensitivity, b.Active)

	analytic, _ := certify.Sigma(certify.Analytic, b.Sensitivity, 1, 1e-5)
	fmt.Printf("analytic σ(ε=1, δ=1e-5) = %.4f\n", analytic)
	_, err = certify.Sigma(certify.Classic, b.Sensitivity, 1, 1e-5)
	var re *certify.ClassicRangeError
	fmt.Println("classic refused at ε = 1:", errors.As(err, &re))
	classic, _ := certify.Sigma(certify.Classic, b.Sensitivity, 0.5, 1e-5)
	analyticHalf, _ := certify.Sigma(certify.Analytic, b.Sensitivity, 0.5, 1e-5)
	fmt.Printf("ε = 0.5: classic σ = %.4f, analytic σ = %.4f\n", classic, analyticHalf)
	// Output:
	// Δ_thm = 13.6869, ρ term = 0.001711, 2C = 10
	// Δ = 10 (trivial)
	// analytic σ(ε=1, δ=1e-5) = 37.3063
	// classic refused at ε = 1: true
	// ε = 0.5: classic σ = 96.8961, analytic σ = 70.3183
}

// The convex scope: σ is calibrated to a budget fixed in advance; a Newton
// step's a-posteriori bound only decides whether the point may be released.
func ExamplePosteriorBound() {
	in := certify.PosteriorInputs{
		Mu:       1e-3,   // the objective's l2, proven the strong-convexity modulus
		GradNorm: 7.2e-6, // ‖∇L_r(w̃)‖ in float64 after one Newton step from w*
		Margin:   3e-11, MarginMethod: "γ_{N+1000}·Σ|a_i| (Higham §3.1)",
		Budget:      0.005, // Δ_max, fixed before any data-dependent number
		NewtonSteps: 1, Start: certify.StartOriginal,
		Solver: certify.Solver{Name: "cg", Iterations: 40, HVPs: 40},
	}
	_, err := certify.PosteriorBound(in)
	var be *certify.BudgetError
	if errors.As(err, &be) {
		fmt.Printf("after 1 step: %.4g > %g: take another step\n", be.Bound, be.Budget)
	}

	in.GradNorm, in.NewtonSteps = 3.1e-9, 2 // a second step
	b, err := certify.PosteriorBound(in)
	if err != nil {
		panic(err)
	}
	sigma, _ := certify.Sigma(certify.Analytic, b.Sensitivity, 1, 1e-5)
	fmt.Printf("after 2 steps: bound %.3g, Δ = %g (%s), σ = %.5f\n", b.Posterior.Value, b.Sensitivity, b.Active, sigma)
	// Output:
	// after 1 step: 0.0072 > 0.005: take another step
	// after 2 steps: bound 3.13e-06, Δ = 0.005 (posterior), σ = 0.01865
}

func ExampleCertificate_Sign() {
	seed := sha256.Sum256([]byte("example key"))
	priv := ed25519.NewKeyFromSeed(seed[:]) // use certify.LoadPrivateKey in practice
	pub := priv.Public().(ed25519.PublicKey)

	c := &certify.Certificate{Schema: certify.SchemaVersion, Sigma: 37.3, Epsilon: 1}
	if err := c.Sign(priv); err != nil {
		panic(err)
	}
	fmt.Println("verified:", c.VerifySignature(pub) == nil)

	c.Sigma = 3.73 // tampering with the noise scale
	fmt.Println("after editing σ:", c.VerifySignature(pub))
	// Output:
	// verified: true
	// after editing σ: certify: signature verification failed: the certificate was modified after signing
}
