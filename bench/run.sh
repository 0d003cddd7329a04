#!/usr/bin/env bash
# run.sh runs lethe's benchmarks (DESIGN.md §4, issue 11) and writes bench/RESULTS.md
# and bench/scaling.png. `make bench` runs it; bench/README.md explains every section.
#
#   bench/run.sh                          everything (about an hour on 2 shared cores)
#   BENCH_QUICK=1 bench/run.sh            a fast check of every section (minutes); writes
#                                         bench/out/RESULTS.md, never bench/RESULTS.md
#   BENCH_SECTIONS="cli head" bench/run.sh   some sections, then the report from what
#                                         bench/out holds (earlier sections' runs are kept)
#
# Sections: prepare micro kernels lissa mlp cnn head scaling reproduce report.
# Every ratio comes from commands alternated in one sitting (bench/alternate: round r runs
# each command of a group once; ROUNDS rounds, default 5). The whole-process timings,
# CPU times and peak RSS are the kernel's (wait4 rusage), per process.
#
# Settings (environment): THREADS (2) for every engine; ROUNDS (5); COUNT (5) repeats of
# the Go benchmarks that are not ratios; SIZES and WIDTHS of the scaling tables;
# SCALING_EPOCHS (3): epochs of the width table's full retrain (reported ×30/epochs,
# labelled); BENCH_OUT (bench/out).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
QUICK=${BENCH_QUICK:-0}
OUT=${BENCH_OUT:-bench/out}
if [[ $QUICK == 1 ]]; then
	ROUNDS=${ROUNDS:-1}
	COUNT=${COUNT:-1}
	SIZES=${SIZES:-15000,30000}
	WIDTHS=${WIDTHS:-32,64}
	SECTIONS=${BENCH_SECTIONS:-prepare micro kernels lissa mlp cnn head scaling report}
	SAMPLES=5
	CNN_EPOCHS=1
	RESULTS=$OUT/RESULTS.md
	PLOT=$OUT/scaling.png
else
	ROUNDS=${ROUNDS:-5}
	COUNT=${COUNT:-5}
	SIZES=${SIZES:-15000,30000,60000,120000}
	WIDTHS=${WIDTHS:-32,64,128,256,512,1024}
	SECTIONS=${BENCH_SECTIONS:-prepare micro kernels lissa mlp cnn head scaling reproduce report}
	SAMPLES=9
	CNN_EPOCHS=30
	RESULTS=bench/RESULTS.md
	PLOT=bench/scaling.png
fi
# Micro-benchmarks: each side takes SAMPLES timing samples of at least
# SAMPLE_SECONDS per round and reports their median, so that a burst of host
# load hits both sides' statistic alike.
SAMPLE_SECONDS=0.1
SCALING_EPOCHS=${SCALING_EPOCHS:-3}
DATA=$OUT/data
RUNS=$OUT/runs
export CGO_LDFLAGS=${CGO_LDFLAGS:--lopenblas}
# NumPy's BLAS (the Newton-CG head baseline) gets the same thread count as everyone else.
export OPENBLAS_NUM_THREADS=$THREADS
PY=/usr/bin/python3
LETHE=bin/lethe
T="--threads $THREADS"
log() { printf 'bench: %s\n' "$*" >&2; }
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
mkdir -p "$OUT" "$RUNS" "$DATA"

# alternate GROUP PLAN [ROUNDS]: run PLAN's commands alternated, records in $RUNS/GROUP.
alternate() {
	rm -rf "${RUNS:?}/$1"
	bench/out/alternate -rounds "${3:-$ROUNDS}" -out "$RUNS/$1" "$2"
}
# certgrad CERT: the certified run's final gradient norm ‖∇L_r(w̃)‖ (convex scope).
certgrad() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["bound"]["posterior_grad_norm"])' "$1"; }

go build -o bench/out/alternate ./bench/alternate
[[ -x $LETHE ]] || { log "build bin/lethe first (make build)"; exit 2; }

{
	echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo -dirty)"
	echo "go=$(go version | cut -d' ' -f3-)"
	echo "cpu=$(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "threads=$THREADS"
	echo "rounds=$ROUNDS"
	echo "count=$COUNT"
	echo "samples=$SAMPLES"
	echo "sample_seconds=$SAMPLE_SECONDS"
	echo "quick=$QUICK"
	echo "sections=$SECTIONS"
	echo "start=$(date -u +%FT%TZ)"
	echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/meta.txt"

