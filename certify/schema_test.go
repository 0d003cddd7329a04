package certify

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaURL = "https://github.com/lethe-ml/lethe/certify/certificate.schema.json"

// compileSchema compiles the embedded schema; compiling also validates it
// against the draft 2020-12 meta-schema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // check date-time too
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGoldensValidateAgainstSchema(t *testing.T) {
	s := compileSchema(t)
	for _, name := range fixtureNames {
		data, err := os.ReadFile(filepath.Join("testdata", name+".golden.json"))
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(inst); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSchemaRejects shows the schema is not vacuous: each edit must fail it.
func TestSchemaRejects(t *testing.T) {
	s := compileSchema(t)
	data, _ := os.ReadFile(filepath.Join("testdata", "certified.golden.json"))
	for _, c := range []struct{ name, old, new string }{
		{"missing sigma", `"sigma": 37.306316348185646,`, ``},
		{"sigma as string", `"sigma": 37.306316348185646`, `"sigma": "37.3"`},
		{"unknown field", `"sigma_mode": "calibrated",`, `"sigma_mode": "calibrated", "extra": 1,`},
		{"bad mechanism", `"mechanism": "analytic"`, `"mechanism": "laplace"`},
		{"delta 1", `"delta": 0.00001`, `"delta": 1`},
		{"bad hash", `"sha256": "12c0`, `"sha256": "XYZ0`},
		{"local time", `"created_at": "2025-03-01T12:03:17Z"`, `"created_at": "2025-03-01T12:03:17+01:00"`},
		{"bad active bound", `"active_bound": "trivial"`, `"active_bound": "both"`},
	} {
		edited := strings.Replace(string(data), c.old, c.new, 1)
		if edited == string(data) {
			t.Fatalf("%s: edit did not apply", c.name)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(edited))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.Validate(inst) == nil {
			t.Errorf("%s: the schema accepted it", c.name)
		}
	}
}

// TestSchemaMatchesStruct walks Certificate by reflection and the schema by
// JSON, and demands the same field names at every level, and that the
// schema's "required" lists are exactly the fields without omitempty. The
// bound has two layouts: Bound's own fields (the full scope's, boundFull)
// and convexBoundJSON's (boundConvex), each walked against its definition.
func TestSchemaMatchesStruct(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(JSONSchema(), &root); err != nil {
		t.Fatal(err)
	}
	defs := root["$defs"].(map[string]any)
	resolve := func(node map[string]any) map[string]any {
		if ref, ok := node["$ref"].(string); ok {
			return defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		return node
	}
	var walk func(path string, typ reflect.Type, node map[string]any)
	walk = func(path string, typ reflect.Type, node map[string]any) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
			if items, ok := node["items"].(map[string]any); ok {
				node = resolve(items)
			}
		}
		if typ.Kind() != reflect.Struct {
			return
		}
		if typ == reflect.TypeFor[Bound]() {
			node = defs["boundFull"].(map[string]any)
		}
		node = resolve(node)
		props, _ := node["properties"].(map[string]any)
		if node["additionalProperties"] != false {
			t.Errorf("%s: schema object does not forbid additional properties", path)
		}
		var fields, required []string
		var visit func(reflect.Type)
		visit = func(st reflect.Type) {
			for i := 0; i < st.NumField(); i++ {
				f := st.Field(i)
				if f.Anonymous {
					ft := f.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					visit(ft)
					continue
				}
				name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "-" {
					continue
				}
				fields = append(fields, name)
				if !strings.Contains(opts, "omitempty") {
					required = append(required, name)
				}
				sub, ok := props[name].(map[string]any)
				if !ok {
					t.Errorf("%s.%s: in the struct, not in the schema", path, name)
					continue
				}
				walk(path+"."+name, f.Type, sub)
			}
		}
		visit(typ)
		for name := range props {
			if !slices.Contains(fields, name) {
				t.Errorf("%s.%s: in the schema, not in the struct", path, name)
			}
		}
		var schemaRequired []string
		for _, r := range node["required"].([]any) {
			schemaRequired = append(schemaRequired, r.(string))
		}
		slices.Sort(required)
		slices.Sort(schemaRequired)
		if !slices.Equal(required, schemaRequired) {
			t.Errorf("%s: required %v in the schema, %v in the struct", path, schemaRequired, required)
		}
	}
	walk("certificate", reflect.TypeFor[Certificate](), root)
	walk("certificate.bound(convex)", reflect.TypeFor[convexBoundJSON](), defs["boundConvex"].(map[string]any))
}

// TestSchemaRejectsScopes: the schema's scope, budget and no-noise rules are
// not vacuous either.
func TestSchemaRejectsScopes(t *testing.T) {
	s := compileSchema(t)
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join("testdata", name+".golden.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	convex, full, unset := read("convex_head"), read("budget_full"), read("no_noise_unset")
	for _, c := range []struct{ name, doc, old, new string }{
		{"convex without strong_convexity", convex, `"strong_convexity": {`, `"strong_convexity_": {`},
		{"convex with a full-scope bound", convex, `"active_bound": "posterior"`, `"active_bound": "trivial"`},
		{"full-scope term in a convex bound", convex, `"lambda": 0,`, `"lambda": 0, "M": 0,`},
		{"convex bound with λ ≠ 0", convex, `"lambda": 0,`, `"lambda": 0.1,`},
		{"convex bound without budget", convex, `"budget": 0.005,`, ``},
		{"convex with a zero margin", convex, `"posterior_margin": 3.2e-11,`, `"posterior_margin": 0,`},
		{"convex with an unknown start", convex, `"start": "w*"`, `"start": "zeros"`},
		{"non-affine op", convex, `"Gemm"`, `"Relu"`},
		{"non-convex loss in the proof", convex, `"loss": "xent",
    "ops"`, `"loss": "hinge",
    "ops"`},
		{"bad feature engine", convex, `"engine": "native"`, `"engine": "ort"`},
		{"scope convex removed", convex, `"scope": "convex",`, ``},
		{"full scope with a posterior bound", full, `"budget": 10,`, `"budget": 10, "bound_posterior": 1,`},
		{"full scope with features", full, `"scope": "full",`, `"scope": "full", "features": {"tensor": "x", "engine": "native", "precision": "float32"},`},
		{"zero budget", full, `"budget": 10,`, `"budget": 0,`},
		{"unknown scope", full, `"scope": "full",`, `"scope": "head",`},
		{"epsilon 0 with noise", full, `"epsilon": 1,`, `"epsilon": 0,`},
		{"delta 0 with noise", full, `"delta": 0.00001,`, `"delta": 0,`},
		{"negative epsilon without noise", unset, `"epsilon": 0,`, `"epsilon": -1,`},
	} {
		edited := strings.Replace(c.doc, c.old, c.new, 1)
		if edited == c.doc {
			t.Fatalf("%s: edit did not apply", c.name)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(edited))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.Validate(inst) == nil {
			t.Errorf("%s: the schema accepted it", c.name)
		}
	}
}
