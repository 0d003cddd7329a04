package dataset

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// openCSV reads a CSV file with a header row into memory: one sample per
// row, every column but the label column a float32 feature (sample shape
// [columns − 1]). The label column is Options.LabelColumn, by default the
// one named "label", else the last; NoLabelColumn reads features only.
// Labels are integers, written as such or as integral numbers like "3.0".
// The features and labels, and the text of any one row, may take at most
// opts.MaxBytes in memory.
func openCSV(path string, opts Options) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	limit := opts.maxBytes()
	bound := &recordBound{r: f, limit: limit, path: path}
	r := csv.NewReader(bound)
	bound.csv = r
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("dataset: %s: empty CSV file; want a header row and one row per sample", path)
		}
		return nil, csvError(path, err)
	}
	header = slices.Clone(header) // ReuseRecord overwrites it otherwise
	labelCol, err := csvLabelColumn(path, header, opts.LabelColumn)
	if err != nil {
		return nil, err
	}
	nFeat := len(header)
	if labelCol >= 0 {
		nFeat--
	}
	if nFeat == 0 {
		return nil, fmt.Errorf("dataset: %s: no feature columns", path)
	}
	var x []float32
	var y []int64
	tf := opts.transform()
	for row := 0; ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(path, err)
		}
		line, _ := r.FieldPos(0)
		start := len(x)
		for c, cell := range rec {
			cell = strings.TrimSpace(cell)
			if c == labelCol {
				v, ok := parseLabel(cell)
				if !ok || (opts.NumClasses > 0 && v >= int64(opts.NumClasses)) {
					return nil, &LabelError{File: fmt.Sprintf("%s line %d", path, line), Sample: row, Value: strconv.Quote(cell), NumClasses: opts.NumClasses}
				}
				y = append(y, v)
				continue
			}
			v, err := strconv.ParseFloat(cell, 32)
			if err != nil {
				return nil, fmt.Errorf("dataset: %s: line %d, column %q: %q is not a number", path, line, header[c], cell)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, &NonFiniteError{File: fmt.Sprintf("%s line %d", path, line), Sample: row, Element: len(x) - start, Value: v}
			}
			x = append(x, float32(v))
		}
		if bad, v := tf.apply(x[start:]); bad >= 0 {
			return nil, tf.nonFinite(fmt.Sprintf("%s line %d", path, line), row, bad, v)
		}
		if need := 4*int64(len(x)) + 8*int64(len(y)); need > limit {
			return nil, &LimitError{File: path, What: fmt.Sprintf("the first %d rows, as float32 features and int64 labels,", row+1), Size: need, Limit: limit}
		}
	}
	if len(x) == 0 {
		return nil, fmt.Errorf("dataset: %s: no samples, only a header", path)
	}
	if labelCol < 0 {
		y = nil
	}
	return newMemSource(path, x, []int{nFeat}, y, opts)
}

// csvLabelColumn finds the label column of header: -1 for none.
func csvLabelColumn(path string, header []string, want string) (int, error) {
	switch want {
	case NoLabelColumn:
		return -1, nil
	case "":
		for i, h := range header {
			if strings.TrimSpace(h) == "label" {
				return i, nil
			}
		}
		return len(header) - 1, nil
	}
	for i, h := range header {
		if strings.TrimSpace(h) == want {
			return i, nil
		}
	}
	return 0, fmt.Errorf("dataset: %s: no column named %q (header: %s)", path, want, strings.Join(header, ","))
}

// parseLabel parses a class label: an integer ≥ 0, or an integral number.
func parseLabel(s string) (int64, bool) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, v >= 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// csvError wraps an error of the CSV reader, passing a *LimitError through.
func csvError(path string, err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		return le
	}
	return fmt.Errorf("dataset: %s: %w", path, err)
}

// recordBound fails reads that run more than limit bytes past the end of
// the last record the CSV reader returned, so that one endless record (an
// unclosed quote, a file without newlines) cannot fill memory.
type recordBound struct {
	r     io.Reader
	csv   *csv.Reader
	read  int64 // bytes read from r
	limit int64
	path  string
}

func (b *recordBound) Read(p []byte) (int, error) {
	if pending := b.read - b.csv.InputOffset(); pending > b.limit {
		return 0, &LimitError{File: b.path, What: "one CSV row", Size: pending, Limit: b.limit}
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}
