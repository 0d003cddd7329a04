package certify

import (
	"bytes"
	_ "embed"
)

//go:embed certificate.schema.json
var jsonSchema []byte

// JSONSchema returns the JSON Schema (draft 2020-12) of certificate schema v1,
// certificate.schema.json. The tests check that it describes exactly the
// fields of Certificate and that the golden certificates validate against it.
func JSONSchema() []byte {
	return bytes.Clone(jsonSchema)
}
