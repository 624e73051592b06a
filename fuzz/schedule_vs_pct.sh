#!/usr/bin/env bash
# Schedule fuzzing vs the lab's strategies on the planted bugs, in one run:
#   fuzz/schedule_vs_pct.sh [--runs N] [--seed S] [--time SECONDS] [--file-reproducers]
# Builds, under --config=fuzz (so every binary has the same ASan+UBSan+coverage instrumentation),
# the schedule fuzz targets //fuzz/planted:schedule_<bug>_fuzzer and //fuzz/planted:schedule_baseline.
# For each planted bug (order_violation: the depth-2 order violation of //lab:pct_test; abba and
# lost_wakeup of //lab:explore_test) it reports schedules (executions) to the first finding, median
# over N seeds (S, S+1, ...), and exec/s, for
#   - libFuzzer driving the fuzz strategy in each encoding (choices, preemptions; -seed=S, empty
#     starting corpus, interleaving coverage fed back through __libfuzzer_extra_counters), at most
#     SECONDS per run;
#   - PCT depth 2 and 3, uniform random (lab::Explore, seeds S...);
#   - "blind": random byte strings (length 0..64) through the same fuzz strategy without libFuzzer
#     (no feedback), in each encoding.
# A run that does not find the bug counts as more than its budget. --file-reproducers copies the
# first libFuzzer crash per bug to fuzz/planted/regressions/schedule_<bug> and, with the program
# byte in front, to fuzz/corpus/lab_schedule_fuzzer/<bug>_failing_schedule (the correct twin must
# survive it). Exit 0 when every schedule fuzzing run found its bug, 1 otherwise, 2 on usage errors.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
runs=5 seed=1 seconds=60 file=0
while (( $# )); do
  case $1 in
    --runs) runs=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    --time) seconds=${2:?}; shift 2 ;;
    --file-reproducers) file=1; shift ;;
    *) echo "usage: $0 [--runs N] [--seed S] [--time SECONDS] [--file-reproducers]" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ && $seconds =~ ^[0-9]+$ ]] && (( runs > 0 )) ||
  { echo "$0: --runs, --seed and --time take whole numbers (runs > 0)" >&2; exit 2; }
