#!/usr/bin/env bash
# Side-by-side benchmark of movierec's CPU trainer against LIBMF (issue 15).
#
#   LIBMF_SRC=/path/to/libmf scripts/peers/libmf.sh [DATASET...]
#
# DATASET: ml-latest-small (the bundled data), ml-100k (a synthetic set of
# ml-100k's shape: 943 users, 1,682 movies, 100,000 ratings) or ml-25m (the
# ml-25m preset of `movierec gen`, 25M ratings); default: all three.
#
# For each data set it splits the ratings once with `movierec eval` (80/20,
# seed 42), writes the split in LIBMF's text format, and then, RUNS times,
# alternating, trains both on the same training part and scores both on
# the same test part (predictions clamped to the rating scale on both
# sides):
#   - LIBMF through scripts/peers/libmf_curve.cpp, our driver linked to an
#     unmodified LIBMF build: mf_train from scratch for each iteration
#     count of the data set's list, timing mf_train alone;
#   - movierec through `movierec eval --rmse-only --curve`, which times the
#     fit and scores the test part after every iteration (scoring not
#     counted).
# Neither side's time counts reading the files. It then reports, per side
# and configuration, the best test RMSE and the median time to reach it,
# and the median time movierec needs to reach LIBMF's error.
#
# Environment: LIBMF_SRC (required; without it the script says how to get
# LIBMF and exits 0), LIBMF_COMMIT (the commit to report when LIBMF_SRC is
# not a git checkout), RUNS (default 3), THREADS (LIBMF's threads; default:
# the number of CPUs, which movierec uses too), WORK (scratch directory;
# default: a new temporary one, removed at the end).
#
# LIBMF's code is never copied into this repository: it is built from
# LIBMF_SRC in WORK.
set -euo pipefail

if [ -z "${LIBMF_SRC:-}" ]; then
	cat <<'EOF'
scripts/peers/libmf.sh: LIBMF_SRC is not set, so there is nothing to compare against.
LIBMF (BSD-3) is at https://github.com/cjlin1/libmf; the figures in bench/RESULTS.md
used commit 1498368bc79f86b59376b39751b3a72757d0624e:
    git clone https://github.com/cjlin1/libmf /tmp/libmf
    git -C /tmp/libmf checkout 1498368bc79f86b59376b39751b3a72757d0624e
    LIBMF_SRC=/tmp/libmf scripts/peers/libmf.sh
It needs g++ with OpenMP (Debian: apt-get install g++).
EOF
	exit 0
fi

repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-3}
threads=${THREADS:-$(nproc)}
datasets=("$@")
if [ ${#datasets[@]} -eq 0 ]; then
	datasets=(ml-latest-small ml-100k ml-25m)
fi
for d in "${datasets[@]}"; do
	case $d in
	ml-latest-small | ml-100k | ml-25m) ;;
	*)
		echo "libmf.sh: unknown data set $d: want ml-latest-small, ml-100k or ml-25m" >&2
		exit 2
		;;
	esac
done
if [ -z "${WORK:-}" ]; then
	WORK=$(mktemp -d)
	trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"

# LIBMF: built in WORK with AVX and OpenMP (the flags its README names),
# by overriding the Makefile's variables: LIBMF_SRC stays unmodified.
commit=${LIBMF_COMMIT:-$(git -C "$LIBMF_SRC" rev-parse HEAD 2>/dev/null || echo "unknown (not a git checkout; LIBMF_COMMIT names it)")}
rm -rf "$WORK/libmf-build"
cp -r "$LIBMF_SRC" "$WORK/libmf-build"
make -s -C "$WORK/libmf-build" clean >/dev/null
make -s -C "$WORK/libmf-build" mf.o \
	CXXFLAGS="-Wall -O3 -pthread -std=c++0x -march=native -mavx -fopenmp" \
	DFLAG="-DUSEAVX -DUSEOMP"
g++ -O3 -pthread -std=c++11 -march=native -fopenmp -I"$WORK/libmf-build" \
	-o "$WORK/libmf_curve" "$repo/scripts/peers/libmf_curve.cpp" "$WORK/libmf-build/mf.o"
(cd "$repo" && go build -o "$WORK/movierec" ./cmd/movierec)
mr=$WORK/movierec

echo "# movierec against LIBMF"
echo
echo "- LIBMF commit: $commit (AVX, OpenMP, $threads threads)"
echo "- movierec: $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- runs: $runs per configuration, alternated; times are medians; neither side counts reading files"

# median prints the median of its arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# first_reach FILE TARGET prints the seconds of the first point of the curve
# in FILE ("iterations seconds rmse" lines) whose RMSE is at most TARGET, or
# "-" when none is.
first_reach() { awk -v t="$2" '$3 <= t + 1e-9 {print $2; found=1; exit} END {if (!found) print "-"}' "$1"; }

# best FILE prints "rmse iterations seconds" of the curve's lowest error.
best() { sort -g -k3,3 -k1,1 "$1" | head -1 | awk '{print $3, $1, $2}'; }

