#!/usr/bin/env bash
# Overhead of memory-access points: the same program (access_overhead.c) built by plain clang-19
# and by tools/ipclab-cc, explored in the same run (schedules/s, N schedules each, random), and
# run uncontrolled (no preload: the runtime's callbacks are a null test) R times each.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bazel build -q //tools:ipclab 2>/dev/null
B=bazel-bin/tools/ipclab N=${N:-50} R=${R:-200}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
clang-19 -O0 -g -pthread lab/interpose/access_overhead.c -o "$tmp/plain"
tools/ipclab-cc -O0 -g -pthread lab/interpose/access_overhead.c -o "$tmp/wrapped"
rate() { $B explore --json --budget $N -- "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(f"{d[\"schedules_per_second\"]:.1f} schedules/s (access points: {d[\"access_points\"]})")'; }
echo "explore, plain clang-19:     $(rate "$tmp/plain")"
echo "explore, tools/ipclab-cc:    $(rate "$tmp/wrapped")"
for b in plain wrapped; do
  start=$(date +%s.%N); for ((i = 0; i < R; ++i)); do "$tmp/$b" >/dev/null; done; end=$(date +%s.%N)
  echo "uncontrolled, $b: $(python3 -c "print(f'{($end-$start)/$R*1000:.2f} ms per run')")"
done
