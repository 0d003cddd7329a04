package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/audit"
	"github.com/lethe-ml/lethe/unlearn"
)

// unlearn runs lethe unlearn's certified update and release in the given
// scope, writing the model to out: the same request, update, certificate
// and parity-gated write as the command.
func (r *run) unlearn(ctx context.Context, scope lethe.Scope, out string) (*lethe.UnlearnResult, error) {
	relay, stop := r.rep.relay(r.setup.Name)
	defer stop()
	res, err := lethe.Unlearn(ctx, lethe.UnlearnRequest{
		Model: r.setup.Model, Data: lethe.Data{Source: r.train}, Forget: lethe.Subset{File: r.forgetPath}, Out: out,
		Engine: r.engine(), Objective: r.objective(), Epsilon: r.o.Epsilon, Delta: r.o.Delta, Scope: scope,
		Lipschitz: unlearn.LipschitzOptions{Pairs: r.setup.LipschitzPairs}, KeepNoiseFree: true, Progress: relay,
	})
	if err != nil {
		return nil, err
	}
	c := res.Certificate
	what := fmt.Sprintf("‖u‖ = %.4g, ρ = %.3g", res.StepNorm, res.Residual)
	if res.PosteriorBound > 0 {
		what = fmt.Sprintf("%d Newton step(s) from %s, a-posteriori bound %.3g", res.NewtonSteps, res.Start, res.PosteriorBound)
	}
	r.rep.logf("%s: certified update (%s scope, %d parameters): %s; Δ = %.4g (%s), σ = %.4g; %s",
		r.setup.Name, res.Scope, res.CertifiedParameters, what, c.Bound.Sensitivity, c.Bound.Active, c.Sigma, c.Status)
	return res, nil
}

// certifiedRelease is the certified row's release, in the setup's scope.
func (r *run) certifiedRelease(ctx context.Context) error {
	out := filepath.Join(r.dir, r.setup.Slug+"-unlearned.onnx")
	if r.setup.Private == nil {
		f := strconv.FormatFloat
		r.unlearnArgs = []string{"unlearn", r.setup.Model, "--data", r.trainSpec, "--forget", r.forgetPath, "--scope", string(r.setup.Scope),
			"--epsilon", f(r.o.Epsilon, 'g', -1, 64), "--delta", f(r.o.Delta, 'g', -1, 64),
			"--radius", f(r.C, 'g', -1, 64), "--l2", f(r.mu, 'g', -1, 64), "--precision", r.engine().Precision.String(), "-o", out}
		if t := r.engine().Threads; t > 0 {
			r.unlearnArgs = append(r.unlearnArgs, "--threads", strconv.Itoa(t))
		}
		if k := r.setup.LipschitzPairs; k > 0 {
			r.unlearnArgs = append(r.unlearnArgs, "--lipschitz-pairs", strconv.Itoa(k))
		}
	}
	res, err := r.unlearn(ctx, r.setup.Scope, out)
	if err != nil {
		return err
	}
	r.unlearned = res
	r.timings = append(r.timings,
		audit.Timing{Name: "certified update (" + res.Scope + " scope)", Duration: seconds(res.UpdateSeconds)},
		audit.Timing{Name: "features, parity check and release", Duration: seconds(res.Seconds - res.UpdateSeconds)})
	return nil
}

// fullRelease is Setup.FullRow's release: the same model and forget set in
// the full scope, σ calibrated to 2C. It runs only beside a convex-scope
// certified row.
func (r *run) fullRelease(ctx context.Context) error {
	if !r.setup.FullRow || !r.convex() {
		return nil
	}
	res, err := r.unlearn(ctx, lethe.ScopeFull, filepath.Join(r.dir, r.setup.Slug+"-full-unlearned.onnx"))
	if err != nil {
		return err
	}
	r.full = res
	r.timings = append(r.timings, audit.Timing{Name: "certified update (full network)", Duration: seconds(res.UpdateSeconds)})
	return nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// runVerify runs lethe verify on the released model and its certificate,
// against the original and on the test data.
func (r *run) runVerify(ctx context.Context) error {
	u := r.unlearned
	p := r.step("lethe verify "+u.Out, 0)
	rep, err := lethe.Verify(ctx, lethe.VerifyRequest{Model: u.Out, Cert: u.CertPath, Input: r.setup.Model, Data: lethe.Data{Source: r.test}})
	if rep == nil {
		return err
	}
	r.verify = rep
	r.timings = append(r.timings, audit.Timing{Name: "verify", Duration: p.done(rep.Tally())})
	if err != nil {
		return fmt.Errorf("lethe verify %s: %w", u.Out, err)
	}
	return nil
}

// retrain writes the reference beside the others: in the convex scope the
// exact retrain of the certified parameters (Newton from zeros to
// ‖∇L(w, D_r)‖ ≤ 1e-9, the frozen ones fixed), in the full scope a retrain
// from a fresh initialisation on D_r with the model card's recipe in the
// same ball.
func (r *run) retrain(ctx context.Context) error {
	scope, rc := lethe.ScopeFull, r.recipe
	if r.convex() {
		scope = r.setup.Scope
		r.rep.logf("%s: retrain reference: the certified parameters refitted exactly on D_r (Newton from zeros), μ = %g", r.setup.Name, r.mu)
	} else {
		r.rep.logf("%s: retrain recipe: fresh initialisation (seed %d), projected Adam, lr %g, batch %d, %d epochs, C = %g, μ = %g",
			r.setup.Name, r.o.RetrainSeed, rc.LR, rc.BatchSize, rc.Epochs, r.C, r.mu)
	}
	r.retrainPath = filepath.Join(r.dir, r.setup.Slug+"-retrained.onnx")
	relay, stop := r.rep.relay(r.setup.Name)
	defer stop()
	res, err := lethe.Retrain(ctx, lethe.RetrainRequest{
		Model: r.setup.Model, Data: lethe.Data{Source: r.train}, Forget: lethe.Subset{File: r.forgetPath}, Out: r.retrainPath,
		Objective: lethe.Objective{Radius: r.C, L2: new(r.mu), Loss: "xent"}, Scope: scope,
		Recipe: lethe.Recipe{Optimizer: "adam", LR: rc.LR, Schedule: "constant", BatchSize: rc.BatchSize, Epochs: rc.Epochs, Seed: r.o.RetrainSeed},
		Engine: r.engine(), Progress: relay,
	})
	if err != nil {
		return err
	}
	r.retrained = res
	r.timings = append(r.timings, audit.Timing{Name: "retraining", Duration: seconds(res.TrainSeconds)})
	return nil
}
