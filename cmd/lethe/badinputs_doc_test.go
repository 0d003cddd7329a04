package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio"
	"github.com/lethe-ml/lethe/onnxio/onnxtest"
)

// badInputsDoc is the table of bad inputs that TestBadInputsDoc runs and
// writes.
const badInputsDoc = "docs/BAD-INPUTS.md"

// badRow is one bad input: what is wrong with it and the command line that
// gives it to lethe. IN/ names the folder of the test's inputs, OUT/ an
// empty folder for outputs, testdata/ the repository's.
type badRow struct {
	what string
	args []string
	code int // the exit code lethe must give: exitUsage unless set
}

// badRows are the bad inputs of docs/BAD-INPUTS.md, in its order.
func badRows() []badRow {
	const (
		logreg = "testdata/models/logreg.onnx"
		mlp    = "testdata/models/mlp.onnx"
	)
	unlearn := func(extra ...string) []string {
		return append([]string{"unlearn", logreg, "--data", "IN/train.npz", "--forget", "IN/forget.txt",
			"--epsilon", "1", "--delta", "1e-5", "--l2", "0.01", "-o", "OUT/out.onnx"}, extra...)
	}
	// with replaces the value of flag in args.
	with := func(args []string, flag, value string) []string {
		out := slices.Clone(args)
		for i := range out {
			if out[i] == flag {
				out[i+1] = value
				return out
			}
		}
		return append(out, flag, value)
	}
	full := func(extra ...string) []string {
		return unlearn(append([]string{"--scope", "full", "--radius", "50"}, extra...)...)
	}
	without := func(args []string, flag string) []string {
		i := slices.Index(args, flag)
		return append(slices.Clone(args[:i]), args[i+2:]...)
	}
	retrain := func(data string, extra ...string) []string {
		return append([]string{"retrain", logreg, "--data", data, "--forget", "IN/forget.txt", "--l2", "0.01", "--radius", "50", "-o", "OUT/out.onnx"}, extra...)
	}
	grad := func(extra ...string) []string {
		return append([]string{"grad", logreg, "--out", "OUT/g.npy"}, extra...)
	}
	hvp := func(vector string) []string {
		return []string{"hvp", logreg, "--data", "IN/train.npz", "--vector", vector, "--out", "OUT/hv.npy"}
	}
	return []badRow{
		// Data.
		{what: "a NaN feature in the training data", args: with(full(), "--data", "IN/nan.npz")},
		{what: "an infinite feature in --x", args: grad("--x", "IN/inf-x.npy", "--y", "IN/y.npy")},
		{what: "a finite feature (1e30) that --normalize (std 1e-10) makes infinite", args: with(full("--normalize", "0,1e-10"), "--data", "IN/big.npz")},
		{what: "a label (12) beyond the model's 10 outputs: unlearn, full scope", args: with(full(), "--data", "IN/label12.npz")},
		{what: "a label beyond the model's outputs: unlearn, convex scope", args: with(unlearn(), "--data", "IN/label12.npz")},
		{what: "a label beyond the model's outputs: retrain", args: retrain("IN/label12.npz")},
		{what: "a label beyond the model's outputs: retrain, head scope", args: retrain("IN/label12.npz", "--scope", "head")},
		{what: "a label beyond the model's outputs: constrain", args: []string{"constrain", logreg, "--data", "IN/label12.npz", "--radius", "50", "-o", "OUT/out.onnx"}},
		{what: "a label beyond the model's outputs: eval", args: []string{"eval", logreg, "--data", "IN/label12.npz"}},
		{what: "a label beyond the model's outputs: eval --test", args: []string{"eval", logreg, "--data", "IN/train.npz", "--test", "IN/label12.npz"}},
		{what: "a label beyond the model's outputs: grad", args: grad("--data", "IN/label12.npz")},
		{what: "a negative label", args: with(full(), "--data", "IN/negative-label.npz")},
		{what: "training data without labels", args: with(full(), "--data", "IN/x.npy")},
		{what: "--x and --y with different sample counts", args: grad("--x", "IN/x.npy", "--y", "IN/y-short.npy")},
		{what: "samples of 100 features for a model that takes 784", args: with(full(), "--data", "IN/shape100.npz")},
		{what: "a truncated .npz", args: with(full(), "--data", "IN/truncated.npz")},
		{what: "a CSV file larger than --max-bytes", args: with(full("--max-bytes", "10000"), "--data", "IN/train.csv")},
		{what: "a negative --max-bytes", args: full("--max-bytes", "-1")},
		{what: "a data file that does not exist", args: with(full(), "--data", "IN/missing.npz")},
		{what: "--normalize that is not MEAN,STD", args: full("--normalize", "1")},
		// Forget sets.
		{what: "a forget index out of range (20 of 20 samples)", args: with(full(), "--forget", "IN/forget-range.txt")},
		{what: "a forget index listed twice", args: with(full(), "--forget", "IN/forget-dup.txt")},
		{what: "a negative forget index", args: with(full(), "--forget", "IN/forget-negative.txt")},
		{what: "an empty forget file", args: with(full(), "--forget", "IN/forget-empty.txt")},
		{what: "a forget set naming every sample", args: with(full(), "--forget", "IN/forget-all.txt")},
		{what: "a forget line that is not an index", args: with(full(), "--forget", "IN/forget-syntax.txt")},
		{what: "a forget .npy of floats", args: with(full(), "--forget", "IN/forget-float.npy")},
		{what: "a forget .npz sample that is not in the training data", args: with(full(), "--forget", "IN/forget-stranger.npz")},
		{what: "a forget file that does not exist", args: with(full(), "--forget", "IN/missing.txt")},
		{what: "a forget index out of range: retrain", args: []string{"retrain", logreg, "--data", "IN/train.npz", "--forget", "IN/forget-range.txt", "--radius", "50", "-o", "OUT/out.onnx"}},
		// Privacy and solver flags.
		{what: "no --epsilon", args: without(full(), "--epsilon")},
		{what: "--delta outside (0, 1)", args: with(full(), "--delta", "1.5")},
		{what: "--epsilon and --sigma together", args: full("--sigma", "0.1")},
		{what: "--no-noise and --sigma together", args: full("--no-noise", "--sigma", "0.1")},
		{what: "the classic mechanism with ε ≥ 1", args: full("--mechanism", "classic")},
		{what: "a negative --budget", args: full("--budget", "-1")},
		{what: "an unknown --scope", args: with(full(), "--scope", "everything")},
		{what: "a negative --lambda", args: full("--lambda", "-1")},
		{what: "--lambda for a model certified in the convex scope", args: unlearn("--lambda", "0.1")},
		{what: "--solver lissa for a model certified in the convex scope", args: unlearn("--solver", "lissa")},
		{what: "the model outside the ball of --radius", args: with(full(), "--radius", "0.01")},
		{what: "--prev-cert for a model lethe never unlearned", args: full("--prev-cert", "IN/forget.txt")},
		// Outputs.
		{what: "-o naming the input model", args: with(full(), "-o", logreg)},
		{what: "-o in a folder that does not exist", args: with(full(), "-o", "OUT/missing/out.onnx")},
		{what: "-o naming a folder", args: with(full(), "-o", "OUT")},
		{what: "--cert naming the output model", args: full("--cert", "OUT/out.onnx")},
		// Models.
		{what: "a model file that is not ONNX", args: append([]string{"unlearn", "IN/garbage.onnx"}, full()[2:]...)},
		{what: "a truncated model", args: append([]string{"unlearn", "IN/truncated.onnx"}, full()[2:]...)},
		{what: "a model of IR version 99", args: append([]string{"unlearn", "IN/ir99.onnx"}, full()[2:]...)},
		// Signing keys.
		{what: "--sign-key readable by group and others (mode 0644)", args: full("--sign-key", "IN/open.key")},
		{what: "--sign-key that is not PEM", args: full("--sign-key", "IN/junk.key")},
		{what: "--sign-key larger than 64 KiB", args: full("--sign-key", "IN/huge.key")},
		{what: "--sign-key holding a public key", args: full("--sign-key", "IN/public-as-private.key")},
		// Other commands.
		{what: "verify without a certificate beside the model", args: []string{"verify", mlp}},
		{what: "verify --chain naming a missing certificate", args: []string{"verify", "IN/released.onnx", "--chain", "IN/missing.cert.json"}},
		{what: "hvp --vector with a NaN", args: hvp("IN/v-nan.npy")},
		{what: "hvp --vector of the wrong length", args: hvp("IN/v-short.npy")},
		{what: "constrain without --radius", args: []string{"constrain", logreg, "--data", "IN/train.npz", "-o", "OUT/out.onnx"}},
		{what: "eval --original without --test", args: []string{"eval", logreg, "--data", "IN/train.npz", "--forget", "IN/forget.txt", "--original", logreg}},
	}
}

