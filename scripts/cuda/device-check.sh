#!/usr/bin/env bash
# device-check.sh: the GPU checks, prepared to run in one go on a GPU host
# (the device tool gives a session about 15 minutes of GPU time in all).
#
# Here (no GPU needed), build what the GPU host runs:
#   eval "$(scripts/cuda/fetch.sh)"
#   scripts/cuda/device-check.sh build          # writes .device/{gpu.test,movierec,movierec-cuda}
# On the GPU host, from the repository root (carry .device):
#   scripts/cuda/device-check.sh run [OUTDIR]   # tests, then benchmarks; logs to OUTDIR (default .device/out)
#
# run order, cheapest first, so a short lease still answers the first
# question (do the kernels work?): nvidia-smi; the GPU tests (conformance,
# explicit and implicit objectives; half-step vs the float64 reference at
# ranks 1..256, 10 iterations vs CPU); the implicit objective's own tests
# (half-step vs alstest.ReferenceImplicitHalf at ranks 1..64, fits vs the CPU
# solver at ranks 1..256: Gram kernels, shared and global row kernels,
# preference RMSE), in a process of their own; the ML-25M-shaped
# benchmark at ranks 64 and 128 and Netflix-shaped at 100; movierec bench
# with both backends on the ml-25m preset (CPU speed-up on that host).
set -uo pipefail
cd "$(dirname "$0")/../.."
dir=.device
case "${1:-}" in
build)
	set -e
	mkdir -p "$dir"
	export CGO_ENABLED=1
	go test -c -tags cuda -o "$dir/gpu.test" ./gpu
	go build -tags cuda -o "$dir/movierec-cuda" ./cmd/movierec-cuda
	CGO_ENABLED=0 go build -o "$dir/movierec" ./cmd/movierec
	grep -qx "/$dir/" .git/info/exclude 2>/dev/null || echo "/$dir/" >>.git/info/exclude
	ls -la "$dir"
	;;
run)
	out=${2:-$dir/out}
	mkdir -p "$out"
	status=0
	step() { echo "== $*" | tee -a "$out/summary.txt"; }
	step "device"
	nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee -a "$out/summary.txt"
	step "GPU tests (TestImplicit* in the next step)"
	(cd gpu && timeout 300 "../$dir/gpu.test" -test.v -test.timeout 290s -test.skip '^TestImplicit') >"$out/gpu-tests.log" 2>&1 || status=1
	grep -E '^(--- |ok|FAIL|PASS)' "$out/gpu-tests.log" | tee -a "$out/summary.txt"
	step "GPU tests, implicit objective"
	(cd gpu && timeout 180 "../$dir/gpu.test" -test.v -test.timeout 170s -test.run '^TestImplicit') >"$out/gpu-implicit.log" 2>&1 || status=1
	grep -E '^(--- |ok|FAIL|PASS)|relative|loss|RMSE' "$out/gpu-implicit.log" | tee -a "$out/summary.txt"
	step "GPU benchmarks (ms per full iteration)"
	(cd gpu && timeout 300 "../$dir/gpu.test" -test.run '^$' -test.bench Iteration -test.benchtime 5x) >"$out/gpu-bench.log" 2>&1 || status=1
	grep -E '^Benchmark' "$out/gpu-bench.log" | tee -a "$out/summary.txt"
	step "movierec bench, ml-25m preset, cuda and cpu"
	timeout 420 "$dir/movierec" bench --preset ml-25m --gen-dir /tmp/movierec-ml25m --ranks 64,128 --iterations 3 \
		--backends cuda,cpu --cuda-worker "$dir/movierec-cuda" --log-level warn >"$out/bench.md" 2>"$out/bench.log" || status=1
	cat "$out/bench.md" | tee -a "$out/summary.txt"
	exit $status
	;;
*)
	echo "usage: $0 build | run [OUTDIR]" >&2
	exit 2
	;;
esac
