package certify

import "fmt"

// ParameterError reports a numerical argument outside its domain, such as
// δ ∉ (0, 1) or a negative radius. Name is the argument's name as the
// certificate spells it ("epsilon", "delta", "sensitivity", "C", ...).
type ParameterError struct {
	Name   string
	Value  float64
	Reason string
}

// Error implements the error interface.
func (e *ParameterError) Error() string {
	return fmt.Sprintf("certify: %s = %g: %s", e.Name, e.Value, e.Reason)
}
