// Package certify turns a Newton update into an (ε, δ) guarantee: the
// sensitivity bound Δ with all of its terms, the Gaussian mechanisms that
// calibrate σ, private noise, and the certificate with its signature
// (DESIGN.md §1 "Bound", "Noise", "Where the theorem stops", "What is
// estimated", "Convex scope" and §5 "Certificate sidecar").
//
// It depends on neither autodiff nor onnxio: callers hand it numbers
// (radius, estimates, residuals, hashes) and get numbers and a certificate
// back.
//
// # Flow
//
//	b, err := certify.ComputeBound(certify.BoundInputs{C: ..., M: ..., ...}) // Δ and which term is active
//	sigma, err := certify.Sigma(certify.Analytic, b.Sensitivity, eps, delta)  // σ for (ε, δ)
//	noise, err := certify.NewPrivateNoise()                                   // ChaCha8 keyed from crypto/rand
//	err = noise.Add(w, sigma)                                                 // w' = w̃ + N(0, σ²I)
//	cert := &certify.Certificate{..., Bound: b, Sigma: sigma, ...}
//	cert.Assumptions = certify.Assumptions(cert)
//	err = cert.Sign(priv)                                                     // optional
//	err = cert.Write(path)                                                    // validated, atomic
//
// and on the verifying side Read, Validate, VerifySignature, CheckSigma and
// TakenOnTrust.
//
// # Budgets: noise never depends on the data
//
// σ is published, so it must not depend on the data: it is calibrated from
// (ε, δ) and a sensitivity budget Δ_max fixed before anything data-dependent
// is computed, and the bounds computed from the data only decide whether
// the budget holds. BoundInputs.Budget (the certificate's bound.budget)
// records it; with a budget, sensitivity = budget, and a run whose computed
// bound exceeds it is not certified (*BudgetError, StatusOverBudget), never
// re-calibrated. In the full scope lethe's budget is 2C. A certificate
// without a budget (all written before budgets existed) keeps the old
// semantics, Δ = the computed bound.
//
// # The convex scope
//
// When the certified parameters enter the output affinely, the loss is
// convex in the output and μ > 0, the retained objective is μ-strongly
// convex in them, and at the released noise-free point w̃
//
//	‖w̃ − w̃*‖ ≤ (‖ĝ‖ + margin)/μ = bound_posterior,  ĝ = ∇L_r(w̃) in float64,
//
// with margin a bound on ĝ's rounding. The flow differs in the bound:
//
//	b, err := certify.PosteriorBound(certify.PosteriorInputs{Mu: μ, GradNorm: ..., Margin: ..., Budget: Δmax, ...})
//	// *BudgetError: take another Newton step, or retrain from zeros, and call it again
//	sigma, err := certify.Sigma(mech, b.Sensitivity, eps, delta) // b.Sensitivity = Δ_max
//	cert := &certify.Certificate{..., Scope: certify.ScopeConvex, Bound: b,
//		CertifiedParameters: ..., FrozenParameters: &certify.FrozenParameters{..., Digest: certify.DigestParameters(names, values)},
//		StrongConvexity: ..., Features: ...}
//
// The convex bound computes none of the full scope's terms (M, ‖H‖, λ_min,
// stationarity, theorem, residual, trivial, premise): they are zero in Go and
// absent from the JSON, whose "bound" then has its own layout (MarshalJSON).
// CheckSigma recomputes bound_posterior from ‖ĝ‖, the margin and μ = l2, but
// cannot re-check ‖ĝ‖: the noise-free point is never stored. TakenOnTrust
// says so in words for `lethe verify`.
//
// # The bound
//
// ComputeBound computes, from C, M, λ, λ_min and the solver residual ρ,
//
//	Δ_thm = 2C(MC + λ)/(λ + λ_min),  bound_residual = ρ/(λ + λ_min),  bound_trivial = 2C,
//
// and the computed bound Δ_c = min(Δ_thm + ρ/(λ + λ_min), 2C) when the
// output was re-projected onto the ball, Δ_c = Δ_thm + ρ/(λ + λ_min) when it
// was not; Δ = Δ_c without a budget, Δ = budget (Δ_c ≤ budget) with one. It
// refuses λ + λ_min ≤ 0 (*NotPositiveDefiniteError). It records whether the
// paper's condition λ > ‖H‖ holds but does not require it: the proof needs
// only H + λI positive definite. Because ‖H‖ ≥ |λ_min| for a symmetric H,
// the larger of the two estimates stands for ‖H‖ in that test.
//
// The theorem's Taylor argument needs an interior stationary point. When
// the ball constraint is active (‖w*‖ ≥ (1 − ball_tol)·C) or the gradient is
// not small (‖∇L(w*, D)‖ > grad_tol), only 2C is rigorous: Δ = 2C for a
// re-projected output, and a *PremiseError (nothing certifiable) otherwise.
// The stationarity tests are made on w* and D, the only point lethe has; the
// premise is about w̃*, the retrained model, which is never computed. The
// certificate says so.
//
// # What is proven and what is estimated
//
// Proven, given the premises: the triangle-inequality bound Δ_thm +
// ρ/(λ + λ_min) (Zhang et al. 2024's theorem plus the inexact solve), the
// trivial bound 2C for a re-projected output, and the (ε, δ) of a Gaussian
// mechanism with sensitivity Δ (Balle & Wang 2018 for the
// analytic mechanism; Dwork & Roth 2014 Theorem A.1 for the classic one,
// ε < 1 only).
//
// Estimated, and stated as such in the certificate's assumptions with method,
// iterations and residual: λ_min (Lanczos — its Ritz values approach λ_min
// from above, so an unconverged estimate errs on the unsafe side), ‖H‖
// (power iteration, from below), and M (declared by the user, or estimated
// from Hessian differences at random points — not an upper bound). When
// the trivial bound is active, Δ depends on none of them, and the
// assumptions say that too. Also assumed: that w* and w̃* are constrained
// minimisers of the same objective (same loss, same μ), and that the
// stationarity tolerances are evidence of stationarity.
//
// Not covered: floating-point artefacts of Gaussian sampling (Mironov 2012);
// composition over a chain of deletion requests (each certificate states the
// (ε, δ) of its own request and counts the chain in "cumulative").
//
// # Mechanisms
//
// Sigma calibrates σ with Analytic (the default) or Classic. The analytic σ
// is the smallest σ with Φ(Δ/(2σ) − εσ/Δ) − e^ε·Φ(−Δ/(2σ) − εσ/Δ) ≤ δ,
// found by bisection on that exact condition to SigmaTolerance (1e-12)
// relative and rounded up, with δ tightened by DeltaMargin (1e-12 relative)
// to absorb float64 rounding. Φ is evaluated through erfc, and in the
// regime where both terms are tiny through the scaled erfcx and the identity
// b² − a² = 2ε, so e^ε is never formed: it neither overflows for large ε nor
// cancels for small ε. The tests compare it with an independent
// arbitrary-precision evaluation (math/big) to 1e-13 relative for
// ε ∈ [1e-6, 1e3], δ ∈ [1e-30, 0.5], and with published values.
//
// Classic is refused for ε ≥ 1 (*ClassicRangeError); invalid Δ, ε, δ are
// *ParameterError. EpsilonForSigma is the inverse used by --sigma: the ε a
// given σ certifies, rounded up. For Classic, an implied ε ≥ 1 is returned
// with a *ClassicRangeError and the caller must switch to Analytic and record
// it; there is no silent fallback, because the certificate must name the
// mechanism whose proof it uses.
//
// # Noise
//
// NewPrivateNoise keys math/rand/v2's ChaCha8 with 32 bytes from crypto/rand
// and never reveals the key; NewSeededNoise is deterministic, for tests, and
// its certificates say "noise_private": false. The command line must print
// SeedWarning whenever --seed is used.
//
// # Certificate
//
// Certificate is schema "lethe.certificate/v1"; certificate.schema.json
// (JSONSchema) describes it. Invariants, checked by Validate (called by
// Write):
//
//   - certified = true needs noise_private = true, σ > 0, and a status
//     starting with "certified"; otherwise the status starts with
//     "not certified:";
//   - noise_source, noise_private, noise_seed and sigma_mode agree;
//   - previous_certificate is set exactly when cumulative.requests > 1;
//   - hashes are 64 lower-case hex digits, digests "sha256:<hex>",
//     timestamps RFC 3339 UTC;
//   - ε > 0 and δ ∈ (0, 1), except that with sigma_mode "none" (no noise, no
//     guarantee) both may be 0, meaning none was requested;
//   - with a budget, sensitivity = budget, and certified needs the computed
//     bound ≤ budget;
//   - scope is absent, "full" or "convex"; a convex certificate has
//     certified_parameters, frozen_parameters, strong_convexity (μ = l2 > 0,
//     loss = the certificate's, a convex loss, ops from AffineOps) and
//     features, a posterior bound with sensitivity = budget and λ = 0, and no
//     full-scope term; a full-scope certificate has none of these.
//
// CheckSigma recomputes the bound and σ from the recorded inputs and names
// every mismatch (*MismatchError, *SigmaError, *BudgetError).
//
// Canonical form and digest: Canonical is encoding/json of the Certificate
// struct with the signature omitted — fields in declaration order, compact,
// HTML not escaped, numbers in encoding/json's shortest round-trip form —
// and Digest is "sha256:" plus the hex SHA-256 of it. Sign signs the ASCII
// digest string with Ed25519. BindingDigest, the value the output ONNX file
// carries in metadata_props, is the digest with output.sha256 blanked,
// because the file cannot contain a digest of its own hash.
//
// Read is strict — unknown fields, a different schema string or trailing
// data are errors — because the digest covers the certificate as these types
// hold it: a lenient reader that dropped unknown fields would verify a
// different document from the one signed. v1 has grown additively (scope,
// bound.budget, the convex fields, each omitted when unused): certificates
// written before them read, validate and check exactly as before, with the
// same bytes and digest, while an older reader refuses a certificate that
// uses them (unknown field) rather than verify less than was signed.
//
// Keys are PEM files, PKCS #8 private and PKIX public, as OpenSSL writes
// them for Ed25519: GenerateKeyPair, LoadPrivateKey, LoadPublicKey.
//
// Errors start with "certify: ". Typed errors carry details for callers:
// *ParameterError, *ClassicRangeError, *NotPositiveDefiniteError,
// *PremiseError, *BudgetError, *FieldError, *SchemaError, *MismatchError,
// *SigmaError,
// and the sentinels ErrUnsigned, ErrKeyMismatch, ErrBadSignature.
package certify
