#!/usr/bin/env bash
# tools/ipclab_cc_test.sh <ipclab-cc> <runtime source>: the compiler wrapper instruments plain
# loads and stores, turns atomics into __ipclab_atomic_* callbacks, handles -c / -o / several
# sources like clang, links its runtime, and the program runs normally without the preload.
set -uo pipefail
cc=$PWD/$1
export IPCLAB_ACCESS_RT=$PWD/$2
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v clang-19 >/dev/null || { echo "clang-19 not installed: skipped"; exit 0; }
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ipclab_cc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/a.c" <<'C'
#include <stdatomic.h>
int plain;
_Atomic int flag;
int Touch(void) {
  plain = plain + 1;
  atomic_store_explicit(&flag, 1, memory_order_release);
  atomic_fetch_add(&flag, 2);
  return atomic_load_explicit(&flag, memory_order_acquire);
}
C
cat >"$tmp/main.c" <<'C'
#include <stdio.h>
int Touch(void);
int main(void) { printf("%d\n", Touch() + Touch()); return 0; }
C
(cd "$tmp" && "$cc" -O1 -c a.c) || fail "-c without -o"
[[ -f $tmp/a.o ]] || fail "-c did not write a.o"
syms=$(nm "$tmp/a.o")
for s in __sanitizer_cov_load4 __sanitizer_cov_store4 __ipclab_atomic_load __ipclab_atomic_store __ipclab_atomic_rmw; do
  grep -q " U $s\$" <<<"$syms" || fail "a.o does not call $s: $syms"
done
"$cc" -O1 "$tmp/a.o" "$tmp/main.c" -o "$tmp/prog" || fail "link of an object and a source"
[[ $("$tmp/prog") == 6 ]] || fail "the instrumented program computed $("$tmp/prog")"
nm "$tmp/prog" | grep -q __ipclab_access_points_version || fail "the runtime was not linked"
"$cc" -O0 -g "$tmp/a.c" "$tmp/main.c" -o "$tmp/prog0" || fail "two sources at -O0"
[[ $("$tmp/prog0") == 6 ]] || fail "-O0 program computed $("$tmp/prog0")"
# Under -fsanitize=thread TSan has turned the atomics into calls before the rewrite sees them.
"$cc" -O0 -fsanitize=thread -c "$tmp/a.c" -o "$tmp/a_tsan.o" || fail "-fsanitize=thread"
for s in __ipclab_atomic_load __ipclab_atomic_store __ipclab_atomic_rmw; do
  nm "$tmp/a_tsan.o" | grep -q " U $s\$" || fail "a_tsan.o does not call $s"
done
"$cc" -E "$tmp/a.c" | grep -q "int plain" || fail "-E must pass through"
echo PASS
