// Exact float window sums in NumPy's pairwise order with explicit AVX-512 (or AVX2) vectors, chosen at run time
// by the CPU (docs/window-strategies.md, "sum, float data"; NDImage/PairwiseSums.swift).
#ifndef FILTERJIT_PAIRWISE_SUMS_H
#define FILTERJIT_PAIRWISE_SUMS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// `out[x] = 0.0 + pairwise(taps[0][x], ..., taps[n - 1][x])` for x in 0..<count, where pairwise is
/// NumPy's `pairwise_sum` (numpy/_core/src/umath/loops_utils.h.src): below 8 elements a sequential
/// sum from 0.0; up to 128, eight accumulators (element i into accumulator i mod 8) combined as
/// ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the rest added in order; beyond 128, two
/// halves (the first a multiple of 8) summed recursively and added. Each vector lane is one pixel's
/// exact sequence of IEEE additions, so the bits equal a scalar evaluation for any data (NaN, inf,
/// -0.0 included). AVX-512 where `filterjit_rank_kernels_avx512` holds (16 pixels per step), else AVX2
/// where `filterjit_pairwise_avx2` does (8 pixels per step, pairwise_sums_avx2.c). Returns 1 when it ran,
/// 0 when this CPU (or build) has neither: the caller then runs its portable Swift program. n >= 1.
int filterjit_pairwise_sum_f64(const double *const *taps, ptrdiff_t n, ptrdiff_t count, double *out);

/// Whether `filterjit_pairwise_sum_f64` runs vector code in this process (AVX-512 or AVX2).
int filterjit_pairwise_sum_vectorised(void);

/// Whether the AVX2 pairwise kernel may run (the CPU has AVX2 and FILTERJIT_NO_AVX2 is unset, empty or
/// starts with '0'); it is taken where the AVX-512 kernels are off.
int filterjit_pairwise_avx2(void);
/// Turns the AVX2 pairwise kernel on (1, where the CPU has AVX2) or off (0) for the whole process, or back
/// to what FILTERJIT_NO_AVX2 says (-1). For tests: the results are the same bits either way.
void filterjit_pairwise_set_avx2(int enabled);
/// The AVX2 kernel itself (no checks: only where `filterjit_pairwise_avx2` holds).
void filterjit_pairwise_sum_f64_avx2(const double *const *taps, ptrdiff_t n, ptrdiff_t count, double *out);
/// The AVX2 square-box kernel behind `filterjit_pairwise_box_store` where the AVX-512 kernels are off:
/// returns 0 (computing nothing) for k outside 3 ... 15 or where `filterjit_pairwise_avx2` is 0.
int filterjit_pairwise_box_avx2(const double *const *rows, ptrdiff_t k, ptrdiff_t count, double *out, float *out32,
                                double divisor);
/// The AVX2 row kernels behind `filterjit_pairwise_rows_store_*` where the AVX-512 kernels are off (rows of
/// floats when f32 is 1, out then a float row): 0 (computing nothing) where they do not apply.
int filterjit_pairwise_rows_avx2(const void *const *rows, int f32, ptrdiff_t r, ptrdiff_t length, ptrdiff_t count,
                                 double divisor, void *out);

/// The same sums for a square box of k x k taps, k in 3 ... 15: tap r * k + c of pixel x is
/// rows[r][x + c] (so rows[r][0 ..< count + k - 1] are read), by AVX-512 or else AVX2. Returns 0
/// (computing nothing) for other k or where `filterjit_pairwise_sum_f64` would return 0.
int filterjit_pairwise_box_sum_f64(const double *const *rows, ptrdiff_t k, ptrdiff_t count, double *out);

/// The box sums of `filterjit_pairwise_box_sum_f64` stored straight into an output row: divided by
/// `divisor` unless it is 0 (an IEEE division, `np.mean`'s sum / taps), then into out[x] (doubles) or,
/// when out32 is not NULL, into out32[x] rounded to the nearest float. Returns 0 as that function does.
int filterjit_pairwise_box_store(const double *const *rows, ptrdiff_t k, ptrdiff_t count, double divisor,
                                 double *out, float *out32);

/// Whether `filterjit_pairwise_rows_store_f64` (f32 = 0) or `_f32` (f32 = 1) take boxes of `rows` footprint
/// rows of `length` columns on this CPU: (9, 3) and (25, 5), the 3-D cubes of 3 and 5, with AVX-512 or AVX2;
/// (49, 7), the cube of 7, float64 rows with AVX2 where the AVX-512 kernels are off.
int filterjit_pairwise_rows_supported(ptrdiff_t rows, ptrdiff_t length, int f32);

/// How many calls of the row kernels below computed rows in this process (for tests: proof that a path
/// reached them).
uint64_t filterjit_pairwise_rows_runs(void);

/// The pairwise sums of boxes of r rows of `length` columns, tap i * length + c of pixel x being
/// rows[i][x + c] (rows[i][0 ..< count + length - 1] are read), in NumPy's order as
/// `filterjit_pairwise_sum_f64` over those taps; divided by `divisor` unless it is 0 (an IEEE
/// division) and stored into out[0 ..< count] (f32: rows of floats widened to doubles, the result
/// rounded to float). Returns 0 (computing nothing) where `filterjit_pairwise_rows_supported` is 0.
int filterjit_pairwise_rows_store_f64(const double *const *rows, ptrdiff_t r, ptrdiff_t length, ptrdiff_t count,
                                      double divisor, double *out);
int filterjit_pairwise_rows_store_f32(const float *const *rows, ptrdiff_t r, ptrdiff_t length, ptrdiff_t count,
                                      double divisor, float *out);

#ifdef __cplusplus
}
#endif

#endif