if want prepare; then
	log "data sets and models (bench/prepare.py; kept when present)"
	$PY bench/prepare.py --out "$DATA" --sizes "$SIZES" --widths "$WIDTHS" --threads "$THREADS"
fi

if want micro; then
	log "forward, gradient, HVP: Go (lethe, onnxruntime) and PyTorch alternated, $ROUNDS rounds"
	go test -tags openblas -c -o bench/out/bench.test ./bench
	cat >"$OUT/plan_micro.txt" <<-EOF
		micro/go env LETHE_BENCH_THREADS=$THREADS bench/out/bench.test -test.run '^\$' -test.bench '^Benchmark(Forward|GradHVP)\$' -test.benchtime ${SAMPLE_SECONDS}s -test.count $SAMPLES
		micro/torch $PY bench/torch_bench.py --threads $THREADS --sections forward,grad --repeats $SAMPLES --min-sample $SAMPLE_SECONDS
	EOF
	alternate micro "$OUT/plan_micro.txt"
fi

if want kernels; then
	log "full-data passes and kernel GFLOP/s (Go only, -count $COUNT)"
	go test -tags openblas -c -o bench/out/bench.test ./bench
	go test -tags openblas -c -o bench/out/autodiff.test ./autodiff
	{
		LETHE_BENCH_THREADS=$THREADS bench/out/bench.test -test.run '^$' -test.bench '^BenchmarkFullData$' -test.benchtime 2s -test.count "$COUNT"
		(cd autodiff && ../bench/out/autodiff.test -test.run '^$' -test.bench '^BenchmarkKernels$' -test.count "$COUNT")
	} | tee "$OUT/go_kernels.txt" >&2
fi

if want lissa; then
	log "LiSSA with the paper's settings: lethe unlearn (defaults otherwise) and PyTorch's gradient + LiSSA, alternated"
	# The issue's command has no --threads: lethe's default is one thread per CPU.
	lt=""
	[[ $THREADS == "$(nproc)" ]] || lt=" $T"
	cat >"$OUT/plan_lissa.txt" <<-EOF
		lissa/lethe $LETHE unlearn models/mnist_mlp.onnx --data mnist:train --forget bench/mnist_forget_1000.txt --solver lissa --lissa-depth 1000 --lissa-repetitions 10 --lissa-batch 10 --epsilon 1 --delta 1e-5$lt -o $OUT/lissa_unlearned.onnx --json
		lissa/torch $PY bench/torch_bench.py --threads $THREADS --sections unlearn --lissa-variants lean --unlearn-repeats 1 --repeats 4
	EOF
	alternate lissa "$OUT/plan_lissa.txt"
fi

if want mlp; then
	log "MNIST MLP: default lethe unlearn, lethe retrain (30 epochs), PyTorch retrain, alternated"
	cat >"$OUT/plan_mlp.txt" <<-EOF
		mlp/unlearn $LETHE unlearn models/mnist_mlp.onnx --data mnist:train --forget bench/mnist_forget_1000.txt --epsilon 1 --delta 1e-5 $T -o $OUT/mlp_unlearned.onnx --json
		mlp/retrain $LETHE retrain models/mnist_mlp.onnx --data mnist:train --forget bench/mnist_forget_1000.txt $T -o $OUT/mlp_retrained.onnx --json
		mlp/torch-retrain $PY bench/torch_bench.py --threads $THREADS --sections retrain
	EOF
	alternate mlp "$OUT/plan_mlp.txt"
fi

if want cnn; then
	log "Fashion-MNIST CNN: default lethe unlearn, lethe retrain ($CNN_EPOCHS epochs), alternated"
	cat >"$OUT/plan_cnn.txt" <<-EOF
		cnn/unlearn $LETHE unlearn models/fashion_cnn.onnx --data fashion-mnist:train --forget bench/mnist_forget_1000.txt --epsilon 1 --delta 1e-5 $T -o $OUT/cnn_unlearned.onnx --json
		cnn/retrain $LETHE retrain models/fashion_cnn.onnx --data fashion-mnist:train --forget bench/mnist_forget_1000.txt --epochs $CNN_EPOCHS $T -o $OUT/cnn_retrained.onnx --json
	EOF
	alternate cnn "$OUT/plan_cnn.txt"
fi

