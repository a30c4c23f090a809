#!/usr/bin/env bash
# check.sh: the CUDA checks CI runs on a machine without a GPU.
#   1. fetch the CUDA 11.8 headers, stub libcuda and nvcc/ptxas (fetch.sh)
#   2. build and vet the cuda-tagged worker and package gpu against them
#   3. compile (not run) the cuda-tagged GPU tests
#   4. regenerate the PTX and fail if it differs from the committed files
#   5. have ptxas compile the PTX for sm_90 (H100) and report its resources
# It exits non-zero on the first failure.
set -euo pipefail

cd "$(dirname "$0")/../.."
env_lines=$(scripts/cuda/fetch.sh) # fails the script if the fetch fails
eval "$env_lines"
export CGO_ENABLED=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() { printf '== %s\n' "$*"; }

step "go build -tags cuda ./cmd/movierec-cuda"
go build -tags cuda -o "$tmp/movierec-cuda" ./cmd/movierec-cuda

step "go vet -tags cuda ./gpu/... ./cmd/movierec-cuda"
go vet -tags cuda ./gpu/... ./cmd/movierec-cuda

step "go test -c -tags cuda ./gpu (compile only: running needs a GPU)"
go test -c -tags cuda -o "$tmp/gpu.test" ./gpu

step "regenerate PTX and compare with kernels/*.ptx"
scripts/cuda/gen-ptx.sh "$tmp/ptx"
status=0
for src in kernels/*.cu; do
	name=$(basename "$src" .cu)
	if ! diff -u "kernels/$name.ptx" "$tmp/ptx/$name.ptx" >"$tmp/ptx.diff"; then
		head -40 "$tmp/ptx.diff"
		echo "check.sh: kernels/$name.ptx is stale: run 'go generate ./kernels' and commit it" >&2
		status=1
	fi
done
[ "$status" -eq 0 ] || exit "$status"

step "ptxas -arch=sm_90 -v"
for ptx in kernels/*.ptx; do
	ptxas -arch=sm_90 -v "$ptx" -o "$tmp/$(basename "$ptx" .ptx).cubin"
done
step "ok"
