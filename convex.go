package lethe

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/unlearn"
)

// DefaultBudget is the sensitivity budget Δ_max of the convex scope when
// the request gives none. It is a constant, fixed before any data are
// seen, as the noise calibration requires (DESIGN.md §1): at (ε, δ) =
// (1, 1e-5) it gives σ = 3.7e-4, a perturbation that leaves a linear head's
// predictions unchanged, and from a model trained to its minimiser one or
// two Newton steps reach it (quadratic convergence).
const DefaultBudget = 1e-4

// DefaultMaxNewtonSteps bounds the convex scope's Newton steps from the
// original model when the request gives no bound.
const DefaultMaxNewtonSteps = 8

// fallbackSteps bounds the Newton steps of the convex scope's fallback, the
// retraining of the certified parameters from zeros: damped Newton on a
// strongly convex objective converges globally, quadratically once close.
const fallbackSteps = 100

// marginMethod describes autodiff.RoundingMargin for the certificate.
const marginMethod = "worst-case float64 rounding bound (γ_{N+1000}·F + 2γ_{P+1000}·Z)·‖(1/N)Σ_i |J_i|ᵀ·1‖₂ + γ_{N+1000}·μ‖w̃‖₂, " +
	"γ_k = k·u/(1 − k·u), u = 2⁻⁵³ (Higham, Accuracy and Stability of Numerical Algorithms, §3.1): the sum over N samples and each seed's rounding (F = 2 for xent and bce, 1 + max 2|z − t|/K for mse), " +
	"and each output's rounding through the seed (Z, the largest output of the model with absolute values, whose gradient gives |J_i|); P certified parameters"

// convexJob is everything the convex scope's update needs.
type convexJob struct {
	model    *onnxio.Model
	path     string
	plan     *scopePlan
	feats    *features
	head     *head
	forget   *dataset.ForgetSet
	obj      objective
	eval     autodiff.EvalOptions
	budget   float64
	maxSteps int
	noise    noiseDrawn // decided before any data-dependent number
	seed     *uint64
}

// head is a model's certified part alone: the sub-model from the features
// to the first output, compiled in float64 with its other parameters
// (frozen ones the certified part reads) frozen.
type head struct {
	model  *onnxio.Model
	prog   *autodiff.Program // float64: the gradients and the bound
	prog32 *autodiff.Program // float32: the Newton steps' Hessian-vector products
	freeze []string          // literal globs of the head's frozen parameters
}

// newHead cuts the certified part of m (at path) out at the features and
// compiles it.
func newHead(m *onnxio.Model, path string, proof *autodiff.AffineProof, features string) (*head, error) {
	hm, err := m.Extract([]string{features}, []string{proof.Output})
	if err != nil {
		return nil, badField("Model", "%s: the certified part: %w", path, err)
	}
	ps, err := hm.Params(onnxio.ParamOptions{})
	if err != nil {
		return nil, badInput("Model", err)
	}
	var frozen []string
	for _, p := range ps {
		if !slices.Contains(proof.Params, p.Name) {
			frozen = append(frozen, p.Name)
		}
	}
	h := &head{model: hm, freeze: literalGlobs(frozen)}
	if h.prog, err = autodiff.Compile(hm, autodiff.Options{Precision: autodiff.Float64, Freeze: h.freeze}); err != nil {
		return nil, badField("Model", "%s: the certified part: %w", path, err)
	}
	if h.prog32, err = autodiff.Compile(hm, autodiff.Options{Precision: autodiff.Float32, Freeze: h.freeze}); err != nil {
		return nil, badField("Model", "%s: the certified part: %w", path, err)
	}
	return h, nil
}

// convexInputs computes what the certified part of m (at path) reads, for
// the opened data ws: the features, by the frozen part, and the head; the
// labels are checked against the head's outputs before anything else is
// computed from them.
func convexInputs(ctx context.Context, rep *reporter, m *onnxio.Model, path string, ws *workspace, plan *scopePlan, eng Engine, loss autodiff.Loss) (*features, *head, error) {
	if len(plan.proof.Features) != 1 {
		return nil, nil, badField("Model", "%s: the certified part reads %d tensors computed from the data (%s); lethe supports one",
			path, len(plan.proof.Features), strings.Join(plan.proof.Features, ", "))
	}
	st := rep.start("features "+plan.proof.Features[0]+" of "+ws.name, ws.data.Len())
	feats, err := computeFeatures(ctx, m, path, ws.data, plan.proof.Features[0], eng, st)
	if err != nil {
		return nil, nil, err
	}
	st.done(fmt.Sprintf("%s, %s", feats.engine, feats.precision))
	h, err := newHead(m, path, plan.proof, feats.tensor)
	if err != nil {
		return nil, nil, err
	}
	width, err := outputWidth(h.prog, feats.data)
	if err != nil {
		return nil, nil, err
	}
	if loss == autodiff.CrossEntropy || width > 1 {
		if err := checkLabels(ws.data, ws.name, "Data", width); err != nil {
			return nil, nil, err
		}
	}
	return feats, h, nil
}

// convexUpdated is the convex scope's update, before anything is written.
type convexUpdated struct {
	certified, frozen []onnxio.Param
	frozenDigest      string
	w0                []float64 // the certified parameters as loaded
	clean             []float64 // w̃, within the budget of the retrained minimiser
	released          []float64 // w̃ + Y
	bound             certify.Bound
	steps             int
	start             certify.Start
	hvps              int
	elapsed           time.Duration
	stages            []Stage
}

