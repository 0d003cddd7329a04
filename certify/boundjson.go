package certify

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The certificate's "bound" has two JSON layouts, chosen by active_bound:
//
//   - the full scope's (any active_bound but "posterior"): every field of
//     Bound with its json tag, exactly as encoding/json writes the struct, so
//     that certificates written before the convex scope existed keep their
//     bytes, digest and signature;
//   - the convex scope's (active_bound "posterior"): convexBoundJSON, which
//     leaves out the full scope's terms because they were not computed.
//
// Both are decoded strictly (unknown fields are errors), like the rest of
// the certificate, so a full-scope term in a convex bound, or a posterior
// term in a full one, is refused by Read.

// fullBoundJSON is Bound without its methods: the full scope's layout.
type fullBoundJSON Bound

// convexBoundJSON is the convex scope's layout of "bound".
type convexBoundJSON struct {
	C           float64     `json:"C"`
	Lambda      float64     `json:"lambda"`
	Solver      Solver      `json:"solver"`
	Projected   bool        `json:"projected"`
	Active      ActiveBound `json:"active_bound"`
	Sensitivity float64     `json:"sensitivity"`
	Budget      float64     `json:"budget"`
	*Posterior
}

// MarshalJSON writes the layout that b.Active selects (see above).
func (b Bound) MarshalJSON() ([]byte, error) {
	var v any = fullBoundJSON(b)
	if b.Active == ActivePosterior {
		v = convexBoundJSON{C: b.C, Lambda: b.Lambda, Solver: b.Solver, Projected: b.Projected,
			Active: b.Active, Sensitivity: b.Sensitivity, Budget: b.Budget, Posterior: b.Posterior}
	}
	// Not json.Marshal: it would escape <, > and & (the premise sentence
	// has "<"), and the certificate is written with HTML escaping off.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads either layout strictly; active_bound selects which.
func (b *Bound) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var head struct {
		Active ActiveBound `json:"active_bound"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if head.Active != ActivePosterior {
		var f fullBoundJSON
		if err := dec.Decode(&f); err != nil {
			return fmt.Errorf("bound: %w", err)
		}
		*b = Bound(f)
		return nil
	}
	var c convexBoundJSON
	if err := dec.Decode(&c); err != nil {
		return fmt.Errorf("bound (convex scope): %w", err)
	}
	*b = Bound{
		BoundInputs: BoundInputs{C: c.C, Lambda: c.Lambda, Solver: c.Solver, Projected: c.Projected, Budget: c.Budget},
		Active:      c.Active, Sensitivity: c.Sensitivity, Posterior: c.Posterior,
	}
	return nil
}
