// The range of float rows (include/sum_exactness.h), for the exact box sums (NDImage/ExactBoxSums.swift).
// One pass of integer operations on the values' bits, vectorised by the compiler: the exponent of a
// value's lowest set bit is its mantissa's trailing zeros (counted by converting the lowest set bit,
// a power of two, to a float and reading its exponent) plus the exponent of the mantissa's bit 0.

#include "sum_exactness.h"
#include "rank_kernels.h"
#include "avx2_switch.h"

#include <limits.h>
#include <string.h>

static inline void fj_range_f32_body(const float *row, ptrdiff_t n, int32_t *range) {
    int32_t top = INT32_MIN, low = INT32_MAX;
    for (ptrdiff_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, row + i, 4);
        const uint32_t magnitude = bits & 0x7fffffffu;
        const int32_t biased = (int32_t)(magnitude >> 23);
        const uint32_t mantissa = (magnitude & 0x7fffffu) | (biased ? 0x800000u : 0u);
        const float lowest = (float)(int32_t)(mantissa & (0u - mantissa));   // 2^trailing zeros (0 for x = 0)
        uint32_t lowestBits;
        memcpy(&lowestBits, &lowest, 4);
        const int32_t exponent0 = (biased ? biased : 1) - 150;               // the weight of mantissa bit 0
        const int32_t valueLow = exponent0 + ((int32_t)(lowestBits >> 23) - 127);
        const int32_t valueTop = magnitude == 0 ? INT32_MIN : biased == 255 ? INT32_MAX : (biased ? biased : 1) - 126;
        const int32_t nonzeroLow = magnitude == 0 ? INT32_MAX : valueLow;
        top = valueTop > top ? valueTop : top;
        low = nonzeroLow < low ? nonzeroLow : low;
    }
    range[0] = top;
    range[1] = low;
}

// The exponent t of the lowest set bit 2^t of a float64 mantissa (t <= 52; `lowest` = mantissa & -mantissa):
// converted to a double and its exponent read, or, without 64-bit integer to double conversions (AVX2 has
// none, so a loop with them would not vectorise there), through whichever 32-bit half holds it, converted as
// a signed 32-bit integer (2^31 becomes -2^31: the exponent field is 31 either way). Equal for every input.
static inline int64_t fj_trailing_by_double(uint64_t lowest) {
    const double value = (double)(int64_t)lowest;
    uint64_t bits;
    memcpy(&bits, &value, 8);
    return (int64_t)(bits >> 52) - 1023;
}

static inline int64_t fj_trailing_by_halves(uint64_t lowest) {
    const uint32_t lowHalf = (uint32_t)lowest, highHalf = (uint32_t)(lowest >> 32);
    const float lowFloat = (float)(int32_t)lowHalf, highFloat = (float)(int32_t)highHalf;
    uint32_t lowBits, highBits;
    memcpy(&lowBits, &lowFloat, 4);
    memcpy(&highBits, &highFloat, 4);
    return lowHalf ? (int64_t)((lowBits >> 23) & 0xff) - 127 : (int64_t)((highBits >> 23) & 0xff) - 95;
}

// `halves`: a constant, which of the two above finds the lowest set bit.
static inline __attribute__((always_inline)) void fj_range_f64_loop(const double *row, ptrdiff_t n, int32_t *range,
                                                                    const int halves) {
    int64_t top = INT32_MIN, low = INT32_MAX;
    for (ptrdiff_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, row + i, 8);
        const uint64_t magnitude = bits & 0x7fffffffffffffffull;
        const int64_t biased = (int64_t)(magnitude >> 52);
        const uint64_t mantissa = (magnitude & 0xfffffffffffffull) | (biased ? 0x10000000000000ull : 0u);
        const uint64_t lowest = mantissa & (0u - mantissa);
        const int64_t trailing = halves ? fj_trailing_by_halves(lowest) : fj_trailing_by_double(lowest);
        const int64_t exponent0 = (biased ? biased : 1) - 1075;
        const int64_t valueLow = exponent0 + trailing;
        const int64_t valueTop = magnitude == 0 ? INT32_MIN : biased == 2047 ? INT32_MAX : (biased ? biased : 1) - 1022;
        const int64_t nonzeroLow = magnitude == 0 ? INT32_MAX : valueLow;
        top = valueTop > top ? valueTop : top;
        low = nonzeroLow < low ? nonzeroLow : low;
    }
    range[0] = (int32_t)top;
    range[1] = (int32_t)low;
}

static inline void fj_range_f64_body(const double *row, ptrdiff_t n, int32_t *range) { fj_range_f64_loop(row, n, range, 0); }
static inline void fj_range_f64_body_halves(const double *row, ptrdiff_t n, int32_t *range) { fj_range_f64_loop(row, n, range, 1); }

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
// The same loops vectorised for AVX2 (on Zen 3 the portable loop took a fifth of a 2048x2048 float32 9x9
// exact mean).
__attribute__((target("avx2"))) static void fj_range_f32_avx2(const float *row, ptrdiff_t n, int32_t *range) {
    fj_range_f32_body(row, n, range);
}
__attribute__((target("avx2"))) static void fj_range_f64_avx2(const double *row, ptrdiff_t n, int32_t *range) {
    fj_range_f64_body_halves(row, n, range);
}
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl"))) static void fj_range_f32_avx512(const float *row, ptrdiff_t n, int32_t *range) {
    fj_range_f32_body(row, n, range);
}
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl"))) static void fj_range_f64_avx512(const double *row, ptrdiff_t n, int32_t *range) {
    fj_range_f64_body(row, n, range);
}
#endif

void filterjit_float_row_range_portable(int f32, const void *row, ptrdiff_t n, int32_t *range) {
    if (f32) fj_range_f32_body((const float *)row, n, range);
    else fj_range_f64_body((const double *)row, n, range);
}

void filterjit_float_row_range(int f32, const void *row, ptrdiff_t n, int32_t *range) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (filterjit_rank_kernels_avx512()) {
        if (f32) fj_range_f32_avx512((const float *)row, n, range);
        else fj_range_f64_avx512((const double *)row, n, range);
        return;
    }
    static int avx2 = -1;   // FILTERJIT_NO_AVX2 turns it off as it does the other AVX2 families
    if (fj_avx2_switch(&avx2)) {
        if (f32) fj_range_f32_avx2((const float *)row, n, range);
        else fj_range_f64_avx2((const double *)row, n, range);
        return;
    }
#endif
    filterjit_float_row_range_portable(f32, row, n, range);
}
