#!/usr/bin/env bash
# run.sh runs lethe's side-by-side benchmarks (DESIGN.md §4) with the same
# thread count for every engine and writes bench/RESULTS.md:
#   1. Go testing.B: the native engine and onnxruntime (bench/bench_test.go),
#      and the engine's GFLOP/s against the SGEMM peak (autodiff's
#      BenchmarkKernels);
#   2. PyTorch (bench/torch_bench.py): forward, gradient, HVP, the paper's
#      unlearning and retraining;
#   3. lethe unlearn with the paper's LiSSA settings and with its defaults,
#      and lethe retrain, on the same forget set, timed by the commands.
# THREADS (default 2) sets the thread count, COUNT the Go benchmark repeats.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
COUNT=${COUNT:-5}
OUT=bench/out
mkdir -p "$OUT"
export CGO_LDFLAGS=${CGO_LDFLAGS:--lopenblas}
log() { printf 'bench: %s\n' "$*" >&2; }

{
	echo "lethe $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(go version | cut -d' ' -f3-), BLAS openblas, threads $THREADS"
	echo "$(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
} >"$OUT/env.txt"

log "Go benchmarks (native engine, onnxruntime)"
LETHE_BENCH_THREADS=$THREADS go test -tags openblas -run '^$' -bench . -benchtime 2s -count "$COUNT" ./bench | tee "$OUT/go.txt" >&2
log "Go benchmarks (GEMM and convolution GFLOP/s against the SGEMM peak, one thread)"
go test -tags openblas -run '^$' -bench Kernels -count "$COUNT" ./autodiff | tee -a "$OUT/go.txt" >&2

log "PyTorch"
/usr/bin/python3 bench/torch_bench.py --threads "$THREADS" --out "$OUT/torch.json" --write-forget "$OUT/forget.txt"

log "lethe unlearn, the paper's LiSSA settings"
bin/lethe unlearn models/mnist_mlp.onnx --data mnist:train --forget "$OUT/forget.txt" \
	--epsilon 1 --delta 1e-5 --radius 20 --l2 0.0005 --threads "$THREADS" \
	--solver lissa --lissa-depth 1000 --lissa-repetitions 10 --lissa-batch 10 --lissa-scale 1000 --lambda 0.01 \
	-o "$OUT/unlearned_paper.onnx" --json >"$OUT/unlearn_paper.json"

log "lethe unlearn, defaults (conjugate gradient, automatic λ)"
bin/lethe unlearn models/mnist_mlp.onnx --data mnist:train --forget "$OUT/forget.txt" \
	--epsilon 1 --delta 1e-5 --radius 20 --l2 0.0005 --threads "$THREADS" \
	-o "$OUT/unlearned.onnx" --json >"$OUT/unlearn_certified.json"

log "lethe retrain, 30 epochs"
bin/lethe retrain models/mnist_mlp.onnx --data mnist:train --forget "$OUT/forget.txt" \
	--radius 20 --l2 0.0005 --epochs 30 --threads "$THREADS" -o "$OUT/retrained.onnx" --json >"$OUT/retrain.json"

go run ./bench/report -dir "$OUT" >bench/RESULTS.md
log "wrote bench/RESULTS.md"
