package lethe

import (
	"fmt"
	"math"
	"strconv"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/onnxio"
)

// Keys lethe writes into a model's metadata_props, so that later steps know
// how the model was trained and certified.
const (
	// MetaRadius is the ball radius C the parameters were constrained to.
	MetaRadius = "lethe.radius"
	// MetaL2 is the L2 weight μ of the objective the model was trained on.
	MetaL2 = "lethe.l2"
	// MetaLoss is the loss (xent, mse, bce) the model was trained on.
	MetaLoss = "lethe.loss"
	// MetaCertificate is the binding digest of the certificate of the
	// unlearning that produced the model (certify.Certificate.BindingDigest).
	MetaCertificate = "lethe.certificate"
)

// Objective is the training objective L(w, S) + (μ/2)‖w‖² on the ball
// ‖w‖ ≤ C that a model was trained on (DESIGN.md §1), which unlearning and
// retraining must use too. Each field that is not given takes the value
// that Constrain (or Retrain, or Unlearn) recorded in the model's metadata.
// The zero value takes all three from the metadata.
type Objective struct {
	// Loss is the per-sample loss on the model's first output: "xent"
	// (softmax cross-entropy), "mse" or "bce". "" means the model's
	// lethe.loss metadata, else "xent".
	Loss string
	// L2 is the weight μ ≥ 0 of the regulariser. nil means the model's
	// lethe.l2 metadata, else 0; write new(0.0) for an explicit μ = 0.
	L2 *float64
	// Radius is C > 0. 0 means the model's lethe.radius metadata, and is
	// an error when the model has none.
	Radius float64
}

// objective is an Objective with every default applied.
type objective struct {
	loss   autodiff.Loss
	name   string // the loss as written in metadata and certificates
	l2     float64
	radius float64
}

// validate checks the fields that were given.
func (o Objective) validate() error {
	if o.Loss != "" {
		if _, err := autodiff.ParseLoss(o.Loss); err != nil {
			return badField("Objective.Loss", "loss %q: want xent, mse or bce", o.Loss)
		}
	}
	switch {
	case o.L2 != nil && !(*o.L2 >= 0 && !math.IsInf(*o.L2, 0)):
		return badField("Objective.L2", "μ = %g: want a finite μ ≥ 0", *o.L2)
	case !(o.Radius >= 0) || math.IsInf(o.Radius, 0):
		return badField("Objective.Radius", "C = %g: want a finite C > 0 (or 0 for the model's metadata)", o.Radius)
	}
	return nil
}

// resolve fills what o does not give from the metadata of m (at path).
// Recorded values that are not valid are bad input naming the model.
func (o Objective) resolve(m *onnxio.Model, path string) (objective, error) {
	r, err := o.resolveOptionalRadius(m, path)
	if err == nil {
		err = r.requireRadius(path)
	}
	return r, err
}

// requireRadius refuses an objective without a radius C.
func (o objective) requireRadius(path string) error {
	if o.radius == 0 {
		return badField("Objective.Radius", "the radius C is required: %s has no %s metadata (lethe constrain records it)", path, MetaRadius)
	}
	return nil
}

// resolveOptionalRadius is resolve for callers that need no ball (the
// convex scope): without a radius anywhere, the radius is 0.
func (o Objective) resolveOptionalRadius(m *onnxio.Model, path string) (objective, error) {
	r := objective{radius: o.Radius, name: o.Loss}
	if r.radius == 0 {
		c, ok, err := metaFloat(m, path, MetaRadius)
		switch {
		case err != nil:
			return r, err
		case !ok:
		case !(c > 0) || math.IsInf(c, 0):
			return r, badField("Model", "%s: metadata %s = %g: want C > 0", path, MetaRadius, c)
		}
		r.radius = c
	}
	if o.L2 != nil {
		r.l2 = *o.L2
	} else {
		mu, ok, err := metaFloat(m, path, MetaL2)
		switch {
		case err != nil:
			return r, err
		case ok && !(mu >= 0 && !math.IsInf(mu, 0)):
			return r, badField("Model", "%s: metadata %s = %g: want μ ≥ 0", path, MetaL2, mu)
		}
		r.l2 = mu
	}
	if r.name == "" {
		r.name = "xent"
		if s, ok := m.Metadata()[MetaLoss]; ok {
			r.name = s
		}
	}
	l, err := autodiff.ParseLoss(r.name)
	if err != nil {
		return r, badField("Model", "%s: metadata %s = %q: want xent, mse or bce", path, MetaLoss, r.name)
	}
	r.loss = l
	return r, nil
}

// metaFloat reads a float metadata value of m (at path); ok is false when
// absent.
func metaFloat(m *onnxio.Model, path, key string) (v float64, ok bool, err error) {
	s, ok := m.Metadata()[key]
	if !ok {
		return 0, false, nil
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, true, badField("Model", "%s: metadata %s = %q is not a number", path, key, s)
	}
	return v, true, nil
}

// formatFloat writes a float so that metaFloat reads back the same value.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// setTrainingMetadata records in m the objective it was trained or
// unlearned on. The keys go in a fixed order, so equal runs write equal
// files.
func setTrainingMetadata(m *onnxio.Model, o objective) {
	if o.radius > 0 { // the convex scope needs no ball: keep what was recorded
		m.SetMetadata(MetaRadius, formatFloat(o.radius))
	}
	m.SetMetadata(MetaL2, formatFloat(o.l2))
	m.SetMetadata(MetaLoss, o.name)
}

// lossName checks a loss name ("" means xent) and returns it parsed.
func lossName(field, s string) (autodiff.Loss, string, error) {
	if s == "" {
		s = "xent"
	}
	l, err := autodiff.ParseLoss(s)
	if err != nil {
		return 0, s, badField(field, "loss %q: want xent, mse or bce", s)
	}
	return l, s, nil
}

// String describes the objective for messages.
func (o objective) String() string {
	return fmt.Sprintf("%s loss, l2 %g", o.name, o.l2)
}