// convexUpdate is the certified update of the convex scope (DESIGN.md §1):
// undamped Newton steps on the retained objective of the certified
// parameters, from the original values, until the a-posteriori bound
// (‖ĝ‖ + margin)/μ fits the budget; when they do not get there, the same
// steps from zeros (retraining from a data-independent start) until it
// does; then the noise the budget was calibrated to. Failing both is a
// numerical failure, not a refusal.
func convexUpdate(ctx context.Context, j *convexJob, st *step) (*convexUpdated, error) {
	started := time.Now()
	proof := j.plan.proof
	cert, frozen, err := splitParams(j.model, proof.Params)
	if err != nil {
		return nil, badInput("Model", err)
	}
	out := &convexUpdated{certified: cert, frozen: frozen}
	if out.w0, err = j.model.ParamVector(cert); err != nil {
		return nil, badInput("Model", err)
	}
	fw, err := j.model.ParamVector(frozen)
	if err != nil {
		return nil, badInput("Model", err)
	}
	out.frozenDigest = digestParams(frozen, fw)

	h := j.head
	prog := h.prog
	if !sameParams(prog.Params(), cert) {
		return nil, fmt.Errorf("lethe: unlearn: the certified part's parameters %v are not the model's certified ones %v", prog.Params(), cert)
	}
	retained := &autodiff.Objective{Program: prog, Data: checked{j.feats.data}, L2: j.obj.l2, Options: j.eval,
		Index: retainedIndices(j.feats.data.Len(), j.forget.Indices)}
	rm, err := autodiff.NewRoundingMargin(h.model, h.freeze, retained)
	if err != nil {
		return nil, wrapf("unlearn", err)
	}
	steps, err := newStepSolver(j.model, proof, cert, j.obj.loss, h, j.feats, retained)
	if err != nil {
		return nil, wrapf("unlearn", classify("Data", err))
	}
	run := func(label string, w []float64, maxSteps int) (*unlearn.BudgetResult, error) {
		st.info(label)
		t := time.Now()
		res, err := unlearn.NewtonToBudget(ctx, retained, w, unlearn.BudgetOptions{
			Mu: j.obj.l2, Budget: j.budget, Margin: rm.Margin, MaxSteps: maxSteps,
			Hessian: steps.hessian, PrecondAt: steps.preconditioner(),
			Progress: func(p unlearn.BudgetProgress) {
				st.progress(p.Step, fmt.Sprintf("Newton step %d: ‖ĝ‖ = %.3g (the budget needs ≤ %.3g)", p.Step, p.Posterior.GradNorm, j.obj.l2*j.budget))
			},
		})
		out.stages = append(out.stages, Stage{label, time.Since(t).Seconds()})
		if err != nil {
			return nil, wrapf("unlearn", classify("Data", err))
		}
		out.hvps += res.HVPs
		return res, nil
	}
	res, err := run("Newton steps from w* on D_r", out.w0, j.maxSteps)
	if err != nil {
		return nil, err
	}
	out.start = certify.StartOriginal
	if !res.Reached {
		st.info(fmt.Sprintf("%d Newton steps from w* left the bound at %.3g > budget %.3g: retraining the certified parameters from zeros (a data-independent start) until it holds",
			len(res.Steps), boundOrGrad(res), j.budget))
		if res, err = run("retraining the certified parameters from zeros on D_r", make([]float64, len(out.w0)), fallbackSteps); err != nil {
			return nil, err
		}
		out.start = certify.StartRetrainZeros
		if !res.Reached {
			return nil, fmt.Errorf("lethe: unlearn: numerical failure: %d Newton steps from zeros left the a-posteriori bound at %.3g, above the budget %.3g; nothing was written (the objective may be too ill-conditioned for float64: try a larger budget)",
				len(res.Steps), boundOrGrad(res), j.budget)
		}
	}
	out.clean, out.steps = res.W, len(res.Steps)
	solver := certify.Solver{Name: certify.SolverNone}
	if n := len(res.Steps); n > 0 {
		s := res.Steps[n-1].Solve
		solver = certify.Solver{Name: s.Method, Iterations: s.Iterations, Repetitions: s.Repetitions, Residual: s.Residual, HVPs: s.HVPs}
	}
	out.bound, err = certify.PosteriorBound(certify.PosteriorInputs{
		Mu: j.obj.l2, GradNorm: res.Posterior.GradNorm, Margin: res.Posterior.Margin, MarginMethod: marginMethod,
		Budget: j.budget, NewtonSteps: out.steps, Start: out.start, Solver: solver,
	})
	if err != nil {
		// NewtonToBudget and PosteriorBound compute the same number, so a
		// *certify.BudgetError here is a bug.
		return nil, fmt.Errorf("lethe: unlearn: the posterior bound: %w", err)
	}
	if out.released, err = noisy(out.clean, j.noise.sigma, j.seed); err != nil {
		return nil, err
	}
	out.elapsed = time.Since(started)
	return out, nil
}

// sameParams reports whether a and b list the same parameters in the same
// order and layout.
func sameParams(a, b []onnxio.Param) bool {
	return slices.EqualFunc(a, b, func(p, q onnxio.Param) bool {
		return p.Name == q.Name && p.Offset == q.Offset && p.Size == q.Size
	})
}

// boundOrGrad is the bound at the last point, or ‖ĝ‖/μ when the gradient
// alone already exceeded the budget (the margin was then not computed).
func boundOrGrad(r *unlearn.BudgetResult) float64 {
	if r.Posterior.Bound > 0 {
		return r.Posterior.Bound
	}
	return r.Posterior.GradNorm / r.Posterior.Mu
}

// digestParams is certify.DigestParameters of the parameters ps with the
// values w (laid out as ParamVector returns them).
func digestParams(ps []onnxio.Param, w []float64) string {
	names := make([]string, len(ps))
	values := make([][]float64, len(ps))
	for i, p := range ps {
		names[i], values[i] = p.Name, w[p.Offset:p.Offset+p.Size]
	}
	return certify.DigestParameters(names, values)
}
