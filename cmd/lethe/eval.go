package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
)

// evalOptions are the inputs of `lethe eval`.
type evalOptions struct {
	io     *ioStreams
	global *globalOptions
	engine engineFlags
	data   dataFlags

	Model      string
	Forget     string
	Test       string
	Original   string
	AttackSeed uint64
}

func newEvalCmd(streams *ioStreams, global *globalOptions, runF func(*evalOptions) error) *cobra.Command {
	o := &evalOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "eval MODEL --data F [--forget SPEC] [--test F] [--original M0]",
		Short: "Measure accuracy and membership-inference leakage of a model",
		Long: `eval measures what a model knows about its training samples:

  accuracy   on the retained samples (the samples of --data that --forget does
             not name; all of them without --forget), on the forgotten samples
             and on the --test samples, with the mean cross-entropy of each;
  leakage    membership-inference attacks that try to tell the forgotten
             samples (members) from the test samples (non-members), with
             --forget and --test:
               loss-threshold         thresholds MODEL's per-sample loss;
               unlearning-posterior   with --original: the attack of Chen et
                                      al. (CCS 2021) used by Zhang et al. (ICML
                                      2024), a logistic regression on the
                                      original's and MODEL's softmax outputs,
                                      both sorted by the original's.
             The classes are balanced by subsampling, each attack is fitted on
             one half and scored on the other; eval reports the AUC, the
             balanced accuracy and the TPR at 1% FPR. 0.5 means the forgotten
             samples look like unseen ones, as after retraining from scratch.

--forget is a text file of sample indices (one per line), an .npy integer
array of indices, or an .npz with the samples themselves.`,
		Example: `  lethe eval mlp-unlearned.onnx --data mnist:train --forget forget.txt --test mnist:test --original mlp.onnx
  lethe eval model.onnx --data train.npz --test test.npz --json`,
		Args: exactArgs(1, "one MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Model = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.data.register(f)
	o.engine.registerEval(f)
	f.StringVar(&o.Forget, "forget", "", "forgotten samples of --data: a text file of indices, an .npy of indices, or an .npz with the samples")
	f.StringVar(&o.Test, "test", "", "held-out samples (non-members): an .npz with x and y, mnist:test, fashion-mnist:test, an idx or CSV file")
	f.StringVar(&o.Original, "original", "", "the model before unlearning, for the posterior attack (needs --forget and --test)")
	f.Uint64Var(&o.AttackSeed, "attack-seed", 1, "seed of the attacks' subsampling and fit/score split")
	return cmd
}

// Validate checks the flags before any work.
func (o *evalOptions) Validate() error {
	if err := o.engine.validate("eval"); err != nil {
		return err
	}
	if err := o.data.validate("eval"); err != nil {
		return err
	}
	if o.Original != "" && (o.Forget == "" || o.Test == "") {
		return usageErrorf("eval: --original is for the posterior attack, which needs --forget (members) and --test (non-members)")
	}
	return nil
}

// Run measures the model and prints the report.
func (o *evalOptions) Run(ctx context.Context) error {
	req := lethe.EvalRequest{Model: o.Model, Data: o.data.data(""), Forget: lethe.Subset{File: o.Forget}, Original: o.Original,
		AttackSeed: o.AttackSeed, Engine: o.engine.engine(), Progress: o.global.progress(o.io, "")}
	if o.Test != "" {
		req.Test = o.data.data(o.Test)
	}
	r, err := lethe.Evaluate(ctx, req)
	if err != nil {
		return err
	}
	if o.global.JSON {
		return o.io.writeJSON(r)
	}
	printEval(o.io.Out, r)
	return nil
}

func printEval(w io.Writer, r *lethe.EvalReport) {
	fmt.Fprintf(w, "%s on %s", r.Model, r.Data)
	if r.Forget != "" {
		fmt.Fprintf(w, ", forgetting %s", r.Forget)
	}
	if r.TestSet != "" {
		fmt.Fprintf(w, ", test %s", r.TestSet)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %-10s %8s %9s %10s\n", "samples", "n", "accuracy", "mean loss")
	for _, s := range []struct {
		name string
		m    *lethe.SplitMetrics
	}{{"retained", r.Retained}, {"forgotten", r.Forgotten}, {"test", r.Test}} {
		if s.m != nil {
			fmt.Fprintf(w, "  %-10s %8d %8.2f%% %10.4f\n", s.name, s.m.N, 100*s.m.Accuracy, s.m.Loss)
		}
	}
	if r.MIALoss == nil {
		fmt.Fprintln(w, "membership inference: skipped (needs --forget and --test)")
		return
	}
	fmt.Fprintln(w, "membership inference (members: forgotten samples; non-members: test samples; 0.5 is chance):")
	fmt.Fprintf(w, "  %-22s %6s %10s %10s %8s\n", "attack", "AUC", "bal. acc.", "TPR@1%FPR", "scored")
	for _, a := range []*lethe.AttackMetrics{r.MIALoss, r.MIAPosterior} {
		if a != nil {
			fmt.Fprintf(w, "  %-22s %6.3f %10.3f %10.3f %8s\n", a.Attack, a.AUC, a.BalancedAccuracy, a.TPRAt1FPR, fmt.Sprintf("%d+%d", a.Members, a.NonMembers))
		}
	}
	if r.MIAPosterior == nil {
		fmt.Fprintln(w, "  (give --original for the posterior attack of Chen et al.)")
	}
}
