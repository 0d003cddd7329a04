// Package testenv lets tests find the real components lethe is checked against
// (onnxruntime, the ONNX conformance data, MNIST) and decide what to do when one
// is missing: skip on a developer machine, fail when LETHE_REQUIRE_COMPONENTS is
// set, as `make test` and CI do.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireEnv is the environment variable that turns a missing component from a
// skip into a failure.
const RequireEnv = "LETHE_REQUIRE_COMPONENTS"

// ConformanceDir is where Debian's libonnx-testdata installs the ONNX backend
// conformance data.
const ConformanceDir = "/usr/share/libonnx-testdata/data"

// Missing reports a missing component: a test failure when RequireEnv is set,
// a skip otherwise. It does nothing when err is nil.
func Missing(t testing.TB, component string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s is required (%s is set) but unavailable: %v (run `make setup`)", component, RequireEnv, err)
	}
	t.Skipf("%s unavailable: %v (run `make setup`)", component, err)
}

// Conformance returns ConformanceDir, or reports it missing.
func Conformance(t testing.TB) string {
	t.Helper()
	_, err := os.Stat(ConformanceDir)
	Missing(t, "ONNX conformance data (Debian libonnx-testdata)", err)
	return ConformanceDir
}

// RepoRoot returns the repository root, found from this source file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Testdata returns the path of name inside the repository's testdata folder.
func Testdata(name string) string {
	return filepath.Join(RepoRoot(), "testdata", name)
}
