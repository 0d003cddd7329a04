package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lethe-ml/lethe"
)

// Exit codes (DESIGN.md §5).
const (
	exitOK = 0
	// exitFailed: a check failed (such as a parity mismatch found by
	// verify), or the command could not finish for a reason that is not the
	// user's input (a missing onnxruntime, a full disk).
	exitFailed = 1
	// exitUsage: bad usage (flags, arguments) or bad input (a file that is
	// missing, not ONNX, or not what the command needs).
	exitUsage = 2
	// exitInternal: a panic, that is, a bug in lethe.
	exitInternal = 3
)

// exitError is an error of the command line itself that carries its exit
// code. usage marks command-line mistakes, after which lethe points at
// --help.
type exitError struct {
	code  int
	usage bool
	err   error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf reports a command-line mistake (exit code 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, usage: true, err: fmt.Errorf(format, args...)}
}

// exitCode maps an error to an exit code: the command line's own; 2 for the
// library's *lethe.InputError; 1 otherwise (a *lethe.CheckError, or a run
// that could not finish).
func exitCode(err error) int {
	var ee *exitError
	var in *lethe.InputError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &in):
		return exitUsage
	}
	return exitFailed
}

// isUsage reports whether err is a command-line mistake.
func isUsage(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.usage
}

// flags maps the library's request fields to the flags that set them, so
// that messages about a field name the flag.
var flags = map[string]string{
	"Data": "--data", "Data.Path": "--data", "Data.X": "--x", "Data.Y": "--y", "Test": "--test", "Test.Path": "--test",
	"Data.MaxBytes": "--max-bytes", "Test.MaxBytes": "--max-bytes", "Chain": "--chain", "Solver": "--solver",
	"NoProject": "--no-project", "EstimateSpectrum": "--estimate-spectrum",
	"Forget": "--forget", "Samples": "--indices", "Out": "--out", "Cert": "--cert", "PrevCert": "--prev-cert",
	"Objective.Radius": "--radius", "Radius": "--radius", "Objective.L2": "--l2", "L2": "--l2",
	"Objective.Loss": "--loss", "Loss": "--loss", "Freeze": "--freeze", "Engine.Freeze": "--freeze",
	"Engine.Precision": "--precision", "Engine.BatchSize": "--batch-size", "Engine.Threads": "--threads",
	"Epsilon": "--epsilon", "Delta": "--delta", "Sigma": "--sigma", "Mechanism": "--mechanism", "Lambda": "--lambda",
	"Vector": "--vector", "VectorFile": "--vector", "Original": "--original", "Input": "--input", "Backend": "--engine",
	"PublicKeyFile": "--pub-key", "LambdaMargin": "--lambda-margin", "HessianLipschitz": "--hessian-lipschitz", "Recipe.LR": "--lr", "Recipe.Epochs": "--epochs", "Recipe.BatchSize": "--batch-size", "Recipe.Optimizer": "--optimizer",
	"Recipe.Momentum": "--momentum", "Recipe.Schedule": "--schedule", "Recipe.MinLR": "--min-lr", "Recipe.StepSize": "--step-size",
	"Recipe.Gamma": "--gamma", "Scope": "--scope", "Budget": "--budget", "MaxNewtonSteps": "--max-newton-steps",
}

// message is how an error is printed: with "lethe: " in front, and for an
// input error about one field, the flag that sets it.
func message(err error) string {
	if in, ok := err.(*lethe.InputError); ok {
		if f := flags[in.Field]; f != "" {
			return "lethe: " + f + ": " + in.Err.Error()
		}
		return "lethe: " + in.Err.Error()
	}
	s := err.Error()
	if !strings.HasPrefix(s, "lethe: ") {
		s = "lethe: " + s
	}
	return s
}

// flagError turns the library's verdict on a request built from cmd's
// flags into a command-line mistake naming the flag at fault.
func flagError(cmd string, err error) error {
	in, ok := err.(*lethe.InputError)
	if !ok {
		return err // nil, or not the request's fault
	}
	if f := flags[in.Field]; f != "" {
		return usageErrorf("%s: %s: %v", cmd, f, in.Err)
	}
	return usageErrorf("%s: %v", cmd, in.Err)
}

// badInput marks err as caused by an input file (exit code 2). nil stays
// nil.
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err}
}
