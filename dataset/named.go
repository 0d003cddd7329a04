package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables that locate the named data sets.
const (
	// MNISTDirEnv names a folder holding MNIST's four idx files; it
	// overrides the default $LETHE_CACHE/mnist, else
	// ${XDG_CACHE_HOME:-~/.cache}/lethe/mnist, where `make setup` puts them.
	MNISTDirEnv = "LETHE_MNIST_DIR"
	// FashionMNISTDirEnv names a folder holding Fashion-MNIST's four idx
	// files; it overrides the default /usr/share/datasets/fashion-mnist,
	// where Debian's dataset-fashion-mnist (installed by `make setup`) puts them.
	FashionMNISTDirEnv = "LETHE_FASHION_MNIST_DIR"
)

// namedSets maps the data set part of a spec like "mnist:train" to the
// function that finds its folder.
var namedSets = map[string]func() string{
	"mnist":         mnistDir,
	"fashion-mnist": fashionMNISTDir,
}

func mnistDir() string {
	if d := os.Getenv(MNISTDirEnv); d != "" {
		return d
	}
	if c := os.Getenv("LETHE_CACHE"); c != "" {
		return filepath.Join(c, "mnist")
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "lethe", "mnist")
}

func fashionMNISTDir() string {
	if d := os.Getenv(FashionMNISTDirEnv); d != "" {
		return d
	}
	return "/usr/share/datasets/fashion-mnist"
}

// splitNamed splits a spec such as "mnist:test" into the set and the split;
// ok is false when spec does not name one of namedSets.
func splitNamed(spec string) (set, split string, ok bool) {
	set, split, found := strings.Cut(spec, ":")
	if !found {
		return "", "", false
	}
	_, ok = namedSets[set]
	return set, split, ok
}

// openNamed opens mnist:train, mnist:test, fashion-mnist:train or
// fashion-mnist:test from the folder its environment variable or default names.
func openNamed(set, split string, opts Options) (Source, error) {
	prefix := map[string]string{"train": "train", "test": "t10k"}[split]
	if prefix == "" {
		return nil, fmt.Errorf("dataset: %s:%s: unknown split %q; want %s:train or %s:test", set, split, split, set, set)
	}
	dir := namedSets[set]()
	images := filepath.Join(dir, prefix+"-images-idx3-ubyte")
	// The raw file first: `make setup` decompresses MNIST beside the .gz
	// files, which saves decompressing 47 MB at every open.
	for _, p := range []string{images, images + ".gz"} {
		if _, err := os.Stat(p); err == nil {
			if idxLabelsPath(p) == "" {
				return nil, fmt.Errorf("dataset: %s:%s: no labels file beside %s; run `make setup`", set, split, p)
			}
			return openIdx(p, opts)
		}
	}
	env := MNISTDirEnv
	if set == "fashion-mnist" {
		env = FashionMNISTDirEnv
	}
	_, err := os.Stat(images + ".gz")
	return nil, fmt.Errorf("dataset: %s:%s: %s not found; run `make setup` or set %s to a folder holding it: %w", set, split, images+".gz", env, err)
}
