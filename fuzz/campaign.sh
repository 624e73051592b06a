#!/usr/bin/env bash
# A fuzzing campaign: `tools/ipclab fuzz TARGET|all [--time SECONDS] [--jobs N] [--seed N]`.
#   - builds TARGET's libFuzzer binary under --config=fuzz;
#   - fuzzes from its checked-in corpus with -fork=N (N parallel jobs) for --time seconds, with the
#     flags of fuzz/TARGET.options and the dictionary it names (progress in out/fuzz/TARGET/log);
#   - merges what was new back into fuzz/corpus/TARGET (-merge=1);
#   - minimizes every crash (-minimize_crash=1) and files it under fuzz/regressions/TARGET/, where
#     `bazel test //fuzz:TARGET` replays it from then on;
#   - prints exec/s, coverage (edges, features) at start and end, the new features and edges the
#     merge added, and the corpus growth. Exit 0 no crash, 1 crashes found, 2 usage.
# `--measure` instead measures speed: one process (no fork, no merge, the checked-in corpus left
# alone: it fuzzes a copy of it) for --time seconds with the same flags and dictionary, and prints
# one table row (a header first; `all` gives every target's row): executions, exec/s, edges and
# features at start and at the end, corpus entries at start and at the end. A crash ends that
# target's row with "crash" (the input is left in out/fuzz/TARGET/crashes/, not filed).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
usage() { echo "usage: ipclab fuzz TARGET|all [--time SECONDS] [--jobs N] [--seed N] [--measure]; targets: $(targets | tr '\n' ' ')" >&2; exit 2; }
targets() { ls fuzz/corpus; }

target=${1:-}; [[ -n $target ]] || usage; shift
seconds=60 jobs=$(nproc) seed=0 measure=
while (( $# )); do
  case $1 in
    --time) seconds=${2:?}; shift 2 ;;
    --jobs) jobs=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    --measure) measure=--measure; shift ;;
    *) echo "ipclab fuzz: unknown option '$1'" >&2; usage ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ && $jobs =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ ]] || { echo "ipclab fuzz: --time, --jobs and --seed take whole numbers" >&2; exit 2; }

row_format='%-24s %6s %10s %8s %15s %15s %11s\n'
if [[ -n $measure && -z ${IPCLAB_FUZZ_ROW_ONLY:-} ]]; then
  # shellcheck disable=SC2059
  printf "$row_format" target time executions exec/s "edges" "features" corpus
fi
if [[ $target == all ]]; then
  status=0
  for t in $(targets); do
    IPCLAB_FUZZ_ROW_ONLY=1 "$0" "$t" --time "$seconds" --jobs "$jobs" --seed "$seed" $measure || status=$?
  done
  exit "$status"
fi
[[ -d fuzz/corpus/$target ]] || { echo "ipclab fuzz: no target '$target'" >&2; usage; }

bazel build --config=fuzz --noshow_progress --ui_event_filters=-info "//fuzz:${target}_bin" >&2
bin=$(bazel info --config=fuzz bazel-bin 2>/dev/null)/fuzz/${target}_bin
out=out/fuzz/$target
rm -rf "$out/work" && mkdir -p "$out/work" "$out/crashes" "fuzz/regressions/$target"
# The [libfuzzer] section of the target's OSS-Fuzz .options file as flags; its dict = names a
# dictionary under fuzz/.
options=()
dict=()
while IFS='=' read -r key value; do
  if [[ $key == dict ]]; then dict=(-dict="fuzz/$value"); else options+=("-$key=$value"); fi
done < <(awk '/^\[/ { s = ($0 ~ /^\[libfuzzer\]/); next }
  s && /=/ && !/^[ \t]*[#;]/ { k = $0; sub(/=.*/, "", k); v = substr($0, index($0, "=") + 1);
    gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v); print k "=" v }' "fuzz/$target.options")

