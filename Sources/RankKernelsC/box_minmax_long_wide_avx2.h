// The AVX2 wide-lane long-box kernel (box_minmax_long_wide_avx2.c), for box_minmax_long.c only: not in the module's
// public headers (`filterjit_box_long_f32` / `_f64` / `_u16` / `_i16` are the entries, and call it where the
// AVX-512 kernel does not run).
#ifndef FILTERJIT_BOX_MINMAX_LONG_WIDE_AVX2_H
#define FILTERJIT_BOX_MINMAX_LONG_WIDE_AVX2_H

#include <stddef.h>
#include <stdint.h>

/// `filterjit_box_long_f32`'s contract (and _f64 / _u16 / _i16's) in AVX2: rows outside the image NULL; 1 on NaN or
/// -0.0 in a row read (float types; the outputs are then partly written and meaningless); -1 (nothing written)
/// where the switch is off, for a shape beyond it (k > 255, length > 1024, start or centre negative, positions past
/// extendedLength) or without scratch; else 0. Scratch per call: k + 3 rows (the cval row, the prefix row, k - 2
/// suffix rows, two level rows and the row of column minima; the last three about n + length elements, the others n)
/// and the row table.
int fj_box_long_f32_avx2_run(int maximum, const float *const *rows, ptrdiff_t k, float *const *outs, ptrdiff_t count,
                             ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                             ptrdiff_t start, ptrdiff_t length, float cval);
int fj_box_long_f64_avx2_run(int maximum, const double *const *rows, ptrdiff_t k, double *const *outs, ptrdiff_t count,
                             ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                             ptrdiff_t start, ptrdiff_t length, double cval);
int fj_box_long_u16_avx2_run(int maximum, const uint16_t *const *rows, ptrdiff_t k, uint16_t *const *outs, ptrdiff_t count,
                             ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                             ptrdiff_t start, ptrdiff_t length, uint16_t cval);
int fj_box_long_i16_avx2_run(int maximum, const int16_t *const *rows, ptrdiff_t k, int16_t *const *outs, ptrdiff_t count,
                             ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                             ptrdiff_t start, ptrdiff_t length, int16_t cval);

#endif
