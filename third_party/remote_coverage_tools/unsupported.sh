#!/bin/sh
echo "remote_coverage_tools: bazel coverage is not available offline; use tools/coverage (llvm-cov)" >&2
exit 1
