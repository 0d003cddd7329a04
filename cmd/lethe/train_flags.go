package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/unlearn"
)

// trainFlags are the recipe flags of the commands that train with projected
// SGD/Adam (constrain, retrain). Their defaults differ per command
// (trainDefaults); the flag names are the same everywhere.
type trainFlags struct {
	Radius    float64
	Epochs    int
	LR        float64
	Optimizer string
	Momentum  float64
	Schedule  string
	MinLR     float64
	StepSize  int
	Gamma     float64
	Seed      uint64
}

// trainDefaults are one command's recipe defaults.
type trainDefaults struct {
	Epochs    int
	LR        float64
	Schedule  string
	BatchSize int
	Seed      uint64
	SeedUsage string
}

// register adds the recipe flags and the engine flags to fs. --batch-size is
// the mini-batch size here, which changes results, so it gets its own
// default and help text.
func (f *trainFlags) register(fs *pflag.FlagSet, ef *engineFlags, d trainDefaults) {
	ef.register(fs)
	bs := fs.Lookup("batch-size")
	ef.BatchSize = d.BatchSize
	bs.DefValue = strconv.Itoa(d.BatchSize)
	bs.Usage = "mini-batch size of training (the last batch of an epoch may be smaller)"
	fs.IntVar(&f.Epochs, "epochs", d.Epochs, "passes over the training data")
	fs.Float64Var(&f.LR, "lr", d.LR, "learning rate η")
	fs.StringVar(&f.Optimizer, "optimizer", "adam", "adam (β 0.9, 0.999, ε 1e-8) or sgd (torch.optim semantics)")
	fs.Float64Var(&f.Momentum, "momentum", 0, "SGD momentum in [0, 1) (--optimizer sgd only)")
	fs.StringVar(&f.Schedule, "schedule", d.Schedule, "learning-rate schedule: constant, cosine (annealed per step to --min-lr) or step (×--gamma every --step-size epochs)")
	fs.Float64Var(&f.MinLR, "min-lr", 0, "final learning rate of --schedule cosine")
	fs.IntVar(&f.StepSize, "step-size", 10, "epochs between learning-rate decays of --schedule step")
	fs.Float64Var(&f.Gamma, "gamma", 0.1, "learning-rate factor of --schedule step, in (0, 1]")
	fs.Uint64Var(&f.Seed, "seed", d.Seed, d.SeedUsage)
}

// validate checks the recipe flags; cmd names the command in messages.
// radiusRequired makes --radius mandatory; otherwise 0 means "not given".
func (f *trainFlags) validate(cmd string, radiusRequired bool) error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case radiusRequired && f.Radius == 0:
		return usageErrorf("%s: --radius is required: the ball radius C > 0 (the paper uses C = 20)", cmd)
	case f.Radius < 0 || !finite(f.Radius):
		return usageErrorf("%s: --radius %g: want C > 0", cmd, f.Radius)
	case f.Epochs < 1:
		return usageErrorf("%s: --epochs %d: want at least 1", cmd, f.Epochs)
	case !(f.LR > 0) || !finite(f.LR):
		return usageErrorf("%s: --lr %g: want a learning rate > 0", cmd, f.LR)
	case f.Optimizer != "adam" && f.Optimizer != "sgd":
		return usageErrorf("%s: --optimizer %q: want adam or sgd", cmd, f.Optimizer)
	case !(f.Momentum >= 0 && f.Momentum < 1):
		return usageErrorf("%s: --momentum %g: want a value in [0, 1)", cmd, f.Momentum)
	case f.Momentum != 0 && f.Optimizer != "sgd":
		return usageErrorf("%s: --momentum applies to --optimizer sgd only (Adam has its own moments)", cmd)
	case f.Schedule != "constant" && f.Schedule != "cosine" && f.Schedule != "step":
		return usageErrorf("%s: --schedule %q: want constant, cosine or step", cmd, f.Schedule)
	case !(f.MinLR >= 0) || f.MinLR >= f.LR:
		return usageErrorf("%s: --min-lr %g: want 0 ≤ min-lr < --lr (%g)", cmd, f.MinLR, f.LR)
	case f.StepSize < 1:
		return usageErrorf("%s: --step-size %d: want at least 1 epoch", cmd, f.StepSize)
	case !(f.Gamma > 0 && f.Gamma <= 1):
		return usageErrorf("%s: --gamma %g: want a factor in (0, 1]", cmd, f.Gamma)
	}
	return nil
}

