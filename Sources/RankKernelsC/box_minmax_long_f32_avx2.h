// The AVX2 float32 long-box kernel (box_minmax_long_f32_avx2.c), for box_minmax_long.c only: not in the module's
// public headers (`filterjit_box_long_f32` is the entry, and calls it where the AVX-512 kernel does not run).
#ifndef FILTERJIT_BOX_MINMAX_LONG_F32_AVX2_H
#define FILTERJIT_BOX_MINMAX_LONG_F32_AVX2_H

#include <stddef.h>

/// `filterjit_box_long_f32`'s contract in AVX2 (rows outside the image NULL, 1 on NaN or -0.0 read, -1 where the
/// switch is off, the shape beyond it (k > 255, length > 1024, start or centre negative, positions past
/// extendedLength) or scratch cannot be had). Scratch per call: k + 4 rows of n floats and the row table.
int fj_box_long_f32_avx2_run(int maximum, const float *const *rows, ptrdiff_t k, float *const *outs, ptrdiff_t count,
                             ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                             ptrdiff_t start, ptrdiff_t length, float cval);

#endif
