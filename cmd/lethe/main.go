// Command lethe imports a neural network from ONNX, removes the influence of
// training samples with a certified Newton update, and writes a new ONNX file
// with a certificate. See DESIGN.md §5 for the command-line contract and
// `lethe --help` for the commands.
//
// The command line is a thin shell over the library
// github.com/lethe-ml/lethe: each command turns its flags into a request,
// calls the library, and prints the result (as JSON with --json).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs the command line args with the given output streams and
// returns the process exit code. It is the only place that recovers panics:
// a panic is a bug in lethe, reported as an internal error.
func execute(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "lethe: internal error (a bug in lethe; please report it): %v\n%s", r, debug.Stack())
			code = exitInternal
		}
	}()
	streams := &ioStreams{Out: stdout, Err: stderr}
	root := newRootCmd(streams)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(context.Background())
	if err == nil {
		return exitOK
	}
	code = exitCode(err)
	fmt.Fprintln(stderr, message(err))
	if code == exitUsage && isUsage(err) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}