// options turns the flags into unlearn.TrainOptions with the given ball.
func (f *trainFlags) options(batchSize int, radius float64) unlearn.TrainOptions {
	o := unlearn.TrainOptions{
		LearningRate: f.LR, Momentum: f.Momentum, BatchSize: batchSize, Epochs: f.Epochs,
		MinLR: f.MinLR, StepSize: f.StepSize, Gamma: f.Gamma, Radius: radius, Seed: f.Seed,
	}
	if f.Optimizer == "sgd" {
		o.Optimizer = unlearn.SGD
	}
	switch f.Schedule {
	case "cosine":
		o.Schedule = unlearn.CosineLR
	case "step":
		o.Schedule = unlearn.StepLR
	}
	return o
}

// recipe describes the training recipe in words, for logs and summaries.
func (f *trainFlags) recipe(batchSize int) string {
	opt := f.Optimizer
	if f.Momentum != 0 {
		opt += fmt.Sprintf(" momentum %g", f.Momentum)
	}
	sched := f.Schedule
	switch f.Schedule {
	case "cosine":
		sched = fmt.Sprintf("cosine to %g", f.MinLR)
	case "step":
		sched = fmt.Sprintf("×%g every %d epochs", f.Gamma, f.StepSize)
	}
	return fmt.Sprintf("projected %s, lr %g (%s), batch %d, %d epochs, seed %d", opt, f.LR, sched, batchSize, f.Epochs, f.Seed)
}

// trainRecipeJSON is the recipe in a --json summary.
type trainRecipeJSON struct {
	Optimizer string  `json:"optimizer"`
	LR        float64 `json:"lr"`
	Momentum  float64 `json:"momentum,omitempty"`
	Schedule  string  `json:"schedule"`
	BatchSize int     `json:"batch_size"`
	Epochs    int     `json:"epochs"`
	Seed      uint64  `json:"seed"`
}

func (f *trainFlags) recipeJSON(batchSize int) trainRecipeJSON {
	return trainRecipeJSON{Optimizer: f.Optimizer, LR: f.LR, Momentum: f.Momentum, Schedule: f.Schedule,
		BatchSize: batchSize, Epochs: f.Epochs, Seed: f.Seed}
}

// trainJob is one projected training run of constrain or retrain.
type trainJob struct {
	io     *ioStreams
	global *globalOptions
	label  string // e.g. "constrained training on D"
	obj    *autodiff.Objective
	w      []float64 // the start; updated in place
	opts   unlearn.TrainOptions
}

// train runs the job with a progress bar and one line per epoch (the mean
// mini-batch loss of the epoch, the learning rate and ‖w‖). Errors are exit
// code 1 (training failed), unless the data could not be read (2).
func (j *trainJob) train(ctx context.Context) (*unlearn.TrainResult, time.Duration, error) {
	n := j.obj.Len()
	bs := min(max(j.opts.BatchSize, 1), n)
	perEpoch := (n + bs - 1) / bs
	p := j.global.progress(j.io, j.label, perEpoch*j.opts.Epochs)
	var sum float64
	var steps int
	j.opts.Progress = func(tp unlearn.TrainProgress) {
		sum += tp.Loss
		steps++
		p.update(tp.Step, fmt.Sprintf("epoch %d/%d, batch loss %.4g", tp.Epoch, tp.Epochs, tp.Loss))
		if tp.Step%perEpoch == 0 || tp.Step == tp.Steps {
			if p.on {
				fmt.Fprintf(j.io.Err, "lethe:   epoch %d/%d: mean batch loss %.6g, lr %.4g, ‖w‖ %.6g\n",
					tp.Epoch, tp.Epochs, sum/float64(steps), tp.LR, unlearn.Norm(j.w))
			}
			sum, steps = 0, 0
		}
	}
	res, err := unlearn.Train(ctx, j.obj, j.w, j.opts)
	var diverged *unlearn.DivergedError
	switch {
	case errors.As(err, &diverged):
		return nil, 0, failed(fmt.Errorf("%w; try a smaller --lr; nothing was written", err))
	case err != nil:
		return nil, 0, computeError(fmt.Errorf("%w; nothing was written", err))
	}
	d := p.done(fmt.Sprintf("loss %.6g, ‖∇‖ %.4g, ‖w‖ %.6g", res.Loss, res.GradNorm, res.Norm))
	return res, d, nil
}

