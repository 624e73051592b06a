#!/usr/bin/env bash
# explore_test.sh <ipclab> <program> <program_fixed> <strategy> <budget> <twin budget> <kind> [<faults>] [<expect>]
# The planted bug must be found within <budget> schedules (seed 1) as <kind> (first line of the
# report and `kind` in --json), replay from its token to the same kind, and the correct twin must
# run clean for <twin budget> schedules. <faults> (e.g. "kill", "signal"; "none" = off) is passed
# as --faults to the exploration and the twin run; the replay takes the faults from the token.
# <expect>: a regex (Python syntax, may span lines; POSIX [[:space:]], [[] and []] accepted: test
# args are shell-tokenized) the report must match -- the diagnosis names the objects, threads,
# processes and lines -- checked when the kind found is the first alternative of <kind>.
set -uo pipefail
(( $# <= 9 )) || { echo "FAIL: too many arguments (a regex with spaces?)" >&2; exit 1; }
ipclab=$1 program=$2 fixed=$3 strategy=$4 budget=$5 twin_budget=$6 kind=$7 faults=${8:-none} expect=${9:-}
fault_args=()
[[ $faults != none ]] && fault_args=(--faults "$faults")
# <strategy> "dfs<N>": dfs with preemption bound N.
strategy_args=(--strategy "$strategy")
[[ $strategy =~ ^dfs([0-9]+)$ ]] && strategy_args=(--strategy dfs --preemption-bound "${BASH_REMATCH[1]}")
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$ipclab" explore "${fault_args[@]}" "${strategy_args[@]}" --budget "$budget" --seed 1 -- "$program")
rc=$?
echo "$out"
[[ $rc == 1 ]] || fail "expected exit 1 (bug found) for $program, got $rc"
first=$(head -1 <<<"$out")
# <kind> may list alternatives, "a|b" (a data race is reported by TSan before the assert fires).
found_kind=${first%%:*}
[[ "|$kind|" == *"|$found_kind|"* ]] || fail "expected kind '$kind', first line is: $first"
if [[ -n $expect && $found_kind == "${kind%%|*}" ]]; then
  python3 -c 'import re,sys; sys.exit(0 if re.search(sys.argv[1].replace("[[:space:]]", r"\s").replace("[[]", r"\[").replace("[]]", r"\]"), sys.stdin.read()) else 1)' "$expect" <<<"$out" ||
    fail "the report does not match /$expect/"
  echo "report matches: $expect"
fi
token=$(grep -o 'lab1\.[^ ]*' <<<"$out" | head -1)
[[ -n $token ]] || fail "no replay token in the report"

page=${TEST_TMPDIR:-/tmp}/explore-replay-$$.html
replayed=$("$ipclab" explore --replay "$token" --json --html "$page" -- "$program")
rc=$?
echo "$replayed"
[[ $rc == 1 ]] || fail "the token did not replay the bug (exit $rc)"
grep -q "\"kind\":\"$found_kind\"" <<<"$replayed" || fail "replay gave another kind: $replayed"
# --html: the same report as a page (lab/report/html.h): its kind, steps and the replay command.
grep -q "data-kind=\"$found_kind\"" "$page" || fail "--html page without the $found_kind report"
grep -q '<div class="step' "$page" || fail "--html page without steps"
grep -q '<code class="replay"' "$page" || fail "--html page without the replay command"
if grep -q '"p1\.t' <<<"$replayed"; then
  grep -q 'class="proc"' "$page" || fail "--html page of a process tree without its process lanes"
fi
rm -f "$page"

twin=$("$ipclab" explore "${fault_args[@]}" "${strategy_args[@]}" --budget "$twin_budget" --seed 1 -- "$fixed")
rc=$?
echo "$twin"
[[ $rc == 0 ]] || fail "the correct twin $fixed was reported (exit $rc)"

# Usage errors exit 2.
"$ipclab" explore --budget 3 -- /nonexistent/program 2>/dev/null
[[ $? == 2 ]] || fail "a program that cannot be run must exit 2"
echo PASS
