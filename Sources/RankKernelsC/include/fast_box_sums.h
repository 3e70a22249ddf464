// Fast-math float box sums with explicit AVX-512 vectors (or AVX2 ones, fast_box_sums_avx2.c), chosen at run time by the CPU
// (docs/window-strategies.md, "Fast-math float sums"; NDImage/FastBoxSums.swift, `runFastSumDirect`).
#ifndef FILTERJIT_FAST_BOX_SUMS_H
#define FILTERJIT_FAST_BOX_SUMS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The fast-math box sums (or means) of output rows y0 ..< y1, stored: the same additions in the
/// same order as `runFastBoxSum` + `fastBoxSumStore` in FastBoxSums.swift, so the same bits.
///
/// - `f32`: 1 for float32 input rows, 0 for float64; `out32`: 1 for float32 output rows, 0 for float64
///   (float64 input with float32 output: the 3-D passes' plane sums; float32 input with float64 output,
///   a compiled tail's sums, only where the AVX2 passes run, not the AVX-512 ones).
/// - `rows[p - rowBase]`: the input row (n contiguous elements; the row of cvals where the mode
///   gives cval) of virtual row p, for p in rowBase ..< rowBase + rowCount; rows y0 + top ...
///   y1 + k - 2 + top are read.
/// - `k`: the box's rows; output row y = B + i (B = (y / k) k) is suffix(i) + prefix(i) over input
///   rows B + i + top ... B + k - 1 + top and B + k + top ... B + k + i - 1 + top.
/// - `lastMap[j]` for j in 0 ..< extendedLength: the column of extended position j, or -1 for a
///   column of cvals (`cvalColumn`); columns sit at extended positions centre ..< centre + n.
/// - horizontal: windows of `length` extended positions from `start`: `a` = length and `b` = 0
///   (length <= 8: one sequential fold), the factored plan (a, b, r) of `FastBoxSumHorizontal`, or
///   `a` = length and `b` = -1 (r ignored): the van Herk plan (blocks of `length` window starts from the
///   first, each window a suffix of its block plus a prefix of the next; fast_box_sums_van_herk.h).
/// - `out`: row y at out + y * outRowStride (elements of the output type),
///   contiguous; out[x] = (sum + 0.0) * factor, or (sum + 0.0) / divisor when `divisor` != 0 (an IEEE
///   division: the exact box sums' mean, NDImage/ExactBoxSums.swift), rounded to float for `out32`.
/// - `stream` != 0: the rows' aligned vectors (64 bytes with AVX-512, 32 with AVX2) are written with non-temporal stores (for
///   outputs bigger than the last-level cache; the caller decides).
///
/// Returns 1 when it ran; 0 (writing nothing) when this CPU or build has neither AVX-512 nor AVX2 (or the
/// AVX2 passes are switched off), the plan is not one it takes, the rows are not all given, the types are
/// float32 input with float64 output on an AVX-512 CPU, or scratch could not be allocated.
int filterjit_fast_box_sum(int f32, int out32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount,
                           ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t n, ptrdiff_t k, ptrdiff_t top,
                           const ptrdiff_t *lastMap, ptrdiff_t extendedLength, ptrdiff_t centre,
                           ptrdiff_t start, ptrdiff_t length, ptrdiff_t a, ptrdiff_t b, ptrdiff_t r,
                           double cvalColumn, double factor, double divisor, void *out, ptrdiff_t outRowStride, int stream);

/// How many calls of `filterjit_fast_box_sum` in this process ran the fused passes (for tests).
long filterjit_fast_box_sum_runs(void);

/// Whether the AVX2 passes run where the AVX-512 ones do not (fast_box_sums_avx2.c: the CPU has AVX2
/// and FILTERJIT_NO_AVX2 is unset or 0, or tests switched them on).
int filterjit_fast_box_sum_avx2(void);
/// Turns the AVX2 passes on (1, where the CPU has AVX2) or off (0), or back to the environment (-1); for tests.
void filterjit_fast_box_sum_set_avx2(int enabled);
/// How many calls of `filterjit_fast_box_sum` ran the AVX2 passes (for tests).
long filterjit_fast_box_sum_avx2_runs(void);

#ifdef __cplusplus
}
#endif

#endif
