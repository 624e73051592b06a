#!/usr/bin/env bash
# Runs one fuzz target inside `bazel test`: args are BINARY CORPUS_DIR REGRESSION_DIR [-dict=FILE].
# With IPCLAB_FUZZ_SECONDS > 0 (set by --config=fuzz) it fuzzes from a scratch copy of the corpus
# for that long first; then (in every config) it replays the corpus and every crash reproducer.
set -euo pipefail
bin=$1 corpus=$2 regressions=$3
shift 3
dict_args=("$@")
inputs=("$corpus")
[[ -d $regressions ]] && inputs+=("$regressions")

seconds=${IPCLAB_FUZZ_SECONDS:-0}
if (( seconds > 0 )); then
  work=${TEST_TMPDIR:-$(mktemp -d)}/corpus
  artifacts=${TEST_UNDECLARED_OUTPUTS_DIR:-${TEST_TMPDIR:-/tmp}}/
  mkdir -p "$work"
  echo "fuzzing $(basename "$bin") for ${seconds}s (crash reproducers go to $artifacts)"
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts" "${dict_args[@]}" "$work" "${inputs[@]}"
  # Given files (not directories), libFuzzer replays each once instead of fuzzing.
  mapfile -t files < <(find -L "${inputs[@]}" -type f | sort)
  exec "$bin" "${files[@]}"
fi
exec "$bin" "${inputs[@]}"
