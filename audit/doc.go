// Package audit measures what unlearning achieved: accuracy on retained,
// forgotten and test samples, membership-inference attacks, the parameter
// distance to retraining, and the plots, tables and HTML report that show
// them.
//
// # Purity
//
// audit never runs a model and never reads ONNX or data files. Its inputs
// are model outputs that the caller computed — logits or probabilities as
// row-major N×classes slices (float32 or float64, see Float), per-sample
// losses, integer labels, flattened parameter vectors — and its outputs are
// numbers, curves, PNG images and HTML/Markdown text. Every computation is
// carried out in float64. Functions do not modify their inputs; those with
// a dst argument follow gonum's convention: dst first, allocated when nil,
// otherwise of the documented length.
//
// Misuse panics and data problems return errors, as in gonum: a class count
// that does not divide the data, mismatched lengths or a label outside
// [0, classes) panic with a message starting "audit: "; attacks, plots and
// reports validate their data and return errors that wrap ErrInvalidInput,
// ErrTooFewSamples or ErrNotConverged (test with errors.Is).
//
// # Accuracy and losses
//
// Predict takes the argmax of each row, ties going to the lowest class
// index; Accuracy is the fraction of rows predicted correctly. Softmax,
// LogSoftmax and CrossEntropy shift each row by its maximum before
// exponentiating, so that logits of any size neither overflow nor lose
// small probabilities.
//
// # ROC curves and scores
//
// Scores follow one convention throughout: higher means "more likely a
// member", members are the positive class. ROC groups tied scores into a
// single threshold, so AUC (the trapezoidal area) equals the Mann–Whitney
// statistic with ties counted one half; MannWhitneyAUC computes the same
// number from ranks. TPRAtFPR reads the TPR at a low FPR conservatively: the
// best TPR among the curve's points with FPR at most the target, without
// interpolating. BalancedAccuracy is (TPR + TNR)/2 at a threshold, and
// FitThreshold chooses the threshold that maximises it.
//
// # Membership inference
//
// The attacks ask whether the forgotten samples (members) can be told from
// samples the model never saw (non-members, usually the test set). The
// protocol is the same for every attack:
//
//  1. the larger group is subsampled without replacement to the size of the
//     smaller one, so the classes are balanced and 0.5 is chance for AUC and
//     balanced accuracy alike;
//  2. each group is shuffled and split into a fitting part and a scoring
//     part (halves by default, AttackOptions.FitFraction);
//  3. the attack is fitted on the fitting part only;
//  4. AUC, balanced accuracy at the fitted decision rule, and TPR at 1% FPR
//     (LowFPR) are measured on the scoring part.
//
// All randomness comes from AttackOptions.Seed: the same inputs and seed
// give the same AttackResult.
//
// LossThresholdAttack scores a sample by its negative loss (Yeom et al.):
// training lowers the loss of the samples it saw. PosteriorAttack fits a
// logistic regression (FitLogistic: L2-regularised, with intercept, on
// standardised features, by Newton's method) to sorted softmax vectors. With
// both the original and the unlearned model's probabilities it is the attack
// of Chen et al., "When Machine Unlearning Jeopardizes Privacy" (CCS 2021),
// which Zhang et al. (ICML 2024) use to audit certified unlearning: both
// vectors are sorted by the original's descending order and concatenated
// (SortedPosteriors), so the attack sees how unlearning changed the
// prediction of each sample. With one model's probabilities it is the
// classic single-model attack. After a successful unlearning the forgotten
// samples look like unseen ones: AUC ≈ 0.5, as for a model retrained from
// scratch.
//
// # Parameter distance
//
// Distance is ‖a − b‖₂ computed with a scaled sum of squares;
// RelativeDistance divides by ‖b‖₂ (b the reference, e.g. the retrained
// model).
//
// # Plots, tables and the report
//
// PlotPrivacyUtility draws test accuracy against ε on a logarithmic axis,
// with dashed horizontal lines for references that do not depend on ε (the
// original model, retraining). PlotROC draws membership-inference ROC curves
// on log-log axes (linear with PlotOptions.LinearROC) with the chance
// diagonal. The Render functions write the same PNGs to an io.Writer.
// FormatTable writes the results table (one Row per model) as a padded
// Markdown table. WriteReport writes one self-contained HTML page: inline
// CSS, no scripts, figures embedded as base64 PNG data URIs, every input
// string escaped by html/template. Every file is written atomically: to a
// temporary file in the same directory, synced, then renamed over the
// destination.
//
// # Example
//
// A typical audit of an unlearned model, given its outputs and the
// original's on the forgotten and test samples:
//
//	lossF := audit.CrossEntropy(nil, unlearnedLogitsForgotten, 10, yForgotten)
//	lossT := audit.CrossEntropy(nil, unlearnedLogitsTest, 10, yTest)
//	byLoss, err := audit.LossThresholdAttack(lossF, lossT, &audit.AttackOptions{Seed: 1})
//	// handle err
//	members := audit.Posteriors{
//		Original:  audit.Softmax(nil, originalLogitsForgotten, 10),
//		Unlearned: audit.Softmax(nil, unlearnedLogitsForgotten, 10),
//	}
//	nonMembers := audit.Posteriors{
//		Original:  audit.Softmax(nil, originalLogitsTest, 10),
//		Unlearned: audit.Softmax(nil, unlearnedLogitsTest, 10),
//	}
//	byPosterior, err := audit.PosteriorAttack(members, nonMembers, 10, &audit.AttackOptions{Seed: 1})
//	// handle err
//	row := audit.NewRow("lethe ε=1")
//	row.AccTest = audit.Accuracy(unlearnedLogitsTest, 10, yTest)
//	row.MIALoss, row.MIAPosterior = byLoss.AUC, byPosterior.AUC
//	row.DistanceToRetrain = audit.Distance(unlearnedParams, retrainedParams)
//	err = audit.FormatTable(os.Stdout, []audit.Row{row})
package audit
