package audit

import (
	"math"
	"slices"
	"testing"
)

func TestPredictTiesAndNaN(t *testing.T) {
	logits := []float64{
		1, 3, 3, // tie between 1 and 2: lowest index
		5, 5, 5, // all tied: 0
		math.NaN(), 2, 1, // NaN never wins
		math.Inf(-1), math.Inf(-1), math.Inf(-1), // nothing above −∞: 0
		-1, -0.5, -2,
	}
	got := Predict(nil, logits, 3)
	want := []int64{1, 0, 1, 0, 1}
	if !slices.Equal(got, want) {
		t.Errorf("Predict = %v, want %v", got, want)
	}
}

func TestAccuracyHandComputed(t *testing.T) {
	// Four rows of 3 classes; predictions 2, 0 (tie), 1, 0.
	logits32 := []float32{
		0.1, 0.2, 0.7,
		0.4, 0.4, 0.2,
		-1, 2, 0,
		9, -9, 0,
	}
	labels := []int64{2, 1, 1, 2}
	// Exactly 2 of 4 correct: an exact binary fraction, compared with ==.
	if got := Accuracy(logits32, 3, labels); got != 0.5 {
		t.Errorf("Accuracy(float32) = %v, want 0.5", got)
	}
	logits64 := make([]float64, len(logits32))
	for i, v := range logits32 {
		logits64[i] = float64(v)
	}
	if got := Accuracy(logits64, 3, []int64{2, 0, 1, 0}); got != 1 {
		t.Errorf("Accuracy(float64) = %v, want 1", got)
	}
	if got := Accuracy([]float64{}, 3, nil); !math.IsNaN(got) {
		t.Errorf("Accuracy of no rows = %v, want NaN", got)
	}
}

func TestAccuracyPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"ragged":        func() { Accuracy([]float64{1, 2, 3}, 2, []int64{0}) },
		"label count":   func() { Accuracy([]float64{1, 2}, 2, []int64{0, 1}) },
		"label range":   func() { Accuracy([]float64{1, 2}, 2, []int64{2}) },
		"zero classes":  func() { Accuracy([]float64{}, 0, nil) },
		"negative lbl":  func() { Accuracy([]float64{1, 2}, 2, []int64{-1}) },
		"dst too short": func() { Predict(make([]int64, 1), []float64{1, 2, 3, 4}, 2) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			f()
		})
	}
}
