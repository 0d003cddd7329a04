package dataset_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lethe-ml/lethe/dataset"
)

// Open a training set, read a deletion request against it, and form the
// retained set D_r = D \ D_u.
func ExampleParseForget() {
	dir, err := os.MkdirTemp("", "lethe-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Six samples of shape [2, 2] with labels 0, 1, 2, 0, 1, 2.
	x := make([]float32, 6*4)
	for i := range x {
		x[i] = float32(i) / 10
	}
	trainPath := filepath.Join(dir, "train.npz")
	if err := dataset.WriteNPZ(trainPath, x, []int{2, 2}, []int64{0, 1, 2, 0, 1, 2}); err != nil {
		log.Fatal(err)
	}
	forgetPath := filepath.Join(dir, "forget.txt")
	if err := os.WriteFile(forgetPath, []byte("# deletion request 17\n4\n1\n"), 0o644); err != nil {
		log.Fatal(err)
	}

	train, err := dataset.Open(trainPath, dataset.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer dataset.Close(train)
	forget, err := dataset.ParseForget(forgetPath, train)
	if err != nil {
		log.Fatal(err)
	}
	retained := dataset.Without(train, forget.Indices)
	classes, _ := dataset.NumClasses(train)

	fmt.Println("samples:", train.Len(), "shape:", train.SampleShape(), "classes:", classes)
	fmt.Println("forget:", forget.Kind, forget.Indices)
	fmt.Println("retained:", retained.Len())
	// Output:
	// samples: 6 shape: [2 2] classes: 3
	// forget: indices [1 4]
	// retained: 4
}
