#!/usr/bin/env bash
# device-check.sh: the first GPU run, prepared to answer everything in one
# short lease (a session gets about 15 minutes of device time, commands of
# at most 10 minutes). Each step is its own process with its own timeout, so
# a hang or a sticky CUDA error costs one step, not the run; every step
# writes its log to OUTDIR as it runs, and summary.txt collects the verdicts.
# The whole run stays under 9 minutes (RUN_BUDGET seconds).
#
# Here (no GPU needed), build what the GPU host runs:
#   eval "$(scripts/cuda/fetch.sh)"
#   scripts/cuda/device-check.sh build [DIR]        # DIR (default .device): gpu.test, movierec-cuda, movierec
# On the GPU host, from the repository root (carry DIR):
#   scripts/cuda/device-check.sh run OUTDIR [DIR]
# Anywhere (CI): every step's command line against the worker built without
# the cuda tag and stand-ins for nvidia-smi and compute-sanitizer, so the
# script cannot rot:
#   scripts/cuda/device-check.sh dry-run OUTDIR
#
# Steps (timeouts in seconds):
#   0 env      (10)  uname, glibc (the binaries need ≥ 2.34), nvidia-smi -q and clocks/MIG;
#                    starts generating the ml-25m preset on the CPU for step 6
#   1 smoke    (45)  TestHalfStep at ranks 1, 8, 64: JIT, launch, first numbers
#   2 sanitize (115) compute-sanitizer memcheck (ranks 8, 100 with biases; the heavy-row
#                    kernels at rank 8, both solvers), racecheck and synccheck (rank 8),
#                    if compute-sanitizer is on PATH (else skipped)
#   3 ranks    (120) TestHalfStep and TestTenIterations at all ranks 1..256, both solvers
#   4 suite    (90)  TestDeviceConformance and the implicit objective's tests (Cholesky and CG)
#   4b split   (60)  the heavy-row kernels with a forced low threshold (TestSplit*, -short)
#   5 bench    (150) BenchmarkIteration/ML25M (both solvers) with per-half times (MOVIEREC_GPU_TIMING=1)
#                    and post-JIT registers and occupancy (MOVIEREC_GPU_LOG=1)
#   6 service  (rest) movierec bench --preset ml-25m --ranks 64 --objectives explicit --backends cuda,cpu
# On exit: dmesg Xid lines and a last nvidia-smi.
set -uo pipefail
cd "$(dirname "$0")/../.."

usage() {
	echo "usage: $0 build [DIR] | run OUTDIR [DIR] | dry-run OUTDIR" >&2
	exit 2
}

mode=${1:-}
case "$mode" in
build)
	set -e
	dir=${2:-.device}
	mkdir -p "$dir"
	export CGO_ENABLED=1
	go test -c -tags cuda -o "$dir/gpu.test" ./gpu
	go build -tags cuda -o "$dir/movierec-cuda" ./cmd/movierec-cuda
	# Stripped: with compute-sanitizer carried too, the folder must stay small.
	CGO_ENABLED=0 go build -ldflags='-s -w' -o "$dir/movierec" ./cmd/movierec
	if [ "$dir" = .device ]; then
		grep -qx "/$dir/" .git/info/exclude 2>/dev/null || echo "/$dir/" >>.git/info/exclude
	fi
	ls -la "$dir"
	exit 0
	;;
run)
	[ $# -ge 2 ] || usage
	out=$2
	dir=${3:-.device}
	;;
dry-run)
	[ $# -ge 2 ] || usage
	out=$2
	dir=$out/bin
	set -e
	mkdir -p "$dir" "$out/stubs"
	# The untagged builds: gpu.test holds no device tests (its -test.run
	# patterns match nothing and pass), the worker trains on the CPU.
	go test -c -o "$dir/gpu.test" ./gpu
	go build -o "$dir/movierec-cuda" ./cmd/movierec-cuda
	go build -o "$dir/movierec" ./cmd/movierec
	printf '#!/bin/sh\necho "nvidia-smi stand-in (dry run): $*"\n' >"$out/stubs/nvidia-smi"
	printf '#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in --tool|--error-exitcode) shift 2;; --*) shift;; *) break;; esac; done\nexec "$@"\n' \
		>"$out/stubs/compute-sanitizer"
	chmod +x "$out/stubs/nvidia-smi" "$out/stubs/compute-sanitizer"
	export PATH="$(cd "$out/stubs" && pwd):$PATH"
	set +e
	;;
*)
	usage
	;;
esac

mkdir -p "$out"
out=$(cd "$out" && pwd)
dir=$(cd "$dir" && pwd)
budget=${RUN_BUDGET:-530}
preset=ml-25m
[ "$mode" = dry-run ] && preset=small
gendir=${TMPDIR:-/tmp}/movierec-$preset
start=$SECONDS
status=0

summary() { echo "$*" | tee -a "$out/summary.txt"; }

