package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/internal/testenv"
	"github.com/lethe-ml/lethe/onnxio/ort"
)

// TestPipelineOutsideTheModule builds this program as a pipeline author
// would: in a module of its own that requires lethe (here replaced by this
// repository), using the public API only. It then runs it on the bundled
// MNIST model and checks the facts it prints, and that a bad request exits
// with 2.
func TestPipelineOutsideTheModule(t *testing.T) {
	testenv.Missing(t, "onnxruntime shared library", ort.Init())
	src, err := dataset.Open("mnist:train", dataset.Options{})
	testenv.Missing(t, "MNIST", err)
	defer dataset.Close(src)
	repo := testenv.RepoRoot()
	mod := t.TempDir()
	main, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	gomod := "module example.com/pipeline\n\ngo 1.26\n\nrequire github.com/lethe-ml/lethe v0.0.0\n\nreplace github.com/lethe-ml/lethe => " + repo + "\n"
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": main} {
		if err := os.WriteFile(filepath.Join(mod, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// go test puts the go command that runs it first on the PATH.
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(mod, "pipeline")
	// -mod=mod completes the module's requirements from lethe's go.mod;
	// GOPROXY=off keeps the build to the module cache this repository's
	// build already filled, so the test needs no network.
	build := exec.Command(goCmd, "build", "-mod=mod", "-tags=openblas", "-o", bin, ".")
	build.Dir = mod
	build.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in a module outside lethe: %v\n%s", err, out)
	}

	// A deletion request against the first 300 MNIST training samples.
	n := 300
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x, y := make([]float32, n*784), make([]int64, n)
	if err := src.Read(idx, x, y); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	data := filepath.Join(work, "train.npz")
	if err := dataset.WriteNPZ(data, x, []int{784}, y); err != nil {
		t.Fatal(err)
	}
	request := filepath.Join(work, "request.txt")
	os.WriteFile(request, []byte("7\n42\n123\n"), 0o644)
	out := filepath.Join(work, "model-v2.onnx")
	cmd := exec.Command(bin, "-model", filepath.Join(repo, "models", "mnist_mlp.onnx"), "-data", data, "-forget", request, "-out", out)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("pipeline: %v\n%s", err, stderr.String())
	}
	var f facts
	if err := json.Unmarshal(stdout, &f); err != nil {
		t.Fatalf("stdout is not the facts (%v): %s", err, stdout)
	}
	sha, err := certify.FileSHA256(out)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Certified || !f.Verified || f.Status != certify.StatusCertified || f.NForget != 3 || f.Epsilon != 1 || f.Delta != 1e-5 ||
		!(f.Sigma > 0) || f.Out != out || f.OutputSHA256 != sha || f.ForgetDigest != certify.DigestIndices([]int{7, 42, 123}) || len(f.Failed) != 0 {
		t.Errorf("facts %+v", f)
	}
	if !strings.Contains(stderr.String(), "pipeline: certified update done") {
		t.Errorf("stderr lacks the progress: %q", stderr.String())
	}

	// An index beyond the data is the request's fault: exit code 2.
	os.WriteFile(request, []byte("7\n300\n"), 0o644)
	cmd = exec.Command(bin, "-model", filepath.Join(repo, "models", "mnist_mlp.onnx"), "-data", data, "-forget", request, "-out", filepath.Join(work, "v3.onnx"))
	if err := cmd.Run(); err == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Errorf("an index out of range: %v, want exit code 2", err)
	}
}
