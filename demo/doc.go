// Package demo runs lethe end to end on a bundled model and reports how a
// certified unlearned model compares with retraining from scratch (`lethe
// demo`), and the paper-style reproduction on the bundled models (`lethe
// demo --reproduce`, written to REPRODUCTION.md).
//
// It is built on the public API of package lethe like any pipeline would be:
// lethe.Unlearn releases the certified model and its certificate,
// lethe.Verify re-checks them, lethe.Retrain trains the reference,
// lethe.Baseline runs the uncertified baselines, and one lethe.Evaluator
// measures every model on the same splits. The noise-free Newton step that
// the report shows beside the certified release comes from
// lethe.UnlearnRequest.KeepNoiseFree; it is measured and then dropped,
// never written.
//
// Like lethe, the package never writes to the terminal: progress reaches the
// caller through Options.Progress.
package demo
