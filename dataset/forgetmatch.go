package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strconv"
)

// matchSamples finds the training rows of train equal to the samples of the
// .npz file path. The file is opened with the Options train was opened with,
// so its features go through the same conversion; then every training row
// whose float32 feature bits and label equal those of some forget sample is
// forgotten, and every forget sample must match at least one row.
//
// Only the forget samples are indexed (a hash table of len(forget) entries);
// the training set is streamed once past it.
func matchSamples(path string, train Source) (*ForgetSet, error) {
	opts := optionsOf(train)
	fsrc, err := openNPZ(path, opts)
	if errors.Is(err, errNoSamples) {
		return nil, &ForgetError{File: path, Err: ErrEmptyForget, msg: "empty forget set: x holds no sample"}
	}
	if err != nil {
		return nil, err
	}
	defer Close(fsrc)
	size := numElems(train.SampleShape())
	if got := numElems(fsrc.SampleShape()); got != size {
		return nil, fmt.Errorf("dataset: %s: forget samples have shape %v (%d elements) but training samples %v (%d elements)",
			path, fsrc.SampleShape(), got, train.SampleShape(), size)
	}
	labelled := HasLabels(train)
	if labelled && !HasLabels(fsrc) {
		return nil, fmt.Errorf("dataset: %s: no array y: the training set has labels, so forget samples need them too (np.savez(path, x=x, y=y))", path)
	}
	recs, err := encodeSamples(path, fsrc, size, labelled, opts.maxBytes())
	if err != nil {
		return nil, err
	}

	seed := maphash.MakeSeed()
	table := make(map[uint64][]int, len(recs.recs))
	for i, r := range recs.recs {
		h := maphash.Bytes(seed, r)
		table[h] = append(table[h], i)
	}
	found := make([]bool, len(recs.recs))
	var indices []int
	scratch := make([]byte, 0, len(recs.recs[0]))
	err = ForEachBatch(train, Batches(train.Len(), batchFor(train), nil), func(idx []int, x []float32, y []int64) error {
		for k, ti := range idx {
			scratch = appendRecord(scratch[:0], x[k*size:(k+1)*size], y, k)
			matched := false
			for _, c := range table[maphash.Bytes(seed, scratch)] {
				if bytes.Equal(recs.recs[c], scratch) {
					found[c], matched = true, true
				}
			}
			if matched {
				indices = append(indices, ti)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	missing, first := 0, -1
	for i, ok := range found {
		if !ok {
			missing++
			if first < 0 {
				first = i
			}
		}
	}
	if missing > 0 {
		return nil, &ForgetError{File: path, Where: "sample " + strconv.Itoa(first), Err: ErrSampleNotFound,
			msg: fmt.Sprintf("not found in the training set (%d of %d forget samples match no training sample; features are compared bit for bit after conversion, and labels exactly)", missing, len(found))}
	}
	if err := checkCoverage(path, len(indices), train.Len()); err != nil {
		return nil, err
	}
	return &ForgetSet{Indices: indices, Kind: KindSamples, Digest: forgetDigest(KindSamples, indices, recs), Requested: len(found)}, nil
}

// encodeSamples reads every sample of src, opened from path, into records,
// which may take at most limit bytes.
func encodeSamples(path string, src Source, size int, labelled bool, limit int64) (*sampleRecords, error) {
	// Each record is a slice header (24 bytes) and its bytes.
	if need := satMul(int64(src.Len()), 24+4*int64(size)+8); need > limit {
		return nil, &LimitError{File: path, What: "the forget samples as records", Size: need, Limit: limit}
	}
	recs := &sampleRecords{elems: size, labelled: labelled, recs: make([][]byte, 0, src.Len())}
	err := ForEachBatch(src, Batches(src.Len(), batchFor(src), nil), func(idx []int, x []float32, y []int64) error {
		if !labelled {
			y = nil
		}
		for k := range idx {
			recs.recs = append(recs.recs, appendRecord(nil, x[k*size:(k+1)*size], y, k))
		}
		return nil
	})
	return recs, err
}

// appendRecord appends the record of one sample: its features' float32 bits
// and, when y is not nil, the label y[k], little-endian.
func appendRecord(b []byte, x []float32, y []int64, k int) []byte {
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	if y != nil {
		b = binary.LittleEndian.AppendUint64(b, uint64(y[k]))
	}
	return b
}
