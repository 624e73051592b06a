#!/usr/bin/env bash
# The table of docs/lab.md: schedules-to-bug for random and pct, schedules/s on the correct twins,
# and the naive baseline (same runs uncontrolled, with and without random sleeps). N=runs per cell.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bazel build -q //tools:ipclab //lab/testdata:all 2>/dev/null; B=bazel-bin/tools/ipclab
N=${N:-100}
echo "| program | random: schedules to bug | pct: schedules to bug | twin schedules/s (random, $N runs) | naive: failing runs / $N | naive+jitter: failing runs / $N |"
echo "|---|---|---|---|---|---|"
# PROGRAMS="a b" limits the table to those rows.
PROGRAMS=${PROGRAMS:-abba_deadlock cycle3_deadlock lost_update atomicity_violation order_violation lost_wakeup if_not_while semaphore_misuse rwlock_starvation rwlock_upgrade barrier_mismatch spinlock_atomicity clock_mismatch race_counter broken_spinlock double_checked_init}
for p in $PROGRAMS; do
  # Programs built by tools/ipclab-cc (a genrule) are <name>.bin.
  bin=bazel-bin/lab/testdata/$p; [[ -x $bin ]] || bin=$bin.bin
  twin=bazel-bin/lab/testdata/${p}_fixed; [[ -x $twin ]] || twin=$twin.bin
  r=$($B explore --json --budget $N --strategy random -- $bin)
  c=$($B explore --json --budget $N --strategy pct -- $bin)
  t=$($B explore --json --budget $N --strategy random -- $twin)
  n=$($B explore --json --naive --timeout 1 --budget $N -- $bin)
  j=$($B explore --json --naive --jitter --timeout 1 --budget $N -- $bin)
  f() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(sys.argv[2].format(**d) if d.get('kind') else sys.argv[3].format(**d))" "$1" "$2" "$3"; }
  echo "| $p | $(f "$r" '{found_in_run} ({kind})' 'not found') | $(f "$c" '{found_in_run} ({kind})' 'not found') | $(f "$t" 'BUG {kind}' '{schedules_per_second:.1f}') | $(f "$n" '{bugs} (first: {kind})' '0') | $(f "$j" '{bugs} (first: {kind})' '0') |"
done
