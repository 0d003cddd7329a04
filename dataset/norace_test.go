//go:build !race

package dataset_test

// raceEnabled is true under the race detector, which slows gzip
// decompression about thirty-fold.
const raceEnabled = false
