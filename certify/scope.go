package certify

import (
	"errors"
	"math"
	"slices"
	"strings"
)

// Scope says which parameters a certificate certifies and which bound it
// uses (the certificate's "scope").
type Scope string

const (
	// ScopeFull: every trainable parameter is certified with the theorem or
	// trivial bound (DESIGN §1 "Bound"). Certificates written before scopes
	// existed have no "scope" and are full-scope.
	ScopeFull Scope = "full"
	// ScopeConvex: the certified parameters enter the output affinely, the
	// loss is convex in the output and μ > 0, so the retained objective is
	// μ-strongly convex in them and the a-posteriori bound applies (DESIGN
	// §1 "Convex scope"); the other parameters are frozen.
	ScopeConvex Scope = "convex"
)

// CertifiedParameters lists the parameters a convex-scope certificate
// certifies, in parameter order (DESIGN §2). Count is their number of
// scalars, the dimension of w.
type CertifiedParameters struct {
	Names []string `json:"names"`
	Count int      `json:"count"`
}

// FrozenParameters lists the parameters a convex-scope certificate keeps
// fixed, in parameter order, with their number of scalars and
// DigestParameters of their values. Names is empty (not null) and Count 0
// when nothing is frozen, as for a whole linear model.
type FrozenParameters struct {
	Names  []string `json:"names"`
	Count  int      `json:"count"`
	Digest string   `json:"digest"`
}

// StrongConvexity is the structural proof that the retained objective is
// μ-strongly convex in the certified parameters. Mu equals the
// certificate's l2 and Loss its loss; Ops lists the op types of the affine
// region between the certified parameters and the output (each in
// AffineOps), and Statement is the proof in one line, as the convexity pass
// wrote it.
type StrongConvexity struct {
	Mu        float64  `json:"mu"`
	Loss      string   `json:"loss"`
	Ops       []string `json:"ops"`
	Statement string   `json:"statement"`
}

// Features says where the inputs of the certified (affine) part come from:
// Tensor is the graph tensor at which the frozen part ends (the graph input
// for a linear model), Engine the engine that computed it (FeaturesNative or
// FeaturesOnnxruntime) and Precision "float32" or "float64".
type Features struct {
	Tensor    string `json:"tensor"`
	Engine    string `json:"engine"`
	Precision string `json:"precision"`
}

// Feature engines.
const (
	FeaturesNative      = "native"
	FeaturesOnnxruntime = "onnxruntime"
)

// affineOps are the ONNX op types through which a certified parameter may
// reach the output in the convex scope (DESIGN §1 "Convex scope"): affine in
// the certified parameters when no other certified parameter is a factor.
var affineOps = []string{"Gemm", "MatMul", "Add", "Sub", "Neg", "Reshape", "Flatten", "Transpose", "Identity", "Squeeze", "Unsqueeze"}

// convexLosses are the losses convex in the model output.
var convexLosses = []string{"xent", "mse", "bce"}

// AffineOps returns the op types a convex-scope certificate's
// strong_convexity.ops may name: Gemm, MatMul, Add, Sub, Neg, Reshape,
// Flatten, Transpose, Identity, Squeeze, Unsqueeze (the ops
// autodiff.ProveAffine accepts).
func AffineOps() []string { return slices.Clone(affineOps) }

// validateScope checks the budget and the scope fields for Validate: a
// budget is the sensitivity; a certified run's computed bound fits under it;
// a full-scope certificate carries no convex-scope field; a convex-scope one
// carries all of them, consistently (validateConvex).
func (c *Certificate) validateScope(bad func(field, format string, args ...any)) {
	b := &c.Bound
	switch {
	case !(b.Budget >= 0) || math.IsInf(b.Budget, 1):
		bad("bound.budget", "%g is not finite and ≥ 0", b.Budget)
	case b.Budget > 0 && b.Sensitivity != b.Budget:
		bad("bound.sensitivity", "%g is not the budget %g: σ is calibrated to the budget", b.Sensitivity, b.Budget)
	case c.Certified && b.Budget > 0 && !(b.Computed() <= b.Budget):
		bad("certified", "is true but the computed %s bound %g exceeds the budget %g", b.Active, b.Computed(), b.Budget)
	}
	switch c.Scope {
	case "", ScopeFull:
		for _, f := range []struct {
			field string
			set   bool
		}{
			{"certified_parameters", c.CertifiedParameters != nil},
			{"frozen_parameters", c.FrozenParameters != nil},
			{"strong_convexity", c.StrongConvexity != nil},
			{"features", c.Features != nil},
		} {
			if f.set {
				bad(f.field, "is a convex-scope field, but scope is %q", ScopeFull)
			}
		}
		if b.Active == ActivePosterior || b.Posterior != nil {
			bad("bound.active_bound", "the posterior bound belongs to scope %q, but scope is %q", ScopeConvex, ScopeFull)
		}
	case ScopeConvex:
		c.validateConvex(bad)
	default:
		bad("scope", "%q is not %q or %q", c.Scope, ScopeFull, ScopeConvex)
	}
}