# step NAME TIMEOUT CMD...: runs CMD with the smaller of TIMEOUT and the time
# left, output to OUTDIR/NAME.log; records the verdict in summary.txt.
step() {
	local name=$1 limit=$2
	shift 2
	local left=$((budget - (SECONDS - start)))
	if [ "$left" -lt 5 ]; then
		summary "== $name: skipped (run budget of ${budget}s spent)"
		return 0
	fi
	[ "$limit" -gt "$left" ] && limit=$left
	summary "== $name (timeout ${limit}s)"
	local t0=$SECONDS rc=0
	timeout --kill-after=5 "$limit" "$@" >"$out/$name.log" 2>&1 || rc=$?
	case $rc in
	0) summary "   ok in $((SECONDS - t0))s" ;;
	124 | 137) summary "   TIMEOUT after $((SECONDS - t0))s"; status=1 ;;
	*) summary "   FAILED (exit $rc) after $((SECONDS - t0))s"; status=1 ;;
	esac
	grep -E '^(--- FAIL|FAIL|panic|Benchmark)|ms/iter|rows failed|regs=|blocks_per_sm|side=' "$out/$name.log" | head -60 >>"$out/summary.txt"
	return 0
}

# gputest NAME TIMEOUT ARGS...: gpu.test from gpu/ (its testdata) with ARGS.
gputest() {
	local name=$1 limit=$2
	shift 2
	step "$name" "$limit" bash -c 'cd gpu && exec "$0" -test.timeout "$1s" "${@:2}"' "$dir/gpu.test" "$((limit - 5))" "$@"
}

finish() {
	{
		echo "== exit: dmesg Xid lines"
		dmesg 2>/dev/null | grep -i xid | tail -20 || echo "(dmesg not readable)"
		nvidia-smi 2>&1 | head -30
	} >"$out/exit.log" 2>&1
	grep -i xid "$out/exit.log" >>"$out/summary.txt" || true
	summary "== done in $((SECONDS - start))s, status $status"
}
trap finish EXIT

step 0-env 10 bash -c '
	uname -a
	ldd --version 2>&1 | head -1
	v=$(ldd --version 2>&1 | head -1 | grep -oE "[0-9]+\.[0-9]+$")
	echo "glibc $v (the cuda binaries need 2.34 or newer)"
	case "$v" in 2.3[4-9] | 2.[4-9]* | [3-9].*) ;; *) echo "glibc too old"; exit 1 ;; esac
	nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,mig.mode.current,ecc.mode.current --format=csv
	nvidia-smi -q >"$0/nvidia-smi-q.txt" 2>&1
	exit 0' "$out"
# The service benchmark's data, generated on the CPU while the GPU steps run.
"$dir/movierec" gen --preset "$preset" --out "$gendir" >"$out/gen.log" 2>&1 &
genpid=$!

gputest 1-smoke 45 -test.v -test.run 'TestHalfStep/^rank(1|8|64)$/'
if command -v compute-sanitizer >/dev/null; then
	step 2-memcheck 50 bash -c 'cd gpu && exec compute-sanitizer --tool memcheck --error-exitcode 9 "$0" -test.short -test.run "TestHalfStep/^rank(8|100)$/^bias=true$"' "$dir/gpu.test"
	step 2-memcheck-split 25 bash -c 'cd gpu && exec compute-sanitizer --tool memcheck --error-exitcode 9 "$0" -test.short -test.run "TestSplitHalfStep/^rank8$/^bias=true$"' "$dir/gpu.test"
	step 2-racecheck 20 bash -c 'cd gpu && exec compute-sanitizer --tool racecheck --error-exitcode 9 "$0" -test.short -test.run "TestHalfStep/^rank8$/"' "$dir/gpu.test"
	step 2-synccheck 20 bash -c 'cd gpu && exec compute-sanitizer --tool synccheck --error-exitcode 9 "$0" -test.short -test.run "TestHalfStep/^rank8$/"' "$dir/gpu.test"
else
	summary "== 2-sanitize: skipped (no compute-sanitizer on PATH)"
fi
gputest 3-ranks 120 -test.v -test.run '^(TestHalfStep|TestTenIterations)$'
gputest 4-suite 90 -test.v -test.run '^(TestDeviceConformance|TestImplicit.*|TestResidentRatings)$'
gputest 4b-split 60 -test.v -test.short -test.run '^TestSplit'
step 5-bench 150 env MOVIEREC_GPU_LOG=1 MOVIEREC_GPU_TIMING=1 bash -c 'cd gpu && exec "$0" -test.run "^$" -test.bench "Iteration/ML25M" -test.benchtime 2x' "$dir/gpu.test"
wait "$genpid" || summary "   (generating $preset failed: see gen.log; movierec bench generates it)"
step 6-service 400 "$dir/movierec" bench --preset "$preset" --gen-dir "$gendir" --ranks 64 --iterations 3 \
	--objectives explicit --backends cuda,cpu --cuda-worker "$dir/movierec-cuda" --log-level warn
exit $status
