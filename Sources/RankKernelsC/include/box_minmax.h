// AVX-512 passes of the separable box min/max (docs/window-strategies.md, "min/max, rows first"),
// chosen at run time by the CPU. Each returns -1 when this CPU (or this build) has no such kernel
// (AVX-512 F, BW and DQ, and FILTERJIT_NO_AVX512 unset): the caller then runs its portable Swift
// passes. `maximum` != 0 takes the maximum, else the minimum. Exact for totally ordered data (no NaN,
// no -0.0): min and max then pick the same element whatever the order of the operands.
#ifndef FILTERJIT_BOX_MINMAX_H
#define FILTERJIT_BOX_MINMAX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether this process runs the AVX-512 box kernels.
int filterjit_box_kernels_avx512(void);

/// Whether the short-box min/max passes take output rows in pairs (the rows they share read once). Pairs
/// measured faster where the passes are bound by their instructions (AMD Zen 4, 2048x2048 uint8 3x3 min by
/// the columns-first passes: 0.285 ms single, 0.24 paired), single rows where they are bound by the cache
/// (Intel Emerald Rapids, the fused kernel: 0.41 ms paired, 0.31 single), so the default is pairs on AMD CPUs
/// and single rows elsewhere. FILTERJIT_ROW_PAIRS=1
/// or 0 overrides it; `filterjit_box_set_row_pairs` (tests: both paths) too. Either gives the same bits.
int filterjit_box_row_pairs(void);

/// Sets what `filterjit_box_row_pairs` returns from now on (1 pairs, 0 single rows, -1 the default).
void filterjit_box_set_row_pairs(int pairs);

/// Along the row: d[x] = op(s[x], ..., s[x + length - 1]) for x in 0..<count (length >= 1), so
/// s[0 ..< count + length - 1] is read. Float types: returns 1 when that range holds NaN or -0.0
/// (d is written all the same; the caller must not use it), else 0; integer types return 0.
int filterjit_box_row_f32(const float *s, ptrdiff_t length, float *d, ptrdiff_t count, int maximum);
int filterjit_box_row_f64(const double *s, ptrdiff_t length, double *d, ptrdiff_t count, int maximum);
int filterjit_box_row_u8(const uint8_t *s, ptrdiff_t length, uint8_t *d, ptrdiff_t count, int maximum);
int filterjit_box_row_i8(const int8_t *s, ptrdiff_t length, int8_t *d, ptrdiff_t count, int maximum);
int filterjit_box_row_u16(const uint16_t *s, ptrdiff_t length, uint16_t *d, ptrdiff_t count, int maximum);
int filterjit_box_row_i16(const int16_t *s, ptrdiff_t length, int16_t *d, ptrdiff_t count, int maximum);

/// Across rows: d[x] = op(rows[0][x], ..., rows[k - 1][x]) for x in 0..<count (k >= 1). Returns 0.
int filterjit_box_rows_f32(const float *const *rows, ptrdiff_t k, float *d, ptrdiff_t count, int maximum);
int filterjit_box_rows_f64(const double *const *rows, ptrdiff_t k, double *d, ptrdiff_t count, int maximum);
int filterjit_box_rows_u8(const uint8_t *const *rows, ptrdiff_t k, uint8_t *d, ptrdiff_t count, int maximum);
int filterjit_box_rows_i8(const int8_t *const *rows, ptrdiff_t k, int8_t *d, ptrdiff_t count, int maximum);
int filterjit_box_rows_u16(const uint16_t *const *rows, ptrdiff_t k, uint16_t *d, ptrdiff_t count, int maximum);
int filterjit_box_rows_i16(const int16_t *const *rows, ptrdiff_t k, int16_t *d, ptrdiff_t count, int maximum);

/// Two output rows from k + 1 rows (k >= 1): d0[x] = op(rows[0 ..< k][x]), d1[x] = op(rows[1 ... k][x]);
/// the k - 1 rows they share are combined once. Returns 0.
int filterjit_box_pair_f32(const float *const *rows, ptrdiff_t k, float *d0, float *d1, ptrdiff_t count, int maximum);
int filterjit_box_pair_f64(const double *const *rows, ptrdiff_t k, double *d0, double *d1, ptrdiff_t count, int maximum);
int filterjit_box_pair_u8(const uint8_t *const *rows, ptrdiff_t k, uint8_t *d0, uint8_t *d1, ptrdiff_t count, int maximum);
int filterjit_box_pair_i8(const int8_t *const *rows, ptrdiff_t k, int8_t *d0, int8_t *d1, ptrdiff_t count, int maximum);
int filterjit_box_pair_u16(const uint16_t *const *rows, ptrdiff_t k, uint16_t *d0, uint16_t *d1, ptrdiff_t count, int maximum);
int filterjit_box_pair_i16(const int16_t *const *rows, ptrdiff_t k, int16_t *d0, int16_t *d1, ptrdiff_t count, int maximum);

/// One fused step of the rows-first box (k rows, k >= 1) over a ring of k + 1 rows reduced along the
/// row, two of which enter here: ring[k - 1][x] = op(s0[x ..< x + length]) and ring[k][x] =
/// op(s1[x ..< x + length]), then d0[x] = op(ring[0 ..< k][x]) and d1[x] = op(ring[1 ... k][x]), for x in
/// 0..<count, in one pass (the entering rows stay in registers). n0 and n1 (NULL: none) are prefetched
/// over the same columns: the rows the next step reads (each step starts two new rows, too short for
/// the hardware prefetcher to ramp up on its own). Returns -1 without a kernel
/// (or for k > 31), else as the row pass: 1 when s0 or s1 hold NaN or -0.0 in the range read.
int filterjit_box_step_f32(const float *s0, const float *s1, const float *n0, const float *n1, ptrdiff_t length, float *const *ring, ptrdiff_t k,
                           float *d0, float *d1, ptrdiff_t count, int maximum);
int filterjit_box_step_f64(const double *s0, const double *s1, const double *n0, const double *n1, ptrdiff_t length, double *const *ring, ptrdiff_t k,
                           double *d0, double *d1, ptrdiff_t count, int maximum);
int filterjit_box_step_u8(const uint8_t *s0, const uint8_t *s1, const uint8_t *n0, const uint8_t *n1, ptrdiff_t length, uint8_t *const *ring, ptrdiff_t k,
                          uint8_t *d0, uint8_t *d1, ptrdiff_t count, int maximum);
int filterjit_box_step_i8(const int8_t *s0, const int8_t *s1, const int8_t *n0, const int8_t *n1, ptrdiff_t length, int8_t *const *ring, ptrdiff_t k,
                          int8_t *d0, int8_t *d1, ptrdiff_t count, int maximum);
int filterjit_box_step_u16(const uint16_t *s0, const uint16_t *s1, const uint16_t *n0, const uint16_t *n1, ptrdiff_t length, uint16_t *const *ring, ptrdiff_t k,
                           uint16_t *d0, uint16_t *d1, ptrdiff_t count, int maximum);
int filterjit_box_step_i16(const int16_t *s0, const int16_t *s1, const int16_t *n0, const int16_t *n1, ptrdiff_t length, int16_t *const *ring, ptrdiff_t k,
                           int16_t *d0, int16_t *d1, ptrdiff_t count, int maximum);

#ifdef __cplusplus
}
#endif

#endif