for d in "${datasets[@]}"; do
	data=()
	case $d in
	ml-latest-small)
		libmf_cfgs=("-k 8 -l2 0.05" "-k 16 -l2 0.05" "-k 32 -l2 0.1" "-k 64 -l2 0.1" "-k 64 -l2 0.2")
		libmf_iters=1,2,3,4,5,6,8,10,15,20,30
		mr_cfgs=("--rank 8 --lambda 0.1 --iterations 10" "--rank 16 --bias --lambda 0.15 --iterations 10" "--rank 64 --bias --lambda 0.15 --solver cg --iterations 10")
		;;
	ml-100k)
		[ -d "$WORK/ml-100k" ] || "$mr" gen --users 943 --movies 1682 --ratings 100000 --seed 1 --out "$WORK/ml-100k" >/dev/null 2>&1
		data=(--data "$WORK/ml-100k")
		libmf_cfgs=("-k 8 -l2 0.05" "-k 16 -l2 0.02" "-k 16 -l2 0.05" "-k 32 -l2 0.05" "-k 64 -l2 0.1")
		libmf_iters=1,2,3,5,8,10,15,20,30,40,60
		mr_cfgs=("--rank 10 --bias --lambda 0.03 --iterations 15" "--rank 16 --bias --lambda 0.05 --iterations 10" "--rank 32 --bias --lambda 0.05 --solver cg --iterations 10")
		;;
	ml-25m)
		[ -d "$WORK/ml-25m" ] || "$mr" gen --preset ml-25m --out "$WORK/ml-25m" >/dev/null 2>&1
		data=(--data "$WORK/ml-25m")
		libmf_cfgs=("-k 64 -l2 0.02")
		libmf_iters=2,4,6,8,10,12
		mr_cfgs=("--rank 64 --bias --lambda 0.025 --reg-offset 40 --solver cg --iterations 5" "--rank 64 --bias --lambda 0.025 --reg-offset 40 --solver cg --cg-steps 4 --iterations 5" "--rank 64 --bias --lambda 0.03 --solver cg --iterations 5" "--rank 10 --bias --lambda 0.03 --iterations 5")
		;;
	esac
	split=$WORK/split-$d
	"$mr" eval "${data[@]}" --export-libmf "$split" --log-level warn
	scale_max=5
	scale_min=0.5

	echo
	echo "## $d ($(wc -l <"$split/train.txt") training ratings, $(wc -l <"$split/test.txt") test ratings)"
	for r in $(seq 1 "$runs"); do
		for c in "${!libmf_cfgs[@]}"; do
			# shellcheck disable=SC2086 # the configuration is a list of flags
			"$WORK/libmf_curve" ${libmf_cfgs[$c]} -s "$threads" -t "$libmf_iters" -min $scale_min -max $scale_max \
				"$split/train.txt" "$split/test.txt" 2>/dev/null | awk '{print $2, $4, $6}' >"$WORK/$d-libmf-$c-$r"
		done
		for c in "${!mr_cfgs[@]}"; do
			# shellcheck disable=SC2086
			"$mr" eval "${data[@]}" --backend cpu --rmse-only --curve ${mr_cfgs[$c]} --log-level warn |
				awk '/^test error after each iteration/ {on=1; next} on && $1 ~ /^[0-9]+$/ {print $1, $2, $4}' >"$WORK/$d-movierec-$c-$r"
		done
	done

	# The target: LIBMF's best test error over its configurations and
	# iteration counts (run 1's curve; the curves are deterministic up
	# to thread scheduling).
	target=
	echo
	echo "| system | configuration | best test RMSE | at iteration | median s to it |"
	echo "| --- | --- | ---: | ---: | ---: |"
	for side in libmf movierec; do
		if [ $side = libmf ]; then cfgs=("${libmf_cfgs[@]}"); else cfgs=("${mr_cfgs[@]}"); fi
		for c in "${!cfgs[@]}"; do
			read -r rmse it _ < <(best "$WORK/$d-$side-$c-1")
			secs=()
			for r in $(seq 1 "$runs"); do
				s=$(awk -v i="$it" '$1 == i {print $2}' "$WORK/$d-$side-$c-$r")
				secs+=("${s:-nan}")
			done
			echo "| $side | \`${cfgs[$c]}\` | $rmse | $it | $(median "${secs[@]}") |"
			if [ $side = libmf ] && { [ -z "$target" ] || awk -v a="$rmse" -v b="$target" 'BEGIN {exit !(a < b)}'; }; then
				target=$rmse
				target_secs=$(median "${secs[@]}")
			fi
		done
	done
	echo
	echo "Load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "Time to reach LIBMF's best test RMSE ($target; LIBMF: $target_secs s):"
	for c in "${!mr_cfgs[@]}"; do
		secs=()
		for r in $(seq 1 "$runs"); do
			secs+=("$(first_reach "$WORK/$d-movierec-$c-$r" "$target")")
		done
		if printf '%s\n' "${secs[@]}" | grep -q -- '^-$'; then
			echo "- movierec \`${mr_cfgs[$c]}\`: not reached (runs: ${secs[*]})"
		else
			echo "- movierec \`${mr_cfgs[$c]}\`: $(median "${secs[@]}") s (runs: ${secs[*]})"
		fi
	done
done
