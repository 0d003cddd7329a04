package dataset_test

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

// FuzzCSV feeds arbitrary bytes to Open as a CSV file, with the label
// column found by name or last, or with no labels. An accepted file must
// satisfy checkSource, and its samples written back as CSV (shortest
// float32 text) must reopen to the same features, bit for bit, and labels.
// Refusals must name the file.
func FuzzCSV(f *testing.F) {
	f.Add([]byte("a,b,label\n0.5,-1,3\n1e-3,2,0\n"), false)
	f.Add([]byte("label,x\n1,0\n0,-0\n2.0,7\n"), false)
	f.Add([]byte("x0,x1\n1,2\n3,4\n"), true)
	f.Add([]byte("x,y\n\"1\", 2\n3,4\n"), false)
	f.Add([]byte("x,label\nnan,1\n"), false)
	f.Add([]byte("x,label\n1,-1\n"), false)
	f.Add([]byte("x,label\n\"1,2\n"), false)
	f.Add([]byte("x\n1e39\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, noLabels bool) {
		p := fuzzFile(t, "a.csv", data)
		opts := fuzzOptions
		if noLabels {
			opts.LabelColumn = dataset.NoLabelColumn
		}
		src, err := dataset.Open(p, opts)
		if err != nil {
			checkRefusal(t, err, p)
			return
		}
		x, y := checkSource(t, src)
		if noLabels == (y != nil) {
			t.Fatalf("labels read: %v with NoLabelColumn %v", y != nil, noLabels)
		}
		size := src.SampleShape()[0]
		var b bytes.Buffer
		for j := range size {
			b.WriteString("f" + strconv.Itoa(j) + ",")
		}
		b.WriteString("label\n")
		for i := range src.Len() {
			for j := range size {
				b.WriteString(strconv.FormatFloat(float64(x[i*size+j]), 'g', -1, 32) + ",")
			}
			if y != nil {
				b.WriteString(strconv.FormatInt(y[i], 10))
			}
			b.WriteString("\n")
		}
		q := filepath.Join(filepath.Dir(p), "b.csv")
		text := b.Bytes()
		if y == nil { // the last column is empty: drop it
			text = bytes.ReplaceAll(text, []byte(",\n"), []byte("\n"))
			text = bytes.Replace(text, []byte(",label\n"), []byte("\n"), 1)
		}
		again, err := dataset.Open(fuzzFileAt(t, q, text), opts)
		if err != nil {
			t.Fatalf("reopening the samples written back: %v", err)
		}
		ax, ay := checkSource(t, again)
		checkSame(t, "CSV round trip", src, again, x, ax, y, ay)
	})
}
