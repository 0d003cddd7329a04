package audit

import (
	"strings"
	"testing"
	"time"
)

func testRows() []Row {
	orig := NewRow("original")
	orig.AccRetained, orig.AccForgotten, orig.AccTest = 0.9912, 0.9950, 0.9751
	orig.MIALoss, orig.MIAPosterior = 0.5731, 0.6012
	orig.Time = 95 * time.Second
	retrain := NewRow("retrain")
	retrain.AccRetained, retrain.AccForgotten, retrain.AccTest = 0.9905, 0.9710, 0.9712
	retrain.MIALoss, retrain.MIAPosterior = 0.5012, 0.4987
	retrain.DistanceToRetrain = 0
	retrain.Time = 88*time.Second + 400*time.Millisecond
	lethe := NewRow("lethe ε=1 | certified")
	lethe.AccRetained, lethe.AccForgotten, lethe.AccTest = 0.9820, 0.9690, 0.9650
	lethe.MIALoss, lethe.MIAPosterior = 0.5103, 0.5248
	lethe.DistanceToRetrain = 1.23456
	lethe.Time = 4200 * time.Millisecond
	return []Row{orig, retrain, lethe}
}

func TestFormatTableHandWritten(t *testing.T) {
	var b strings.Builder
	if err := FormatTable(&b, testRows()); err != nil {
		t.Fatal(err)
	}
	want := `| method                 | acc. retained | acc. forgotten | acc. test | MIA AUC (loss) | MIA AUC (posterior) | ‖w − w_retrain‖₂ |   time |
|------------------------|--------------:|---------------:|----------:|---------------:|--------------------:|-----------------:|-------:|
| original               |        99.12% |         99.50% |    97.51% |          0.573 |               0.601 |                — |  1m35s |
| retrain                |        99.05% |         97.10% |    97.12% |          0.501 |               0.499 |                0 |  1m28s |
| lethe ε=1 \| certified |        98.20% |         96.90% |    96.50% |          0.510 |               0.525 |            1.235 | 4.20 s |
`
	if got := b.String(); got != want {
		t.Errorf("FormatTable:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "—"},
		{500 * time.Microsecond, "<1 ms"},
		{850 * time.Millisecond, "850 ms"},
		{1234 * time.Millisecond, "1.23 s"},
		{12345 * time.Millisecond, "12.3 s"},
		{245 * time.Second, "4m05s"},
		{3*time.Hour + 2*time.Minute + 1*time.Second, "3h02m01s"},
	} {
		if got := formatDuration(c.d); got != c.want {
			t.Errorf("formatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
