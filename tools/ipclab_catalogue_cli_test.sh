#!/usr/bin/env bash
# The catalogue commands of `ipclab` (catalogue, list, run, replay): output, exit codes 0/1/2,
# one-line usage errors, JSON that parses, a replay command that works when pasted.
set -uo pipefail
ipclab=$1
fail() { echo "ipclab_catalogue_cli_test: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
json_ok() { python3 -c 'import json,sys; json.load(sys.stdin)'; }

# No arguments: the whole catalogue, every case as expected. Under a sanitizer the lab runs some
# 50 times slower, so there only two problems go through the same path.
if [[ -n "${TSAN_OPTIONS:-}${ASAN_OPTIONS:-}" ]]; then
  out=$("$ipclab" catalogue barrier dining_philosophers 2>"$tmp/err"); rc=$?
else
  out=$("$ipclab" 2>"$tmp/err"); rc=$?
fi
(( rc == 0 )) || fail "no-argument run exited $rc: $out $(cat "$tmp/err")"
grep -q "^case .*expected .*found .*schedules .*time" <<<"$out" || fail "no table header: $out"
grep -q "dining_philosophers/naive .*deadlock .*deadlock" <<<"$out" || fail "no naive row: $out"
grep -q "every case behaved as expected" <<<"$out" || fail "no verdict line: $out"
# (Sanitizer runtimes may note their own caveats there, "==PID==WARNING: ...": not ours.)
! grep -v '^==[0-9]*==' "$tmp/err" | grep -q . ||
  fail "progress written although stderr is not a terminal: $(cat "$tmp/err")"

# list
out=$("$ipclab" list 2>&1) || fail "list failed: $out"
grep -q "producer_consumer/no_mutex .*data-race" <<<"$out" || fail "list lacks no_mutex: $out"
"$ipclab" list --json | json_ok || fail "list --json does not parse"

# run: a bug is a finding (exit 1) with a report and a replay command that works when pasted.
out=$("$ipclab" run dining_philosophers/naive 2>&1); rc=$?
(( rc == 1 )) || fail "run of a buggy case exited $rc, want 1: $out"
grep -q "deadlock" <<<"$out" || fail "no deadlock in the report: $out"
grep -q "dining_philosophers.cc:[0-9]" <<<"$out" || fail "the report names no line: $out"
cmd=$(grep -o "tools/ipclab replay dining_philosophers/naive lab1\.[^ ]*" <<<"$out" | head -1)
[[ -n "$cmd" ]] || fail "no replay command: $out"
again=$("$ipclab" ${cmd#tools/ipclab } 2>&1); rc=$?
(( rc == 1 )) || fail "replay exited $rc, want 1: $again"
grep -q "deadlock" <<<"$again" || fail "replay did not reproduce the deadlock: $again"

out=$("$ipclab" run producer_consumer/no_mutex --json --explain 2>/dev/null); rc=$?
(( rc == 1 )) || fail "run --json exited $rc"
json_ok <<<"$out" || fail "run --json does not parse: $out"
grep -q '"found": "data-race"' <<<"$out" || fail "run --json lacks the verdict: $out"

"$ipclab" run barrier/one_turnstile --trace "$tmp/trace.json" >/dev/null; rc=$?
(( rc == 1 )) || fail "run --trace exited $rc"
json_ok <"$tmp/trace.json" || fail "the trace does not parse"
grep -q traceEvents "$tmp/trace.json" || fail "the trace has no traceEvents"

# --html FILE: one self-contained page with the report (lab/report/html.h); --html DIR on the
# catalogue: an index and one page per case, linked.
"$ipclab" run dining_philosophers/naive --html "$tmp/dp.html" >/dev/null; rc=$?
(( rc == 1 )) || fail "run --html exited $rc"
grep -q '<svg class="waitfor"' "$tmp/dp.html" || fail "the deadlock page has no wait-for drawing"
grep -q '<code class="replay"' "$tmp/dp.html" || fail "the page has no replay command"
"$ipclab" catalogue dining_philosophers --html "$tmp/site" >/dev/null 2>&1; rc=$?
(( rc == 0 )) || fail "catalogue --html exited $rc"
for c in $("$ipclab" list dining_philosophers | awk 'NR > 1 {print $1}'); do
  page=${c//\//.}.html
  [[ -s "$tmp/site/$page" ]] || fail "no page $page for $c"
  grep -q "href=\"$page\"" "$tmp/site/index.html" || fail "index.html does not link $page"
done

out=$("$ipclab" run readers_writers/fair --iterations 5 --strategy random --seed 3 2>&1); rc=$?
(( rc == 0 )) || fail "run of a correct case exited $rc: $out"
grep -q "clean after 5 schedules" <<<"$out" || fail "clean run summary: $out"

# catalogue with a prefix; a budget too small to find a bug makes it exit 1 (MISSED).
out=$("$ipclab" catalogue barrier 2>&1); rc=$?
(( rc == 0 )) || fail "catalogue barrier exited $rc: $out"
[[ $(grep -c "^barrier/" <<<"$out") -eq 2 ]] || fail "catalogue barrier ran other cases: $out"
out=$("$ipclab" catalogue producer_consumer/no_mutex lock_file/check_then_create --strategy dfs --depth 0 --iterations 1 2>&1); rc=$?
(( rc == 1 )) || fail "a missed bug did not make catalogue exit 1 (rc $rc): $out"
grep -q "MISSED" <<<"$out" || fail "a missed bug is not marked: $out"
"$ipclab" catalogue echo --json | json_ok || fail "catalogue --json does not parse"

# Usage errors: exit 2, one line, saying what is wrong and what is valid.
one_line_2() {
  local what=$1; shift
  out=$("$ipclab" "$@" 2>&1); rc=$?
  (( rc == 2 )) || fail "$what exited $rc, want 2: $out"
  [[ $(wc -l <<<"$out") -eq 1 ]] || fail "$what printed more than one line: $out"
}
one_line_2 "unknown case" run dining_philosopher/naive
grep -q "did you mean dining_philosophers/naive" <<<"$out" || fail "no suggestion: $out"
one_line_2 "a problem without variant" run dining_philosophers
grep -q "dining_philosophers/naive" <<<"$out" || fail "variants not listed: $out"
one_line_2 "bad token" replay dining_philosophers/naive lab1.pct.zz.AA.00000000
grep -q "token" <<<"$out" || fail "bad token error does not say token: $out"
one_line_2 "token without case" replay lab1.pct.1.AA.00000000
one_line_2 "bad strategy" run barrier/one_turnstile --strategy sideways
one_line_2 "bad iterations" run barrier/one_turnstile --iterations 0
one_line_2 "unknown prefix" catalogue nonsense
one_line_2 "unknown option" run barrier/one_turnstile --bogus

"$ipclab" --help | grep -q "EXIT STATUS" || fail "--help has no EXIT STATUS"
"$ipclab" run --help | grep -q "EXAMPLES" || fail "run --help has no EXAMPLES"
echo "ipclab_catalogue_cli_test: ok"
