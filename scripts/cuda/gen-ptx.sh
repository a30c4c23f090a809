#!/usr/bin/env bash
# gen-ptx.sh [OUTDIR]: compile kernels/*.cu to PTX (compute_80, JIT-compiled by
# the driver for sm_80 and newer, H100 included) into OUTDIR (default: the
# kernels directory itself). `go generate ./kernels` runs it.
#
# nvcc is taken from $NVCC, else from the tree scripts/cuda/fetch.sh extracts
# (${CUDA_ROOT:-$HOME/.cache/movierec-cuda}), else from PATH or /usr/local/cuda
# (the nvidia/cuda devel image). The flags are fixed here so that every
# machine produces the same PTX; CI diffs the result against the committed file.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kdir=$(cd "$here/../../kernels" && pwd)
out=${1:-$kdir}
mkdir -p "$out"

root=${CUDA_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/movierec-cuda}
nvcc=${NVCC:-}
if [ -z "$nvcc" ]; then
	for cand in "$root/tree/usr/lib/nvidia-cuda-toolkit/bin/nvcc" "$(command -v nvcc || true)" /usr/local/cuda/bin/nvcc; do
		if [ -n "$cand" ] && [ -x "$cand" ]; then nvcc=$cand; break; fi
	done
fi
if [ -z "$nvcc" ]; then
	echo "gen-ptx.sh: nvcc not found: run scripts/cuda/fetch.sh or set NVCC" >&2
	exit 1
fi

for src in "$kdir"/*.cu; do
	name=$(basename "$src" .cu)
	# -ccbin gcc -allow-unsupported-compiler: Debian's CUDA 11.8 rejects gcc 12
	# by default; only device code is compiled here, so the host compiler
	# version does not matter. No -lineinfo/-G: the PTX must not carry paths.
	"$nvcc" -ccbin gcc -allow-unsupported-compiler -std=c++14 -O3 \
		-ptx -arch=compute_80 -o "$out/$name.ptx.tmp" "$src"
	mv "$out/$name.ptx.tmp" "$out/$name.ptx"
done
