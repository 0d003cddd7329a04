package dataset_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/lethe-ml/lethe/dataset"
)

func TestCSV(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, text string
		opts       dataset.Options
		x          []float32
		y          []int64
	}{
		{"label column in the middle", "a,label,b\n1.5,2,-3\n0,0,4e2\n", dataset.Options{}, []float32{1.5, -3, 0, 400}, []int64{2, 0}},
		{"last column by default", "a,b,class\n1,2,3\n4,5,6.0\n", dataset.Options{}, []float32{1, 2, 4, 5}, []int64{3, 6}},
		{"named column", "target,a\n1,0.25\n0,0.5\n", dataset.Options{LabelColumn: "target"}, []float32{0.25, 0.5}, []int64{1, 0}},
		{"no labels", "a,b\n1,2\n3,4\n", dataset.Options{LabelColumn: dataset.NoLabelColumn}, []float32{1, 2, 3, 4}, nil},
		{"normalised", "a,label\n1,0\n3,1\n", dataset.Options{Normalize: &dataset.Normalization{Mean: 1, Std: 2}}, []float32{0, 1}, []int64{0, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := mustOpen(t, writeFile(t, dir, "d.csv", []byte(c.text)), c.opts)
			gx, gy := readAll(t, src)
			if !slices.Equal(gx, c.x) || !slices.Equal(gy, c.y) {
				t.Errorf("got %v %v, want %v %v", gx, gy, c.x, c.y)
			}
			if want := []int{len(c.x) / 2}; !slices.Equal(src.SampleShape(), want) {
				t.Errorf("SampleShape %v, want %v", src.SampleShape(), want)
			}
		})
	}
}

func TestCSVErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, text string
		opts       dataset.Options
		want       []string
	}{
		{"not a number", "a,label\n1,0\nx,1\n", dataset.Options{}, []string{`line 3, column "a": "x" is not a number`}},
		{"NaN", "a,label\nNaN,0\n", dataset.Options{}, []string{"feature 0 of sample 0 is NaN"}},
		{"fractional label", "a,label\n1,1.5\n", dataset.Options{}, []string{`label of sample 0 is "1.5"`}},
		{"label out of range", "a,label\n1,3\n", dataset.Options{NumClasses: 3}, []string{`label of sample 0 is "3"`, "[0, 3)"}},
		{"ragged", "a,b,label\n1,2,0\n1,0\n", dataset.Options{}, []string{"wrong number of fields"}},
		{"missing column", "a,b\n1,2\n", dataset.Options{LabelColumn: "y"}, []string{`no column named "y"`}},
		{"header only", "a,label\n", dataset.Options{}, []string{"no samples"}},
		{"empty", "", dataset.Options{}, []string{"empty CSV file"}},
		{"label only", "label\n1\n", dataset.Options{}, []string{"no feature columns"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, "bad.csv", []byte(c.text))
			_, err := dataset.Open(p, c.opts)
			wantErr(t, err, append(c.want, p)...)
		})
	}
	_, err := dataset.Open(writeFile(t, dir, "nan.csv", []byte("a,label\n1,0\n2,0\n-inf,1\n")), dataset.Options{})
	var nf *dataset.NonFiniteError
	if !errors.As(err, &nf) || nf.Sample != 2 {
		t.Errorf("got %v, want a NonFiniteError for sample 2", err)
	}
}
