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
