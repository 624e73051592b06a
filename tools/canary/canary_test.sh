#!/usr/bin/env bash
# Proves the sanitizer of the current config is live: EXPECTED (none|tsan|asan) is what the
# config says; the program must have been compiled with it, and the sanitizer must report the
# planted bug. A config that silently does nothing fails here.
set -uo pipefail
expected=$1 racy=$2 overflow=$3
fail() { echo "canary: $*"; exit 1; }

check_built_with() {
  local out=$1 prog=$2
  grep -q "^built-with: $expected\$" <<<"$out" ||
    fail "$prog was built with '$(sed -n 's/^built-with: //p' <<<"$out")', the config wants '$expected'"
}

out=$(TSAN_OPTIONS=halt_on_error=1 "$racy" 2>&1); rc=$?
check_built_with "$out" racy
if [[ $expected == tsan ]]; then
  grep -q "WARNING: ThreadSanitizer: data race" <<<"$out" || fail "TSan did not report the planted race (rc=$rc): $out"
  (( rc != 0 )) || fail "TSan reported the race but the program exited 0"
  echo "canary: TSan reported the planted data race"
fi

out=$(ASAN_OPTIONS=detect_leaks=1 "$overflow" 2>&1); rc=$?
check_built_with "$out" heap_overflow
if [[ $expected == asan ]]; then
  grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" <<<"$out" || fail "ASan did not report the planted overflow (rc=$rc): $out"
  (( rc != 0 )) || fail "ASan reported the overflow but the program exited 0"
  echo "canary: ASan reported the planted heap-buffer-overflow"
fi
echo "canary: config '$expected' is live"
