#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer: builds the Fuzz/ targets with -sanitize=fuzzer,address in
# .build-fuzz (FILTERJIT_FUZZ=1 adds them to the package; the normal build never sees them) and runs
# each for SECONDS (default 60). Seeds: Fuzz/seeds/<target> plus the repository's own examples and
# fixtures; the growing corpus lives in .build-fuzz/corpus/<target>. A crash is saved under
# .build-fuzz/crashes/<target>/ and fails the script: make it a regression fixture of the normal
# tests with the fix (a kernel into Tests/Fixtures/hostile, a file into Tests/Fixtures/ndimage/npy_bad).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (FUZZ_SEED=N: libFuzzer's -seed; FUZZ_RUNS=N: stop
# after N inputs. CI sets both, so that its bounded run tries the same inputs on every machine and
# passes or fails alike on every try.)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzFrontEnd FuzzDifferential FuzzReaders FuzzOptions)

# lld: gold fails on the fuzzer-instrumented objects (internal error in format_file_lineno).
build_flags=(--scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
for target in "${targets[@]}"; do
    # (lld warns once per ASan symbol it cannot export; those lines are noise.)
    FILTERJIT_FUZZ=1 swift build "${build_flags[@]}" --product "$target" 2>&1 | { grep -v 'Cannot export local symbol' || true; } | tail -20
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: building $target failed" >&2; exit 1; }
done

# The seed directories of each target (read-only inputs; libFuzzer writes only to the first directory).
seeds_for() {
    case "$1" in
        FuzzFrontEnd|FuzzDifferential)
            echo "Fuzz/seeds/FuzzFrontEnd examples Tests/Fixtures/programs Tests/Fixtures/errors Tests/Fixtures/hostile" ;;
        FuzzReaders) echo "Fuzz/seeds/FuzzReaders Tests/Fixtures/ndimage/npy Tests/Fixtures/ndimage/npy_bad Tests/Fixtures/ndimage/png Tests/Fixtures/ndimage/tiff" ;;
        FuzzOptions) echo "Fuzz/seeds/FuzzOptions" ;;
    esac
}

export ASAN_OPTIONS="detect_leaks=0"   # see scripts/sanitizers.sh for why leaks are not checked
export FILTERJIT_CACHE_DIR="$PWD/.build-fuzz/kernel-cache"
failed=0
for target in "${targets[@]}"; do
    corpus=".build-fuzz/corpus/$target" crashes=".build-fuzz/crashes/$target"
    mkdir -p "$corpus" "$crashes"
    log=".build-fuzz/$target.log"
    extra=()
    [ -z "${FUZZ_SEED:-}" ] || extra+=(-seed="$FUZZ_SEED")
    [ -z "${FUZZ_RUNS:-}" ] || extra+=(-runs="$FUZZ_RUNS")
    case "$target" in
        FuzzFrontEnd|FuzzDifferential) extra+=(-dict=Fuzz/filter.dict) ;;
        # The TIFF reader may allocate up to its documented 16 GiB decode limit (TIFFFile.maximumBytes) for a
        # header's claimed size (calloc: lazily, freed when the strips turn out missing); libFuzzer's
        # default malloc limit (the RSS limit, 4 GiB) would call that an out-of-memory crash.
        FuzzReaders) extra+=(-malloc_limit_mb=17000) ;;
    esac
    # shellcheck disable=SC2046
    if ".build-fuzz/debug/$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "${extra[@]}" "$corpus" $(seeds_for "$target") \
        > "$log" 2>&1; then
        status=ok
    else
        status=CRASH; failed=1
    fi
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    coverage=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    echo "$target: $status, ${runs:-?} executions (limit ${seconds} s${FUZZ_RUNS:+ or $FUZZ_RUNS inputs}), coverage ${coverage:-?} edges, corpus $(ls "$corpus" | wc -l) files"
    if [ "$status" = CRASH ]; then
        grep -E 'ERROR|Fatal error|SUMMARY|Test unit written' "$log" | head -10
        ls "$crashes"
    fi
done
exit "$failed"
