// Package lethe removes the influence of chosen training samples from a
// neural network stored as ONNX, with a certified Newton update, and writes
// a new ONNX file plus a certificate that anyone can re-check. It is the
// library behind the lethe command line (cmd/lethe): every command there is
// a request to one function here, and the --json output of a command is the
// JSON encoding of that function's result.
//
// The method and its guarantee are in DESIGN.md §1; the certificate's
// fields are package certify's Certificate.
//
// # A pipeline step
//
// A deletion request arrives for samples 3, 17 and 42 of the training set
// of a model that lethe constrain (or Constrain) made a constrained optimum
// in the ball ‖w‖ ≤ C. The step unlearns them, re-checks the result, and
// keeps the certificate:
//
//	res, err := lethe.Unlearn(ctx, lethe.UnlearnRequest{
//		Model:   "model.onnx",
//		Data:    lethe.Data{Path: "train.npz"},
//		Forget:  lethe.Subset{Indices: []int{3, 17, 42}},
//		Out:     "model-unlearned.onnx", // and model-unlearned.cert.json
//		Epsilon: 1, Delta: 1e-5,
//	})
//	var bad *lethe.InputError
//	switch {
//	case errors.As(err, &bad):
//		// the request or an input is at fault (bad.Field says which)
//	case err != nil:
//		// a check failed (*lethe.CheckError) or the run could not finish
//	}
//	report, err := lethe.Verify(ctx, lethe.VerifyRequest{Model: res.Out})
//	// err is a *lethe.CheckError naming the failed checks, if any
//	fmt.Println(res.Certificate.Status, res.Certificate.Epsilon, report.OK)
//
// C, μ and the loss come from the model's metadata (MetaRadius, MetaL2,
// MetaLoss), which Constrain records; Objective overrides them. Nothing is
// written unless every step succeeds, onnxruntime's parity check included,
// and no output ever replaces an input.
//
// # Scopes
//
// UnlearnRequest.Scope chooses what is certified. In the convex scope
// (ScopeHead, or ScopeAuto when it can be proven), the certified
// parameters enter the output affinely — the last layer over a frozen
// backbone, or a whole linear model — so with μ > 0 the retained objective
// is μ-strongly convex in them: Newton steps run until the a-posteriori
// bound (‖∇L_r(w̃)‖ + rounding margin)/μ fits the budget that σ was
// calibrated to before anything was computed from the data (Budget,
// default DefaultBudget), and the released model keeps its accuracy. For a
// model whose backbone will not run in lethe's engine the features come
// from onnxruntime. In the full scope (ScopeFull, or ScopeAuto on a
// network) every trainable parameter is certified with the budget 2C, the
// ball's diameter: the guarantee holds, but the noise destroys a deep
// network, and the result says why the scope was chosen
// (UnlearnResult.ScopeReason). Retrain with ScopeHead is the exact
// reference of the convex scope.
//
// # Entry points
//
// Each function takes a context and a request whose zero-valued fields take
// documented defaults, and returns a result:
//
//	Inspect     a model's inputs, operators, support and trainable parameters
//	Predict     a forward pass, with lethe's engine or onnxruntime
//	Gradient    the gradient of the regularised mean loss
//	HVP         an exact Hessian-vector product of it
//	Constrain   project onto the ball ‖w‖ ≤ C and fine-tune there
//	Unlearn     the certified update, release and certificate
//	Verify      re-check a model against its certificate
//	Evaluate    accuracy and membership-inference attacks
//	Retrain     the reference: retrain without the forgotten samples
//	Baseline    heuristic, uncertified unlearning baselines
//
// An Evaluator measures any number of parameter vectors of one model on
// fixed splits, so that a comparison measures every model the same way
// (package demo builds its report with one).
//
// # Data, engine, objective
//
// Data names a labelled data set: a file or named data set (Path), features
// and labels as two .npy files (X, Y), or a dataset.Source already open.
// Subset names samples of it: a file of indices or of samples, or indices.
// Engine configures lethe's engine (precision, frozen parameters, batches,
// threads); Objective the objective a model was trained on. Inputs are
// checked before any computation: non-finite features, labels that are not
// classes of the model's output, and forget indices out of range are bad
// input naming the file and the sample.
//
// # Errors
//
// An *InputError is bad input: a request field (InputError.Field) that is
// missing, out of range or inconsistent, or a file that is missing,
// unreadable or not what the request needs. A *CheckError is a check that
// failed: Verify found a mismatch, or onnxruntime disagreed with lethe's
// engine on a model about to be released. Other errors are runs that could
// not finish, such as a missing onnxruntime library. The command line
// exits with 2, 1 and 1 on them.
//
// # Progress
//
// The library never writes to the terminal. Requests of long operations
// carry a Progress function that receives Events: steps starting, advancing
// and ending, log lines and warnings. The command line renders them on
// stderr.
//
// # The noise-free point
//
// The certified update computes w̃ and releases w̃ + Y with Gaussian noise
// Y. UnlearnRequest.KeepNoiseFree returns w̃ for evaluation, as the demo
// does to show what the step does apart from the noise. Never store or
// publish it: whoever holds w̃ can subtract the noise.
package lethe
