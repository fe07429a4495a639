#!/usr/bin/env bash
# Run the ctest suite of one build dir against throwaway redis/postgres.
#   tests/run-suite.sh BUILD_DIR [extra ctest args]
set -euo pipefail

(($# >= 1)) || { echo "usage: $0 BUILD_DIR [ctest args...]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f $1/CTestTestfile.cmake ]] || { echo "run-suite: $1 is not a configured build dir" >&2; exit 2; }
build=$(cd "$1" && pwd)
shift

svc=$(mktemp -d "${TMPDIR:-/tmp}/mtown-services.XXXXXX")
# shellcheck disable=SC2317  # invoked via trap
cleanup() { "$root/tests/services.sh" stop "$svc" || true; rm -rf "$svc"; }
trap cleanup EXIT
trap 'exit 130' INT   # make Ctrl-C go through the EXIT trap
trap 'exit 143' TERM

echo "==> mtown tests: $build"
"$root/tests/services.sh" start "$svc"
# shellcheck source=/dev/null
. "$svc/env"

node_dir=$root/tests/node
if [[ -f $node_dir/package-lock.json ]] &&
   [[ ! -d $node_dir/node_modules || $node_dir/package-lock.json -nt $node_dir/node_modules ]]; then
    (cd "$node_dir" && npm ci --no-audit --no-fund)
    touch "$node_dir/node_modules"
fi

# Sanitizer builds: make UB fatal and symbolized unless the caller chose otherwise.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}

status=0
ctest --test-dir "$build" --output-on-failure -j2 "$@" || status=$?
if ((status == 0)); then echo "==> PASSED: $build"; else echo "==> FAILED ($status): $build" >&2; fi
exit "$status"