// trained is what trainAndSave reports: the training run, its duration, and
// the diagnosis of the parameters the written file holds.
type trained struct {
	res   *unlearn.TrainResult
	took  time.Duration
	final unlearn.Diagnosis
}

// trainAndSave trains the job in the C-ball, stores the parameters in a clone
// of ws's model (inside the ball after float32 rounding) with the training
// metadata, diagnoses the stored parameters on the job's objective, and writes
// the model to path. Nothing is written if any step fails.
func (j *trainJob) trainAndSave(ctx context.Context, ws *workspace, radius float64, ef *engineFlags, path string) (*trained, error) {
	res, took, err := j.train(ctx)
	if err != nil {
		return nil, err
	}
	out, stored, err := storeInBall(ws.model, ws.prog.Params(), j.w, radius)
	if err != nil {
		return nil, failed(err)
	}
	final, err := unlearn.Diagnose(ctx, j.obj, stored, radius)
	if err != nil {
		return nil, computeError(err)
	}
	setTrainingMetadata(out, radius, ef)
	if err := saveModel(out, path); err != nil {
		return nil, err
	}
	return &trained{res: res, took: took, final: final}, nil
}

// storeInBall writes w into a clone of m as the parameters ps and returns the
// clone with the parameter values it actually stores (float32 parameters are
// rounded). Rounding can push a vector on the sphere ‖w‖ = C just outside
// the ball, so the stored vector is shrunk by a few ulps until its own norm
// is at most radius: what the file holds satisfies the constraint.
func storeInBall(m *onnxio.Model, ps []onnxio.Param, w []float64, radius float64) (*onnxio.Model, []float64, error) {
	out := m.Clone()
	scaled := append([]float64(nil), w...)
	for range 20 {
		if err := out.SetParamVector(ps, scaled); err != nil {
			return nil, nil, err
		}
		stored, err := out.ParamVector(ps)
		if err != nil {
			return nil, nil, err
		}
		norm := unlearn.Norm(stored)
		if radius <= 0 || norm <= radius {
			return out, stored, nil
		}
		s := radius / norm * (1 - 1e-7)
		for i := range scaled {
			scaled[i] = stored[i] * s
		}
	}
	return nil, nil, fmt.Errorf("could not round the parameters into the ball of radius %g", radius)
}

// saveModel writes a model, mapping a refusal to write over an input to exit
// code 2 and any other failure to 1.
func saveModel(m *onnxio.Model, path string) error {
	err := m.Save(path)
	switch {
	case errors.Is(err, onnxio.ErrOverwriteInput):
		return badInput(err)
	case err != nil:
		return failed(err)
	}
	return nil
}

// setTrainingMetadata records in m what constrain and retrain trained with,
// which unlearn and retrain read back as their defaults. The keys go in a
// fixed order, so equal runs write equal files. A trained model is no longer
// the output of an unlearning, so an inherited certificate binding is removed.
func setTrainingMetadata(m *onnxio.Model, radius float64, ef *engineFlags) {
	m.DeleteMetadata(metaCertificate)
	m.SetMetadata(metaRadius, formatFloat(radius))
	m.SetMetadata(metaL2, formatFloat(ef.L2))
	m.SetMetadata(metaLoss, ef.Loss)
}
