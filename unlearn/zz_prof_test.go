package unlearn

import (
	"context"
	"testing"

	"github.com/lethe-ml/lethe/autodiff"
	"github.com/lethe-ml/lethe/dataset"
	"github.com/lethe-ml/lethe/onnxio"
)

func BenchmarkZZCNN(b *testing.B) {
	src, err := dataset.Open("fashion-mnist:train", dataset.Options{})
	if err != nil {
		b.Fatal(err)
	}
	data, err := dataset.Reshape(src, []int{1, 28, 28})
	if err != nil {
		b.Fatal(err)
	}
	m, err := onnxio.Load("/work/main/models/fashion_cnn.onnx")
	if err != nil {
		b.Fatal(err)
	}
	p, err := autodiff.Compile(m, autodiff.Options{Precision: autodiff.Float32})
	if err != nil {
		b.Fatal(err)
	}
	v := make([]float64, p.Dim())
	for i := range v {
		v[i] = float64(i%7) - 3
	}
	hv := make([]float64, p.Dim())
	b.Run("hvp", func(b *testing.B) {
		for b.Loop() {
			if _, err := p.HVP(context.Background(), data, nil, autodiff.EvalOptions{}, v, hv, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("grad", func(b *testing.B) {
		for b.Loop() {
			if _, err := p.Gradient(context.Background(), data, nil, autodiff.EvalOptions{}, hv); err != nil {
				b.Fatal(err)
			}
		}
	})
}
