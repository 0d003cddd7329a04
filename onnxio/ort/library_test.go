package ort_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/lethe-ml/lethe/onnxio/ort"
)

func TestLibraryPathOrder(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "lethe", "onnxruntime", "libonnxruntime.so.1")
	if err := os.MkdirAll(filepath.Dir(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, []byte("not a library"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Setenv(ort.EnvLibrary, "")
	t.Setenv("LETHE_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", dir)
	if p, err := ort.LibraryPath(); err != nil || p != fake {
		t.Errorf("with XDG_CACHE_HOME: %q, %v; want %q", p, err, fake)
	}

	t.Setenv("LETHE_CACHE", filepath.Join(dir, "lethe"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "elsewhere"))
	if p, err := ort.LibraryPath(); err != nil || p != fake {
		t.Errorf("with LETHE_CACHE: %q, %v; want %q", p, err, fake)
	}

	override := filepath.Join(dir, "custom.so")
	os.WriteFile(override, nil, 0o644)
	t.Setenv(ort.EnvLibrary, override)
	if p, err := ort.LibraryPath(); err != nil || p != override {
		t.Errorf("with %s: %q, %v", ort.EnvLibrary, p, err)
	}

	t.Setenv(ort.EnvLibrary, filepath.Join(dir, "missing.so"))
	if _, err := ort.LibraryPath(); !errors.Is(err, ort.ErrNoLibrary) || !strings.Contains(err.Error(), ort.EnvLibrary) {
		t.Errorf("with a missing %s: %v", ort.EnvLibrary, err)
	}
}

func TestLibraryPathMissingSaysHowToInstall(t *testing.T) {
	t.Setenv(ort.EnvLibrary, "")
	t.Setenv("LETHE_CACHE", t.TempDir())
	t.Setenv("LD_LIBRARY_PATH", "")
	p, err := ort.LibraryPath()
	if err == nil {
		t.Skipf("onnxruntime is installed system-wide at %s, so it cannot be missing here", p)
	}
	if !errors.Is(err, ort.ErrNoLibrary) || !strings.Contains(err.Error(), "make setup") || !strings.Contains(err.Error(), ort.EnvLibrary) {
		t.Errorf("error %q does not say how to install onnxruntime", err)
	}
}

func TestInitConcurrentAndVersion(t *testing.T) {
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ort.Init()
		}()
	}
	wg.Wait()
	for _, err := range errs[1:] {
		if err != errs[0] {
			t.Errorf("Init results differ: %v vs %v", err, errs[0])
		}
	}
	requireORT(t)
	if v := ort.Version(); !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(v) {
		t.Errorf("Version() = %q", v)
	}
}
