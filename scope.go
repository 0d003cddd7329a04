package lethe

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/onnxio"
)

// Scope says which parameters an unlearning request certifies, and so which
// bound carries the guarantee (DESIGN.md §1).
type Scope string

const (
	// ScopeAuto (the default, also written "") chooses the convex scope
	// when the convexity pass proves that every trainable parameter (after
	// Engine.Freeze) enters the output affinely and μ > 0, and the full
	// scope otherwise; UnlearnResult.ScopeReason says why.
	ScopeAuto Scope = "auto"
	// ScopeFull certifies every trainable parameter with the theorem or
	// trivial bound: σ is calibrated to the budget 2C.
	ScopeFull Scope = "full"
	// ScopeHead certifies the parameters of the model's last affine layer
	// and freezes everything else: the convex scope on the head, with its
	// features computed once by the frozen backbone (by onnxruntime where
	// lethe's engine lacks one of the backbone's operators).
	ScopeHead Scope = "head"
)

// validScope reports whether s names a scope ("" is ScopeAuto).
func validScope(s Scope) bool {
	return s == "" || s == ScopeAuto || s == ScopeFull || s == ScopeHead
}

// scopePlan is the resolved scope of a request.
type scopePlan struct {
	convex bool
	// stronglyConvex: in the full scope, the objective is nevertheless
	// proven μ-strongly convex (every parameter enters affinely, μ > 0),
	// so the automatic λ is 0.
	stronglyConvex bool
	// proof is the convexity proof (convex only).
	proof *autodiff.AffineProof
	// reason says in one sentence why this scope.
	reason string
}

// resolveScope decides the scope of a request on the model m (at path):
// for ScopeHead the last affine layer, proven affine and with μ > 0, or an
// *InputError naming the node or field at fault; for ScopeAuto the convex
// scope when it can be proven for every trainable parameter, else the full
// scope with the reason; for ScopeFull the full scope.
func resolveScope(m *onnxio.Model, modelPath string, s Scope, obj objective, freeze []string) (*scopePlan, error) {
	switch s {
	case ScopeFull:
		plan := &scopePlan{reason: "the full scope was requested"}
		if params, err := m.Params(onnxio.ParamOptions{Freeze: freeze}); err == nil && len(params) > 0 && obj.l2 > 0 {
			names := make([]string, len(params))
			for i, p := range params {
				names[i] = p.Name
			}
			if _, err := autodiff.ProveAffine(m, names, obj.loss); err == nil {
				plan.stronglyConvex = true
				plan.reason += fmt.Sprintf(" (the objective is proven %g-strongly convex, so the automatic λ is 0)", obj.l2)
			}
		}
		return plan, nil
	case ScopeHead:
		head, err := autodiff.LastAffineLayer(m, obj.loss)
		if err != nil {
			return nil, badField("Scope", "%s: the head scope needs a model whose last layer is affine: %w", modelPath, err)
		}
		for _, name := range head {
			for _, g := range freeze {
				if ok, _ := path.Match(g, name); ok {
					return nil, badField("Engine.Freeze", "%q freezes %s, a parameter of the head that the head scope certifies", g, name)
				}
			}
		}
		if !(obj.l2 > 0) {
			return nil, badField("Objective.L2", "the head scope needs μ > 0 (the objective's L2 weight makes it strongly convex); %s records none: give the μ the head was trained with", modelPath)
		}
		proof, err := autodiff.ProveAffine(m, head, obj.loss)
		if err != nil {
			return nil, badField("Scope", "%s: %w", modelPath, err)
		}
		return &scopePlan{convex: true, proof: proof,
			reason: fmt.Sprintf("the head scope was requested: the last affine layer (%s)", strings.Join(head, ", "))}, nil
	}
	params, err := m.Params(onnxio.ParamOptions{Freeze: freeze})
	if err != nil {
		return nil, badInput("Engine.Freeze", err)
	}
	if len(params) == 0 {
		return nil, badField("Engine.Freeze", "%s: no trainable parameters (check Freeze)", modelPath)
	}
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	proof, err := autodiff.ProveAffine(m, names, obj.loss)
	var notAffine *autodiff.NotAffineError
	switch {
	case errors.As(err, &notAffine):
		return &scopePlan{reason: fmt.Sprintf("full scope: strong convexity cannot be proven (%s); --scope head certifies the last affine layer alone",
			strings.TrimPrefix(err.Error(), "autodiff: "))}, nil
	case err != nil:
		return nil, badField("Model", "%s: %w", modelPath, err)
	case !(obj.l2 > 0):
		return &scopePlan{reason: "full scope: the certified parameters enter the output affinely, but μ = 0, so the objective is not strongly convex (give the L2 weight μ > 0 the model was trained with)"}, nil
	}
	return &scopePlan{convex: true, proof: proof,
		reason: fmt.Sprintf("convex scope: every trainable parameter enters the output affinely (%s) and μ = %g > 0", strings.Join(proof.Ops, ", "), obj.l2)}, nil
}

// planScope loads the model at path (checking that no output is one of its
// files), resolves its objective (a radius is optional: only the full scope
// needs one) and decides the scope.
func planScope(path string, o Objective, s Scope, freeze []string, outputs ...string) (*onnxio.Model, objective, *scopePlan, error) {
	m, err := openModel(path, outputs...)
	if err != nil {
		return nil, objective{}, nil, err
	}
	obj, err := o.resolveOptionalRadius(m, path)
	if err != nil {
		return nil, obj, nil, err
	}
	plan, err := resolveScope(m, path, s, obj, freeze)
	return m, obj, plan, err
}

// literalGlobs returns path.Match patterns that match exactly the given
// names, escaping the pattern metacharacters.
func literalGlobs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		var b strings.Builder
		for _, r := range n {
			if strings.ContainsRune(`*?[]\`, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		out[i] = b.String()
	}
	return out
}

// splitParams returns m's trainable parameters (DESIGN.md §2, nothing
// frozen) in two lists, each as Params returns it (parameter order,
// contiguous offsets): those named in certified, and the others, which the
// convex scope keeps frozen.
func splitParams(m *onnxio.Model, certified []string) (cert, frozen []onnxio.Param, err error) {
	all, err := m.Params(onnxio.ParamOptions{})
	if err != nil {
		return nil, nil, err
	}
	var others []string
	for _, p := range all {
		if !slices.Contains(certified, p.Name) {
			others = append(others, p.Name)
		}
	}
	if cert, err = m.Params(onnxio.ParamOptions{Freeze: literalGlobs(others)}); err != nil {
		return nil, nil, err
	}
	if frozen, err = m.Params(onnxio.ParamOptions{Freeze: literalGlobs(certified)}); err != nil {
		return nil, nil, err
	}
	return cert, frozen, nil
}
