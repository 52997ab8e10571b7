#!/usr/bin/env bash
# Builds the native micro-benchmarks in Release (build/native-bench, no tests, no sanitizers) and
# runs them. Extra arguments go to the benchmark, e.g. the number of requests per run:
#
#   scripts/bench-native.sh [requests-per-run]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build/native-bench"
jobs="$(nproc 2>/dev/null || echo 2)"

cmake -S "$root/native" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DINFERGATE_BUILD_TESTS=OFF -DINFERGATE_SANITIZE=
cmake --build "$build" --parallel "$jobs" --target scheduler_bench

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
"$build/bench/scheduler_bench" "$@"
