#!/usr/bin/env bash
# The table of docs/lab.md: schedules-to-bug for random and pct, schedules/s on the correct twins,
# and the naive baseline (same runs uncontrolled, with and without random sleeps). N=runs per cell.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bazel build -q //tools:ipclab //lab/testdata:all 2>/dev/null; B=bazel-bin/tools/ipclab
N=${N:-100}
echo "| program | random: schedules to bug | pct: schedules to bug | twin schedules/s (random, $N runs) | naive: failing runs / $N | naive+jitter: failing runs / $N |"
echo "|---|---|---|---|---|---|"
for p in abba_deadlock cycle3_deadlock lost_update atomicity_violation order_violation lost_wakeup if_not_while semaphore_misuse; do
  r=$($B explore --json --budget $N --strategy random -- bazel-bin/lab/testdata/$p)
  c=$($B explore --json --budget $N --strategy pct -- bazel-bin/lab/testdata/$p)
  t=$($B explore --json --budget $N --strategy random -- bazel-bin/lab/testdata/${p}_fixed)
  n=$($B explore --json --naive --timeout 1 --budget $N -- bazel-bin/lab/testdata/$p)
  j=$($B explore --json --naive --jitter --timeout 1 --budget $N -- bazel-bin/lab/testdata/$p)
  f() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(sys.argv[2].format(**d) if d.get('kind') else sys.argv[3].format(**d))" "$1" "$2" "$3"; }
  echo "| $p | $(f "$r" '{found_in_run} ({kind})' 'not found') | $(f "$c" '{found_in_run} ({kind})' 'not found') | $(f "$t" 'BUG {kind}' '{schedules_per_second:.1f}') | $(f "$n" '{bugs} (first: {kind})' '0') | $(f "$j" '{bugs} (first: {kind})' '0') |"
done