bugs=(order_violation abba lost_wakeup)
targets=(//fuzz/planted:schedule_baseline)
for b in "${bugs[@]}"; do targets+=("//fuzz/planted:schedule_${b}_fuzzer"); done
bazel build --config=fuzz --noshow_progress --ui_event_filters=-info "${targets[@]}" >&2 || exit 2
bin=$(bazel info --config=fuzz bazel-bin 2>/dev/null)/fuzz/planted
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Prints "<median executions> <found>/<runs> <median exec/s>" for libFuzzer on bug $1.
# $2 = the fuzz strategy's encoding (choices | preemptions).
fuzz_runs() {
  local b=$1 enc=$2 s i execs=() rates=() found=0
  for (( i = 0; i < runs; i++ )); do
    s=$((seed + i))
    rm -rf "$work/$b-$s" "$work/$b-$s".crash-*
    mkdir -p "$work/$b-$s"
    set +e
    SCHEDFUZZ_ENCODING=$enc "$bin/schedule_${b}_fuzzer" -seed="$s" -max_total_time="$seconds" -timeout=10 \
      -artifact_prefix="$work/$b-$s." "$work/$b-$s" >"$work/$b-$s.log" 2>&1
    set -e
    line=$(grep -o "schedfuzz: $b: .* after [0-9]* schedules ([0-9.]* s, [0-9]* exec/s)" "$work/$b-$s.log" | head -1 || true)
    if [[ -n $line ]]; then
      n=$(sed -E 's/.* after ([0-9]+) schedules.*/\1/' <<<"$line")
      r=$(sed -E 's/.*, ([0-9]+) exec\/s\)/\1/' <<<"$line")
      found=$((found + 1))
      echo "  libfuzzer-$enc bug=$b seed=$s found=1 executions=$n execs_per_sec=$r" >&2
      crash=$(ls "$work/$b-$s".crash-* 2>/dev/null | head -1 || true)
      if (( file )) && [[ $enc == choices && -n $crash && ! -e $work/$b.filed ]]; then
        cp "$crash" "fuzz/planted/regressions/schedule_$b"
        idx=0; for x in "${bugs[@]}"; do [[ $x == "$b" ]] && break; idx=$((idx + 1)); done
        { printf "\\x$(printf %02x "$idx")"; cat "$crash"; } >"fuzz/corpus/lab_schedule_fuzzer/${b}_failing_schedule"
        touch "$work/$b.filed"
        echo "  filed $(stat -c %s "$crash")-byte reproducer as fuzz/planted/regressions/schedule_$b" >&2
      fi
    else
      n=$(( 1 << 62 )); r=$(awk '/exec\/s:/ {v=$NF} END {print v+0}' "$work/$b-$s.log")
      echo "  libfuzzer-$enc bug=$b seed=$s found=0 (not within ${seconds}s)" >&2
    fi
    execs+=("$n"); rates+=("$r")
  done
  local m; m=$(printf '%s\n' "${execs[@]}" | median)
  (( m == 1 << 62 )) && m=">budget"
  echo "$m $found/$runs $(printf '%s\n' "${rates[@]}" | median)"
}
# Same for a schedule_baseline strategy: args after $1 go to the binary.
baseline_runs() {
  local b=$1; shift
  local out; out=$("$bin/schedule_baseline" --bug "$b" --seed "$seed" --runs "$runs" --budget 1000000 "$@" || true)
  sed 's/^/  /' <<<"$out" | grep '^  run' >&2 || true
  awk '/^median/ {for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]} print v["executions"], v["found"] "/" v["runs"], v["execs_per_sec"]}' <<<"$out"
}

# Throughput on the correct twin (no finding to stop at): $1 = bug; prints "<libFuzzer> <pct2> <blind>" exec/s.
throughput() {
  local b=$1 lf pct blind
  mkdir -p "$work/tp-$b"
  SCHEDFUZZ_FIXED=1 SCHEDFUZZ_ENCODING=choices "$bin/schedule_${b}_fuzzer" -seed="$seed" -runs="$tp_runs" -print_final_stats=1 \
    "$work/tp-$b" >"$work/tp-$b.log" 2>&1 || true
  lf=$(awk '/stat::average_exec_per_sec/ {print $2}' "$work/tp-$b.log")
  pct=$("$bin/schedule_baseline" --fixed --bug "$b" --strategy pct --depth 2 --runs 1 --seed "$seed" --budget "$tp_runs" |
        sed -nE 's/^median .*execs_per_sec=([0-9]+).*/\1/p')
  blind=$("$bin/schedule_baseline" --fixed --bug "$b" --strategy blind --runs 1 --seed "$seed" --budget "$tp_runs" |
        sed -nE 's/^median .*execs_per_sec=([0-9]+).*/\1/p')
  echo "${lf:-?} ${pct:-?} ${blind:-?}"
}
tp_runs=20000

status=0
rows=() tp_rows=()
for b in "${bugs[@]}"; do
  echo "== $b" >&2
  read -r fe ff fr < <(fuzz_runs "$b" choices)
  read -r fpe fpf fpr < <(fuzz_runs "$b" preemptions)
  [[ $ff == "$runs/$runs" ]] || status=1
  read -r p2e p2f p2r < <(baseline_runs "$b" --strategy pct --depth 2)
  read -r p3e p3f p3r < <(baseline_runs "$b" --strategy pct --depth 3)
  read -r re rf rr < <(baseline_runs "$b" --strategy random)
  read -r be bf br < <(baseline_runs "$b" --strategy blind --encoding choices)
  read -r bpe bpf bpr < <(baseline_runs "$b" --strategy blind --encoding preemptions)
  rows+=("| $b | $fe ($ff) | $fpe ($fpf) | $p2e ($p2f) | $p3e ($p3f) | $re ($rf) | $be ($bf) | $bpe ($bpf) |")
  read -r tl tp tb < <(throughput "$b")
  tp_rows+=("| ${b} (correct twin) | $tl | $tp | $tb |")
done
echo
echo "Schedules (executions) to the first finding, median over $runs seeds from $seed (found/runs); --config=fuzz builds"
echo
echo "| bug | libFuzzer, choices | libFuzzer, preemptions | PCT d=2 | PCT d=3 | random | blind, choices | blind, preemptions |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Throughput: exec/s over $tp_runs executions of each correct twin, same build"
echo
echo "| program | libFuzzer + fuzz strategy | PCT d=2 | blind bytes |"
echo "|---|---|---|---|"
printf '%s\n' "${tp_rows[@]}"
exit "$status"
