package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// ioStreams are a command's outputs: results (human or --json) go to Out,
// progress and diagnostics to Err.
type ioStreams struct {
	Out io.Writer
	Err io.Writer
}

// globalOptions are the flags every command has.
type globalOptions struct {
	JSON  bool // machine-readable output on stdout
	Quiet bool // no progress or log lines on stderr
}

// logf writes a progress line to Err unless --quiet.
func (g *globalOptions) logf(s *ioStreams, format string, args ...any) {
	if !g.Quiet {
		fmt.Fprintf(s.Err, "lethe: "+format+"\n", args...)
	}
}

// writeJSON writes v as indented JSON to Out.
func (s *ioStreams) writeJSON(v any) error {
	enc := json.NewEncoder(s.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
