#!/usr/bin/env bash
# The `ipclab` command's interface contract: exit codes and one-line usage errors.
set -uo pipefail
ipclab=$1
fail() { echo "ipclab_cli_test: $*"; exit 1; }

# (With no arguments ipclab runs the catalogue; problems/ipclab_cli_test.sh covers that.)
out=$("$ipclab" doctor 2>&1); rc=$?
(( rc == 0 )) || fail "doctor exited $rc: $out"
grep -q "posix-shm" <<<"$out" || fail "doctor printed no checks: $out"

out=$("$ipclab" doctor --json 2>&1) || fail "doctor --json failed: $out"
grep -q '"check": "posix-mqueue"' <<<"$out" || fail "doctor --json lacks posix-mqueue: $out"

out=$("$ipclab" frobnicate 2>&1); rc=$?
(( rc == 2 )) || fail "unknown command exited $rc, want 2"
[[ $(wc -l <<<"$out") -eq 1 ]] || fail "unknown command printed more than one line: $out"
grep -q "frobnicate" <<<"$out" || fail "error does not name the bad word: $out"

out=$("$ipclab" doctor --bogus 2>&1); rc=$?
(( rc == 2 )) || fail "bad option exited $rc, want 2"

out=$("$ipclab" leaks --json 2>&1); rc=$?
(( rc == 0 || rc == 1 )) || fail "leaks --json exited $rc: $out"
grep -q '"orphans"' <<<"$out" || fail "leaks --json lacks the orphan count: $out"

"$ipclab" --help | grep -q "doctor" || fail "--help does not list doctor"
echo "ipclab_cli_test: ok"
