#!/usr/bin/env bash
# A fuzzing campaign: `tools/ipclab fuzz TARGET|all [--time SECONDS] [--jobs N] [--seed N]`.
#   - builds TARGET's libFuzzer binary under --config=fuzz;
#   - fuzzes from its checked-in corpus with -fork=N for --time seconds (progress on stderr);
#   - merges what was new back into fuzz/corpus/TARGET (-merge=1);
#   - minimizes every crash (-minimize_crash=1) and files it under fuzz/regressions/TARGET/, where
#     `bazel test //fuzz:TARGET` replays it from then on;
#   - prints exec/s, coverage and new corpus entries. Exit 0 no crash, 1 crashes found, 2 usage.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
usage() { echo "usage: ipclab fuzz TARGET|all [--time SECONDS] [--jobs N] [--seed N]; targets: $(targets | tr '\n' ' ')" >&2; exit 2; }
targets() { ls fuzz/corpus; }

target=${1:-}; [[ -n $target ]] || usage; shift
seconds=60 jobs=$(nproc) seed=0
while (( $# )); do
  case $1 in
    --time) seconds=${2:?}; shift 2 ;;
    --jobs) jobs=${2:?}; shift 2 ;;
    --seed) seed=${2:?}; shift 2 ;;
    *) echo "ipclab fuzz: unknown option '$1'" >&2; usage ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ && $jobs =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ ]] || { echo "ipclab fuzz: --time, --jobs and --seed take whole numbers" >&2; exit 2; }

if [[ $target == all ]]; then
  status=0
  for t in $(targets); do "$0" "$t" --time "$seconds" --jobs "$jobs" --seed "$seed" || status=$?; done
  exit "$status"
fi
[[ -d fuzz/corpus/$target ]] || { echo "ipclab fuzz: no target '$target'" >&2; usage; }

bazel build --config=fuzz --noshow_progress --ui_event_filters=-info "//fuzz:${target}_bin" >&2
bin=$(bazel info --config=fuzz bazel-bin 2>/dev/null)/fuzz/${target}_bin
out=out/fuzz/$target
rm -rf "$out/work" && mkdir -p "$out/work" "$out/crashes" "fuzz/regressions/$target"
dict=()
for d in fuzz/*.dict; do
  [[ $d == fuzz/${target%_fuzzer}.dict ]] && dict=(-dict="$d")
done

before=$(ls "fuzz/corpus/$target" | wc -l)
echo "fuzz: $target for ${seconds}s, $jobs jobs, seed $seed" >&2
set +e
"$bin" -fork="$jobs" -ignore_crashes=1 -max_total_time="$seconds" -seed="$seed" \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crashes/" \
  "${dict[@]}" "$out/work" "fuzz/corpus/$target" 2>"$out/log"
set -e
"$bin" -merge=1 "${dict[@]}" "fuzz/corpus/$target" "$out/work" >/dev/null 2>&1
after=$(ls "fuzz/corpus/$target" | wc -l)

crashes=0
for c in "$out"/crashes/*; do
  [[ -f $c ]] || continue
  crashes=$((crashes + 1))
  min=$out/crashes/min-$(basename "$c")
  "$bin" -minimize_crash=1 -runs=2000 -exact_artifact_path="$min" "$c" >/dev/null 2>&1 || true
  [[ -f $min ]] || min=$c
  cp "$min" "fuzz/regressions/$target/$(basename "$c")"
  rm -f "$c" "$min"
done

stats=$(grep -E '^#[0-9]+' "$out/log" | tail -1 || true)
echo "fuzz: $target: ${stats:-no stats (see $out/log)}"
echo "fuzz: $target: corpus $before -> $after entries; $crashes crash(es) filed under fuzz/regressions/$target/"
(( crashes == 0 ))
