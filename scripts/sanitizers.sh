#!/usr/bin/env bash
# Sanitizer runs for CI (called by .ci/run after the normal tests), each in its own build directory so
# the normal build is untouched:
#   asan  AddressSanitizer debug build: the tests that touch memory (NDArray, the .npy/PNG/TIFF readers,
#         driver, window strategies, C API, fused kernels, the differential JIT test with a smaller count,
#         the hostile-kernel corpus, the CLI run/batch/limit/interrupt tests through the ASan executable).
#   tsan  ThreadSanitizer debug build: the concurrency tests (cache, 8-thread compiles, threaded fused
#         runs, cancellation from another thread).
# Swift's -sanitize=undefined is not supported on Linux; Swift's own debug checks (overflow, bounds,
# unwrapping) trap instead, and FilterJIT has no C sources of its own for UBSan to instrument.
# Any sanitizer report, from the test process or from a filterjit child it spawned, fails the run.
# Usage: scripts/sanitizers.sh [asan|tsan|all]
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
reports="$(mktemp -d /tmp/filterjit-sanitizers.XXXXXX)"
trap 'rm -rf "$reports"' EXIT

# The differential JIT test compiles 2,000 random programs by default; 200 keep it meaningful and fast.
export FILTERJIT_FUZZ_PROGRAMS="${FILTERJIT_FUZZ_PROGRAMS:-200}"
# The window strategies' seeded fuzz tests run 15% of their rounds (Tests/FilterJITTests/TestRounds.swift):
# under ASan their literal oracle (per-pixel sorts through the -Onone runtime) takes most of the run, and
# every kernel path is still reached (fixed cases follow the random rounds); the normal test run keeps
# every round. (40% until the seventeenth session: the ASan tests took 231 s of a 25.5-minute clean-clone
# .ci/run, 172 s at 25%. 25% until the eighteenth: on a Zen 3 VM the clean-clone .ci/run took 1787 s of
# its 30 minutes, ASan 468 s of it, WindowStrategyTests alone 243 s.)
export FILTERJIT_TEST_ROUNDS_PERCENT="${FILTERJIT_TEST_ROUNDS_PERCENT:-15}"
export FILTERJIT_CACHE_DIR="$reports/kernel-cache"
# LeakSanitizer is off: Swift keeps the case tag of a multi-payload indirect enum in the spare bits of
# the box pointer, so LSan's conservative scan misses those pointers and reports live typed-IR nodes as
# leaked (ABITests' global `static let lineSum` program was "leaked" at exit). Foundation's
# Data(contentsOf:) also leaks 4 KiB per empty file read (the test harness reads empty stderr files).
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:log_path=$reports/asan"
export TSAN_OPTIONS="halt_on_error=1:log_path=$reports/tsan"

asan_tests='NDImageTests|FusedTransformTests|TransformDriverTests|WindowStrategyTests|FastMathSumTests|ExactBoxSumTests|PairwiseSumKernelTests|BatchAndTIFFTests|FilterJITCTests|FusedKernelTests|LineLanesTests|DifferentialTests|ABITests|DiskCacheTests|HostileKernelTests|RunCommandTests|HostileInputTests|NothingLostTests|LimitTests|InterruptedWriteTests'
tsan_tests='CacheTests|ConcurrencyTests|CancellationTests|FusedKernelTests/fusedEqualsCallbackOnSeededRandomCombinations|LineLanesTests/lanesGiveEveryLineTheLineKernelsBits'

# Builds with `sanitizer` into .build-<name> and runs the tests matching `filter`; fails on any report.
run() {
    local name="$1" sanitizer="$2" filter="$3" start
    start=$(date +%s)
    # ThreadSanitizer's runtime crashes on the test runner's first task (a null thread state in
    # __tsan_func_entry) when LLVM is linked statically; its build links the shared libLLVM instead.
    if [ "$name" = tsan ]; then export FILTERJIT_SHARED_LLVM=1; else unset FILTERJIT_SHARED_LLVM; fi
    echo "== $name: building (--sanitize=$sanitizer, .build-$name)"
    swift build --build-tests --scratch-path ".build-$name" --sanitize="$sanitizer"
    echo "== $name: testing ($filter)"
    local status
    # A time limit far above the run's need (under 3 minutes here): a hang fails with its stacks.
    # The test's status is the pipeline's first; errexit is off around it so that the grep's status
    # (1 when nothing matched) neither stops the script nor replaces it (`|| true` would, as it runs
    # `true` whenever the pipeline fails and PIPESTATUS is then `true`'s).
    set +e
    bash scripts/watchdog.sh 900 swift test --skip-build --scratch-path ".build-$name" --sanitize="$sanitizer" --filter "$filter" \
        2>&1 | tee "$reports/output-$name.txt" | grep -E '^(✔|✘) (Test run|Suite)|Executed .* tests|error:'
    status=${PIPESTATUS[0]}
    set -e
    local found
    found=$(find "$reports" -maxdepth 1 -name 'asan.*' -o -maxdepth 1 -name 'tsan.*' | wc -l)
    if [ "$found" -gt 0 ]; then
        echo "== $name: $found sanitizer report file(s), kept in .build-$name/sanitizer-reports:"
        rm -rf ".build-$name/sanitizer-reports" && mkdir -p ".build-$name/sanitizer-reports"
        for file in $(find "$reports" -maxdepth 1 -name 'asan.*' -o -maxdepth 1 -name 'tsan.*'); do
            cp "$file" ".build-$name/sanitizer-reports/"
            echo "--- $file"
            head -60 "$file"
        done
        exit 1
    fi
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer' "$reports/output-$name.txt"; then
        grep -E -A 30 'ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer' "$reports/output-$name.txt" | head -80
        exit 1
    fi
    if [ "$status" -eq 124 ]; then
        echo "== $name: tests hung"; sed -n '/^== watchdog/,$p' "$reports/output-$name.txt" | head -600; exit 1
    fi
    [ "$status" -eq 0 ] || { echo "== $name: tests failed (status $status)"; tail -40 "$reports/output-$name.txt"; exit 1; }
    echo "== $name: 0 sanitizer reports, $(( $(date +%s) - start )) s"
}

case "$which" in
    asan) run asan address "$asan_tests" ;;
    tsan) run tsan thread "$tsan_tests" ;;
    all) run asan address "$asan_tests"; run tsan thread "$tsan_tests" ;;
    *) echo "usage: $0 [asan|tsan|all]" >&2; exit 64 ;;
esac
