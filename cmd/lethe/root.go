package main

import (
	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
)

// newRootCmd builds the lethe command tree writing to streams.
func newRootCmd(streams *ioStreams) *cobra.Command {
	global := &globalOptions{}
	root := &cobra.Command{
		Use:   "lethe",
		Short: "Certified unlearning for ONNX neural networks",
		Long: `lethe imports a neural network from ONNX, removes the influence of a set of
training samples with a certified Newton update, and writes a new ONNX file
plus a certificate that anyone can re-check.

Results go to stdout (as JSON with --json; schemas/ describes it); progress
and errors go to stderr. Exit codes: 0 success, 1 a failed check, 2 bad usage
or bad input.`,
		Version:       lethe.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageErrorf("%v", err) })
	root.PersistentFlags().BoolVar(&global.JSON, "json", false, "write machine-readable JSON to stdout")
	root.PersistentFlags().BoolVarP(&global.Quiet, "quiet", "q", false, "no progress or log lines on stderr")
	root.AddCommand(
		newInspectCmd(streams, global, nil),
		newRunCmd(streams, global, nil),
		newGradCmd(streams, global, nil),
		newHVPCmd(streams, global, nil),
		newConstrainCmd(streams, global, nil),
		newRetrainCmd(streams, global, nil),
		newUnlearnCmd(streams, global, nil),
		newVerifyCmd(streams, global, nil),
		newEvalCmd(streams, global, nil),
		newDemoCmd(streams, global, nil),
		newKeygenCmd(streams, global),
	)
	return root
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %s, got %d arguments", cmd.CommandPath(), names, len(args))
		}
		return nil
	}
}
