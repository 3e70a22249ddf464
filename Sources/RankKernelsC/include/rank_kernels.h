// Order-statistic kernels with explicit AVX-512 vectors, chosen at run time by the CPU
// (docs/window-strategies.md, "3x3 medians"). Each returns 1 when it ran, 0 when this CPU (or this
// build) has no such kernel: the caller then runs its portable Swift network.
//
// The 3x3 median of every pixel x in 0..<n: the window of pixel x holds rows[r][start + x + c] for
// r, c in 0..<3 (so rows[r][start ..< start + n + 2] are read); the result goes to out[x]. Exact for
// totally ordered data (no NaN, no -0.0): a min/max network only moves elements.
#ifndef FILTERJIT_RANK_KERNELS_H
#define FILTERJIT_RANK_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "pairwise_sums.h"
#include "box_minmax.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Whether this process runs the AVX-512 kernels (AVX-512 F and BW, and FILTERJIT_NO_AVX512 unset).
int filterjit_rank_kernels_avx512(void);

int filterjit_median3x3_u8(const uint8_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint8_t *out);
int filterjit_median3x3_i8(const int8_t *const *rows, ptrdiff_t start, ptrdiff_t n, int8_t *out);
int filterjit_median3x3_u16(const uint16_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint16_t *out);
int filterjit_median3x3_i16(const int16_t *const *rows, ptrdiff_t start, ptrdiff_t n, int16_t *out);
int filterjit_median3x3_u32(const uint32_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint32_t *out);
int filterjit_median3x3_i32(const int32_t *const *rows, ptrdiff_t start, ptrdiff_t n, int32_t *out);
int filterjit_median3x3_f32(const float *const *rows, ptrdiff_t start, ptrdiff_t n, float *out);
int filterjit_median3x3_f64(const double *const *rows, ptrdiff_t start, ptrdiff_t n, double *out);

// The 5x5 median, as the 3x3 one with five rows: rows[r][start ..< start + n + 4] are read.
int filterjit_median5x5_u8(const uint8_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint8_t *out);
int filterjit_median5x5_i8(const int8_t *const *rows, ptrdiff_t start, ptrdiff_t n, int8_t *out);
int filterjit_median5x5_u16(const uint16_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint16_t *out);
int filterjit_median5x5_i16(const int16_t *const *rows, ptrdiff_t start, ptrdiff_t n, int16_t *out);
int filterjit_median5x5_f32(const float *const *rows, ptrdiff_t start, ptrdiff_t n, float *out);
int filterjit_median5x5_f64(const double *const *rows, ptrdiff_t start, ptrdiff_t n, double *out);

/// Rank `k` (0-based) of every window of `length` consecutive columns of 8-bit column histograms
/// (Perreault and Hebert): column j has 256 fine counts at fine[256 j ...] and 16 coarse counts
/// (sums of 16 fine ones) at coarse[16 j ...]; pixel x's window is columns x ..< x + length, so
/// n + length - 1 columns are read. Writes the bin of each pixel's rank to bins[x]. Only the coarse
/// counts slide per pixel; a coarse bin's 16 fine counts are brought up to date when a query lands
/// in it. Requires 0 <= k < (the window's count) and length >= 1.
void filterjit_histogram_rank8(const uint16_t *fine, const uint16_t *coarse, ptrdiff_t n, ptrdiff_t length,
                               ptrdiff_t k, uint8_t *bins);

/// One step of a sorted window (ascending, `count` elements, no NaN): replaces an element equal to
/// `leaving` by `entering`, keeping the order (binary searches written so that they compile to
/// conditional moves, then one memmove). Does nothing when the two are equal.
void filterjit_sorted_replace_f64(double *window, ptrdiff_t count, double leaving, double entering);
void filterjit_sorted_replace_f32(float *window, ptrdiff_t count, float leaving, float entering);

#ifdef __cplusplus
}
#endif

#endif
