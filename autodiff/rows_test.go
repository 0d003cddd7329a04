package autodiff

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// rowsData serves a labelled data set by Read and, unless refuse is set, by
// Rows; reads counts the calls of Read.
type rowsData struct {
	labelled
	refuse bool
	short  bool // Rows returns one feature too few
	reads  atomic.Int32
}

func (d *rowsData) Read(idx []int, x []float32, y []int64) error {
	d.reads.Add(1)
	return d.labelled.Read(idx, x, y)
}

func (d *rowsData) Rows(first, n int) ([]float32, []int64, bool) {
	ss := numel(d.shape)
	x := d.x[first*ss : (first+n)*ss]
	if d.short {
		x = x[1:]
	}
	return x, d.y[first : first+n], !d.refuse
}

func TestReadBatch(t *testing.T) {
	d := &rowsData{labelled: labelled{x: vals(5 * 3), y: []int64{0, 1, 2, 3, 4}, shape: []int{3}}}
	r := &run[float32]{}
	x, y, err := r.readBatch(d, []int{1, 2, 3}, 3, true)
	if err != nil || d.reads.Load() != 0 || &x[0] != &d.x[3] || &y[0] != &d.y[1] || len(x) != 9 || len(y) != 3 {
		t.Errorf("consecutive samples: read %d times (err %v), want in place", d.reads.Load(), err)
	}
	if _, y, _ := r.readBatch(d, []int{1, 2}, 3, false); y != nil {
		t.Error("labels returned when none were asked for")
	}
	for _, c := range []struct {
		name   string
		idx    []int
		refuse bool
	}{{"non-consecutive", []int{1, 3, 4}, false}, {"descending", []int{2, 1}, false}, {"refused", []int{0, 1}, true}} {
		d.refuse = c.refuse
		d.reads.Store(0)
		x, y, err := r.readBatch(d, c.idx, 3, true)
		if err != nil || d.reads.Load() != 1 {
			t.Errorf("%s: read %d times (err %v), want one copy", c.name, d.reads.Load(), err)
			continue
		}
		for i, j := range c.idx {
			if y[i] != d.y[j] || !slices.Equal(x[3*i:3*i+3], d.x[3*j:3*j+3]) {
				t.Errorf("%s: sample %d read wrong", c.name, j)
			}
		}
	}
	d.refuse, d.short = false, true
	if _, _, err := r.readBatch(d, []int{0, 1}, 3, true); err == nil || !strings.Contains(err.Error(), "Rows(0, 2) returned 5 features") {
		t.Errorf("Rows of the wrong length: error %v", err)
	}
}

// TestRowsMatchRead checks that reading batches in place gives the gradient
// and HVP that copying them gives, bit for bit.
func TestRowsMatchRead(t *testing.T) {
	p, err := Compile(loadModel(t, "models/mnist_mlp.onnx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 90
	d := &rowsData{labelled: labelled{x: vals(n * 784), y: make([]int64, n), shape: []int{784}}}
	for i := range d.y {
		d.y[i] = int64(i % 10)
	}
	v := make([]float64, p.Dim())
	for i := range v {
		v[i] = float64(i%5) - 2
	}
	opts := EvalOptions{BatchSize: 32, Threads: 2}
	eval := func(refuse bool) ([]float64, []float64) {
		d.refuse = refuse
		d.reads.Store(0)
		g, hv := make([]float64, p.Dim()), make([]float64, p.Dim())
		if _, err := p.HVP(context.Background(), d, nil, opts, v, hv, g); err != nil {
			t.Fatal(err)
		}
		if reads := d.reads.Load(); refuse != (reads > 0) {
			t.Fatalf("refuse %v: %d reads", refuse, reads)
		}
		return g, hv
	}
	g1, hv1 := eval(false)
	g2, hv2 := eval(true)
	if !slices.Equal(g1, g2) || !slices.Equal(hv1, hv2) {
		t.Error("in-place and copied batches give different results")
	}
	d.refuse, d.short = false, true
	if _, err := p.Loss(context.Background(), d, nil, opts); err == nil {
		t.Errorf("Rows of the wrong length: error %v", err)
	}
}
