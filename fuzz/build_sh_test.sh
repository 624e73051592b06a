#!/usr/bin/env bash
# Tests fuzz/build.sh the way OSS-Fuzz runs it: CC, CXX, CFLAGS, CXXFLAGS and LIB_FUZZING_ENGINE
# set by hand (clang-19, ASan + libFuzzer as OSS-Fuzz's address build sets them), $OUT and $WORK
# temporary. Then, for every target built, checks the OSS-Fuzz files ($OUT/<target>,
# <target>_seed_corpus.zip, <target>.options with a [libfuzzer] section, <target>.dict when the
# options name one) and runs the fuzzer on its unzipped seed corpus for a few runs with its
# options and dictionary: it must exit 0 (no crash, no sanitizer report).
#
# The build compiles every source itself (no Bazel inside), so it runs against the source tree
# (tag local) in every config alike (tags no-tsan, no-asan: its own flags decide). Which targets:
# IPCLAB_BUILD_SH_TARGETS (names, or "all"); the default is four targets whose sources build in
# about a minute on two idle cores. `IPCLAB_BUILD_SH_TARGETS=all` builds all of them: 102 objects
# (ipclab_cli_fuzzer alone links 84 sources, the whole CLI), about 8 CPU-minutes, so tens of
# minutes of wall time on the loaded shared machine (docs/fuzzing.md).
set -euo pipefail
script=$(readlink -f "${BASH_SOURCE[0]}")
build_sh=$(readlink -f "$(dirname "$script")/build.sh")
[[ -x $build_sh ]] || build_sh=$(readlink -f "${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-ipclab}/fuzz/build.sh")
root=$(cd "$(dirname "$build_sh")/.." && pwd)
tmp=$(mktemp -d "${TEST_TMPDIR:-/tmp}/build_sh.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

export CC=clang-19 CXX=clang++-19
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
export OUT=$tmp/out WORK=$tmp/work JOBS=${JOBS:-2}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1

want=${IPCLAB_BUILD_SH_TARGETS:-lab_token_fuzzer shm_header_fuzzer wire_decode_fuzzer stream_framing_fuzzer}
[[ $want == all ]] && want=
start=$SECONDS
# shellcheck disable=SC2086
"$build_sh" $want
echo "build.sh took $((SECONDS - start))s"

failures=0
built=0
for t in $(cd "$root/fuzz" && ls *_fuzzer.options | sed 's/\.options$//'); do
  [[ -n $want && " $want " != *" $t "* ]] && continue
  built=$((built + 1))
  bad() { echo "FAIL $t: $*"; failures=$((failures + 1)); }
  [[ -x $OUT/$t ]] || { bad "no fuzzer $OUT/$t"; continue; }
  [[ -s $OUT/${t}_seed_corpus.zip ]] || { bad "no seed corpus zip"; continue; }
  grep -q '^\[libfuzzer\]' "$OUT/$t.options" || bad "options without a [libfuzzer] section"
  args=()
  if grep -q '^dict = ' "$OUT/$t.options"; then
    grep -q "^dict = $t.dict$" "$OUT/$t.options" || bad "options do not name $t.dict"
    [[ -s $OUT/$t.dict ]] || bad "options name a dictionary that is not in \$OUT"
    args+=("-dict=$OUT/$t.dict")
  fi
  while IFS= read -r kv; do args+=("-$kv"); done < <(sed -nE 's/^(max_len|timeout|rss_limit_mb)[[:space:]]*=[[:space:]]*([0-9]+).*/\1=\2/p' "$OUT/$t.options")
  corpus=$tmp/corpus_$t
  mkdir -p "$corpus" && unzip -q -o "$OUT/${t}_seed_corpus.zip" -d "$corpus"
  seeds=$(ls "$corpus" | wc -l)
  want_seeds=$(ls "$root/fuzz/corpus/$t" | wc -l)
  (( seeds >= want_seeds )) || bad "seed corpus zip holds $seeds files, fuzz/corpus/$t has $want_seeds"
  if ! "$OUT/$t" -runs=200 -seed=1 "${args[@]}" "$corpus" >"$tmp/$t.log" 2>&1; then
    bad "fuzzer failed on its seed corpus:"; tail -20 "$tmp/$t.log"
  else
    echo "ok $t: $seeds seeds, $(grep -oE 'cov: [0-9]+' "$tmp/$t.log" | tail -1), options ${args[*]}"
  fi
done
(( built > 0 )) || { echo "FAIL: no target built"; exit 1; }
echo "$built targets built and run, $failures failures"
(( failures == 0 ))
