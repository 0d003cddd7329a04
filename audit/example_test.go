package audit_test

import (
	"fmt"
	"math"
	"os"

	"github.com/lethe-ml/lethe/audit"
)

func ExampleAccuracy() {
	// Three samples, two classes; the second row is a tie, won by class 0.
	logits := []float32{
		0.2, 1.5,
		0.7, 0.7,
		2.0, -1.0,
	}
	labels := []int64{1, 1, 0}
	fmt.Printf("accuracy %.3f\n", audit.Accuracy(logits, 2, labels))
	loss := audit.CrossEntropy(nil, logits, 2, labels)
	fmt.Printf("loss of the tie %.4f (= ln 2)\n", loss[1])
	// Output:
	// accuracy 0.667
	// loss of the tie 0.6931 (= ln 2)
}

func ExampleAUC() {
	members := []float64{0.9, 0.8, 0.4}    // scores of positives
	nonMembers := []float64{0.7, 0.4, 0.1} // scores of negatives
	roc := audit.ROC(members, nonMembers)
	fmt.Printf("AUC %.4f, Mann–Whitney %.4f\n", audit.AUC(roc), audit.MannWhitneyAUC(members, nonMembers))
	fmt.Printf("TPR at FPR ≤ 1%%: %.4f\n", audit.TPRAtFPR(roc, 0.01))
	// Output:
	// AUC 0.8333, Mann–Whitney 0.8333
	// TPR at FPR ≤ 1%: 0.6667
}

func ExampleLossThresholdAttack() {
	// Losses of the forgotten samples (members) under the unlearned model,
	// and of unseen test samples. Here the model still fits its members.
	members := make([]float64, 200)
	nonMembers := make([]float64, 500)
	for i := range members {
		members[i] = 0.05 + 0.001*float64(i)
	}
	for i := range nonMembers {
		nonMembers[i] = 0.1 + 0.01*float64(i%100)
	}
	res, err := audit.LossThresholdAttack(members, nonMembers, &audit.AttackOptions{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: scored %d+%d, AUC above chance: %v\n", res.Attack, res.Members, res.NonMembers, res.AUC > 0.7)
	// Output:
	// loss-threshold: scored 100+100, AUC above chance: true
}

func ExampleFormatTable() {
	orig := audit.NewRow("original")
	orig.AccTest, orig.MIALoss = 0.9751, 0.5731
	lethe := audit.NewRow("lethe ε=1")
	lethe.AccTest, lethe.MIALoss, lethe.DistanceToRetrain = 0.9650, 0.5103, 1.23456
	lethe.AccForgotten = math.NaN() // not measured
	if err := audit.FormatTable(os.Stdout, []audit.Row{orig, lethe}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// | method    | acc. retained | acc. forgotten | acc. test | MIA AUC (loss) | MIA AUC (posterior) | ‖w − w_retrain‖₂ | time |
	// |-----------|--------------:|---------------:|----------:|---------------:|--------------------:|-----------------:|-----:|
	// | original  |             — |              — |    97.51% |          0.573 |                   — |                — |    — |
	// | lethe ε=1 |             — |              — |    96.50% |          0.510 |                   — |            1.235 |    — |
}
