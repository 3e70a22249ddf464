// uint8 box means with explicit AVX-512 vectors (or AVX2 ones, box_means_avx2.c), chosen at run time by the CPU
// (docs/window-strategies.md, "sum/mean, integer data"; NDImage/BoxSums.swift, `runBoxMeansU8`).
#ifndef FILTERJIT_BOX_MEANS_H
#define FILTERJIT_BOX_MEANS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// `columns[x] += entering[x] - leaving[x]` in wrapping uint16 arithmetic, for x in 0..<count (the
/// column sums of a window moved down one row). Returns 1 when it ran, 0 (computing nothing) when
/// neither the AVX-512 kernels (`filterjit_rank_kernels_avx512`) nor the AVX2 ones (`filterjit_box_means_avx2`) run.
int filterjit_box_slide_u8_u16(uint16_t *columns, const uint8_t *entering, const uint8_t *leaving, ptrdiff_t count);

/// `out[x] = trunc(S(x) / divisor)` for x in 0..<count, where S(x) = ext[x] + ... + ext[x + length - 1]
/// (ext[0 ..< count + length - 1] are read), exact. Requires S(x) < 2^24 for every x, and 1 <= length.
/// With `sums16` every S(x) must be below 2^16: the sums then take uint16 lanes, and a `multiplier`
/// m = ceil(2^shift / divisor) below 2^17 with max S x divisor^2 < 2^shift and shift >= 16 (as
/// `BoxSumPlan` proves: trunc(S / divisor) = (S m) >> shift) gives the quotient by a 16-bit
/// multiply-high; otherwise (multiplier 0) it is a float estimate of S / divisor corrected by the
/// remainder (exact for S < 2^24). `scratch` holds count + length + 1 uint32 (the row's prefix sums
/// when length > 8). Returns 0 as the slide does.
int filterjit_box_mean_u8_row(const uint16_t *ext, ptrdiff_t length, ptrdiff_t count, uint32_t divisor, int sums16,
                              uint32_t multiplier, uint16_t shift, uint8_t *out, uint32_t *scratch);

/// Whether the AVX2 kernels behind the two functions above run where the AVX-512 ones do not (box_means_avx2.c:
/// the same sums and quotients): the CPU has AVX2 and FILTERJIT_NO_AVX2 is unset, empty or starts with '0'.
int filterjit_box_means_avx2(void);
/// Turns them on (1, where the CPU has AVX2) or off (0), or back to FILTERJIT_NO_AVX2 (-1). For tests.
void filterjit_box_means_set_avx2(int enabled);
/// The AVX2 kernels themselves (no checks: the entries above call them).
void filterjit_box_slide_u8_u16_avx2(uint16_t *columns, const uint8_t *entering, const uint8_t *leaving, ptrdiff_t count);
int filterjit_box_mean_u8_row_avx2(const uint16_t *ext, ptrdiff_t length, ptrdiff_t count, uint32_t divisor, int sums16,
                                   uint32_t multiplier, uint16_t shift, uint8_t *out, uint32_t *scratch);

/// `out[x] = (s[x] + 0.0) * factor` for x in 0..<count, or `(s[x] + 0.0) / divisor` when `divisor` != 0
/// (the fast-math box sums' store and the exact box sums' mean: the same IEEE operations as
/// `fastBoxSumStore`), with non-temporal stores of the aligned vectors when `stream`
/// != 0 (outputs bigger than the last-level cache; the caller decides); `_f32` rounds each to float.
/// Returns 0 as the slide does.
int filterjit_box_store_f64(const double *s, double factor, double divisor, double *out, ptrdiff_t count, int stream);
int filterjit_box_store_f32(const double *s, double factor, double divisor, float *out, ptrdiff_t count, int stream);

#ifdef __cplusplus
}
#endif

#endif
