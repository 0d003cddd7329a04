package certify

import (
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lethe-ml/lethe/internal/noisekey"
)

// Noise sources as recorded in the certificate's "noise_source".
const (
	// NoiseSourcePrivate: ChaCha8 keyed with 32 bytes from crypto/rand; the
	// key is never stored or printed.
	NoiseSourcePrivate = "chacha8:crypto/rand"
	// NoiseSourceSeeded: ChaCha8 keyed with SHA-256("lethe/noise-seed/v1" ‖
	// seed as 8 little-endian bytes); reproducible and therefore not private.
	NoiseSourceSeeded = "chacha8:seed"
	// NoiseSourceNone: no noise was added (--no-noise).
	NoiseSourceNone = "none"
)

// SeedWarning is the text the command line must print to stderr, loudly,
// whenever noise is seeded with --seed. The certificate records the same fact
// as "noise_private": false.
const SeedWarning = "WARNING: --seed makes the unlearning noise reproducible. Anyone who knows or guesses " +
	"the seed can regenerate the noise, subtract it, and recover the un-noised model, which still " +
	"carries the forgotten samples' influence. This model is NOT privately unlearned and must not be " +
	"released; its certificate says \"noise_private\": false. Use --seed only for tests."

// Noise draws the Gaussian noise Y ~ N(0, σ²I) of the release w' = w̃ + Y.
//
// A private Noise (NewPrivateNoise) is ChaCha8 — the cryptographically
// strong generator of math/rand/v2 — keyed with 32 bytes from crypto/rand,
// the operating system's CSPRNG. The key lives only in this value's memory,
// so nobody, including the operator, can regenerate the noise and subtract
// it; ChaCha8 is used rather than crypto/rand directly because it is as
// unpredictable without the key and much faster for millions of draws.
// Normal variates come from math/rand/v2's Rand.NormFloat64 (ziggurat).
//
// A seeded Noise (NewSeededNoise) is deterministic, for tests only.
// A Noise is not safe for concurrent use.
type Noise struct {
	rng     *rand.Rand
	private bool
	seed    uint64
}

// NewPrivateNoise returns a Noise keyed from crypto/rand.
func NewPrivateNoise() (*Noise, error) {
	var key [32]byte
	if _, err := crand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("certify: reading the noise key from crypto/rand: %w", err)
	}
	if noisekey.Hook != nil {
		noisekey.Hook(key) // tests only: they search lethe's outputs for the key
	}
	return &Noise{rng: rand.New(rand.NewChaCha8(key)), private: true}, nil
}

// NewSeededNoise returns a deterministic Noise for tests: the same seed
// always yields the same noise. Its noise is not private (see SeedWarning).
func NewSeededNoise(seed uint64) *Noise {
	var msg [8]byte
	binary.LittleEndian.PutUint64(msg[:], seed)
	key := sha256.Sum256(append([]byte("lethe/noise-seed/v1"), msg[:]...))
	return &Noise{rng: rand.New(rand.NewChaCha8(key)), seed: seed}
}

// Private reports whether the noise is private (keyed from crypto/rand);
// it is the certificate's "noise_private".
func (n *Noise) Private() bool { return n.private }

// Seed returns the seed of a seeded Noise and false for a private one.
func (n *Noise) Seed() (uint64, bool) { return n.seed, !n.private }

// Source returns NoiseSourcePrivate or NoiseSourceSeeded.
func (n *Noise) Source() string {
	if n.private {
		return NoiseSourcePrivate
	}
	return NoiseSourceSeeded
}

// Add adds independent N(0, σ²) draws to every element of dst. σ = 0 adds
// nothing; σ < 0, NaN or ±Inf is a *ParameterError.
func (n *Noise) Add(dst []float64, sigma float64) error {
	if !(sigma >= 0) || math.IsInf(sigma, 1) {
		return &ParameterError{Name: "sigma", Value: sigma, Reason: "must be finite and ≥ 0"}
	}
	if sigma == 0 {
		return nil
	}
	for i := range dst {
		dst[i] += sigma * n.rng.NormFloat64()
	}
	return nil
}
