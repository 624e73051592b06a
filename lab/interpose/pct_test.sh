#!/usr/bin/env bash
# pct_test.sh <ipclab> <pct_tree>: PCT's state is global to the process tree (lab/testdata/pct_tree.c).
# 1. Two processes that only yield: with depth 2 no schedule switches between them more than
#    twice (priorities and the change point are the tree's, not each process's); a random
#    schedule does at once (the check can fail).
# 2. A depth-2 bug across the two processes: PCT d=1 never finds it; PCT d=2 finds it in at least
#    the fraction 1/(n*k) of its schedules that PCT guarantees (n = 2 processes, k = the longest
#    schedule's choice points), over the fixed seeds of --seed 1.
set -uo pipefail
ipclab=$1 tree=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
log=${TEST_TMPDIR:-/tmp}/pct-schedules-$$.txt
trap 'rm -f "$log"' EXIT

out=$("$ipclab" explore --strategy pct --pct-depth 2 --budget 60 --seed 1 -- "$tree" alternations)
rc=$?
echo "$out" | tail -1
[[ $rc == 0 ]] || fail "pct d=2 switched between the processes more than twice: $out"
out=$("$ipclab" explore --strategy random --budget 100 --seed 1 -- "$tree" alternations)
rc=$?
echo "$out" | tail -1
[[ $rc == 1 ]] && grep -q '^assertion-failure: .*more than two switches' <<<"$out" ||
  fail "a random schedule should switch more than twice (exit $rc): $out"

out=$("$ipclab" explore --strategy pct --pct-depth 1 --budget 60 --seed 1 -- "$tree" depth2)
rc=$?
echo "$out" | tail -1
[[ $rc == 0 ]] || fail "pct d=1 found a depth-2 bug: $out"

runs=200
out=$("$ipclab" explore --strategy pct --pct-depth 2 --budget "$runs" --seed 1 --keep-going --json \
  --schedule-log "$log" -- "$tree" depth2)
rc=$?
[[ $rc == 1 ]] || fail "pct d=2 did not find the depth-2 bug in $runs schedules (exit $rc)"
python3 - "$runs" "$log" "$out" <<'PY' || fail "pct d=2 found the bug less often than PCT guarantees"
import json, sys
runs, log = int(sys.argv[1]), sys.argv[2]
j = json.loads(sys.argv[3])
assert j["kind"] == "assertion-failure", j["kind"]
k = max(len(line.split()) for line in open(log))
n = 2
bound = 1 / (n * k)
rate = j["bugs"] / j["runs"]
print(f"pct d=2: {j['bugs']} of {j['runs']} schedules found the depth-2 bug ({rate:.3f}); "
      f"PCT's guarantee 1/(n*k) = 1/({n}*{k}) = {bound:.3f}")
sys.exit(0 if j["runs"] == runs and rate >= bound else 1)
PY
echo PASS
