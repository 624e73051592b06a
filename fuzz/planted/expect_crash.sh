#!/usr/bin/env bash
# Passes when BINARY crashes on INPUT with an AddressSanitizer report of a read past a heap block.
set -uo pipefail
bin=$1 input=$2
out=$("$bin" "$input" 2>&1); status=$?
if (( status == 0 )); then
  echo "FAIL: $bin accepted $input without a crash (built without ASan? use --config=asan)"; exit 1
fi
grep -q "heap-buffer-overflow" <<<"$out" || { echo "FAIL: crashed, but not with a heap-buffer-overflow:"; echo "$out" | tail -20; exit 1; }
echo "ok: the reproducer still triggers the planted out-of-bounds read (exit $status)"
