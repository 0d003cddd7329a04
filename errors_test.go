package lethe

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// TestWrapfPrefixes checks that wrapping never repeats a prefix: an error
// from a package that already names the step (the unlearn package's
// "unlearn: ...") or one already wrapped by lethe reads once, and the cause
// is still reachable.
func TestWrapfPrefixes(t *testing.T) {
	cause := fmt.Errorf("newton solve: %w", io.ErrUnexpectedEOF)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("unlearn: %w", cause), "lethe: unlearn: newton solve: unexpected EOF"},
		{fmt.Errorf("lethe: unlearn: %w", cause), "lethe: unlearn: newton solve: unexpected EOF"},
		{cause, "lethe: unlearn: newton solve: unexpected EOF"},
		{fmt.Errorf("unlearning: %w", cause), "lethe: unlearn: unlearning: newton solve: unexpected EOF"},
	} {
		err := wrapf("unlearn", tc.err)
		if err.Error() != tc.want {
			t.Errorf("wrapf(%q) = %q, want %q", tc.err, err, tc.want)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("wrapf(%q) lost its cause", tc.err)
		}
	}
}
