package main

import (
	"fmt"
	"strconv"

	"github.com/lethe-ml/lethe/onnxio"
)

// Keys lethe writes into a model's metadata_props so that later commands
// (unlearn, verify) know how the model was trained and certified.
const (
	// metaRadius is the ball radius C the parameters were constrained to.
	metaRadius = "lethe.radius"
	// metaL2 is the L2 weight μ of the objective the model was trained on.
	metaL2 = "lethe.l2"
	// metaLoss is the loss (xent, mse, bce) the model was trained on.
	metaLoss = "lethe.loss"
	// metaCertificate is the binding digest of the certificate of the
	// unlearning that produced the model (certify.Certificate.BindingDigest).
	metaCertificate = "lethe.certificate"
)

// metaFloat reads a float metadata value; ok is false when absent.
func metaFloat(m *onnxio.Model, key string) (v float64, ok bool, err error) {
	s, ok := m.Metadata()[key]
	if !ok {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, true, fmt.Errorf("%s: metadata %s = %q is not a number", m.Path(), key, s)
	}
	return v, true, nil
}

// formatFloat writes a float so that metaFloat reads back the same value.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// trainingDefaults fills what cmd was not given (radius when 0, --l2 unless
// l2Set, --loss unless lossSet) from the metadata lethe constrain recorded
// in ws's model, named model in messages. Without a radius anywhere it is a
// usage error; recorded values that are not valid (C ≤ 0, μ < 0, an unknown
// loss) are bad input.
func trainingDefaults(cmd, model string, ws *workspace, radius *float64, ef *engineFlags, l2Set, lossSet bool) error {
	if *radius == 0 {
		c, ok, err := metaFloat(ws.model, metaRadius)
		switch {
		case err != nil:
			return badInput(err)
		case !ok:
			return usageErrorf("%s: --radius is required: %s has no %s metadata (lethe constrain records it)", cmd, model, metaRadius)
		case !(c > 0):
			return badInput(fmt.Errorf("%s: metadata %s = %g: want C > 0", model, metaRadius, c))
		}
		*radius = c
	}
	if !l2Set {
		mu, ok, err := metaFloat(ws.model, metaL2)
		switch {
		case err != nil:
			return badInput(err)
		case ok && !(mu >= 0):
			return badInput(fmt.Errorf("%s: metadata %s = %g: want μ ≥ 0", model, metaL2, mu))
		case ok:
			ef.L2 = mu
		}
	}
	if loss, ok := ws.model.Metadata()[metaLoss]; ok && !lossSet {
		ef.Loss = loss
		if err := ef.validate(cmd); err != nil {
			return badInput(fmt.Errorf("%s: metadata %s: %w", model, metaLoss, err))
		}
		ws.eval = ef.evalOptions()
	}
	return nil
}
