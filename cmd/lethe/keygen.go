package main

import (
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lethe-ml/lethe/certify"
)

// keygenOptions are the inputs of `lethe keygen`.
type keygenOptions struct {
	io      *ioStreams
	global  *globalOptions
	Private string
	Public  string
}

func newKeygenCmd(streams *ioStreams, global *globalOptions) *cobra.Command {
	o := &keygenOptions{io: streams, global: global}
	cmd := &cobra.Command{
		Use:   "keygen --private KEY --public PUB",
		Short: "Create an Ed25519 key pair for signing certificates",
		Long: `keygen writes a new Ed25519 key pair as PEM files: the private key (PKCS #8,
mode 0600) for lethe unlearn --sign-key, and the public key (PKIX) that
auditors pass to lethe verify --pub-key. Existing files are never overwritten.`,
		Example: `  lethe keygen --private lethe.key --public lethe.pub`,
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Private == "" || o.Public == "" {
				return usageErrorf("keygen: --private and --public are required")
			}
			if o.Private == o.Public {
				return usageErrorf("keygen: --private and --public must differ")
			}
			pub, err := certify.GenerateKeyPair(o.Private, o.Public)
			if err != nil {
				return badInput(err)
			}
			key := base64.StdEncoding.EncodeToString(pub)
			if o.global.JSON {
				return o.io.writeJSON(map[string]string{"private": o.Private, "public": o.Public, "public_key": key})
			}
			fmt.Fprintf(o.io.Out, "wrote %s and %s (public key %s)\n", o.Private, o.Public, key)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Private, "private", "", "private key file to create")
	cmd.Flags().StringVar(&o.Public, "public", "", "public key file to create")
	return cmd
}
