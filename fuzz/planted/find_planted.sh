#!/usr/bin/env bash
# Shows that a fuzzing campaign finds the planted out-of-bounds read in the copy of the header
# validator (planted_header.h), and how long it takes.
#   fuzz/planted/find_planted.sh [--budget SECONDS] [--runs N] [--seed S] [--bin FUZZER]
# Builds the planted target under --config=fuzz, then for each of N runs (seeds S, S+1, ...) fuzzes
# from the seed corpus (the real shm_header_fuzzer seeds) with the header dictionary until the
# first crash or the budget. Checks that the crash is the heap-buffer-overflow in
# ValidateHeaderPlanted, minimizes the first reproducer into
# fuzz/planted/regressions/planted_header_oob and fuzz/regressions/shm_header_fuzzer/ (where the
# real validator must refuse it cleanly), and prints the time to find per run and the median.
# Exit 0 when every run found it within the budget, 1 otherwise, 2 on usage/build errors.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
budget=120 runs=3 seed=1 bin=
while (( $# )); do
  case $1 in
    --budget) budget=${2:?}; shift 2 ;;
    --runs) runs=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    # A libFuzzer build of planted_header_fuzzer made elsewhere (e.g. by hand with clang, as
    # fuzz/build.sh builds the real targets) instead of the --config=fuzz Bazel build.
    --bin) bin=$(readlink -f "${2:?}"); shift 2 ;;
    *) echo "usage: $0 [--budget SECONDS] [--runs N] [--seed S] [--bin FUZZER]" >&2; exit 2 ;;
  esac
done
if [[ -z $bin ]]; then
  bazel build --config=fuzz --noshow_progress --ui_event_filters=-info //fuzz/planted:planted_header_fuzzer >&2 || exit 2
  bin=$(bazel info --config=fuzz bazel-bin 2>/dev/null)/fuzz/planted/planted_header_fuzzer
fi
[[ -x $bin ]] || { echo "find_planted.sh: no fuzzer at $bin" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
times=() status=0 first=
for (( i = 0; i < runs; i++ )); do
  s=$((seed + i))
  rm -rf "$work/corpus" && mkdir -p "$work/corpus" && cp fuzz/planted/corpus/* "$work/corpus/"
  start=$(date +%s.%N)
  set +e
  "$bin" -seed="$s" -max_total_time="$budget" -dict=fuzz/shm_header.dict -print_final_stats=1 \
    -artifact_prefix="$work/run$s-" "$work/corpus" >"$work/log$s" 2>&1
  rc=$?
  set -e
  end=$(date +%s.%N)
  secs=$(echo "$end - $start" | bc)
  crash=$(ls "$work"/run$s-crash-* 2>/dev/null | head -1 || true)
  if (( rc != 0 )) && [[ -n $crash ]] && grep -q "heap-buffer-overflow" "$work/log$s" &&
     grep -q "ValidateHeaderPlanted" "$work/log$s"; then
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log$s" | tail -1)
    printf 'run seed=%d: found the planted heap-buffer-overflow in %.2fs (%s executions)\n' "$s" "$secs" "${execs:-?}"
    times+=("$secs")
    [[ -n $first ]] || first=$crash
  else
    printf 'run seed=%d: NOT found within %ss\n' "$s" "$budget"
    status=1
  fi
done
if [[ -n $first ]]; then
  mkdir -p fuzz/planted/regressions fuzz/regressions/shm_header_fuzzer
  "$bin" -minimize_crash=1 -runs=5000 -exact_artifact_path="$work/min" "$first" >/dev/null 2>&1 || true
  [[ -f $work/min ]] || cp "$first" "$work/min"
  cp "$work/min" fuzz/planted/regressions/planted_header_oob
  cp "$work/min" fuzz/regressions/shm_header_fuzzer/planted_header_oob
  echo "reproducer ($(stat -c %s "$work/min") bytes) filed as fuzz/planted/regressions/planted_header_oob and fuzz/regressions/shm_header_fuzzer/planted_header_oob"
fi
if (( ${#times[@]} )); then
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "time to find: median ${median}s over ${#times[@]} finding runs of $runs (budget ${budget}s each)"
fi
exit "$status"
