#!/usr/bin/env bash
# Builds and runs the C++ unit tests of native/core (GoogleTest, run by ctest).
#
#   scripts/test-native.sh                               plain build  -> build/native-tests
#   scripts/test-native.sh --sanitize address,undefined  ASan + UBSan -> build/native-tests-address-undefined
#   scripts/test-native.sh --sanitize thread             TSan         -> build/native-tests-thread
#
# Warnings are errors. Exits non-zero if the build or any test fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sanitize=""

usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --sanitize) [[ $# -ge 2 ]] || { echo "--sanitize needs a value" >&2; exit 2; }; sanitize="$2"; shift 2 ;;
    --sanitize=*) sanitize="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

case "$sanitize" in
  ""|address|undefined|address,undefined|undefined,address|thread) ;;
  *) echo "unsupported --sanitize '$sanitize' (use address,undefined or thread)" >&2; exit 2 ;;
esac

build="$root/build/native-tests${sanitize:+-${sanitize//,/-}}"
jobs="$(nproc 2>/dev/null || echo 2)"

cmake -S "$root/native" -B "$build" -G Ninja -DINFERGATE_SANITIZE="$sanitize"
cmake --build "$build" --parallel "$jobs"

# Sanitizer reports are fatal and name the line.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

ctest --test-dir "$build" --output-on-failure --parallel "$jobs"