if want head; then
	log "head scope: lethe unlearn --scope head, lethe retrain --scope head, Python fits, alternated"
	head_unlearn="$LETHE unlearn models/mnist_head.onnx --data $DATA/mnist_private.npz --forget bench/mnist_head_forget_1000.txt --scope head --epsilon 1 --delta 1e-5 $T -o $OUT/head_unlearned.onnx --json"
	# One untimed run fixes the gradient norm the references must reach.
	$head_unlearn >/dev/null
	g=$(certgrad "$OUT/head_unlearned.cert.json")
	log "the certified run's final ‖∇L_r‖ = $g: the references fit to it"
	cat >"$OUT/plan_head.txt" <<-EOF
		head/unlearn $head_unlearn
		head/retrain $LETHE retrain models/mnist_head.onnx --data $DATA/mnist_private.npz --forget bench/mnist_head_forget_1000.txt --scope head --grad-tol $g $T -o $OUT/head_retrained.onnx --json
		head/python $PY bench/torch_bench.py --threads $THREADS --sections head --head-grad-tol $g
	EOF
	alternate head "$OUT/plan_head.txt"
fi

if want scaling; then
	log "scaling: retained-set size ($SIZES) and MLP width ($WIDTHS), one run each"
	: >"$OUT/plan_scaling.txt"
	for r in ${SIZES//,/ }; do
		d="--data $DATA/mnist_r$r.npz --forget $DATA/mnist_r${r}_forget.txt"
		cat >>"$OUT/plan_scaling.txt" <<-EOF
			size/$r/unlearn-full $LETHE unlearn models/mnist_mlp.onnx $d --scope full --epsilon 1 --delta 1e-5 $T -o $OUT/scale_unlearned.onnx --json
			size/$r/unlearn-head $LETHE unlearn models/mnist_head.onnx $d --scope head --epsilon 1 --delta 1e-5 $T -o $OUT/scale_size_${r}_head.onnx --json
			size/$r/retrain-full $LETHE retrain models/mnist_mlp.onnx $d $T -o $OUT/scale_retrained.onnx --json
		EOF
	done
	for w in ${WIDTHS//,/ }; do
		m=$DATA/mlp_w$w.onnx
		d="--data mnist:train --forget bench/mnist_forget_1000.txt"
		cat >>"$OUT/plan_scaling.txt" <<-EOF
			width/$w/unlearn-full $LETHE unlearn $m $d --scope full --epsilon 1 --delta 1e-5 $T -o $OUT/scale_unlearned.onnx --json
			width/$w/unlearn-head $LETHE unlearn $m $d --scope head --epsilon 1 --delta 1e-5 $T -o $OUT/scale_width_${w}_head.onnx --json
			width/$w/retrain-full $LETHE retrain $m $d --epochs $SCALING_EPOCHS $T -o $OUT/scale_retrained.onnx --json
		EOF
	done
	alternate scaling "$OUT/plan_scaling.txt" 1
	# The head retrains fit to the gradient norm of the certified run of the same row.
	: >"$OUT/plan_scaling_head.txt"
	for r in ${SIZES//,/ }; do
		g=$(certgrad "$OUT/scale_size_${r}_head.cert.json")
		echo "size/$r/retrain-head $LETHE retrain models/mnist_head.onnx --data $DATA/mnist_r$r.npz --forget $DATA/mnist_r${r}_forget.txt --scope head --grad-tol $g $T -o $OUT/scale_retrained.onnx --json" >>"$OUT/plan_scaling_head.txt"
	done
	for w in ${WIDTHS//,/ }; do
		g=$(certgrad "$OUT/scale_width_${w}_head.cert.json")
		echo "width/$w/retrain-head $LETHE retrain $DATA/mlp_w$w.onnx --data mnist:train --forget bench/mnist_forget_1000.txt --scope head --grad-tol $g $T -o $OUT/scale_retrained.onnx --json" >>"$OUT/plan_scaling_head.txt"
	done
	alternate scaling_head "$OUT/plan_scaling_head.txt" 1
fi

if want reproduce; then
	log "make reproduce's command, timed once"
	echo "reproduce $LETHE demo --reproduce --out $OUT/reproduce/results --work $OUT/reproduce/work" >"$OUT/plan_reproduce.txt"
	alternate reproduce "$OUT/plan_reproduce.txt" 1
fi

echo "end=$(date -u +%FT%TZ)" >>"$OUT/meta.txt"
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.txt"

if want report; then
	go run ./bench/report -dir "$OUT" -plot "$PLOT" >"$RESULTS.tmp"
	mv "$RESULTS.tmp" "$RESULTS"
	log "wrote $RESULTS and $PLOT"
fi
