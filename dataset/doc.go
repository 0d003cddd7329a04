// Package dataset loads labelled data sets (.npz/.npy, MNIST and
// Fashion-MNIST idx files, CSV), parses forget sets and serves samples in
// batches without holding more than it must in memory.
package dataset
