// Package demo runs lethe end to end on a bundled model and reports how a
// certified unlearned model compares with retraining (`lethe demo`), and
// the reproduction on every bundled model (`lethe demo --reproduce`,
// written to REPRODUCTION.md).
//
// # The default demo
//
// Run leads with the model a user would ship (HeadSetup):
// models/mnist_head.onnx, whose 784-256-128 backbone was trained only on
// mnist:train[0:30000] and whose linear head (1,290 parameters) was fitted
// exactly, with L2 weight μ = 1e-3, on the private split D =
// mnist:train[30000:60000], in which 100 canaries carry a wrong label (card
// models/mnist_head.md). The demo:
//
//  1. rebuilds D from mnist:train by the card's rule (PrivateSplit: samples
//     i with i % 300 == 0 of D get the label (y + 1) mod 10), in memory;
//  2. forgets 1,000 samples of D: the 100 canaries and 900 others chosen by
//     a fixed seed (DefaultForgetSeed; the list, in D's numbering, is
//     written to DIR/forget.txt);
//  3. certifies the head at (ε, δ) = (1, 1e-5) with lethe.Unlearn in the
//     head scope: σ is calibrated to the data-independent budget
//     lethe.DefaultBudget, Newton steps run until the a-posteriori bound
//     fits it, and the model and certificate are written through the same
//     code path as lethe unlearn; lethe.Verify then re-checks them;
//  4. computes the reference, the exact head retrain (lethe.Retrain in the
//     head scope: Newton from zeros with the backbone fixed), and the same
//     forget request in the full scope, where σ is calibrated to 2C (kept
//     as a row: it shows why the head scope exists), and the fine-tune and
//     negative-gradient baselines (uncertified; on the head only);
//  5. measures every row with one lethe.Evaluator: accuracy on the retained,
//     forgotten and test samples, the canaries' accuracy on their wrong
//     label and mean loss against it (memorisation an audit can see),
//     membership-inference AUCs (loss-threshold, and the posterior attack of
//     Chen et al. against the original), distance to the retrain, time, ε,
//     δ, σ and Δ with its active bound;
//  6. draws the privacy–utility curve for ε from 0.01 to 100 for both
//     scopes, each with UnlearnResult.Renoised on its own noise-free point
//     (noise on the certified parameters only), the membership-inference ROC
//     curves, and writes results.md (table and notes that explain the
//     numbers), results.json and a self-contained HTML report to DIR.
//
// Options.Quick runs the same pipeline on the first QuickTrain samples of D
// (2 canaries), QuickForget forgotten and QuickTest test samples, in
// seconds. Options.Model runs the generic pipeline on another model (its
// metadata or --radius/--l2 give C and μ) with the certified row in scope
// auto: the convex scope where the graph proves it, else the full scope with
// the paper's fixed σ = 0.001 beside it and a retrain from scratch with the
// model card's recipe as the reference.
//
// Reproduce runs ReproduceSetups: the head model, the convex logistic
// regression models/mnist_logreg.onnx on all of mnist:train (convex scope on
// every parameter, with its full-network row), and the paper-style MNIST MLP
// and Fashion-MNIST CNN (full scope), with the baselines.
//
// It is built on the public API of package lethe like any pipeline would be.
// The noise-free points (lethe.UnlearnRequest.KeepNoiseFree) are measured
// and dropped, never written. Like lethe, the package never writes to the
// terminal: progress reaches the caller through Options.Progress.
package demo
