package lethe

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/internal/atomicfile"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/parity"
)

// releaseRequest writes an unlearned model and its certificate.
type releaseRequest struct {
	model    *onnxio.Model  // the input model
	params   []onnxio.Param // the parameters weights replace
	weights  []float64      // the released parameters w′
	sample   []int          // one sample's shape, for the parity probe
	obj      objective      // recorded in the output's metadata
	outPath  string
	certPath string
	cert     *certify.Certificate // filled except output, parity, assumptions, created_at
	probe    Probe
	signKey  ed25519.PrivateKey
	// split, when not nil, has the parity check evaluate lethe's side as
	// onnxruntime's backbone plus lethe's head, for a model whose backbone
	// has an operator lethe's engine lacks.
	split *split
}

// split cuts a model into a backbone (its data input → cut) and a head
// (cut → output), as the convex scope computes it.
type split struct {
	cut, output string
}

// evaluator returns lethe's side of the parity check of m: the native
// engine, or the backbone in onnxruntime and the head natively. The
// returned function releases what the evaluator holds.
func (s *split) evaluator(m *onnxio.Model) (parity.Evaluator, func(), error) {
	if s == nil {
		return parity.Native(m), func() {}, nil
	}
	ins := m.Graph().DataInputs()
	if len(ins) != 1 {
		return nil, nil, fmt.Errorf("the model has %d data inputs; parity probes feed exactly one", len(ins))
	}
	backbone, err := m.Extract([]string{ins[0].Name}, []string{s.cut})
	if err != nil {
		return nil, nil, err
	}
	head, err := m.Extract([]string{s.cut}, []string{s.output})
	if err != nil {
		return nil, nil, err
	}
	sp, err := parity.NewSplit(backbone, head)
	if err != nil {
		return nil, nil, err
	}
	return sp.Evaluate, func() { sp.Close() }, nil
}

// release checks onnxruntime parity on the new weights, then writes the
// model and the certificate. Parity comes first: a model onnxruntime
// disagrees with is never released.
//
// The release invariant: a model at outPath always has its own complete
// certificate at certPath. The model is the product, used by others, and it
// never appears without the evidence for it. release keeps the invariant
// whenever the process stops, killed included:
//
//  1. Both files are written in full to temporary files in their folders
//     and synced (unnamed on Linux: a process killed now leaves nothing).
//     The model's SHA-256 goes into the certificate before it is written.
//  2. A model already at outPath is removed, then a certificate already at
//     certPath (a model lethe wrote never outlives its certificate).
//  3. The certificate is moved into place, then the model.
//
// A process killed at any moment therefore leaves one of: the previous
// model and certificate; the previous certificate alone; nothing; the new
// certificate alone; the new model and certificate. A certificate without
// its model is an unfinished release: its output.sha256 names a file that
// does not exist, `lethe verify` refuses to run without the model (exit
// 2), and the next release to the same paths replaces it. When a step
// fails, what this release moved into place is removed again.
func release(rr *releaseRequest) (*parity.Result, error) {
	out := rr.model.Clone()
	if err := out.SetParamVector(rr.params, rr.weights); err != nil {
		return nil, wrapf("release", err)
	}
	setTrainingMetadata(out, rr.obj)
	shape := append([]int{rr.probe.Size}, rr.sample...)
	x := parity.RandomProbe(rr.probe.Seed, shape)
	ev, closeEv, err := rr.split.evaluator(out)
	if err != nil {
		return nil, wrapf("release", err)
	}
	defer closeEv()
	res, err := parity.CheckWith(out, ev, x, rr.sample, rr.probe.Size, parity.DefaultTolerance)
	if err != nil {
		return nil, wrapf("release", err)
	}
	c := rr.cert
	seed := rr.probe.Seed
	c.Parity = certify.Parity{
		OnnxruntimeVersion: res.ORTVersion,
		Probe:              certify.Probe{Source: certify.ProbeRandom, Seed: &seed, Shape: toInt64(shape)},
		MaxAbsDiff:         res.MaxAbs,
		MaxRelDiff:         res.MaxRel,
		Tolerance:          certify.Tolerance{Abs: res.Tolerance.Abs, Rel: res.Tolerance.Rel, Slack: res.Tolerance.Slack},
		Pass:               res.Pass,
	}
	for _, o := range res.Native {
		c.Parity.NativeOutputs = append(c.Parity.NativeOutputs, certify.ParityOutput{Name: o.Name, Shape: o.Shape, Values: o.Values})
	}
	if !res.Pass {
		return res, &CheckError{Checks: []string{"parity"},
			Err: fmt.Errorf("onnxruntime disagrees with lethe's engine on the unlearned model (%s); nothing was written", res.Worst)}
	}
	c.Output = certify.FileRef{Path: rr.outPath}
	c.CreatedAt = certify.Timestamp(time.Now())
	c.Assumptions = certify.Assumptions(c)
	binding, err := c.BindingDigest()
	if err != nil {
		return nil, certificateError(rr.certPath, err)
	}
	out.SetMetadata(MetaCertificate, binding)
	// 1. Stage both files.
	model, err := out.Stage(rr.outPath)
	if err != nil {
		return nil, saveError(rr.outPath, err)
	}
	defer model.Abort()
	c.Output.SHA256 = model.SHA256()
	if rr.signKey != nil {
		if err := c.Sign(rr.signKey); err != nil {
			return nil, wrapf("release", err)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, certificateError(rr.certPath, err)
	}
	b, err := c.Marshal()
	if err != nil {
		return nil, certificateError(rr.certPath, err)
	}
	cert, err := atomicfile.Create(rr.certPath, 0o644)
	if err != nil {
		return nil, certificateError(rr.certPath, err)
	}
	defer cert.Abort()
	if _, err := cert.Write(b); err != nil {
		return nil, certificateError(rr.certPath, err)
	}
	releaseHook("staged")
	// 2. Remove a previous model, then its certificate.
	for _, p := range []string{rr.outPath, rr.certPath} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("lethe: replacing %s: %w", p, err)
		}
		releaseHook("removed " + p)
	}
	// 3. The certificate, then the model.
	if err := cert.Commit(false); err != nil {
		return nil, certificateError(rr.certPath, err)
	}
	releaseHook("certificate")
	if err := model.Commit(); err != nil {
		os.Remove(rr.certPath)
		return nil, saveError(rr.outPath, err)
	}
	return res, nil
}

// releaseHook is called after each step of release with the step's name:
// "staged", "removed PATH" and "certificate". Tests replace it to stop a
// release there, as a killed process would.
var releaseHook = func(step string) {}

// saveModel writes a model atomically; writing over an input is bad input.
func saveModel(m *onnxio.Model, path string) error {
	return saveError(path, m.Save(path))
}

// saveError is a failure to write the model at path: bad input when it
// would overwrite an input.
func saveError(path string, err error) error {
	switch {
	case errors.Is(err, onnxio.ErrOverwriteInput):
		return badInput("Out", err)
	case err != nil:
		return fmt.Errorf("lethe: writing %s: %w", path, err)
	}
	return nil
}

func toInt64(s []int) []int64 {
	r := make([]int64, len(s))
	for i, v := range s {
		r[i] = int64(v)
	}
	return r
}
