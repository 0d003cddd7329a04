package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/parity"
)

// releaseRequest writes an unlearned model and its certificate.
type releaseRequest struct {
	model    *onnxio.Model  // the input model
	params   []onnxio.Param // the parameters weights replace
	weights  []float64      // the released parameters w'
	sample   []int          // one sample's shape, for the parity probe
	metadata map[string]string
	outPath  string
	certPath string
	cert     *certify.Certificate // filled except output, parity, assumptions, created_at
	probe    probeSpec
	signKey  ed25519.PrivateKey
}

// probeSpec is the parity probe: a batch of n samples regenerable from seed.
type probeSpec struct {
	seed uint64
	n    int
}

// release checks onnxruntime parity on the new weights, then writes the model
// and the certificate. Parity comes first: a model onnxruntime disagrees with
// is never released. If writing the certificate fails, the model is removed
// again, so a failure leaves nothing behind.
func release(rr *releaseRequest) (*parity.Result, error) {
	out := rr.model.Clone()
	if err := out.SetParamVector(rr.params, rr.weights); err != nil {
		return nil, failed(err)
	}
	for _, k := range slices.Sorted(maps.Keys(rr.metadata)) {
		out.SetMetadata(k, rr.metadata[k])
	}
	res, err := checkParity(out, rr.sample, rr.probe)
	if err != nil {
		return nil, err
	}
	c := rr.cert
	seed := rr.probe.seed
	c.Parity = certify.Parity{
		OnnxruntimeVersion: res.ORTVersion,
		Probe:              certify.Probe{Source: certify.ProbeRandom, Seed: &seed, Shape: probeShape(rr.probe.n, rr.sample)},
		MaxAbsDiff:         res.MaxAbs,
		MaxRelDiff:         res.MaxRel,
		Tolerance:          certify.Tolerance{Abs: res.Tolerance.Abs, Rel: res.Tolerance.Rel, Slack: res.Tolerance.Slack},
		Pass:               res.Pass,
	}
	for _, o := range res.Native {
		c.Parity.NativeOutputs = append(c.Parity.NativeOutputs, certify.ParityOutput{Name: o.Name, Shape: o.Shape, Values: o.Values})
	}
	if !res.Pass {
		return res, failed(fmt.Errorf("onnxruntime disagrees with lethe's engine on the unlearned model (%s); nothing was written", res.Worst))
	}
	c.Output = certify.FileRef{Path: rr.outPath}
	c.CreatedAt = certify.Timestamp(time.Now())
	c.Assumptions = certify.Assumptions(c)
	binding, err := c.BindingDigest()
	if err != nil {
		return nil, failed(err)
	}
	out.SetMetadata(metaCertificate, binding)
	if err := out.Save(rr.outPath); err != nil {
		if errors.Is(err, onnxio.ErrOverwriteInput) {
			return nil, badInput(err)
		}
		return nil, failed(err)
	}
	undo := func(err error) error {
		os.Remove(rr.outPath)
		os.Remove(rr.outPath + ".data")
		return failed(err)
	}
	if c.Output.SHA256, err = certify.FileSHA256(rr.outPath); err != nil {
		return nil, undo(err)
	}
	if rr.signKey != nil {
		if err := c.Sign(rr.signKey); err != nil {
			return nil, undo(err)
		}
	}
	if err := c.Write(rr.certPath); err != nil {
		return nil, undo(fmt.Errorf("writing the certificate %s: %w", rr.certPath, err))
	}
	return res, nil
}

// checkParity runs the model in onnxruntime and in lethe's engine on the
// probe batch.
func checkParity(m *onnxio.Model, sample []int, p probeSpec) (*parity.Result, error) {
	x := parity.RandomProbe(p.seed, append([]int{p.n}, sample...))
	res, err := parity.Check(m, x, sample, p.n, parity.DefaultTolerance)
	if err != nil {
		return nil, failed(err)
	}
	return res, nil
}

func probeShape(n int, sample []int) []int64 {
	s := []int64{int64(n)}
	for _, d := range sample {
		s = append(s, int64(d))
	}
	return s
}