// badInputs writes the inputs the rows name into dir: a training set of 20
// MNIST-shaped samples and broken variants of it, forget sets, models and
// keys. released is a model with its certificate (for verify's rows).
func badInputs(t *testing.T, dir string) {
	t.Helper()
	const n, d = 20, 784
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = rng.Float32()
	}
	y := make([]int64, n)
	for i := range y {
		y[i] = int64(i % 10)
	}
	npz := func(name string, edit func(x []float32, y []int64), shape int) {
		t.Helper()
		xs, ys := slices.Clone(x), slices.Clone(y)
		if edit != nil {
			edit(xs, ys)
		}
		if shape != d {
			xs = xs[:n*shape]
		}
		if err := dataset.WriteNPZ(filepath.Join(dir, name), xs, []int{shape}, ys); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name string, data []byte, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	npz("train.npz", nil, d)
	npz("nan.npz", func(x []float32, _ []int64) { x[3*d+5] = float32(math.NaN()) }, d)
	npz("big.npz", func(x []float32, _ []int64) { x[2*d+7] = 1e30 }, d)
	npz("label12.npz", func(_ []float32, y []int64) { y[4] = 12 }, d)
	npz("negative-label.npz", func(_ []float32, y []int64) { y[6] = -1 }, d)
	npz("shape100.npz", nil, 100)
	train, _ := os.ReadFile(filepath.Join(dir, "train.npz"))
	write("truncated.npz", train[:len(train)/2], 0o644)
	for name, v := range map[string][]float32{"x.npy": x, "inf-x.npy": slices.Clone(x)} {
		if name == "inf-x.npy" {
			v[9*d] = float32(math.Inf(1))
		}
		if err := dataset.WriteNPY(filepath.Join(dir, name), v, []int{n, d}); err != nil {
			t.Fatal(err)
		}
	}
	if err := dataset.WriteNPY(filepath.Join(dir, "y.npy"), y, []int{n}); err != nil {
		t.Fatal(err)
	}
	if err := dataset.WriteNPY(filepath.Join(dir, "y-short.npy"), y[:n-1], []int{n - 1}); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	for j := range d {
		fmt.Fprintf(&csv, "f%d,", j)
	}
	csv.WriteString("label\n")
	for i := range n {
		for j := range d {
			fmt.Fprintf(&csv, "%g,", x[i*d+j])
		}
		fmt.Fprintf(&csv, "%d\n", y[i])
	}
	write("train.csv", []byte(csv.String()), 0o644)
	// Forget sets.
	write("forget.txt", []byte("1\n2\n"), 0o644)
	write("forget-range.txt", []byte("3\n20\n"), 0o644)
	write("forget-dup.txt", []byte("3\n5\n3\n"), 0o644)
	write("forget-negative.txt", []byte("-1\n"), 0o644)
	write("forget-empty.txt", []byte("# nothing\n"), 0o644)
	var all strings.Builder
	for i := range n {
		fmt.Fprintf(&all, "%d\n", i)
	}
	write("forget-all.txt", []byte(all.String()), 0o644)
	write("forget-syntax.txt", []byte("4\nfive\n"), 0o644)
	if err := dataset.WriteNPY(filepath.Join(dir, "forget-float.npy"), []float64{1, 2}, []int{2}); err != nil {
		t.Fatal(err)
	}
	stranger := make([]float32, d)
	if err := dataset.WriteNPZ(filepath.Join(dir, "forget-stranger.npz"), stranger, []int{d}, []int64{0}); err != nil {
		t.Fatal(err)
	}
	// Vectors for hvp (logreg has 7850 parameters).
	v := make([]float64, 7850)
	v[17] = math.NaN()
	if err := dataset.WriteNPY(filepath.Join(dir, "v-nan.npy"), v, []int{len(v)}); err != nil {
		t.Fatal(err)
	}
	if err := dataset.WriteNPY(filepath.Join(dir, "v-short.npy"), v[:100], []int{100}); err != nil {
		t.Fatal(err)
	}
	// Models.
	garbage := make([]byte, 1000)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	write("garbage.onnx", garbage, 0o644)
	good := onnxtest.MLP(1, onnxtest.Raw, 784, 4, 10).Bytes()
	write("truncated.onnx", good[:len(good)/2], 0o644)
	if err := onnxtest.New(99, 13).Output("y", onnxio.Float).Write(filepath.Join(dir, "ir99.onnx")); err != nil {
		t.Fatal(err)
	}
	// Keys.
	if _, err := certify.GenerateKeyPair(filepath.Join(dir, "open.key"), filepath.Join(dir, "k.pub")); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "open.key"), 0o644)
	write("junk.key", []byte("not a key\n"), 0o600)
	write("huge.key", bytes.Repeat([]byte("A"), certify.MaxKeyFileSize+1), 0o600)
	pub, _ := os.ReadFile(filepath.Join(dir, "k.pub"))
	write("public-as-private.key", pub, 0o600)
	// A released model for verify.
	if code, _, stderr := cli(t, "unlearn", testenv.Testdata("models/logreg.onnx"), "--data", filepath.Join(dir, "train.npz"),
		"--forget", filepath.Join(dir, "forget.txt"), "--epsilon", "1", "--delta", "1e-5", "--l2", "0.01",
		"-o", filepath.Join(dir, "released.onnx"), "--quiet"); code != exitOK {
		t.Fatalf("releasing a model for verify's rows: exit %d: %s", code, stderr)
	}
}

