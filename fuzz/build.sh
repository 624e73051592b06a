#!/bin/bash -eu
# OSS-Fuzz style build of every ipclab fuzz target, without Bazel (OSS-Fuzz's build.sh contract):
#
#   CC CXX CFLAGS CXXFLAGS LIB_FUZZING_ENGINE OUT [WORK] [JOBS]  fuzz/build.sh [TARGET...]
#
# For each target (fuzz/<target>.options lists them; arguments restrict the set) it writes to $OUT:
#   <target>                   the fuzzer, linked with $LIB_FUZZING_ENGINE
#   <target>_seed_corpus.zip   fuzz/corpus/<target>/ plus its crash reproducers fuzz/regressions/<target>/
#   <target>.options           fuzz/<target>.options, its dict line naming <target>.dict
#   <target>.dict              the dictionary its options name, when it has one
# Sources are compiled directly (include path: the repository root) in $WORK, each once, with
# make -j$JOBS; a target's sources are its fuzzer plus, transitively, the foo.cc beside every
# repository header foo.h it includes (the Google layout every ipclab library follows) and the
# header-less siblings that implement part of foo.h. System libraries: {fmt}, librt, pthreads;
# nlohmann-json and CLI11 are header-only.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
: "${CC:?}" "${CXX:?}" "${LIB_FUZZING_ENGINE:?}" "${OUT:?}"
CFLAGS=${CFLAGS:-} CXXFLAGS=${CXXFLAGS:-}
WORK=${WORK:-$(mktemp -d)}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$OUT" "$WORK/obj"

if (( $# )); then
  targets=("$@")
else
  targets=()
  for o in fuzz/*_fuzzer.options; do targets+=("$(basename "$o" .options)"); done
fi

# The .cc files that implement header $1: foo.cc beside foo.h, and the sibling .cc files without a
# header of their own that include it (stress/targets_ring.cc implements part of stress/targets.h);
# never a test, benchmark, fuzzer or a file with main().
implementations_of() {
  local h=$1 cc
  [[ -f ${h%.h}.cc ]] && echo "${h%.h}.cc"
  for cc in "$(dirname "$h")"/*.cc; do
    [[ -f $cc && $cc != "${h%.h}.cc" && ! -f ${cc%.cc}.h ]] || continue
    [[ $cc =~ _(test|fuzzer|bench|benchmark|main)\.cc$ ]] && continue
    grep -qE "^[[:space:]]*#[[:space:]]*include[[:space:]]+\"$h\"" "$cc" || continue
    grep -qE '^(int main\(|BENCHMARK_MAIN)' "$cc" || echo "$cc"
  done
}

# The sources a target links: its fuzzer and the implementations of each repository header it
# reaches, transitively.
sources_of() {
  local -A seen=()
  local queue=("fuzz/$1.cc") out=("fuzz/$1.cc") f inc cc
  while (( ${#queue[@]} )); do
    f=${queue[-1]}; unset 'queue[-1]'
    for inc in $(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$f"); do
      [[ -f $inc && -z ${seen[$inc]:-} ]] || continue
      seen[$inc]=1; queue+=("$inc")
      [[ $inc == *.h ]] || continue
      for cc in $(implementations_of "$inc"); do
        [[ -z ${seen[$cc]:-} ]] || continue
        seen[$cc]=1; queue+=("$cc"); out+=("$cc")
      done
    done
  done
  printf '%s\n' "${out[@]}"
}
obj_of() { echo "$WORK/obj/${1//\//__}.o"; }

# One Makefile: every object once, every fuzzer linked from its objects.
mk=$WORK/Makefile
{
  echo "CXX := $CXX"
  echo "CXXFLAGS := $CXXFLAGS -std=c++23 -I$root -DIPCLAB_FUZZ=1"
  echo "LDFLAGS := $CXXFLAGS $LIB_FUZZING_ENGINE"
  echo "LIBS := -lfmt -lrt -lpthread"
  echo ".PHONY: all"
  printf 'all:'; for t in "${targets[@]}"; do printf ' %s' "$OUT/$t"; done; echo
} >"$mk"
declare -A rule=()
for t in "${targets[@]}"; do
  [[ -f fuzz/$t.cc && -f fuzz/$t.options ]] || { echo "build.sh: no fuzz target '$t'" >&2; exit 1; }
  mapfile -t srcs < <(sources_of "$t")
  objs=()
  for s in "${srcs[@]}"; do
    o=$(obj_of "$s"); objs+=("$o")
    if [[ -z ${rule[$s]:-} ]]; then
      rule[$s]=1
      printf '%s: %s\n\t$(CXX) $(CXXFLAGS) -c %s -o %s\n' "$o" "$root/$s" "$root/$s" "$o" >>"$mk"
    fi
  done
  printf '%s: %s\n\t$(CXX) $(LDFLAGS) %s -o %s $(LIBS)\n' "$OUT/$t" "${objs[*]}" "${objs[*]}" "$OUT/$t" >>"$mk"
done
make -s -f "$mk" -j"$JOBS"

for t in "${targets[@]}"; do
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd fuzz && zip -q -r -j "$OUT/${t}_seed_corpus.zip" "corpus/$t" $( [[ -d regressions/$t ]] && echo "regressions/$t"))
  dict=$(sed -nE 's/^[[:space:]]*dict[[:space:]]*=[[:space:]]*(.*[^[:space:]])[[:space:]]*$/\1/p' "fuzz/$t.options")
  if [[ -n $dict ]]; then
    cp "fuzz/$dict" "$OUT/$t.dict"
    sed -E "s/^[[:space:]]*dict[[:space:]]*=.*/dict = $t.dict/" "fuzz/$t.options" >"$OUT/$t.options"
  else
    cp "fuzz/$t.options" "$OUT/$t.options"
  fi
done
echo "build.sh: built ${#targets[@]} fuzz targets into $OUT"
