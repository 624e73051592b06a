#!/usr/bin/env bash
# Runs one fuzz target inside `bazel test`: args are BINARY CORPUS_DIR REGRESSION_DIR OPTIONS [DICT].
# With IPCLAB_FUZZ_SECONDS > 0 (set by --config=fuzz) it fuzzes from a scratch copy of the corpus
# for that long first, with the flags of the target's .options file and its dictionary; then (in
# every config) it replays the corpus and every crash reproducer.
set -euo pipefail
bin=$1 corpus=$2 regressions=$3 options=$4
dict=${5:-}
inputs=("$corpus")
[[ -d $regressions ]] && inputs+=("$regressions")

# The [libfuzzer] section of an OSS-Fuzz .options file as flags (the dictionary comes as DICT).
mapfile -t flags < <(awk '/^\[/ { s = ($0 ~ /^\[libfuzzer\]/); next }
  s && /=/ && !/^[ \t]*[#;]/ { k = $0; sub(/=.*/, "", k); v = substr($0, index($0, "=") + 1);
    gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v); if (k != "dict") print "-" k "=" v }' "$options")
[[ -n $dict ]] && flags+=("-dict=$dict")

seconds=${IPCLAB_FUZZ_SECONDS:-0}
if (( seconds > 0 )); then
  work=${TEST_TMPDIR:-$(mktemp -d)}/corpus
  artifacts=${TEST_UNDECLARED_OUTPUTS_DIR:-${TEST_TMPDIR:-/tmp}}/
  mkdir -p "$work"
  echo "fuzzing $(basename "$bin") for ${seconds}s with ${flags[*]} (crash reproducers go to $artifacts)"
  "$bin" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts" "${flags[@]}" \
    "$work" "${inputs[@]}"
  # Given files (not directories), libFuzzer replays each once instead of fuzzing.
  mapfile -t files < <(find -L "${inputs[@]}" -type f | sort)
  exec "$bin" "${files[@]}"
fi
exec "$bin" "${inputs[@]}"