// TestBadInputsDoc runs every row of badRows and checks that
// docs/BAD-INPUTS.md says exactly what lethe did: the message on stderr,
// the exit code (2 for bad input, unless the row says otherwise), and what
// was left in the output folder (nothing, always); it also checks that no
// row wrote to stdout or changed an input. With -update it rewrites the
// document from the runs instead.
func TestBadInputsDoc(t *testing.T) {
	requireORT(t)
	in := t.TempDir()
	badInputs(t, in)
	testdata := filepath.Dir(testenv.Testdata("models/logreg.onnx"))
	before := snapshot(t, in)
	rows := badRows()
	var doc strings.Builder
	doc.WriteString(badInputsHeader)
	for i, r := range rows {
		out := t.TempDir()
		expand := strings.NewReplacer("IN/", in+"/", "OUT", out, "testdata/models", testdata)
		args := make([]string, len(r.args))
		for j, a := range r.args {
			args[j] = expand.Replace(a)
		}
		code, stdout, stderr := cli(t, append(args, "--quiet")...)
		want := r.code
		if want == 0 {
			want = exitUsage
		}
		if code != want {
			t.Errorf("row %d (%s): exit %d, want %d: %s", i+1, r.what, code, want, stderr)
		}
		if stdout != "" {
			t.Errorf("row %d (%s): wrote to stdout: %q", i+1, r.what, stdout)
		}
		left := "nothing"
		if es, _ := os.ReadDir(out); len(es) > 0 {
			var names []string
			for _, e := range es {
				names = append(names, e.Name())
			}
			left = strings.Join(names, ", ")
			t.Errorf("row %d (%s): left %s in the output folder", i+1, r.what, left)
		}
		shrink := strings.NewReplacer(in+"/", "IN/", in, "IN", out, "OUT", testdata, "testdata/models")
		msg := shrink.Replace(strings.TrimSpace(stderr))
		fmt.Fprintf(&doc, "| %d | %s | `lethe %s` | %s | %d | %s |\n", i+1, mdCell(r.what), strings.Join(r.args, " "), mdCell(msg), code, left)
	}
	if now := snapshot(t, in); !maps.Equal(before, now) {
		t.Errorf("the rows changed their inputs")
	}
	path := filepath.Join(testenv.Testdata(".."), badInputsDoc)
	if *update {
		if err := os.WriteFile(path, []byte(doc.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/lethe -run '^TestBadInputsDoc$' -update writes it)", err)
	}
	if string(old) != doc.String() {
		oldLines, newLines := strings.Split(string(old), "\n"), strings.Split(doc.String(), "\n")
		for i := range max(len(oldLines), len(newLines)) {
			var o, n string
			if i < len(oldLines) {
				o = oldLines[i]
			}
			if i < len(newLines) {
				n = newLines[i]
			}
			if o != n {
				t.Errorf("%s line %d no longer says what lethe does:\ndoc:   %s\nlethe: %s", badInputsDoc, i+1, o, n)
			}
		}
		t.Errorf("run go test ./cmd/lethe -run '^TestBadInputsDoc$' -update if the change is intended")
	}
}

// badInputsHeader opens docs/BAD-INPUTS.md.
const badInputsHeader = `# Bad inputs

Each row is a bad input lethe was given, what it said and did. The table is
written by ` + "`go test ./cmd/lethe -run '^TestBadInputsDoc$' -update`" + ` from
the rows of ` + "`cmd/lethe/badinputs_doc_test.go`" + `, and the same test, run by
` + "`make test`" + `, fails when any row no longer says what lethe does: the message,
the exit code (2: bad input or usage; 1: a failed check) or what was left on
disk. Every row also writes nothing to stdout and leaves its inputs unchanged.
Paths: ` + "`IN/`" + ` is the test's folder of inputs, ` + "`OUT`" + ` the empty folder given
for outputs, ` + "`testdata/`" + ` the repository's. Every data problem is found
before the first gradient is computed: the data are checked as they are
opened (every feature finite, after ` + "`--normalize`" + `), labels against the model's
outputs and forget sets against the data before any training or update.

| # | what was wrong | command | lethe's message (stderr) | exit | left on disk |
| --- | --- | --- | --- | --- | --- |
`

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "<", "&lt;")
	s = strings.ReplaceAll(s, ">", "&gt;")
	return strings.ReplaceAll(s, "\n", "<br>")
}

// snapshot hashes every file in dir.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = sha256.Sum256(b)
	}
	return out
}
