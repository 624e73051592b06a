#!/usr/bin/env bash
# The tables of docs/lab.md: schedules-to-bug for random and pct, schedules/s on the correct twins,
# and the naive baseline (same runs uncontrolled, with and without random sleeps). N=runs per cell.
# PROGRAMS="name[:faults] ..." picks the programs (default: the thread programs; the process ones
# are e.g. "process_abba_deadlock robust_owner_dies:kill eintr_as_eof:signal"); faults (kill,
# signal) are passed as --faults to the controlled runs -- the naive runs have no faults to inject.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# BIN=<bazel output bin dir> with SKIP_BUILD=1 uses binaries already built (e.g. bazel-out/k8-fastbuild/bin).
BIN=${BIN:-bazel-bin}
[[ -n ${SKIP_BUILD:-} ]] || bazel build -q //tools:ipclab //lab/testdata:all 2>/dev/null
B=$BIN/tools/ipclab
N=${N:-100}
PROGRAMS=${PROGRAMS:-abba_deadlock cycle3_deadlock lost_update atomicity_violation order_violation lost_wakeup if_not_while semaphore_misuse rwlock_starvation rwlock_upgrade barrier_mismatch spinlock_atomicity clock_mismatch race_counter broken_spinlock double_checked_init}
echo "| program | random: schedules to bug | pct: schedules to bug | twin schedules/s (random, $N runs) | naive: failing runs / $N | naive+jitter: failing runs / $N |"
echo "|---|---|---|---|---|---|"
for entry in $PROGRAMS; do
  p=${entry%%:*}; faults=(); [[ $entry == *:* ]] && faults=(--faults "${entry#*:}")
  # Programs built by tools/ipclab-cc (a genrule) are <name>.bin.
  bin=$BIN/lab/testdata/$p; [[ -x $bin ]] || bin=$bin.bin
  twin=$BIN/lab/testdata/${p}_fixed; [[ -x $twin ]] || twin=$twin.bin
  r=$($B explore --json "${faults[@]}" --budget $N --strategy random -- $bin)
  c=$($B explore --json "${faults[@]}" --budget $N --strategy pct -- $bin)
  t=$($B explore --json "${faults[@]}" --budget $N --strategy random -- $twin)
  n=$($B explore --json --naive --timeout 1 --budget $N -- $bin)
  j=$($B explore --json --naive --jitter --timeout 1 --budget $N -- $bin)
  f() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(sys.argv[2].format(**d) if d.get('kind') else sys.argv[3].format(**d))" "$1" "$2" "$3"; }
  echo "| $entry | $(f "$r" '{found_in_run} ({kind})' 'not found') | $(f "$c" '{found_in_run} ({kind})' 'not found') | $(f "$t" 'BUG {kind}' '{schedules_per_second:.1f}') | $(f "$n" '{bugs} (first: {kind})' '0') | $(f "$j" '{bugs} (first: {kind})' '0') |"
done
