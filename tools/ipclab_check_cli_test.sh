#!/usr/bin/env bash
# `ipclab check` end to end: the real command compiles each file with clang++-19 against the
# grading kit and grades it. For three exercises: the starter fails with its kind of bug (and its
# replay command shows it again), the planted sleep-based fix fails, the reference solution passes.
# Then the usage errors: unknown exercise, unreadable file, a file that does not compile (the
# compiler's errors are shown), a file that does not define the entry point.
set -uo pipefail
ipclab=$1
fail() { echo "ipclab_check_cli_test: $*"; exit 1; }
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/check_cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# exercise, the kinds its starter may be reported as (a regex)
cases=("lost_wakeup lost-wakeup|deadlock"
       "order_violation assertion-failure"
       "dining_philosophers deadlock")

# The nine gradings run two at a time (each compiles; the machine is shared).
run() {  # exercise variant
  "$ipclab" check "$1" "docs/exercises/$1/$2.cc" >"$tmp/$1.$2.out" 2>&1
  echo $? >"$tmp/$1.$2.rc"
}
jobs_running=0
for c in "${cases[@]}"; do
  read -r ex kinds <<<"$c"
  for variant in starter sleep_fix solution; do
    run "$ex" "$variant" &
    jobs_running=$((jobs_running + 1))
    if (( jobs_running == 2 )); then wait -n; jobs_running=$((jobs_running - 1)); fi
  done
done
wait

for c in "${cases[@]}"; do
  read -r ex kinds <<<"$c"
  for variant in starter sleep_fix; do
    out=$(cat "$tmp/$ex.$variant.out"); rc=$(cat "$tmp/$ex.$variant.rc")
    (( rc == 1 )) || fail "$ex/$variant exited $rc, want 1 (a bug): $out"
    grep -Eq "^FAIL $ex docs/exercises/$ex/$variant.cc: ($kinds)\$" <<<"$out" ||
      fail "$ex/$variant: no FAIL line with kind $kinds: $out"
    grep -q "^budget: pct (depth 3)" <<<"$out" || fail "$ex/$variant: budget not printed: $out"
    grep -q "Replay: tools/ipclab check $ex docs/exercises/$ex/$variant.cc --replay lab1\." \
      <<<"$out" || fail "$ex/$variant: no replay command: $out"
  done
  out=$(cat "$tmp/$ex.solution.out"); rc=$(cat "$tmp/$ex.solution.rc")
  (( rc == 0 )) || fail "$ex/solution exited $rc, want 0: $out"
  grep -q "^PASS $ex docs/exercises/$ex/solution.cc: no schedule broke the invariant" <<<"$out" ||
    fail "$ex/solution: no PASS line: $out"
  grep -q "^  pct, depth 3 .* 400 schedules" <<<"$out" || fail "$ex/solution: pct phase missing: $out"
  grep -q "^  dfs, at most [0-9] preemption" <<<"$out" || fail "$ex/solution: dfs phase missing: $out"
done

# The starter's replay command shows the same bug again.
out=$(cat "$tmp/dining_philosophers.starter.out")
token=$(sed -n 's/^Replay token: //p' <<<"$out")
[[ -n $token ]] || fail "no replay token: $out"
# With --html: one self-contained page with the wait-for graph, the steps and the replay command.
out=$("$ipclab" check dining_philosophers docs/exercises/dining_philosophers/starter.cc \
      --replay "$token" --html "$tmp/deadlock.html" 2>&1); rc=$?
(( rc == 1 )) || fail "replay exited $rc, want 1: $out"
grep -q "^FAIL dining_philosophers .*: deadlock (replayed)" <<<"$out" || fail "replay: $out"
page=$(cat "$tmp/deadlock.html") || fail "--html wrote no page"
grep -q '<svg class="waitfor"' <<<"$page" || fail "the page has no wait-for graph"
grep -q 'class="step' <<<"$page" || fail "the page has no steps"
grep -Eq '<code class="replay"[^>]*>tools/ipclab check dining_philosophers' <<<"$page" ||
  fail "the page has no replay command"
grep -q "forks_\[Left(p)\].lock()" <<<"$page" || fail "the page does not show the student's source"
grep -q "<script" <<<"$page" && ! grep -q '<script src=' <<<"$page" ||
  fail "the page is not self-contained"

# Usage errors: exit 2, one line.
out=$("$ipclab" check no_such_exercise docs/exercises/lost_update/starter.cc 2>&1); rc=$?
(( rc == 2 )) || fail "unknown exercise exited $rc, want 2: $out"
[[ $(wc -l <<<"$out") -eq 1 ]] && grep -q "lost_update" <<<"$out" ||
  fail "unknown exercise: want one line listing the exercises: $out"
out=$("$ipclab" check lost_update "$tmp/missing.cc" 2>&1); rc=$?
(( rc == 2 )) || fail "missing file exited $rc, want 2: $out"

cat >"$tmp/broken.cc" <<'CC'
#include "problems/exercises/lost_update.h"
namespace exercises::lost_update {
std::unique_ptr<Counter> MakeCounter() { return not_declared_anywhere; }
}
CC
out=$("$ipclab" check lost_update "$tmp/broken.cc" 2>&1); rc=$?
(( rc == 2 )) || fail "a file that does not compile exited $rc, want 2: $out"
grep -q "error: use of undeclared identifier 'not_declared_anywhere'" <<<"$out" ||
  fail "the compiler's error is not shown: $out"
grep -q "does not compile" <<<"$out" || fail "no summary line: $out"

cat >"$tmp/empty.cc" <<'CC'
#include "problems/exercises/lost_update.h"
CC
out=$("$ipclab" check lost_update "$tmp/empty.cc" 2>&1); rc=$?
(( rc == 2 )) || fail "a file without the entry point exited $rc, want 2: $out"
grep -q "does not define std::unique_ptr<Counter> exercises::lost_update::MakeCounter()" <<<"$out" ||
  fail "missing entry point not named: $out"

out=$("$ipclab" check --list 2>&1) || fail "check --list failed: $out"
[[ $(grep -c "" <<<"$out") -ge 11 ]] || fail "check --list lists fewer than 10 exercises: $out"
echo "ipclab_check_cli_test: ok"
