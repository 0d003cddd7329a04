package main

import (
	"os"
	"path/filepath"
)

// checkOutput refuses an output path that names one of the inputs (the same
// path, or the same file through a link), so that no command ever writes
// over what it reads, and one whose folder does not exist. Every command
// checks each output with it before doing any work, and writes outputs with
// onnxio.WriteFileAtomic (or Model.Save), so an output appears complete or
// not at all.
func checkOutput(out string, inputs ...string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return usageErrorf("output %s: %v", out, err)
	}
	outInfo, outErr := os.Stat(abs)
	for _, in := range inputs {
		inAbs, err := filepath.Abs(in)
		same := err == nil && inAbs == abs
		if !same && outErr == nil {
			if inInfo, err := os.Stat(in); err == nil {
				same = os.SameFile(outInfo, inInfo)
			}
		}
		if same {
			return usageErrorf("output %s is also an input (%s); lethe never writes over its inputs", out, in)
		}
	}
	if st, err := os.Stat(filepath.Dir(abs)); err != nil || !st.IsDir() {
		return usageErrorf("output %s: folder %s does not exist", out, filepath.Dir(abs))
	}
	return nil
}
