// AVX-512 (VBMI) min/max of 8-bit 2-D boxes with more than 8 rows or columns (docs/window-strategies.md,
// "min/max", long boxes), chosen at run time by the CPU: AVX-512 F, BW, DQ (`filterjit_box_kernels_avx512`,
// FILTERJIT_NO_AVX512 unset) and VBMI. Rows first, each input row reduced along the row once, in registers;
// then van Herk / Gil-Werman down the columns over a ring of k + 1 rows.
#ifndef FILTERJIT_BOX_MINMAX_LONG_H
#define FILTERJIT_BOX_MINMAX_LONG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether this process runs the long-box kernels (AVX-512 F/BW/DQ and VBMI, FILTERJIT_NO_AVX512 unset).
int filterjit_box_long_available(void);

/// How many calls have run the kernel in this process (for tests: proof that a path reached it).
uint64_t filterjit_box_long_runs(void);

/// `count` output rows of a box of `k` rows and `length` columns: outs[t][x] = op over rows
/// rows[t ..< t + k] (NULL: a row outside the image, every element `cval`) and, along each of them,
/// extended positions x + start ..< x + start + length, where extended position j reads column
/// columns[j] of the row (-1: `cval`) for j < extendedLength, and positions centre ..< centre + n are
/// the row itself (columns[j] == j - centre). `rows` holds count + k - 1 pointers, each row and each
/// output row n elements. `maximum` != 0 takes the maximum, else the minimum. Returns -1 (nothing
/// written) without a kernel, for a shape it does not take (length > 64, k > 255, start or centre
/// negative, or positions x + start + length - 1 >= extendedLength for some x < n) or when its scratch
/// cannot be allocated, else 0. Scratch per call: k + 3 rows of n bytes rounded up to 64 and padded so
/// that rows lie 320 bytes past a multiple of 4096 apart (about 4.4 KiB each at n = 2048), and a
/// buffer of the extended row.
int filterjit_box_long_u8(const uint8_t *const *rows, ptrdiff_t k, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                          const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                          ptrdiff_t length, uint8_t cval, int maximum);
int filterjit_box_long_i8(const int8_t *const *rows, ptrdiff_t k, int8_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                          const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                          ptrdiff_t length, int8_t cval, int maximum);

#ifdef __cplusplus
}
#endif

#endif
