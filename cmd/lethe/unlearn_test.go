package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe"
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
)

// unlearnSetup writes 300 MNIST training samples and a forget list of 6 to a
// temp dir and returns the dir, the data and the forget file.
func unlearnSetup(t *testing.T) (dir, data, forget string) {
	t.Helper()
	src, err := dataset.Open("mnist:train", dataset.Options{})
	testenv.Missing(t, "MNIST", err)
	defer dataset.Close(src)
	const n = 300
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x := make([]float32, n*784)
	y := make([]int64, n)
	if err := src.Read(idx, x, y); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	data = filepath.Join(dir, "train.npz")
	if err := dataset.WriteNPZ(data, x, []int{784}, y); err != nil {
		t.Fatal(err)
	}
	forget = filepath.Join(dir, "forget.txt")
	if err := os.WriteFile(forget, []byte("3\n17\n42\n100\n200\n299\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, data, forget
}

// unlearnArgs are the flags of a fast, deterministic full-scope run on the
// logistic regression fixture (a convex model, so λ can be 0 with L2; the
// default --scope auto would certify it in the convex scope, which
// TestUnlearnConvexScope covers).
func unlearnArgs(data, forget, out string, extra ...string) []string {
	args := []string{"unlearn", testenv.Testdata("models/logreg.onnx"), "--data", data, "--forget", forget,
		"--epsilon", "1", "--delta", "1e-5", "--radius", "50", "--l2", "0.01", "--scope", "full", "-o", out, "--quiet"}
	return append(args, extra...)
}

func TestUnlearnThenVerify(t *testing.T) {
	requireORT(t)
	dir, data, forget := unlearnSetup(t)
	out := filepath.Join(dir, "out.onnx")
	code, stdout, stderr := cli(t, append(unlearnArgs(data, forget, out), "--json")...)
	if code != 0 {
		t.Fatalf("unlearn exit %d: %s", code, stderr)
	}
	var s lethe.UnlearnResult
	decodeJSON(t, stdout, &s)
	if !s.Certified || s.NForget != 6 || s.N != 300 || s.Sigma <= 0 || s.Sensitivity <= 0 {
		t.Fatalf("summary %+v", s)
	}
	cert, err := certify.Read(lethe.CertPath(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := certify.CheckSigma(cert); err != nil {
		t.Fatal(err)
	}
	if !cert.NoisePrivate || cert.Forget.Digest != certify.DigestIndices([]int{3, 17, 42, 100, 200, 299}) {
		t.Errorf("noise_private %v, forget digest %s", cert.NoisePrivate, cert.Forget.Digest)
	}
	m, err := onnxio.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Metadata()[lethe.MetaRadius] != "50" || m.Metadata()[lethe.MetaCertificate] == "" {
		t.Errorf("metadata %v", m.Metadata())
	}
	if code, stdout, stderr := cli(t, "verify", out, "--data", data, "--input", testenv.Testdata("models/logreg.onnx")); code != 0 {
		t.Fatalf("verify of a fresh output: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestVerifyDetectsTampering checks that verify fails, naming the check,
// after each kind of tampering the issue lists.
func TestVerifyDetectsTampering(t *testing.T) {
	requireORT(t)
	dir, data, forget := unlearnSetup(t)
	key, pub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub")
	if code, _, stderr := cli(t, "keygen", "--private", key, "--public", pub); code != 0 {
		t.Fatal(stderr)
	}
	out := filepath.Join(dir, "out.onnx")
	if code, _, stderr := cli(t, unlearnArgs(data, forget, out, "--sign-key", key)...); code != 0 {
		t.Fatal(stderr)
	}
	other := filepath.Join(dir, "other.onnx")
	if code, _, stderr := cli(t, unlearnArgs(data, forget, other)...); code != 0 {
		t.Fatal(stderr)
	}
	if code, stdout, _ := cli(t, "verify", out, "--pub-key", pub); code != 0 {
		t.Fatalf("fresh signed output fails verification:\n%s", stdout)
	}
	cert := lethe.CertPath(out)
	editCert := func(t *testing.T, edit func(c map[string]any)) string {
		raw, err := os.ReadFile(cert)
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		edit(c)
		b, _ := json.MarshalIndent(c, "", "  ")
		p := filepath.Join(t.TempDir(), "edited.cert.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// One weight changed, written as a proper ONNX file.
	m, err := onnxio.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := m.Params(onnxio.ParamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := m.ParamVector(ps)
	if err != nil {
		t.Fatal(err)
	}
	w[123] += 0.5
	if err := m.SetParamVector(ps, w); err != nil {
		t.Fatal(err)
	}
	changed := filepath.Join(t.TempDir(), "changed.onnx")
	if err := m.Save(changed); err != nil {
		t.Fatal(err)
	}
	otherKey, otherPub := filepath.Join(dir, "o.pem"), filepath.Join(dir, "o.pub")
	if code, _, stderr := cli(t, "keygen", "--private", otherKey, "--public", otherPub); code != 0 {
		t.Fatal(stderr)
	}
	changedSHA, err := certify.FileSHA256(changed)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		args  []string
		wants []string // checks that must fail
	}{
		// Changing a weight and writing the new hash into the certificate
		// leaves the binding intact (it cannot cover the file's own hash):
		// the signature catches it.
		{"weight changed, hash updated", []string{"verify", changed, "--cert", editCert(t, func(c map[string]any) { c["output"].(map[string]any)["sha256"] = changedSHA }), "--pub-key", pub}, []string{"signature"}},
		{"assumption edited", []string{"verify", out, "--cert", editCert(t, func(c map[string]any) {
			a := c["assumptions"].([]any)
			a[len(a)-1] = a[len(a)-1].(string) + " No other assumption is made."
		})}, []string{"assumptions", "binding"}},
		{"parity value edited", []string{"verify", out, "--cert", editCert(t, func(c map[string]any) { c["parity"].(map[string]any)["max_abs_diff"] = 0.0 })}, []string{"binding"}},
		{"signed by another key", []string{"verify", out, "--pub-key", otherPub}, []string{"signature"}},
		// The hash catches any change; parity may not, when the noise makes
		// outputs so large that one weight is within their rounding.
		{"one weight changed", []string{"verify", changed, "--cert", cert}, []string{"output"}},
		{"sigma edited", []string{"verify", out, "--cert", editCert(t, func(c map[string]any) { c["sigma"] = c["sigma"].(float64) / 2 })}, []string{"sigma", "binding"}},
		{"epsilon edited", []string{"verify", out, "--cert", editCert(t, func(c map[string]any) { c["epsilon"] = 0.1 })}, []string{"sigma", "binding"}},
		{"wrong certificate", []string{"verify", out, "--cert", lethe.CertPath(other)}, []string{"output", "binding"}},
		{"bad signature", []string{"verify", out, "--cert", editCert(t, func(c map[string]any) { c["delta"] = 2e-5 }), "--pub-key", pub}, []string{"signature"}},
		{"unsigned, key required", []string{"verify", other, "--pub-key", pub}, []string{"signature"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, c.args...)
			if code != exitFailed {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitFailed, stdout, stderr)
			}
			for _, name := range c.wants {
				if !strings.Contains(stdout, "FAIL  "+name) {
					t.Errorf("check %q did not fail:\n%s", name, stdout)
				}
			}
		})
	}
}

func TestUnlearnModes(t *testing.T) {
	requireORT(t)
	dir, data, forget := unlearnSetup(t)
	for _, c := range []struct {
		name      string
		extra     []string
		certified bool
		status    string
	}{
		{"no noise", []string{"--no-noise"}, false, certify.StatusNoNoise},
		{"no noise, no ε or δ", []string{"--no-noise"}, false, certify.StatusNoNoise},
		{"seeded", []string{"--seed", "7"}, false, certify.StatusSeeded},
		{"fixed sigma", []string{"--sigma", "0.001", "--epsilon", "0"}, true, certify.StatusCertifiedFixedSigma},
		{"lissa", []string{"--solver", "lissa", "--lissa-depth", "200", "--lissa-repetitions", "2", "--lissa-batch", "50"}, true, certify.StatusCertified},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".onnx")
			args := unlearnArgs(data, forget, out, c.extra...)
			if c.name == "fixed sigma" {
				args = slicesWithout(args, "--epsilon", "1")
				args = slicesWithout(args, "--epsilon", "0")
			}
			if c.name == "no noise, no ε or δ" {
				args = slicesWithout(slicesWithout(args, "--epsilon", "1"), "--delta", "1e-5")
			}
			code, _, stderr := cli(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			cert, err := certify.Read(lethe.CertPath(out))
			if err != nil {
				t.Fatal(err)
			}
			if cert.Certified != c.certified || cert.Status != c.status {
				t.Errorf("certified %v status %q, want %v %q", cert.Certified, cert.Status, c.certified, c.status)
			}
			if c.name == "seeded" && !strings.Contains(stderr, "WARNING") {
				t.Errorf("--seed gave no warning: %s", stderr)
			}
			if code, stdout, _ := cli(t, "verify", out); code != 0 {
				t.Errorf("verify: exit %d\n%s", code, stdout)
			}
		})
	}
}

// slicesWithout removes the first occurrence of the pair (flag, value).
func slicesWithout(args []string, flag, value string) []string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag && args[i+1] == value {
			return append(append([]string(nil), args[:i]...), args[i+2:]...)
		}
	}
	return args
}

func TestUnlearnBadInput(t *testing.T) {
	dir, data, forget := unlearnSetup(t)
	out := filepath.Join(dir, "out.onnx")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"classic with epsilon 1", append(unlearnArgs(data, forget, out), "--mechanism", "classic"), "classic Gaussian mechanism is proven only for ε < 1"},
		{"delta out of range", slicesWithout(append(unlearnArgs(data, forget, out), "--delta", "1.5"), "--delta", "1e-5"), "--delta"},
		{"output over input", unlearnArgs(data, forget, testenv.Testdata("models/logreg.onnx")), "logreg.onnx"},
		{"missing forget file", unlearnArgs(data, filepath.Join(dir, "nope.txt"), out), "nope.txt"},
		{"outside the ball", slicesWithout(append(unlearnArgs(data, forget, out), "--radius", "0.01"), "--radius", "50"), "run `lethe constrain` first"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := cli(t, c.args...)
			if code != exitUsage || !strings.Contains(stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatalf("%s was written", out)
			}
		})
	}
}

