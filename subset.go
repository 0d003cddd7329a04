package lethe

import (
	"github.com/lethe-ml/lethe/certify"
	"github.com/lethe-ml/lethe/dataset"
)

// Subset names some samples of a data set: the samples to forget, or those
// a gradient is taken over. Give File or Indices; the zero value names none.
type Subset struct {
	// File is a text file of sample indices (one per line; blank lines and
	// '#' comments ignored), an .npy integer array of indices, or an .npz
	// with the samples themselves (x, and y when the data have labels),
	// which are matched to the data by their exact bits (see
	// dataset.ParseForget).
	File string
	// Indices are sample indices, in any order.
	Indices []int
}

// IsZero reports whether s names no samples.
func (s Subset) IsZero() bool { return s.File == "" && s.Indices == nil }

// resolve reads s against the data: sorted unique indices, their kind and
// the digest a certificate records. field names s in the request.
func (s Subset) resolve(field string, data dataset.Source) (*dataset.ForgetSet, error) {
	switch {
	case s.File != "" && s.Indices != nil:
		return nil, badField(field, "give File or Indices, not both")
	case s.File != "":
		f, err := dataset.ParseForget(s.File, data)
		if err != nil {
			return nil, badInput(field, err)
		}
		return f, nil
	case s.Indices == nil:
		return nil, badField(field, "no samples given: set File or Indices")
	}
	f, err := dataset.IndexSet(s.Indices, data.Len())
	if err != nil {
		return nil, badInput(field, err)
	}
	return f, nil
}

// retainedIndices returns 0..n−1 without the sorted indices drop.
func retainedIndices(n int, drop []int) []int {
	out := make([]int, 0, n-len(drop))
	j := 0
	for i := range n {
		if j < len(drop) && drop[j] == i {
			j++
			continue
		}
		out = append(out, i)
	}
	return out
}

// forgetDigest is the digest a certificate records for f: certify's
// canonical digest of the indices, so an auditor can recompute it from the
// index list alone, or for samples the dataset's digest, which also covers
// their bytes.
func forgetDigest(f *dataset.ForgetSet) (kind, digest string) {
	if f.Kind == dataset.KindSamples {
		return certify.ForgetSamples, f.Digest
	}
	return certify.ForgetIndices, certify.DigestIndices(f.Indices)
}
