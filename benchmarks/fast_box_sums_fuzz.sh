#!/usr/bin/env bash
# Builds and runs benchmarks/fast_box_sums_fuzz.c: the fused fast-math box sums of this checkout against
# those of commit ef60494 (before the three-row pass and the float64-rows-into-float32 instance), same bits
# over random calls, then timings. Needs an AVX-512 CPU for "512" (AVX2 for "avx2"); ASAN=1 builds with
# AddressSanitizer. Usage: benchmarks/fast_box_sums_fuzz.sh [ROUNDS] [512|avx2] [SEED]   (TK=5: 5-row timings)
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d -t fj-fbs-fuzz-XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ref"
for f in fast_box_sums.c fast_box_sums_avx2.c fast_box_sums_avx2.h fast_box_sums_driver.h fast_box_sums_scalar.h; do
    git show "ef60494:Sources/RankKernelsC/$f" > "$work/ref/$f"
done
git show ef60494:Sources/RankKernelsC/include/fast_box_sums.h > "$work/ref/fast_box_sums.h"
src="$PWD/Sources/RankKernelsC"
include=(-I"$src" -I"$src/include")
if [ "${ASAN:-0}" = 1 ]; then flags=(-O1 -g -fsanitize=address); else flags=(-O2); fi
cc="${CC:-clang}"
# The reference, its entry points renamed (the quoted includes find its own headers first).
"$cc" "${flags[@]}" "${include[@]}" -c "$work/ref/fast_box_sums_avx2.c" -o "$work/base.o" \
    -Dfj_fbs_avx2_sums=base_sums -Dfilterjit_fast_box_sum_avx2=base_a -Dfilterjit_fast_box_sum_set_avx2=base_b
printf '#include "%s"\nint base512_sums(int f32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount, ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t n, ptrdiff_t k, ptrdiff_t top, const ptrdiff_t *lastMap, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start, ptrdiff_t length, ptrdiff_t a, ptrdiff_t b, ptrdiff_t r, double cvalColumn, double factor, double divisor, void *out, ptrdiff_t outRowStride, int stream) { return fj_fbs_sums(f32, rows, rowBase, rowCount, y0, y1, n, k, top, lastMap, extendedLength, centre, start, length, a, b, r, cvalColumn, factor, divisor, out, outRowStride, stream); }\n' \
    "$work/ref/fast_box_sums.c" > "$work/base512.c"
"$cc" "${flags[@]}" "${include[@]}" -c "$work/base512.c" -o "$work/base512.o" -Dfilterjit_fast_box_sum=base_pub \
    -Dfilterjit_fast_box_sum_runs=base_r1 -Dfilterjit_fast_box_sum_avx2_runs=base_r2 -Dfj_fbs_avx2_sums=base_sums \
    -Dfilterjit_fast_box_sum_avx2=base_a
# This checkout's.
"$cc" "${flags[@]}" "${include[@]}" -c "$src/fast_box_sums_avx2.c" -o "$work/new.o"
printf '#include "%s"\nint new512_sums(int f32, int out32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount, ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t n, ptrdiff_t k, ptrdiff_t top, const ptrdiff_t *lastMap, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start, ptrdiff_t length, ptrdiff_t a, ptrdiff_t b, ptrdiff_t r, double cvalColumn, double factor, double divisor, void *out, ptrdiff_t outRowStride, int stream) { return fj_fbs_sums(f32, out32, rows, rowBase, rowCount, y0, y1, n, k, top, lastMap, extendedLength, centre, start, length, a, b, r, cvalColumn, factor, divisor, out, outRowStride, stream); }\nint filterjit_rank_kernels_avx512(void) { return 1; }\n' \
    "$src/fast_box_sums.c" > "$work/new512.c"
"$cc" "${flags[@]}" "${include[@]}" -c "$work/new512.c" -o "$work/new512.o" -Dfilterjit_fast_box_sum=new_pub \
    -Dfilterjit_fast_box_sum_runs=new_r1 -Dfilterjit_fast_box_sum_avx2_runs=new_r2
"$cc" "${flags[@]}" "${include[@]}" benchmarks/fast_box_sums_fuzz.c "$work/base.o" "$work/base512.o" "$work/new.o" \
    "$work/new512.o" -lm -lpthread -o "$work/fuzz" 2>&1 | { grep -v 'Cannot export local symbol' || true; }
"$work/fuzz" "$@"
