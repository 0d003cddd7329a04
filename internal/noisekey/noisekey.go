// Package noisekey lets lethe's own tests see the keys of the private noise
// that certify draws, so that a test can search every output of a run for
// them (the key must never leave the process: whoever has it can subtract
// the noise). Being internal, it is no part of lethe's API; nothing but a
// test may set Hook.
package noisekey

// Hook, when not nil, receives the key of every private noise generator
// certify.NewPrivateNoise creates, as it is drawn. Tests set it before a run
// and reset it to nil after; it must not be set while noise is drawn
// concurrently.
var Hook func(key [32]byte)
