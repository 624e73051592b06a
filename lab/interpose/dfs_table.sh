#!/usr/bin/env bash
# The dfs rows of docs/lab.md: for each program of lab/testdata, `ipclab explore --strategy dfs`
# without a bound and with --preemption-bound 1 (budget N each): schedules to the first bug, and
# the twin under bound 1: exhausted after how many schedules (or the budget ran out), and the
# schedules/s of that run. PROGRAMS="name[:faults] ..." as in baseline.sh; BIN/SKIP_BUILD too.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${BIN:-bazel-bin}
[[ -n ${SKIP_BUILD:-} ]] || bazel build -q //tools:ipclab //lab/testdata:all 2>/dev/null
B=$BIN/tools/ipclab
N=${N:-300}
PROGRAMS=${PROGRAMS:-abba_deadlock cycle3_deadlock lost_update atomicity_violation order_violation lost_wakeup if_not_while semaphore_misuse process_abba_deadlock lockfile_no_excl robust_owner_dies:kill eintr_as_eof:signal shm_leak_on_crash:kill}
echo "| program | dfs: schedules to bug | dfs, bound 1: schedules to bug | twin, dfs bound 1 ($N at most) | schedules/s (twin) |"
echo "|---|---|---|---|---|"
show() {  # show <json> : "<found_in_run> (<kind>)" or what the budget did
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
if d.get("kind"): print("{} ({})".format(d["found_in_run"], d["kind"]))
elif d.get("exhausted"): print("clean, all {} explored".format(d["runs"]))
else: print("clean, {} (budget)".format(d["runs"]))
if len(sys.argv) > 2: print("{:.1f}".format(d["schedules_per_second"]))' "$@"
}
for entry in $PROGRAMS; do
  p=${entry%%:*}; faults=(); [[ $entry == *:* ]] && faults=(--faults "${entry#*:}")
  bin=$BIN/lab/testdata/$p; [[ -x $bin ]] || bin=$bin.bin
  twin=$BIN/lab/testdata/${p}_fixed; [[ -x $twin ]] || twin=$twin.bin
  u=$($B explore --json "${faults[@]}" --budget "$N" --strategy dfs -- "$bin")
  b=$($B explore --json "${faults[@]}" --budget "$N" --strategy dfs --preemption-bound 1 -- "$bin")
  t=$($B explore --json "${faults[@]}" --budget "$N" --strategy dfs --preemption-bound 1 -- "$twin")
  { read -r twin_cell; read -r rate; } < <(show "$t" rate)
  echo "| $entry | $(show "$u") | $(show "$b") | $twin_cell | $rate |"
done
