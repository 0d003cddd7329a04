package lethe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/internal/testenv"
)

// leafEdit is one edited certificate: the JSON path of the value changed.
type leafEdit struct {
	path string
	cert []byte
}

// leafEdits returns one copy of the certificate JSON per leaf value (every
// number, string and boolean, at any depth), with that value changed: a
// number to 2v + 1, a string with "x" appended, a boolean flipped. Of a
// numeric array longer than 3 only the first and last elements are
// changed.
func leafEdits(t *testing.T, raw []byte) []leafEdit {
	t.Helper()
	var root any
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	var paths [][]any
	var walk func(v any, path []any)
	walk = func(v any, path []any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(e, append(slices.Clone(path), k))
			}
		case []any:
			numeric := len(v) > 3
			for _, e := range v {
				if _, ok := e.(float64); !ok {
					numeric = false
				}
			}
			for i, e := range v {
				if !numeric || i == 0 || i == len(v)-1 {
					walk(e, append(slices.Clone(path), i))
				}
			}
		case float64, string, bool:
			paths = append(paths, path)
		}
	}
	walk(root, nil)
	var out []leafEdit
	for _, p := range paths {
		var c any
		json.Unmarshal(raw, &c)
		parent := c
		for _, k := range p[:len(p)-1] {
			switch k := k.(type) {
			case string:
				parent = parent.(map[string]any)[k]
			case int:
				parent = parent.([]any)[k]
			}
		}
		edit := func(v any) any {
			switch v := v.(type) {
			case float64:
				return 2*v + 1
			case string:
				return editString(v)
			case bool:
				return !v
			}
			panic("not a leaf")
		}
		switch k := p[len(p)-1].(type) {
		case string:
			m := parent.(map[string]any)
			m[k] = edit(m[k])
		case int:
			a := parent.([]any)
			a[k] = edit(a[k])
		}
		b, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		var name []string
		for _, k := range p {
			name = append(name, fmt.Sprint(k))
		}
		out = append(out, leafEdit{strings.Join(name, "."), b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// editString changes s keeping its form where it ends in a digit or a
// lower-case hex letter (hashes, digests, timestamps, numbers in words):
// that character becomes the next one of its kind. Anything else gets an
// "x" appended.
func editString(s string) string {
	if s == "" {
		return "x"
	}
	last := s[len(s)-1]
	switch {
	case last >= '0' && last <= '9':
		return s[:len(s)-1] + string('0'+(last-'0'+1)%10)
	case last >= 'a' && last <= 'f':
		return s[:len(s)-1] + string('a'+(last-'a'+1)%6)
	}
	return s + "x"
}

// failedChecks runs Verify and returns the checks that failed; it fails
// the test unless Verify returned a *CheckError naming exactly them.
func failedChecks(t *testing.T, req lethe.VerifyRequest) []string {
	t.Helper()
	rep, err := lethe.Verify(context.Background(), req)
	var ce *lethe.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("Verify: %v, want a *CheckError", err)
	}
	if !slices.Equal(ce.Checks, rep.Failed()) || len(ce.Checks) == 0 {
		t.Fatalf("the error names %v, the report %v", ce.Checks, rep.Failed())
	}
	return ce.Checks
}

// TestVerifyDetectsEveryEdit changes every value of a signed full-scope
// certificate and of a convex-scope (head) certificate, one at a time, and
// checks that Verify fails each, naming the check that catches it: the
// signature for the signature's fields, the output hash for
// output.sha256, the binding for every other field (the model carries the
// digest of the rest), or the certificate's own validity where the edit
// breaks it; and the specific checks where the edited value can be
// recomputed (assumptions, the frozen parameters' digest, the convexity
// proof).
func TestVerifyDetectsEveryEdit(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	key, pub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub")
	if _, err := certify.GenerateKeyPair(key, pub); err != nil {
		t.Fatal(err)
	}
	priv, err := certify.LoadPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	full := request(t, dir, data, "full.onnx")
	full.SignKey = priv
	head := convexRequest(t, testenv.Testdata("models/mlp.onnx"), dir, data, "head.onnx")
	head.Scope, head.Budget = lethe.ScopeHead, 1e-3
	for _, req := range []lethe.UnlearnRequest{full, head} {
		res, err := lethe.Unlearn(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(res.CertPath)
		if err != nil {
			t.Fatal(err)
		}
		edits := leafEdits(t, raw)
		convex := res.Scope == string(certify.ScopeConvex)
		if convex && !slices.ContainsFunc(edits, func(e leafEdit) bool { return e.path == "frozen_parameters.digest" }) {
			t.Fatalf("the convex certificate has no frozen_parameters.digest to edit")
		}
		caught := map[string]int{}
		defer func() { t.Logf("%s: %d edits, failed checks: %v", res.Scope, len(edits), caught) }()
		for _, e := range edits {
			p := filepath.Join(t.TempDir(), "edited.cert.json")
			if err := os.WriteFile(p, e.cert, 0o644); err != nil {
				t.Fatal(err)
			}
			vr := lethe.VerifyRequest{Model: res.Out, Cert: p}
			if req.SignKey != nil {
				vr.PublicKeyFile = pub
			}
			failed := failedChecks(t, vr)
			for _, f := range failed {
				caught[f]++
			}
			want := "binding"
			switch {
			case slices.Contains(failed, "certificate"):
				continue // the edit made the file invalid: nothing else is checked
			case strings.HasPrefix(e.path, "signature."):
				want = "signature"
			case e.path == "output.sha256":
				want = "output"
			}
			// (A larger σ is not a sigma failure: more noise than Δ needs is a
			// stronger guarantee; TestVerifyDetectsTampering halves it.)
			also := map[string]string{"assumptions.": "assumptions", "frozen_parameters.digest": "frozen",
				"strong_convexity.ops.": "convexity"}
			wants := []string{want}
			for prefix, check := range also {
				if strings.HasPrefix(e.path, prefix) {
					wants = append(wants, check)
				}
			}
			if req.SignKey != nil && !strings.HasPrefix(e.path, "signature.") {
				wants = append(wants, "signature") // the signature covers every other field
			}
			for _, w := range wants {
				if !slices.Contains(failed, w) {
					t.Errorf("%s: %s edited: checks %v failed, not %q", res.Scope, e.path, failed, w)
				}
			}
		}
	}
}

// TestVerifyChain builds a chain of three requests on the logistic
// regression (convex scope), and a first request of another chain, and
// checks that Verify passes the chain given in order and fails, each with
// its own reason, one reordered, one with a gap, one that starts in the
// middle, one that mixes chains, and one whose counts were edited.
func TestVerifyChain(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	data, _, _ := mnistSubset(t, dir, 300)
	unlearn := func(model, out string, forget ...int) *lethe.UnlearnResult {
		t.Helper()
		req := convexRequest(t, model, dir, data, out)
		req.Forget = lethe.Subset{Indices: forget}
		res, err := lethe.Unlearn(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	r1 := unlearn(logreg(t), "one.onnx", 3, 17)
	r2 := unlearn(r1.Out, "two.onnx", 42)
	r3 := unlearn(r2.Out, "three.onnx", 100, 200, 299)
	other := unlearn(logreg(t), "other.onnx", 5)
	if r3.Certificate.Cumulative != (certify.Cumulative{Requests: 3, NForget: 6}) {
		t.Fatalf("cumulative %+v", r3.Certificate.Cumulative)
	}
	c1, c2, c3 := r1.CertPath, r2.CertPath, r3.CertPath
	rep, err := lethe.Verify(context.Background(), lethe.VerifyRequest{Model: r3.Out, Chain: []string{c1, c2}})
	if err != nil || !slices.ContainsFunc(rep.Checks, func(c lethe.Check) bool { return c.Name == "chain" && c.Status == lethe.CheckPass }) {
		t.Fatalf("the chain in order: %v\n%+v", err, rep)
	}
	rep, err = lethe.Verify(context.Background(), lethe.VerifyRequest{Model: r3.Out})
	if err != nil || !slices.ContainsFunc(rep.Checks, func(c lethe.Check) bool {
		return c.Name == "chain" && c.Status == lethe.CheckSkip && strings.Contains(c.Detail, "request 3 of a chain")
	}) {
		t.Fatalf("no chain given: %v\n%+v", err, rep)
	}
	// Counts edited consistently along a forged link: the model's binding
	// fails, and so does the chain's arithmetic.
	forged := filepath.Join(t.TempDir(), "forged.cert.json")
	b, _ := os.ReadFile(c2)
	if err := os.WriteFile(forged, []byte(strings.Replace(string(b), `"requests": 2`, `"requests": 3`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		model string
		cert  string
		chain []string
		want  string
	}{
		{"reordered", r3.Out, c3, []string{c2, c1}, "link 1 (" + c2 + ") is request 2 of a chain, not a first request"},
		{"gap", r3.Out, c3, []string{c1}, "link 2 (" + c3 + ") chains on certificate"},
		{"starts in the middle", r3.Out, c3, []string{c2}, "not a first request"},
		{"mixes chains", r3.Out, c3, []string{other.CertPath, c2}, "link 2 (" + c2 + ") chains on certificate"},
		{"counts", r2.Out, forged, []string{c1}, "counts 3 requests, link 1 (" + c1 + ") 1: want one more"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := lethe.Verify(context.Background(), lethe.VerifyRequest{Model: c.model, Cert: c.cert, Chain: c.chain})
			var ce *lethe.CheckError
			if !errors.As(err, &ce) || !slices.Contains(ce.Checks, "chain") {
				t.Fatalf("got %v, want the chain check to fail", err)
			}
			for _, ch := range rep.Checks {
				if ch.Name == "chain" && !strings.Contains(ch.Detail, c.want) {
					t.Errorf("chain: %q, want it to say %q", ch.Detail, c.want)
				}
			}
		})
	}
	// A missing link is bad input, not a failed check.
	_, err = lethe.Verify(context.Background(), lethe.VerifyRequest{Model: r3.Out, Chain: []string{filepath.Join(dir, "nope.cert.json")}})
	var in *lethe.InputError
	if !errors.As(err, &in) || in.Field != "Chain" {
		t.Errorf("a missing link: %v, want an *InputError for Chain", err)
	}
}
