package dataset

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Kinds of forget set.
const (
	// KindIndices: the forget set lists training sample indices.
	KindIndices = "indices"
	// KindSamples: the forget set gives the samples themselves.
	KindSamples = "samples"
)

// ForgetSet is the set D_u of training samples to forget.
type ForgetSet struct {
	// Indices are the training sample indices to forget, sorted and unique.
	Indices []int
	// Kind is KindIndices or KindSamples.
	Kind string
	// Digest is "sha256:<hex>" over a canonical encoding of the forget set
	// (see the package documentation); it identifies the request in a
	// certificate without revealing the samples.
	Digest string
	// Requested is the number of entries in the spec: indices listed, or
	// samples given (several samples may match one training row and one
	// sample several rows, so it may differ from len(Indices)).
	Requested int
}

// ParseForget reads the forget set spec names, as given to the CLI's
// --forget, against the training set train:
//
//   - PATH.npy: an integer array [k] of training indices;
//   - PATH.npz: the samples themselves, arrays x (and y when train has
//     labels), matched to training rows by exact feature bits and label (see
//     the package documentation);
//   - any other PATH: a text file of training indices, one per line; blank
//     lines and everything after a '#' are ignored.
//
// Errors are *ForgetError values wrapping ErrForgetSyntax, ErrIndexRange,
// ErrDuplicateIndex, ErrSampleNotFound, ErrEmptyForget or ErrForgetAll, and
// name the file and the line, element or sample at fault.
func ParseForget(spec string, train Source) (*ForgetSet, error) {
	lower := strings.ToLower(spec)
	switch {
	case strings.HasSuffix(lower, ".npz"):
		return matchSamples(spec, train)
	case strings.HasSuffix(lower, ".npy"):
		entries, err := readIndexArray(spec, train.Len()+1)
		if err != nil {
			return nil, err
		}
		return indexSet(spec, entries, train.Len())
	}
	entries, err := readIndexText(spec, train.Len()+1)
	if err != nil {
		return nil, err
	}
	return indexSet(spec, entries, train.Len())
}

// entry is one listed index and where it was listed.
type entry struct {
	index int64
	where string
}

// readIndexText reads a text file of indices, no more than most: a valid
// set against n training samples has at most n, and among n+1 listed
// indices one is out of range or listed twice, which indexSet reports, so
// reading stops there and memory stays proportional to the training set.
func readIndexText(path string, most int) ([]entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	var out []entry
	sc := bufio.NewScanner(f)
	for line := 1; len(out) < most && sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		where := "line " + strconv.Itoa(line)
		v, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, &ForgetError{File: path, Where: where, Err: ErrForgetSyntax,
				msg: fmt.Sprintf("%q is not a sample index (want one integer per line)", text)}
		}
		out = append(out, entry{v, where})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	return out, nil
}

// readIndexArray reads an .npy integer array of indices, its first most
// elements (see readIndexText).
func readIndexArray(path string, most int) ([]entry, error) {
	f, a, err := openNPYFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !a.dt.isInt() {
		return nil, &ForgetError{File: path, Err: ErrForgetSyntax,
			msg: fmt.Sprintf("forget indices must be an integer array, got %s", a.dt.name())}
	}
	if len(a.shape) > 2 || a.rowElems != 1 {
		return nil, &ForgetError{File: path, Err: ErrForgetSyntax,
			msg: fmt.Sprintf("forget indices must have shape [k], got %v", a.shape)}
	}
	idx := make([]int, min(a.rows(), most))
	for i := range idx {
		idx[i] = i
	}
	out := make([]entry, 0, len(idx))
	err = a.readRows(idx, func(i int, b []byte) error {
		v, ok, text := a.dt.integer(b)
		if !ok {
			return &ForgetError{File: path, Where: "element " + strconv.Itoa(i), Err: ErrIndexRange,
				msg: fmt.Sprintf("index %s out of range", text)}
		}
		out = append(out, entry{v, "element " + strconv.Itoa(i)})
		return nil
	})
	return out, err
}

// IndexSet builds the forget set of the given training sample indices (in
// any order) against a training set of n samples, with the same checks and
// digest as ParseForget gives a file of those indices. Errors are
// *ForgetError values whose File is "indices" and whose Where is the
// position in indices.
func IndexSet(indices []int, n int) (*ForgetSet, error) {
	entries := make([]entry, len(indices))
	for i, v := range indices {
		entries[i] = entry{int64(v), "position " + strconv.Itoa(i)}
	}
	return indexSet("indices", entries, n)
}

// indexSet validates listed indices against a training set of n samples and
// builds the forget set.
func indexSet(path string, entries []entry, n int) (*ForgetSet, error) {
	for _, e := range entries {
		if e.index < 0 || e.index >= int64(n) {
			return nil, &ForgetError{File: path, Where: e.where, Err: ErrIndexRange,
				msg: fmt.Sprintf("index %d out of range [0, %d)", e.index, n)}
		}
	}
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(a, b entry) int { return cmp.Compare(a.index, b.index) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].index == sorted[i-1].index {
			return nil, &ForgetError{File: path, Where: sorted[i].where, Err: ErrDuplicateIndex,
				msg: fmt.Sprintf("duplicate index %d (also on %s)", sorted[i].index, sorted[i-1].where)}
		}
	}
	indices := make([]int, len(sorted))
	for i, e := range sorted {
		indices[i] = int(e.index)
	}
	if err := checkCoverage(path, len(indices), n); err != nil {
		return nil, err
	}
	return &ForgetSet{Indices: indices, Kind: KindIndices, Digest: forgetDigest(KindIndices, indices, nil), Requested: len(entries)}, nil
}

// checkCoverage rejects a forget set of k indices that is empty or covers
// the whole training set of n samples.
func checkCoverage(path string, k, n int) error {
	switch {
	case k == 0:
		return &ForgetError{File: path, Err: ErrEmptyForget, msg: "empty forget set: it names no sample"}
	case k >= n:
		return &ForgetError{File: path, Err: ErrForgetAll,
			msg: fmt.Sprintf("the forget set names all %d training samples; nothing would remain", n)}
	}
	return nil
}

// forgetDigest hashes a forget set canonically (see the package
// documentation); samples are the encoded sample records, or nil.
func forgetDigest(kind string, indices []int, samples *sampleRecords) string {
	h := sha256.New()
	fmt.Fprintf(h, "lethe.forget/v1\nkind=%s\nindices=%d\n", kind, len(indices))
	var b [8]byte
	for _, i := range indices {
		binary.LittleEndian.PutUint64(b[:], uint64(i))
		h.Write(b[:])
	}
	if samples != nil {
		samples.hash(h)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// sampleRecords are forget samples encoded as records of float32 feature
// bits, then (when labelled) the int64 label, little-endian.
type sampleRecords struct {
	elems    int
	labelled bool
	recs     [][]byte
}

// hash writes the records to h in canonical (byte-wise sorted) order.
func (s *sampleRecords) hash(h hash.Hash) {
	fmt.Fprintf(h, "samples=%d\nelements=%d\nlabelled=%t\n", len(s.recs), s.elems, s.labelled)
	sorted := slices.Clone(s.recs)
	slices.SortFunc(sorted, bytes.Compare)
	for _, r := range sorted {
		h.Write(r)
	}
}
