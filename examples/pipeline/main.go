// Command pipeline is the deletion step of an MLOps pipeline, written
// against the public API of github.com/lethe-ml/lethe: it unlearns the
// samples a deletion request names, re-checks the released model against
// its certificate, and prints the certificate's key facts as one JSON
// object on stdout for the next step of the pipeline.
//
//	pipeline -model model.onnx -data train.npz -forget request.txt -out model-v2.onnx
//
// It exits with 0 when the model was released and verified, 2 when the
// request or an input is at fault, and 1 when a check failed or the run
// could not finish, like the lethe command line. Progress goes to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/lethe-ml/lethe"
)

// facts are what the pipeline records about a deletion.
type facts struct {
	Model        string   `json:"model"`
	Out          string   `json:"out"`
	Certificate  string   `json:"certificate"`
	Status       string   `json:"status"`
	Certified    bool     `json:"certified"`
	Epsilon      float64  `json:"epsilon"`
	Delta        float64  `json:"delta"`
	Sigma        float64  `json:"sigma"`
	Sensitivity  float64  `json:"sensitivity"`
	ActiveBound  string   `json:"active_bound"`
	NForget      int      `json:"n_forget"`
	ForgetDigest string   `json:"forget_digest"`
	OutputSHA256 string   `json:"output_sha256"`
	Verified     bool     `json:"verified"`
	Failed       []string `json:"failed_checks,omitempty"`
}

func main() {
	model := flag.String("model", "", "the trained ONNX model (a constrained optimum, see lethe constrain)")
	data := flag.String("data", "", "its training data (.npz with x and y, mnist:train, ...)")
	forget := flag.String("forget", "", "the deletion request: a file of sample indices")
	out := flag.String("out", "", "the ONNX model to release; its certificate goes beside it")
	epsilon := flag.Float64("epsilon", 1, "ε of the guarantee")
	delta := flag.Float64("delta", 1e-5, "δ of the guarantee")
	flag.Parse()

	err := run(*model, *data, *forget, *out, *epsilon, *delta)
	var bad *lethe.InputError
	switch {
	case errors.As(err, &bad):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(model, data, forget, out string, epsilon, delta float64) error {
	ctx := context.Background()
	progress := func(e lethe.Event) {
		if e.Kind == lethe.EventDone {
			fmt.Fprintf(os.Stderr, "pipeline: %s done in %s\n", e.Step, e.Elapsed)
		}
	}
	res, err := lethe.Unlearn(ctx, lethe.UnlearnRequest{
		Model: model, Data: lethe.Data{Path: data}, Forget: lethe.Subset{File: forget}, Out: out,
		Epsilon: epsilon, Delta: delta, Progress: progress,
	})
	if err != nil {
		return err
	}
	report, verr := lethe.Verify(ctx, lethe.VerifyRequest{Model: res.Out, Cert: res.CertPath, Input: model})
	var failed *lethe.CheckError
	if verr != nil && !errors.As(verr, &failed) {
		return verr
	}
	c := res.Certificate
	f := facts{
		Model: model, Out: res.Out, Certificate: res.CertPath, Status: c.Status, Certified: c.Certified,
		Epsilon: c.Epsilon, Delta: c.Delta, Sigma: c.Sigma, Sensitivity: c.Bound.Sensitivity, ActiveBound: string(c.Bound.Active),
		NForget: c.Forget.NForget, ForgetDigest: c.Forget.Digest, OutputSHA256: c.Output.SHA256,
		Verified: report.OK, Failed: report.Failed(),
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	return verr
}
