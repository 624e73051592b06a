#!/usr/bin/env bash
# Passes when a schedule fuzz target finds its planted bug on a reproducer and the replay token it
# prints reproduces the finding: expect_schedule_finding.sh BINARY INPUT NAME KIND.
# Works with the regression driver (default, tsan, asan) and with libFuzzer (--config=fuzz).
set -uo pipefail
bin=$1 input=$2 name=$3 kind=$4
tmp=${TEST_TMPDIR:-$(mktemp -d)}
out=$("$bin" -artifact_prefix="$tmp/" "$input" 2>&1); status=$?
fail() { echo "FAIL: $*"; echo "--- output ---"; echo "$out" | tail -40; exit 1; }
(( status != 0 )) || fail "$bin ran $input without a finding (exit 0)"
grep -q "schedfuzz: $name: $kind after" <<<"$out" || fail "no '$kind' finding line for $name"
token=$(grep -o 'LAB_REPLAY=lab1\.fuzz\.[A-Za-z0-9_.-]*' <<<"$out" | head -1 | cut -d= -f2)
[[ -n $token ]] || fail "the report has no replay token"
out=$(LAB_REPLAY=$token "$bin" 2>&1); status=$?
(( status == 1 )) || fail "LAB_REPLAY=$token exited $status, expected 1 (the finding again)"
grep -q "$kind" <<<"$out" || fail "the replay of $token did not report $kind"
echo "ok: $(basename "$input") finds the $kind in $name and its token $token replays it"
