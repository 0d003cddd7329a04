package dataset

import "os"

// OpenArrays opens features and labels kept in two .npy files, as the CLI's
// --x X.npy --y Y.npy: xPath holds features [N, ...] (float32, float64 or
// uint8), yPath integer labels [N]. yPath "" opens the features alone, as Open
// does for a lone .npy file.
//
// The features are streamed: each Read fetches the requested rows from the
// file with ReadAt, so data sets larger than memory work. Only C-order arrays
// are supported. The labels are read into memory and checked at once.
func OpenArrays(xPath, yPath string, opts Options) (Source, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	xf, x, err := openNPYFile(xPath)
	if err != nil {
		return nil, err
	}
	var y *array
	if yPath != "" {
		yf, ya, err := openNPYFile(yPath)
		if err != nil {
			xf.Close()
			return nil, err
		}
		defer yf.Close() // labels are read into memory by newArraySource
		y = ya
	}
	s, err := newArraySource(x, nil, y, opts, xf)
	if err != nil {
		xf.Close()
		return nil, err
	}
	return s, nil
}

// openNPYFile opens the .npy file path and parses its header.
func openNPYFile(path string) (*os.File, *array, error) {
	f, st, err := openFile(path)
	if err != nil {
		return nil, nil, err
	}
	a, err := openNPY(f, st.Size(), path, nil)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, a, nil
}
