package lethe

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/lethe-ml/lethe/certify"
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
// disagrees with is never released. If writing the certificate fails, the
// model is removed again, so a failure leaves nothing behind.
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
	if err := saveModel(out, rr.outPath); err != nil {
		return nil, err
	}
	undo := func(err error) error {
		os.Remove(rr.outPath)
		os.Remove(rr.outPath + ".data")
		return err
	}
	if c.Output.SHA256, err = certify.FileSHA256(rr.outPath); err != nil {
		return nil, undo(wrapf("release", err))
	}
	if rr.signKey != nil {
		if err := c.Sign(rr.signKey); err != nil {
			return nil, undo(wrapf("release", err))
		}
	}
	if err := c.Write(rr.certPath); err != nil {
		return nil, undo(certificateError(rr.certPath, err))
	}
	return res, nil
}

// saveModel writes a model atomically; writing over an input is bad input.
func saveModel(m *onnxio.Model, path string) error {
	err := m.Save(path)
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
