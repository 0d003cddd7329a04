package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe"
)

// verifyOptions are the inputs of `lethe verify`.
type verifyOptions struct {
	io     *ioStreams
	global *globalOptions
	data   dataFlags

	Model  string
	Cert   string
	PubKey string
	Input  string
	Chain  []string
	Limit  int
}

func newVerifyCmd(streams *ioStreams, global *globalOptions, runF func(*verifyOptions) error) *cobra.Command {
	o := &verifyOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "verify MODEL [--cert CERT] [--data F] [--pub-key K]",
		Short: "Re-check an unlearned model against its certificate",
		Long: `verify re-checks everything a certificate claims about MODEL, without trusting
the run that wrote it:

  certificate  the file is a valid lethe.certificate/v1
  output       MODEL's SHA-256 equals the certified output hash
  binding      MODEL's metadata carries this certificate's binding digest
  input        the original model's hash (with --input)
  sigma        σ recomputed from the recorded Δ, ε, δ and mechanism, and Δ
               recomputed from C, M, λ, λ_min and ρ
  assumptions  the assumptions in words are those the numbers imply
  signature    the Ed25519 signature (against --pub-key when given; otherwise
               only against the key the certificate carries: integrity, not
               identity)
  chain        with --chain CERT (repeated, oldest first): each earlier
               certificate chains on the one before, from a first request
  model        MODEL loads and compiles in lethe's engine
  parity       onnxruntime reproduces the recorded outputs on the regenerated
               probe batch, and so does lethe's engine
  data parity  with --data, both engines agree on the first --limit samples

Exit code 0 when every check passes, 1 when one fails (each failure named),
2 when a file is missing or unreadable.`,
		Example: `  lethe verify mlp-unlearned.onnx
  lethe verify out.onnx --cert out.cert.json --pub-key lethe.pub --data mnist:test --json
  lethe verify third.onnx --chain first.cert.json --chain second.cert.json`,
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
	f.StringVar(&o.Cert, "cert", "", "certificate (default: MODEL with .cert.json in place of .onnx)")
	f.StringVar(&o.PubKey, "pub-key", "", "Ed25519 public key (PEM) the certificate must be signed with")
	f.StringVar(&o.Input, "input", "", "the original model, to check the certified input hash")
	f.StringArrayVar(&o.Chain, "chain", nil, "an earlier certificate of MODEL's chain of requests (repeatable, oldest first)")
	f.IntVar(&o.Limit, "limit", 1024, "samples of --data to compare the engines on")
	return cmd
}

// Validate checks the flags before any work.
func (o *verifyOptions) Validate() error {
	if o.Cert == "" {
		o.Cert = lethe.CertPath(o.Model)
	}
	if o.Limit < 1 {
		return usageErrorf("verify: --limit %d: want ≥ 1", o.Limit)
	}
	if o.data.given() {
		return o.data.validate("verify")
	}
	return nil
}

// Run verifies and prints the report; a failed check is exit code 1.
func (o *verifyOptions) Run(ctx context.Context) error {
	req := lethe.VerifyRequest{Model: o.Model, Cert: o.Cert, PublicKeyFile: o.PubKey, Input: o.Input, Chain: o.Chain, Limit: o.Limit}
	if o.data.given() {
		req.Data = o.data.data("")
	}
	r, err := lethe.Verify(ctx, req)
	var failed *lethe.CheckError
	if err != nil && !errors.As(err, &failed) {
		return err
	}
	if o.global.JSON {
		if err := o.io.writeJSON(r); err != nil {
			return err
		}
	} else {
		w := o.io.Out
		fmt.Fprintf(w, "%s with %s\n", r.Model, r.Certificate)
		if r.Status != "" {
			fmt.Fprintf(w, "  status: %s\n", r.Status)
		}
		for _, c := range r.Checks {
			fmt.Fprintf(w, "  %-4s  %-13s %s\n", strings.ToUpper(c.Status), c.Name, c.Detail)
		}
	}
	return err
}