// TestUnlearnSkipsSpectrumWhenItCannotMatter: with λ given and a model that
// is not stationary, Δ = 2C whatever ‖H‖ and λ_min are, so they are not
// estimated, the certificate says so, and it still verifies.
func TestUnlearnSkipsSpectrumWhenItCannotMatter(t *testing.T) {
	requireORT(t)
	dir, data, forget := unlearnSetup(t)
	out := filepath.Join(dir, "skip.onnx")
	code, stdout, stderr := cli(t, unlearnArgs(data, forget, out, "--lambda", "0.01")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "λ_min and ‖H‖ not estimated") || strings.Contains(stdout, "‖H‖ ≈") {
		t.Errorf("the summary must not print skipped estimates as values:\n%s", stdout)
	}
	c, err := certify.Read(lethe.CertPath(out))
	if err != nil {
		t.Fatal(err)
	}
	b := c.Bound
	if b.LambdaMinMethod != certify.LambdaMinUnneeded || b.MSource != certify.MUnneeded || b.Active != certify.ActiveTrivial || b.PremiseHolds {
		t.Fatalf("bound %+v", b)
	}
	if code, stdout, _ := cli(t, "verify", out); code != 0 {
		t.Fatalf("verify: %s", stdout)
	}
	// --estimate-spectrum keeps the estimates.
	out2 := filepath.Join(dir, "kept.onnx")
	if code, _, stderr := cli(t, unlearnArgs(data, forget, out2, "--lambda", "0.01", "--estimate-spectrum")...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	c2, err := certify.Read(lethe.CertPath(out2))
	if err != nil {
		t.Fatal(err)
	}
	if c2.Bound.LambdaMinMethod == certify.LambdaMinUnneeded {
		t.Errorf("--estimate-spectrum did not estimate λ_min")
	}
}

// TestUnlearnLambdaZero checks that --lambda 0 means λ = 0 exactly (DESIGN.md
// §5), not the automatic choice it meant before.
func TestUnlearnLambdaZero(t *testing.T) {
	requireORT(t)
	dir, data, forget := unlearnSetup(t)
	out := filepath.Join(dir, "zero.onnx")
	if code, _, stderr := cli(t, unlearnArgs(data, forget, out, "--lambda", "0")...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	c, err := certify.Read(lethe.CertPath(out))
	if err != nil {
		t.Fatal(err)
	}
	if c.Bound.Lambda != 0 || c.Bound.LambdaAuto {
		t.Errorf("--lambda 0: certificate λ = %v, automatic %v", c.Bound.Lambda, c.Bound.LambdaAuto)
	}
}

// TestUnlearnNoNoiseFlags checks that --no-noise needs neither --epsilon
// nor --delta, and still excludes --sigma (TestUnlearnModes runs it end to
// end).
func TestUnlearnNoNoiseFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o.onnx")
	parse := func(args ...string) (*unlearnOptions, error) {
		var got *unlearnOptions
		cmd := newUnlearnCmd(&ioStreams{Out: io.Discard, Err: io.Discard}, &globalOptions{}, func(o *unlearnOptions) error { got = o; return nil })
		cmd.SetArgs(append([]string{"m.onnx", "--data", "d.npz", "--forget", "f.txt", "-o", out}, args...))
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		return got, cmd.Execute()
	}
	o, err := parse("--no-noise")
	if err != nil || o == nil || !o.request().NoNoise {
		t.Fatalf("--no-noise alone: %v", err)
	}
	for _, args := range [][]string{{}, {"--epsilon", "1"}, {"--no-noise", "--sigma", "0.1"}} {
		if _, err := parse(args...); exitCode(err) != exitUsage {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

// TestUnlearnConvexScope: the default scope certifies the linear fixture in
// the convex scope (no --radius needed), --scope head the MLP's last layer;
// the summary says which scope and why, verify passes, and a bad --scope or
// --budget is a usage error naming the flag.
func TestUnlearnConvexScope(t *testing.T) {
	requireORT(t)
	dir, data, forget := unlearnSetup(t)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"auto", []string{"unlearn", testenv.Testdata("models/logreg.onnx"), "--l2", "0.01"}, "every trainable parameter enters the output affinely"},
		{"head", []string{"unlearn", testenv.Testdata("models/mlp.onnx"), "--l2", "0.01", "--scope", "head", "--budget", "1e-3"}, "the last affine layer"},
	} {
		out := filepath.Join(dir, c.name+".onnx")
		args := append(c.args, "--data", data, "--forget", forget, "--epsilon", "1", "--delta", "1e-5", "-o", out, "--quiet")
		code, stdout, stderr := cli(t, args...)
		if code != 0 || !strings.Contains(stdout, c.want) || !strings.Contains(stdout, "a-posteriori bound") {
			t.Fatalf("%s: exit %d\n%s%s", c.name, code, stdout, stderr)
		}
		if code, stdout, _ := cli(t, "verify", out); code != 0 || !strings.Contains(stdout, "convexity") {
			t.Fatalf("%s: verify exit %d\n%s", c.name, code, stdout)
		}
	}
	for flag, value := range map[string]string{"--scope": "everything", "--budget": "-1"} {
		code, _, stderr := cli(t, "unlearn", testenv.Testdata("models/logreg.onnx"), "--data", data, "--forget", forget,
			"--epsilon", "1", "--delta", "1e-5", flag, value, "-o", filepath.Join(dir, "bad.onnx"))
		if code != exitUsage || !strings.Contains(stderr, flag) {
			t.Errorf("%s %s: exit %d, stderr %q", flag, value, code, stderr)
		}
	}
}

// TestVerifyChainFlag: --chain takes the earlier certificates of a chained
// request; verify passes the chain and fails another model's certificate
// given as its first link (TestVerifyChain in the library covers every
// failure).
func TestVerifyChainFlag(t *testing.T) {
	requireORT(t)
	dir, data, forget := unlearnSetup(t)
	logreg := testenv.Testdata("models/logreg.onnx")
	run := func(model, out, forget string) {
		t.Helper()
		args := []string{"unlearn", model, "--data", data, "--forget", forget, "--epsilon", "1", "--delta", "1e-5", "--l2", "0.01", "-o", out, "--quiet"}
		if code, _, stderr := cli(t, args...); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	second := filepath.Join(dir, "forget2.txt")
	if err := os.WriteFile(second, []byte("7\n8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	one, two, other := filepath.Join(dir, "one.onnx"), filepath.Join(dir, "two.onnx"), filepath.Join(dir, "other.onnx")
	run(logreg, one, forget)
	run(one, two, second)
	run(logreg, other, second)
	if code, stdout, _ := cli(t, "verify", two, "--chain", lethe.CertPath(one)); code != exitOK || !strings.Contains(stdout, "PASS  chain") {
		t.Errorf("the chain in order: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := cli(t, "verify", two, "--chain", lethe.CertPath(other)); code != exitFailed || !strings.Contains(stdout, "FAIL  chain") {
		t.Errorf("another chain's certificate: exit %d\n%s", code, stdout)
	}
}
