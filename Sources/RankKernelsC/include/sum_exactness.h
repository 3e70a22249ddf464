// The range of float rows, for the exact box sums (NDImage/ExactBoxSums.swift): whether every sum of a
// window's values is exact in doubles, so that any order of additions gives NumPy's pairwise bits.
#ifndef FILTERJIT_SUM_EXACTNESS_H
#define FILTERJIT_SUM_EXACTNESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The range of `n` contiguous floats (`f32`: float32, else float64) at `row`, into range[0] and range[1]:
/// - range[0], `top`: the least t with |x| < 2^t for every nonzero x (INT32_MIN when all are zero,
///   INT32_MAX when one is NaN or infinite);
/// - range[1], `low`: the least exponent e of the lowest set bit of any nonzero x, that is every x is
///   a multiple of 2^e (INT32_MAX when all are zero).
/// Every sum of m such values is then a multiple of 2^low below m 2^top in magnitude: exact in doubles
/// when ceil(log2 m) + top - low <= 53 (and top + ceil(log2 m) <= 1023).
void filterjit_float_row_range(int f32, const void *row, ptrdiff_t n, int32_t *range);

/// `filterjit_float_row_range` without the AVX-512 or AVX2 loops (what CPUs without either run, and
/// FILTERJIT_NO_AVX2=1 without AVX-512; for tests).
void filterjit_float_row_range_portable(int f32, const void *row, ptrdiff_t n, int32_t *range);

#ifdef __cplusplus
}
#endif

#endif
