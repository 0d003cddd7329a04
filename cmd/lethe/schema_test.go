package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/lethe-ml/lethe/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite schemas/examples/*.json from real command output")

// schemaDir holds the JSON Schemas of every command's --json output.
var schemaDir = filepath.Join(testenv.RepoRoot(), "schemas")

// compileSchema compiles schemas/NAME.schema.json; compiling also validates
// it against the draft 2020-12 meta-schema.
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join(schemaDir, name+".schema.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	url := "https://github.com/lethe-ml/lethe/schemas/" + name + ".schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// shape lists the JSON pointers of every value in v, with array indices
// written as *: the structure of a document, whatever its numbers.
func shape(v any, at string, into map[string]bool) {
	into[at] = true
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			shape(e, at+"/"+k, into)
		}
	case []any:
		for _, e := range x {
			shape(e, at+"/*", into)
		}
	}
}

func paths(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("not JSON (%v): %s", err, doc)
	}
	m := map[string]bool{}
	shape(v, "", m)
	var out []string
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// golden checks a command's real --json output: it must validate against
// the command's schema and have the structure of schemas/examples/NAME.json,
// the example pipeline authors read (rewritten by -update, with the test's
// folders replaced by placeholders).
func golden(t *testing.T, schema, name, stdout, dir string) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("%s: stdout is not JSON: %v\n%s", name, err, stdout)
	}
	if err := compileSchema(t, schema).Validate(inst); err != nil {
		t.Errorf("%s: the output does not validate against %s.schema.json: %v\n%s", name, schema, err, stdout)
	}
	path := filepath.Join(schemaDir, "examples", name+".json")
	if *update {
		// Every t.TempDir of the test shares dir's parent.
		tmp := regexp.MustCompile(regexp.QuoteMeta(filepath.Dir(dir)) + `/\d+/`)
		out := tmp.ReplaceAllString(strings.ReplaceAll(stdout, testenv.RepoRoot()+"/", ""), "/tmp/work/")
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got, exp := paths(t, []byte(stdout)), paths(t, want); !slices.Equal(got, exp) {
		t.Errorf("%s: the output's structure differs from %s (run go test -update if the change is intended):\ngot  %v\nwant %v", name, path, got, exp)
	}
	inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(want))
	if err == nil {
		err = compileSchema(t, schema).Validate(inst)
	}
	if err != nil {
		t.Errorf("%s: %v", path, err)
	}
}

// TestJSONSchemas runs every command with --json on real inputs and checks
// each output against its schema and its golden example.
func TestJSONSchemas(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	json := func(name, schema string, want int, args ...string) string {
		t.Helper()
		code, stdout, stderr := cli(t, append(args, "--json")...)
		if code != want {
			t.Fatalf("%s: exit %d, want %d: %s", name, code, want, stderr)
		}
		golden(t, schema, name, stdout, dir)
		return stdout
	}
	mlp, logreg := fixture(t, "models/mlp.onnx"), fixture(t, "models/logreg.onnx")
	mlpData := fixtureSamples(t, "mlp", 0)
	sub := filepath.Join(dir, "sub.txt")
	os.WriteFile(sub, []byte("0\n1\n2\n"), 0o644)
	v := writeVector(t, "v.npy", make([]float64, 26506))
	json("inspect", "inspect", 0, "inspect", mlp)
	json("run-native", "run", 0, "run", mlp, "--data", mlpData, "--out", filepath.Join(dir, "o.npy"), "-q")
	json("run-ort", "run", 0, "run", mlp, "--data", mlpData, "--out", filepath.Join(dir, "p.npy"), "--engine", "ort", "-q")
	json("grad", "grad", 0, "grad", mlp, "--data", mlpData, "--indices", sub, "--out", filepath.Join(dir, "g.npy"), "-q")
	json("hvp", "hvp", 0, "hvp", mlp, "--data", mlpData, "--vector", v, "--out", filepath.Join(dir, "hv.npy"), "-q")

	_, data, forget := unlearnSetup(t)
	constrained := filepath.Join(dir, "c.onnx")
	json("constrain", "constrain", 0, "constrain", logreg, "--data", data, "--radius", "50", "--l2", "0.01", "-o", constrained, "-q")
	json("retrain", "retrain", 0, "retrain", constrained, "--data", data, "--forget", forget, "--epochs", "2", "-o", filepath.Join(dir, "r.onnx"), "-q")
	json("retrain-convex", "retrain", 0, "retrain", logreg, "--data", data, "--forget", forget, "--scope", "auto", "--l2", "0.01", "-o", filepath.Join(dir, "rc.onnx"), "-q")
	out, other := filepath.Join(dir, "u.onnx"), filepath.Join(dir, "w.onnx")
	json("unlearn", "unlearn", 0, unlearnArgs(data, forget, out)...)
	json("unlearn-convex", "unlearn", 0, slicesWithout(unlearnArgs(data, forget, filepath.Join(dir, "x.onnx")), "--scope", "full")...)
	cli(t, unlearnArgs(data, forget, other)...)
	json("verify", "verify", 0, "verify", out, "--data", data, "--input", logreg)
	json("verify-failed", "verify", exitFailed, "verify", out, "--cert", filepath.Join(dir, "w.cert.json"))

	e := newEvalFixture(t)
	json("eval", "eval", 0, "eval", mlp, "--data", e.train, "--forget", e.forget, "--test", e.test, "--original", mlp)
	json("keygen", "keygen", 0, "keygen", "--private", filepath.Join(dir, "k.pem"), "--public", filepath.Join(dir, "k.pub"))
	requireMNIST(t)
	json("demo", "demo", 0, "demo", "--quick", "--model", mlp, "--radius", "20", "--l2", "5e-4", "--out", filepath.Join(dir, "demo"), "-q")
}

// TestJSONSchemasReject shows the schemas are not vacuous: a golden with an
// unknown field, or without a required one, fails its schema.
func TestJSONSchemasReject(t *testing.T) {
	for name, schema := range map[string]string{"unlearn": "unlearn", "verify": "verify", "eval": "eval", "run-native": "run", "demo": "demo"} {
		data, err := os.ReadFile(filepath.Join(schemaDir, "examples", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		s := compileSchema(t, schema)
		extra := map[string]any{"surprise": 1}
		missing := map[string]any{}
		for k, x := range v {
			extra[k], missing[k] = x, x
		}
		delete(missing, "model")
		for what, doc := range map[string]map[string]any{"an unknown field": extra, "no model": missing} {
			b, _ := json.Marshal(doc)
			inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if s.Validate(inst) == nil {
				t.Errorf("%s.schema.json accepts %s", schema, what)
			}
		}
	}
}
