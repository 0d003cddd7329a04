package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// manifest is bench/prepare.py's record of the data sets and models.
type manifest struct {
	Sizes map[string]struct {
		Samples  int   `json:"samples"`
		Retained int   `json:"retained"`
		XBytes   int64 `json:"x_bytes"`
		YBytes   int64 `json:"y_bytes"`
	} `json:"sizes"`
	Widths map[string]struct {
		Width      int `json:"width"`
		Params     int `json:"params"`
		HeadParams int `json:"head_params"`
	} `json:"widths"`
}

// mnistTrainBytes is the size of mnist:train as the engine reads it: 60,000
// samples of 784 float32 features and an int64 label.
const mnistTrainBytes = 60000 * (784*4 + 8)

// scaleCmds are the commands of one scaling row, in table order.
var scaleCmds = []struct{ key, label string }{
	{"unlearn-full", "unlearn, full scope"},
	{"unlearn-head", "unlearn, head scope"},
	{"retrain-full", "retrain, full"},
	{"retrain-head", "retrain, head (same ‖∇‖)"},
}

// scaleRow is one row of a scaling table: a retained-set size or a width.
type scaleRow struct {
	x         float64 // retained samples or parameters
	label     string
	dataBytes float64
	runs      map[string]run
}

// scalingSection writes the scaling tables and the plot.
func (r *report) scalingSection(plotPath string) error {
	g, err := r.group("scaling")
	if err != nil || g == nil {
		return err
	}
	gh, err := r.group("scaling_head")
	if err != nil {
		return err
	}
	var man manifest
	raw, err := os.ReadFile(filepath.Join(r.dir, "data", "manifest.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &man); err != nil {
		return fmt.Errorf("manifest.json: %w", err)
	}
	row := func(prefix string) map[string]run {
		m := map[string]run{}
		for _, c := range scaleCmds {
			for _, gg := range []*group{g, gh} {
				if rs := ok(gg.of(prefix + c.key)); len(rs) > 0 {
					m[c.key] = rs[0]
				}
			}
		}
		return m
	}
	var sizes, widths []scaleRow
	for k, s := range man.Sizes {
		if rs := row("size/" + k + "/"); len(rs) > 0 {
			sizes = append(sizes, scaleRow{float64(s.Retained), fmt.Sprintf("%d", s.Retained), float64(s.XBytes + s.YBytes), rs})
		}
	}
	for k, w := range man.Widths {
		if rs := row("width/" + k + "/"); len(rs) > 0 {
			widths = append(widths, scaleRow{float64(w.Params), fmt.Sprintf("784-%d-%d-10: %d (head %d)", w.Width, w.Width, w.Params, w.HeadParams), mnistTrainBytes, rs})
		}
	}
	byX := func(a, b scaleRow) int { return cmp.Compare(a.x, b.x) }
	slices.SortFunc(sizes, byX)
	slices.SortFunc(widths, byX)

	r.printf("\n## Scaling: time and peak memory against retained-set size and parameter count\n\n")
	r.printf("One run per cell (not alternated: no ratio between engines is formed here), %s (head retrains: %s).\n",
		loadRange(g), loadRange(gh))
	r.printf("Peak RSS is the process's ru_maxrss (GNU time's %%M). \"data set\" is the size of the data as the engine\n")
	r.printf("reads it (float32 features + int64 labels); DESIGN.md asks peak RSS below 2× that. Plot: %s.\n\n", plotPath)
	r.printf("**Against retained-set size.** Data: mnist:train cycled to R + 1,000 samples (bench/prepare.py,\n")
	r.printf("bench/out/data/mnist_rR.npz, float32), 1,000 of them forgotten (seeded), R retained. Full scope and\n")
	r.printf("retrain on models/mnist_mlp.onnx (30 epochs), head scope on models/mnist_head.onnx (its head is the\n")
	r.printf("minimiser on its private split, not on these sets: the Newton steps from w* are counted).\n\n")
	r.scaleTables(sizes, "retained samples", 30)
	r.printf("\n**Against parameter count.** Models: 784-W-W-10 ReLU MLPs, W = 32 … 1,024 (bench/prepare.py: the\n")
	r.printf("backbone at PyTorch's default initialisation, **not trained** — a pass costs the same; the head fitted\n")
	r.printf("exactly on mnist:train so that the head scope starts at its minimiser). Data mnist:train, forget set\n")
	r.printf("bench/mnist_forget_1000.txt, 59,000 retained. The full retrain runs `--epochs %s`; its column is the\n", scalingEpochs(widths))
	r.printf("30-epoch time **extrapolated** (load and checks + training time × 30/epochs).\n\n")
	r.scaleTables(widths, "parameters (model)", 30)
	for _, gg := range []*group{g, gh} {
		r.commands(gg)
	}
	if plotPath != "" {
		return writeScalingPlot(plotPath, sizes, widths)
	}
	return nil
}

func scalingEpochs(rows []scaleRow) string {
	for _, row := range rows {
		if x, found := row.runs["retrain-full"]; found {
			var o retrainOut
			if x.decode(&o) == nil {
				return strconv.Itoa(o.Recipe.Epochs)
			}
		}
	}
	return "?"
}

// seconds is a scaling cell's time: the whole process, full retrains
// extrapolated to `epochs` epochs.
func (row scaleRow) seconds(key string, epochs int) float64 {
	x, found := row.runs[key]
	if !found {
		return 0
	}
	if key == "retrain-full" {
		return extrapolated(x, epochs)
	}
	return x.Wall
}

func (r *report) scaleTables(rows []scaleRow, xLabel string, epochs int) {
	r.printf("| %s | data set |", xLabel)
	for _, c := range scaleCmds {
		r.printf(" %s |", c.label)
	}
	r.printf("\n| --- | --- |%s\n", strings.Repeat(" --- |", len(scaleCmds)))
	for _, row := range rows {
		r.printf("| %s | %.0f MB |", row.label, row.dataBytes/(1<<20))
		for _, c := range scaleCmds {
			x, found := row.runs[c.key]
			if !found {
				r.printf(" — |")
				continue
			}
			r.printf(" %s%s |", dur(row.seconds(c.key, epochs)), cellNote(c.key, x))
		}
		r.printf("\n")
	}
	r.printf("\n| %s | data set | peak RSS:", xLabel)
	for _, c := range scaleCmds {
		r.printf(" %s |", c.label)
	}
	r.printf(" largest ÷ data set |\n| --- | --- |%s\n", strings.Repeat(" --- |", len(scaleCmds)+1))
	for _, row := range rows {
		r.printf("| %s | %.0f MB |", row.label, row.dataBytes/(1<<20))
		worst := 0.0
		for _, c := range scaleCmds {
			x, found := row.runs[c.key]
			if !found {
				r.printf(" — |")
				continue
			}
			b := float64(x.MaxRSSKB) * 1024
			worst = max(worst, b/row.dataBytes)
			r.printf(" %.0f MB (%.2f×) |", b/(1<<20), b/row.dataBytes)
		}
		flag := ""
		if worst >= 2 {
			flag = " **above 2×**"
		}
		r.printf(" %.2f×%s |\n", worst, flag)
	}
}

// cellNote says what a scaling run did beyond its time.
func cellNote(key string, x run) string {
	switch key {
	case "unlearn-full":
		var o unlearnOut
		if x.decode(&o) == nil {
			return fmt.Sprintf(" (%d HVPs)", o.HVPs)
		}
	case "unlearn-head":
		var o unlearnOut
		if x.decode(&o) == nil {
			return fmt.Sprintf(" (%d steps from %s)", o.NewtonSteps, o.Start)
		}
	case "retrain-head":
		var o retrainOut
		if x.decode(&o) == nil {
			return fmt.Sprintf(" (%d steps)", o.NewtonSteps)
		}
	}
	return ""
}
