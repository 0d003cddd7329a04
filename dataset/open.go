package dataset

import (
	"fmt"
	"strings"
)

// Open opens the data set spec names, as given to the CLI's --data:
//
//   - mnist:train, mnist:test, fashion-mnist:train, fashion-mnist:test: the
//     idx files installed by `make setup` (see MNISTDirEnv, FashionMNISTDirEnv);
//   - PATH.npz: arrays x (features [N, ...]) and y (labels [N], optional);
//   - PATH.npy: features alone, without labels (see OpenArrays for x and y
//     in two files);
//   - PATH.csv: a CSV file with a header row (see Options.LabelColumn);
//   - an idx images file (*-images-idx3-ubyte, optionally .gz), with its
//     labels read from the *-labels-idx1-ubyte[.gz] file beside it when
//     there is one.
//
// Features stored as uint8 are scaled to [0, 1] unless opts.NoScale; then
// opts.Normalize applies. The result is closed with Close.
func Open(spec string, opts Options) (Source, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if set, split, ok := splitNamed(spec); ok {
		return openNamed(set, split, opts)
	}
	lower := strings.ToLower(spec)
	switch {
	case strings.HasSuffix(lower, ".npz"):
		return openNPZ(spec, opts)
	case strings.HasSuffix(lower, ".npy"):
		return OpenArrays(spec, "", opts)
	case strings.HasSuffix(lower, ".csv"):
		return openCSV(spec, opts)
	case isIdx(spec):
		return openIdx(spec, opts)
	}
	return nil, fmt.Errorf("dataset: %s: unknown data format; want a .npz, .npy or .csv file, an idx images file (*-images-idx3-ubyte[.gz]), or one of mnist:train, mnist:test, fashion-mnist:train, fashion-mnist:test", spec)
}