// validateConvex checks a convex-scope certificate's own fields.
func (c *Certificate) validateConvex(bad func(field, format string, args ...any)) {
	names := func(field string, list []string) {
		seen := map[string]bool{}
		for _, n := range list {
			if n == "" || seen[n] {
				bad(field, "%q is empty or repeated", n)
			}
			seen[n] = true
		}
	}
	cp, fp := c.CertifiedParameters, c.FrozenParameters
	if cp == nil {
		bad("certified_parameters", "is required with scope %q", ScopeConvex)
	} else {
		names("certified_parameters.names", cp.Names)
		if len(cp.Names) == 0 || cp.Count < len(cp.Names) {
			bad("certified_parameters", "names %d parameters with count %d scalars: need at least one parameter and a scalar each", len(cp.Names), cp.Count)
		}
	}
	if fp == nil {
		bad("frozen_parameters", "is required with scope %q (with empty names when nothing is frozen)", ScopeConvex)
	} else {
		names("frozen_parameters.names", fp.Names)
		if fp.Names == nil || fp.Count < len(fp.Names) || (fp.Count == 0) != (len(fp.Names) == 0) {
			bad("frozen_parameters", "names %d parameters with count %d scalars (names must be a list, empty exactly when count is 0)", len(fp.Names), fp.Count)
		}
		if !digestRE.MatchString(fp.Digest) {
			bad("frozen_parameters.digest", "%q is not sha256:<64 hex>", fp.Digest)
		}
		if cp != nil {
			for _, n := range fp.Names {
				if slices.Contains(cp.Names, n) {
					bad("frozen_parameters.names", "%q is also certified", n)
				}
			}
		}
	}
	if sc := c.StrongConvexity; sc == nil {
		bad("strong_convexity", "is required with scope %q", ScopeConvex)
	} else {
		switch {
		case !(sc.Mu > 0) || math.IsInf(sc.Mu, 1):
			bad("strong_convexity.mu", "%g is not finite and > 0", sc.Mu)
		case sc.Mu != c.L2:
			bad("strong_convexity.mu", "%g is not l2 = %g: μ is the l2 coefficient of the objective", sc.Mu, c.L2)
		}
		if sc.Loss != c.Loss || !slices.Contains(convexLosses, sc.Loss) {
			bad("strong_convexity.loss", "%q must be the certificate's loss %q and one of %v, convex in the output", sc.Loss, c.Loss, convexLosses)
		}
		if len(sc.Ops) == 0 {
			bad("strong_convexity.ops", "is empty")
		}
		for _, op := range sc.Ops {
			if !slices.Contains(affineOps, op) {
				bad("strong_convexity.ops", "%q is not one of the affine ops %v", op, affineOps)
			}
		}
		if sc.Statement == "" {
			bad("strong_convexity.statement", "is empty: the certificate must state the proof")
		}
	}
	if f := c.Features; f == nil {
		bad("features", "is required with scope %q", ScopeConvex)
	} else {
		if f.Tensor == "" {
			bad("features.tensor", "is empty")
		}
		if f.Engine != FeaturesNative && f.Engine != FeaturesOnnxruntime {
			bad("features.engine", "%q is not %q or %q", f.Engine, FeaturesNative, FeaturesOnnxruntime)
		}
		if f.Precision != "float32" && f.Precision != "float64" {
			bad("features.precision", "%q is not float32 or float64", f.Precision)
		}
	}

	b := c.Bound
	if b.Active != ActivePosterior {
		bad("bound.active_bound", "%q: the convex scope's bound is %q", b.Active, ActivePosterior)
	}
	if b.Posterior == nil {
		bad("bound.bound_posterior", "is missing")
	} else {
		in := b.posteriorInputs(c.L2)
		if err := in.validate(); err != nil {
			field := "bound"
			var pe *ParameterError
			if errors.As(err, &pe) {
				field += "." + pe.Name
			}
			bad(field, "%s", strings.TrimPrefix(err.Error(), "certify: "))
		}
	}
	// Nothing the convex scope did not compute may carry a value.
	b.C, b.Solver, b.Projected, b.Budget = 0, Solver{}, false, 0
	b.Active, b.Sensitivity, b.Posterior = "", 0, nil
	if b != (Bound{}) {
		bad("bound", "the convex scope takes Newton steps with λ = 0 and computes none of the full scope's terms (M, ‖H‖, λ_min, stationarity, theorem, residual and trivial bounds, premise): they must be zero")
	}
}