# libFuzzer's status lines: "#N: cov: C ft: F corp: K exec/s: E ..." (fork mode) or
# "#N NEW cov: C ft: F corp: K/S ... exec/s: E" (one process).
field() { sed -nE "s|.* $1:? ([0-9]+).*|\1|p" <<<"$2"; }
before=$(ls "fuzz/corpus/$target" | wc -l)

if [[ -n $measure ]]; then
  rm -rf "$out/measure" && cp -r "fuzz/corpus/$target" "$out/measure"
  set +e
  "$bin" -max_total_time="$seconds" -seed="$seed" -print_final_stats=1 \
    -artifact_prefix="$out/crashes/" "${options[@]}" "${dict[@]}" "$out/measure" 2>"$out/measure.log"
  rc=$?
  set -e
  first=$(grep -E '^#[0-9]+[[:space:]]+INITED' "$out/measure.log" | head -1 || true)
  last=$(grep -E '^#[0-9]+' "$out/measure.log" | tail -1 || true)
  execs=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+)/\1/p' "$out/measure.log")
  execs=${execs:-$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")}
  rate=$(sed -nE 's/^stat::average_exec_per_sec: +([0-9]+)/\1/p' "$out/measure.log")
  # shellcheck disable=SC2059
  printf "$row_format" "$target" "${seconds}s" "${execs:-0}" "${rate:-$(field exec/s "$last")}" \
    "$(field cov "$first") -> $(field cov "$last")" "$(field ft "$first") -> $(field ft "$last")" \
    "$before -> $(field corp "$last")$( ((rc == 0)) || echo ' crash')"
  exit $(( rc == 0 ? 0 : 1 ))
fi

echo "fuzz: $target for ${seconds}s, $jobs jobs, seed $seed" >&2
set +e
start=$(date +%s)
"$bin" -fork="$jobs" -ignore_crashes=1 -max_total_time="$seconds" -seed="$seed" \
  -print_final_stats=1 -artifact_prefix="$out/crashes/" "${options[@]}" \
  "${dict[@]}" "$out/work" "fuzz/corpus/$target" 2>"$out/log"
set -e
elapsed=$(( $(date +%s) - start ))
# -merge=1 adds to the checked-in corpus only the inputs that bring new features.
"$bin" -merge=1 "${options[@]}" "fuzz/corpus/$target" "$out/work" >"$out/merge.log" 2>&1 || true
after=$(ls "fuzz/corpus/$target" | wc -l)

crashes=0
for c in "$out"/crashes/*; do
  [[ -f $c ]] || continue
  crashes=$((crashes + 1))
  min=$out/crashes/min-$(basename "$c")
  "$bin" -minimize_crash=1 -runs=2000 "${options[@]}" -exact_artifact_path="$min" "$c" >/dev/null 2>&1 || true
  [[ -f $min ]] || min=$c
  cp "$min" "fuzz/regressions/$target/$(basename "$c")"
  rm -f "$c" "$min"
done

first=$(grep -E '^#[0-9]+' "$out/log" | head -1 || true)
last=$(grep -E '^#[0-9]+' "$out/log" | tail -1 || true)
execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
merged=$(grep -E 'MERGE-OUTER: [0-9]+ new files' "$out/merge.log" | tail -1 | sed 's/.*MERGE-OUTER: //' || true)
echo "fuzz: $target: ${execs:-0} executions in ${elapsed}s = $(( ${execs:-0} / (elapsed > 0 ? elapsed : 1) )) exec/s (libFuzzer says $(field exec/s "$last") exec/s per job)"
echo "fuzz: $target: coverage $(field cov "$first") -> $(field cov "$last") edges, $(field ft "$first") -> $(field ft "$last") features"
echo "fuzz: $target: merged back: ${merged:-nothing new}; corpus $before -> $after entries"
echo "fuzz: $target: $crashes crash(es) filed under fuzz/regressions/$target/"
(( crashes == 0 ))
