package lethe

// SetReleaseHook replaces the function release calls after each of its
// steps, for the test of the release invariant, and returns a function
// that restores it.
func SetReleaseHook(f func(step string)) (restore func()) {
	old := releaseHook
	releaseHook = f
	return func() { releaseHook = old }
}
