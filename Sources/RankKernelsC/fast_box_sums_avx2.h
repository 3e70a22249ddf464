// The AVX2 passes of the fast-math box sums (fast_box_sums_avx2.c), for fast_box_sums.c only: not in the
// module's public headers, since they trust their arguments (`filterjit_fast_box_sum` checks them and reads
// the AVX2 switch once before calling).
#ifndef FILTERJIT_FAST_BOX_SUMS_AVX2_H
#define FILTERJIT_FAST_BOX_SUMS_AVX2_H

#include <stddef.h>

/// `filterjit_fast_box_sum`'s passes in 4-double vectors, for a call it has checked (`f32`: float32 input rows,
/// `out32`: float32 output): 1 when they ran, 0 for a plan without a row function or without scratch.
int fj_fbs_avx2_sums(int f32, int out32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount, ptrdiff_t y0, ptrdiff_t y1,
                     ptrdiff_t n, ptrdiff_t k, ptrdiff_t top, const ptrdiff_t *lastMap, ptrdiff_t extendedLength,
                     ptrdiff_t centre, ptrdiff_t start, ptrdiff_t length, ptrdiff_t a, ptrdiff_t b, ptrdiff_t r,
                     double cvalColumn, double factor, double divisor, void *out, ptrdiff_t outRowStride, int stream);

#endif
