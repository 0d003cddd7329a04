package ort

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

// EnvLibrary is the environment variable naming the onnxruntime shared
// library to use; it overrides every other location.
const EnvLibrary = "LETHE_ORT_LIB"

// ErrNoLibrary means the onnxruntime shared library was not found.
var ErrNoLibrary = errors.New("ort: onnxruntime shared library not found")

// libNames are the file names the system loader would look for.
var libNames = []string{"libonnxruntime.so.1", "libonnxruntime.so"}

// systemDirs are searched after LD_LIBRARY_PATH, like the dynamic loader does.
var systemDirs = []string{"/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib"}

// cacheDir is lethe's cache folder: $LETHE_CACHE, else $XDG_CACHE_HOME/lethe,
// else ~/.cache/lethe (the same rule as scripts/setup.sh).
func cacheDir() string {
	if d := os.Getenv("LETHE_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "lethe")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".cache", "lethe")
	}
	return filepath.Join(home, ".cache", "lethe")
}

// LibraryPath finds the onnxruntime shared library: $LETHE_ORT_LIB if set (it
// must exist); then onnxruntime/libonnxruntime.so.1 in lethe's cache folder,
// where `make setup` installs it ($LETHE_CACHE, else $XDG_CACHE_HOME/lethe,
// else ~/.cache/lethe); then libonnxruntime.so.1 or libonnxruntime.so in
// $LD_LIBRARY_PATH and the system library folders. The error wraps
// ErrNoLibrary and says how to install it.
func LibraryPath() (string, error) {
	if p := os.Getenv(EnvLibrary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrNoLibrary, EnvLibrary, p, err)
		}
		return p, nil
	}
	cached := filepath.Join(cacheDir(), "onnxruntime", "libonnxruntime.so.1")
	if isFile(cached) {
		return cached, nil
	}
	dirs := append(filepath.SplitList(os.Getenv("LD_LIBRARY_PATH")), systemDirs...)
	for _, d := range dirs {
		for _, n := range libNames {
			if p := filepath.Join(d, n); d != "" && isFile(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%w (looked in %s, $LD_LIBRARY_PATH and %s); run `make setup` to install onnxruntime 1.30, or set %s to its path",
		ErrNoLibrary, cached, strings.Join(systemDirs, ", "), EnvLibrary)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

var (
	initOnce sync.Once
	initErr  error
)

// Init loads the onnxruntime library found by LibraryPath and creates its
// environment. It is safe to call from several goroutines and more than once:
// only the first call does the work, and later calls return its result. The
// environment lives until the process exits.
func Init() error {
	initOnce.Do(func() {
		path, err := LibraryPath()
		if err != nil {
			initErr = err
			return
		}
		ortgo.SetSharedLibraryPath(path)
		// Fatal only: every error onnxruntime logs is also returned to the caller.
		if err := ortgo.InitializeEnvironment(ortgo.WithLogLevelFatal()); err != nil {
			initErr = fmt.Errorf("ort: initialize onnxruntime from %s: %w", path, err)
		}
	})
	return initErr
}

// Version returns onnxruntime's own version string (such as "1.30.0"), or ""
// when the library cannot be initialized (Init returns the reason).
func Version() string {
	if Init() != nil {
		return ""
	}
	return ortgo.GetVersion()
}
