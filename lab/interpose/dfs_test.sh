#!/usr/bin/env bash
# dfs_test.sh <ipclab> <dfs_shape> <twin>...: `ipclab explore --strategy dfs` on programs of known
# shape and on correct twins.
# 1. dfs_shape (two threads, or two processes, of N and M steps; see lab/testdata/dfs_shape.c):
#    DFS explores exactly as many schedules as a brute-force model predicts -- C(N+M, N) without a
#    bound; with preemption bound B, the interleavings of the two step sequences with at most B
#    preemptions -- says it exhausted them, and never runs one choice sequence twice.
# 2. Each <twin> (a correct program) is explored exhaustively within preemption bound 1: clean.
set -uo pipefail
ipclab=$1 shape=$2
shift 2
fail() { echo "FAIL: $*" >&2; exit 1; }
log=${TEST_TMPDIR:-/tmp}/dfs-schedules-$$.txt
trap 'rm -f "$log"' EXIT

# The model: interleavings of main's n steps and the other's m steps (main at the first point);
# a preemption is a switch away from a thread that still has steps (the first step being the
# other's counts as one: main reached the first point and could have continued).
predict() {  # predict N M BOUND(-1 = none)
  python3 - "$@" <<'PY'
import itertools, sys
n, m, bound = map(int, sys.argv[1:])
count = 0
for pos in itertools.combinations(range(n + m), m):
    seq = ['o' if i in pos else 'm' for i in range(n + m)]
    left = {'m': n, 'o': m}
    running, preemptions = 'm', 0
    for who in seq:
        if who != running and left[running] > 0:
            preemptions += 1
        running = who
        left[who] -= 1
    count += bound < 0 or preemptions <= bound
print(count)
PY
}

# Under TSan or ASan the library lets a new thread start on its own (thread creation is then not
# a scheduling point): main has one step less. fork is a scheduling point either way.
sanitized=0
grep -qaE '__tsan_init|__asan_init' "$shape" && sanitized=1

for mode in threads processes; do
  for nm in "2 1" "4 3"; do
    read -r n m <<<"$nm"
    main_steps=$n
    [[ $mode == threads && $sanitized == 1 ]] && main_steps=$((n - 1))
    for bound in -1 0 1 2; do
      bound_args=()
      [[ $bound != -1 ]] && bound_args=(--preemption-bound "$bound")
      want=$(predict "$main_steps" "$m" "$bound")
      out=$("$ipclab" explore --strategy dfs "${bound_args[@]}" --budget 1000 --schedule-log "$log" -- "$shape" "$mode" "$n" "$m")
      rc=$?
      [[ $rc == 0 ]] || fail "$mode $n $m bound $bound: exit $rc: $out"
      if [[ $bound == -1 ]]; then
        grep -q "^explored all $want schedules (no preemption bound): no bug$" <<<"$out" ||
          fail "$mode $n $m: expected 'explored all $want schedules', got: $out"
      else
        grep -q "^explored all $want schedules within preemption bound $bound: no bug$" <<<"$out" ||
          fail "$mode $n $m bound $bound: expected 'explored all $want schedules', got: $out"
      fi
      lines=$(wc -l <"$log")
      distinct=$(sort -u "$log" | wc -l)
      [[ $lines == "$want" && $distinct == "$want" ]] ||
        fail "$mode $n $m bound $bound: $lines schedules logged, $distinct distinct, $want expected"
      grep -q 'did not follow' <<<"$out" && fail "$mode $n $m bound $bound: a run left its prefix: $out"
      echo "ok: $mode N=$n M=$m bound $bound: $want distinct schedules, exhausted"
    done
  done
done

# A budget smaller than the space: no exhaustion claimed.
out=$("$ipclab" explore --strategy dfs --budget 5 -- "$shape" threads 4 3)
grep -q "^dfs: the budget of 5 schedules ended before all schedules (no preemption bound) were explored$" <<<"$out" ||
  fail "a budget of 5 must not exhaust 35 schedules: $out"

for twin in "$@"; do
  out=$("$ipclab" explore --strategy dfs --preemption-bound 1 --budget 500 -- "$twin")
  rc=$?
  echo "$out" | tail -2
  [[ $rc == 0 ]] || fail "the correct twin $twin was reported (exit $rc)"
  grep -q "^explored all [0-9]* schedules within preemption bound 1: no bug$" <<<"$out" ||
    fail "$twin: not exhausted within 500 schedules: $out"
done

# Usage errors exit 2.
"$ipclab" explore --strategy random --preemption-bound 1 --budget 1 -- "$shape" threads 2 1 2>/dev/null
[[ $? == 2 ]] || fail "--preemption-bound without dfs must exit 2"
echo PASS
