package parity

import "math/rand/v2"

// ProbeVersion names the recipe RandomProbe follows. Changing the recipe
// requires a new version so that recorded probes stay reproducible.
const ProbeVersion = "lethe.probe/v1"

// probeStream is the fixed PCG stream constant of ProbeVersion ("lethe").
const probeStream = 0x6c65746865

// RandomProbe returns the probe batch of ProbeVersion for a seed and a full
// input shape (batch axis first): numel(shape) float32 values, each uniform
// in [0, 1), drawn in row-major order from PCG(seed, 0x6c65746865).
func RandomProbe(seed uint64, shape []int) []float32 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	rng := rand.New(rand.NewPCG(seed, probeStream))
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}
