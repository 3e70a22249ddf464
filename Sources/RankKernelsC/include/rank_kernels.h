// Order-statistic kernels with explicit AVX-512 vectors (and AVX2 ones for the 3x3 medians of 8-bit and
// float data, median3x3_avx2.c, and the 5x5 medians of 8- and 16-bit integers), chosen at run time by the CPU
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
#include "rank_merge.h"
#include "box_means.h"
#include "box_minmax.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Whether this process runs the AVX-512 kernels (AVX-512 F and BW, and FILTERJIT_NO_AVX512 unset).
int filterjit_rank_kernels_avx512(void);
/// Turns the AVX-512 kernels on (1, where the CPU has them) or off (0) for the whole process, whatever
/// FILTERJIT_NO_AVX512 says, or back to what it says (-1). For tests: the results are the same bits
/// either way.
void filterjit_rank_kernels_set_avx512(int enabled);

/// Whether the AVX2 median row kernels run where the AVX-512 ones are off (the 3x3 ones of uint8, int8, float32
/// and float64, median3x3_avx2.c, and the 5x5 ones of 8- and 16-bit integers): the CPU has AVX2 and
/// FILTERJIT_NO_AVX2 is unset, empty or starts with '0'.
int filterjit_median3x3_avx2(void);
/// Turns those AVX2 kernels on (1, where the CPU has AVX2) or off (0), or back to FILTERJIT_NO_AVX2 (-1).
/// For tests: the results are the same bits either way.
void filterjit_median3x3_set_avx2(int enabled);
int filterjit_median3x3_u8_rows_avx2(const uint8_t *const *rows, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_i8_rows_avx2(const int8_t *const *rows, int8_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_f32_rows_avx2(const float *const *rows, float *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_f64_rows_avx2(const double *const *rows, double *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
/// How many calls have run the median row kernels in this process (tests: proof that a path reached them):
/// which 0 the 3x3 ones, 1 the 5x5 ones, 2 either with non-temporal stores (`_rows_stream`).
uint64_t filterjit_median_rows_runs(int which);

int filterjit_median3x3_u8(const uint8_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint8_t *out);
int filterjit_median3x3_i8(const int8_t *const *rows, ptrdiff_t start, ptrdiff_t n, int8_t *out);
int filterjit_median3x3_u16(const uint16_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint16_t *out);
int filterjit_median3x3_i16(const int16_t *const *rows, ptrdiff_t start, ptrdiff_t n, int16_t *out);
int filterjit_median3x3_u32(const uint32_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint32_t *out);
int filterjit_median3x3_i32(const int32_t *const *rows, ptrdiff_t start, ptrdiff_t n, int32_t *out);
int filterjit_median3x3_f32(const float *const *rows, ptrdiff_t start, ptrdiff_t n, float *out);
int filterjit_median3x3_f64(const double *const *rows, ptrdiff_t start, ptrdiff_t n, double *out);

// `count` output rows of 3x3 medians: output row y's window rows are rows[3y + r] (r in 0..<3), read
// at columns start ..< start + n + 2, and its n medians go to outs[y][0 ..< n]. The float kernels
// check every value they read for NaN and -0.0 (each row once per call: a row pointer that was in
// the previous output row's window is not checked again) and return -1 at the first output row
// that reads one (earlier rows are written). Returns 1 when done, 0 without AVX-512 (nothing written).
int filterjit_median3x3_u8_rows(const uint8_t *const *rows, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_u8_rows_stream(const uint8_t *const *rows, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_i8_rows(const int8_t *const *rows, int8_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_i8_rows_stream(const int8_t *const *rows, int8_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_u16_rows(const uint16_t *const *rows, uint16_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_u16_rows_stream(const uint16_t *const *rows, uint16_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_i16_rows(const int16_t *const *rows, int16_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_i16_rows_stream(const int16_t *const *rows, int16_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_u32_rows(const uint32_t *const *rows, uint32_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_u32_rows_stream(const uint32_t *const *rows, uint32_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_i32_rows(const int32_t *const *rows, int32_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_i32_rows_stream(const int32_t *const *rows, int32_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_f32_rows(const float *const *rows, float *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_f32_rows_stream(const float *const *rows, float *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_f64_rows(const double *const *rows, double *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median3x3_f64_rows_stream(const double *const *rows, double *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);

// The _rows_stream kernels are the _rows ones with non-temporal stores for the output vectors that
// are whole 64-byte lines (plain stores before a row's first line boundary and for the partial last
// vector), then an sfence: for outputs much bigger than L2 (measured on a Xeon with AVX-512: a 16 MiB
// store stream costs about half with them; from 2 MiB on they win, at 1 MiB they lose). The 32/64-bit
// 3x3 ones (and every 5x5 kernel) compute two output rows per pass where their windows slide: on a
// hazard (-1) the pair's rows may both be partly written.

// The 5x5 median, as the 3x3 one with five rows: rows[r][start ..< start + n + 4] are read.
int filterjit_median5x5_u8(const uint8_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint8_t *out);
int filterjit_median5x5_i8(const int8_t *const *rows, ptrdiff_t start, ptrdiff_t n, int8_t *out);
int filterjit_median5x5_u16(const uint16_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint16_t *out);
int filterjit_median5x5_i16(const int16_t *const *rows, ptrdiff_t start, ptrdiff_t n, int16_t *out);
int filterjit_median5x5_f32(const float *const *rows, ptrdiff_t start, ptrdiff_t n, float *out);
int filterjit_median5x5_f64(const double *const *rows, ptrdiff_t start, ptrdiff_t n, double *out);
// `count` rows of 5x5 medians, as filterjit_median3x3_u8_rows with rows[5y + r] (floats checked for NaN
// and -0.0 the same way; two output rows at a time where their windows slide down one sequence of rows).
int filterjit_median5x5_u8_rows(const uint8_t *const *rows, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_u8_rows_stream(const uint8_t *const *rows, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_i8_rows(const int8_t *const *rows, int8_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_i8_rows_stream(const int8_t *const *rows, int8_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_u16_rows(const uint16_t *const *rows, uint16_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_u16_rows_stream(const uint16_t *const *rows, uint16_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_i16_rows(const int16_t *const *rows, int16_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_i16_rows_stream(const int16_t *const *rows, int16_t *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_f32_rows(const float *const *rows, float *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_f32_rows_stream(const float *const *rows, float *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_f64_rows(const double *const *rows, double *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);
int filterjit_median5x5_f64_rows_stream(const double *const *rows, double *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n);

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
