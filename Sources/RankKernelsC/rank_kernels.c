// AVX-512 order-statistic kernels (see include/rank_kernels.h). The 3x3 median: each of the window's
// three columns sorted (lo <= mid <= hi), then med3(max of the lows, med3 of the mids, min of the
// highs), which is the median of the nine (Paeth's method). Full vectors use plain loads and
// stores (masked ones were 25% slower on Zen 4), the tail masked ones (masked-out lanes are never
// touched). The sorted columns are shared between neighbouring pixels through register shifts (see
// FJ_MEDIAN3X3). (Sorting every column once into L1 rows and reading them back at offsets 0, 1, 2 did
// 18 instead of 30 min/max per vector too, but was 1.4x slower on Zen 4.)

#include "rank_kernels.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define FJ_AVX512 __attribute__((target("avx512f,avx512bw")))

int filterjit_rank_kernels_avx512(void) {
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        __builtin_cpu_init();
        const char *off = getenv("FILTERJIT_NO_AVX512");
        value = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && !(off && off[0] && off[0] != '0');
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

// The first `left` lanes (none when left <= 0, all from the vector's width on).
static inline __mmask64 fj_mask64(ptrdiff_t left) { return left >= 64 ? ~(__mmask64)0 : left <= 0 ? 0 : (((__mmask64)1 << left) - 1); }
static inline __mmask32 fj_mask32(ptrdiff_t left) { return left >= 32 ? ~(__mmask32)0 : left <= 0 ? 0 : (__mmask32)((((uint64_t)1) << left) - 1); }
static inline __mmask16 fj_mask16(ptrdiff_t left) { return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1); }
static inline __mmask8 fj_mask8(ptrdiff_t left) { return left >= 8 ? (__mmask8)0xFF : left <= 0 ? 0 : (__mmask8)((1u << left) - 1); }

// NAME, element type, vector type, lanes, mask type, mask function, masked zero load, masked store,
// min, max, element size in bytes, vector-to-integer and integer-to-vector casts. Each column of three
// is sorted once (6 min/max per vector of columns) and the sorted columns of the block's 64 bytes are
// carried to the next block: a window's second and third columns are the sorted vectors shifted by one
// and two elements across into the next block's (valignq by 16 bytes, then vpalignr within each
// 128-bit lane), so a vector of medians takes 18 min/max and 9 shuffles instead of 30 min/max (0.34 ->
// 0.29 ms for 2048x2048 uint8 in a C loop over the rows on Zen 4). The same min/max on the same values
// in the same operand order as per-pixel column sorts, so the same bits.
#define FJ_SHIFT(A, NEXT, BYTES, TOI, FROMI)                                                              \
    FROMI(_mm512_alignr_epi8(_mm512_alignr_epi64(TOI(NEXT), TOI(A), 2), TOI(A), (BYTES)))
#define FJ_MEDIAN3X3(NAME, T, V, LANES, MT, MASK, MLOAD, MSTORE, MIN, MAX, SIZE, TOI, FROMI)              \
    FJ_AVX512 static void NAME##_avx512(const T *const *rows, ptrdiff_t start, ptrdiff_t n, T *out) {        \
        const T *r0 = rows[0] + start, *r1 = rows[1] + start, *r2 = rows[2] + start;                        \
        const ptrdiff_t columns = n + 2;                                                                    \
        V lo, mid, hi;                                                                                      \
        {                                                                                                   \
            MT m = MASK(columns);                                                                           \
            V a = MLOAD(m, r0), b = MLOAD(m, r1), c = MLOAD(m, r2);                                          \
            V l1 = MIN(b, c), h1 = MAX(b, c), t = MAX(a, l1);                                               \
            lo = MIN(a, l1); mid = MIN(t, h1); hi = MAX(t, h1);                                             \
        }                                                                                                   \
        for (ptrdiff_t x = 0; x < n; x += LANES) {                                                          \
            /* The next block's columns (masked past the last one the row holds: lanes that are */          \
            /* zero then feed only outputs past n, which are not stored). */                                \
            const ptrdiff_t next = x + LANES;                                                               \
            V a, b, c;                                                                                      \
            if (next + LANES <= columns) {                                                                  \
                a = MLOAD(~(MT)0, r0 + next); b = MLOAD(~(MT)0, r1 + next); c = MLOAD(~(MT)0, r2 + next);   \
            } else {                                                                                        \
                MT m = MASK(columns - next);                                                                \
                a = MLOAD(m, r0 + next); b = MLOAD(m, r1 + next); c = MLOAD(m, r2 + next);                  \
            }                                                                                               \
            V l1 = MIN(b, c), h1 = MAX(b, c), t = MAX(a, l1);                                               \
            V loNext = MIN(a, l1), midNext = MIN(t, h1), hiNext = MAX(t, h1);                               \
            V lo1 = FJ_SHIFT(lo, loNext, SIZE, TOI, FROMI), lo2 = FJ_SHIFT(lo, loNext, 2 * SIZE, TOI, FROMI); \
            V mid1 = FJ_SHIFT(mid, midNext, SIZE, TOI, FROMI), mid2 = FJ_SHIFT(mid, midNext, 2 * SIZE, TOI, FROMI); \
            V hi1 = FJ_SHIFT(hi, hiNext, SIZE, TOI, FROMI), hi2 = FJ_SHIFT(hi, hiNext, 2 * SIZE, TOI, FROMI); \
            V l = MAX(MAX(lo, lo1), lo2);                                                                   \
            V h = MIN(MIN(hi, hi1), hi2);                                                                   \
            V md = MAX(MIN(mid, mid1), MIN(MAX(mid, mid1), mid2));                                          \
            V r = MAX(MIN(l, md), MIN(MAX(l, md), h));                                                      \
            if (n - x >= LANES) MSTORE(out + x, ~(MT)0, r); else MSTORE(out + x, MASK(n - x), r);           \
            lo = loNext; mid = midNext; hi = hiNext;                                                        \
        }                                                                                                   \
    }                                                                                                       \
    int NAME(const T *const *rows, ptrdiff_t start, ptrdiff_t n, T *out) {                                  \
        if (!filterjit_rank_kernels_avx512()) return 0;                                                     \
        if (n > 0) NAME##_avx512(rows, start, n, out);                                                      \
        return 1;                                                                                           \
    }

#define FJ_SAME(v) (v)

FJ_MEDIAN3X3(filterjit_median3x3_u8, uint8_t, __m512i, 64, __mmask64, fj_mask64, _mm512_maskz_loadu_epi8,
             _mm512_mask_storeu_epi8, _mm512_min_epu8, _mm512_max_epu8, 1, FJ_SAME, FJ_SAME)
FJ_MEDIAN3X3(filterjit_median3x3_i8, int8_t, __m512i, 64, __mmask64, fj_mask64, _mm512_maskz_loadu_epi8,
             _mm512_mask_storeu_epi8, _mm512_min_epi8, _mm512_max_epi8, 1, FJ_SAME, FJ_SAME)
FJ_MEDIAN3X3(filterjit_median3x3_u16, uint16_t, __m512i, 32, __mmask32, fj_mask32, _mm512_maskz_loadu_epi16,
             _mm512_mask_storeu_epi16, _mm512_min_epu16, _mm512_max_epu16, 2, FJ_SAME, FJ_SAME)
FJ_MEDIAN3X3(filterjit_median3x3_i16, int16_t, __m512i, 32, __mmask32, fj_mask32, _mm512_maskz_loadu_epi16,
             _mm512_mask_storeu_epi16, _mm512_min_epi16, _mm512_max_epi16, 2, FJ_SAME, FJ_SAME)
FJ_MEDIAN3X3(filterjit_median3x3_u32, uint32_t, __m512i, 16, __mmask16, fj_mask16, _mm512_maskz_loadu_epi32,
             _mm512_mask_storeu_epi32, _mm512_min_epu32, _mm512_max_epu32, 4, FJ_SAME, FJ_SAME)
FJ_MEDIAN3X3(filterjit_median3x3_i32, int32_t, __m512i, 16, __mmask16, fj_mask16, _mm512_maskz_loadu_epi32,
             _mm512_mask_storeu_epi32, _mm512_min_epi32, _mm512_max_epi32, 4, FJ_SAME, FJ_SAME)
FJ_MEDIAN3X3(filterjit_median3x3_f32, float, __m512, 16, __mmask16, fj_mask16, _mm512_maskz_loadu_ps,
             _mm512_mask_storeu_ps, _mm512_min_ps, _mm512_max_ps, 4, _mm512_castps_si512, _mm512_castsi512_ps)
FJ_MEDIAN3X3(filterjit_median3x3_f64, double, __m512d, 8, __mmask8, fj_mask8, _mm512_maskz_loadu_pd,
             _mm512_mask_storeu_pd, _mm512_min_pd, _mm512_max_pd, 8, _mm512_castpd_si512, _mm512_castsi512_pd)

// The 5x5 median: the generated network of the Swift kernels on AVX-512 vectors (median5x5_body.h).
#define FJ_NAME filterjit_median5x5_u8_avx512
#define FJ_T uint8_t
#define FJ_V __m512i
#define FJ_LANES 64
#define FJ_MT __mmask64
#define FJ_MASK fj_mask64
#define FJ_MLOAD _mm512_maskz_loadu_epi8
#define FJ_MSTORE _mm512_mask_storeu_epi8
#define FJ_MIN _mm512_min_epu8
#define FJ_MAX _mm512_max_epu8
#define FJ_LOADU(p) _mm512_loadu_si512((const void *)(p))
#define FJ_STOREU(p, v) _mm512_storeu_si512((void *)(p), v)
#include "median5x5_body.h"
#undef FJ_NAME
#undef FJ_T
#undef FJ_V
#undef FJ_LANES
#undef FJ_MT
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_LOADU
#undef FJ_STOREU
int filterjit_median5x5_u8(const uint8_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint8_t *out) {
    if (!filterjit_rank_kernels_avx512()) return 0;
    if (n > 0) filterjit_median5x5_u8_avx512(rows, start, n, out);
    return 1;
}
#define FJ_NAME filterjit_median5x5_i8_avx512
#define FJ_T int8_t
#define FJ_V __m512i
#define FJ_LANES 64
#define FJ_MT __mmask64
#define FJ_MASK fj_mask64
#define FJ_MLOAD _mm512_maskz_loadu_epi8
#define FJ_MSTORE _mm512_mask_storeu_epi8
#define FJ_MIN _mm512_min_epi8
#define FJ_MAX _mm512_max_epi8
#define FJ_LOADU(p) _mm512_loadu_si512((const void *)(p))
#define FJ_STOREU(p, v) _mm512_storeu_si512((void *)(p), v)
#include "median5x5_body.h"
#undef FJ_NAME
#undef FJ_T
#undef FJ_V
#undef FJ_LANES
#undef FJ_MT
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_LOADU
#undef FJ_STOREU
int filterjit_median5x5_i8(const int8_t *const *rows, ptrdiff_t start, ptrdiff_t n, int8_t *out) {
    if (!filterjit_rank_kernels_avx512()) return 0;
    if (n > 0) filterjit_median5x5_i8_avx512(rows, start, n, out);
    return 1;
}
#define FJ_NAME filterjit_median5x5_u16_avx512
#define FJ_T uint16_t
#define FJ_V __m512i
#define FJ_LANES 32
#define FJ_MT __mmask32
#define FJ_MASK fj_mask32
#define FJ_MLOAD _mm512_maskz_loadu_epi16
#define FJ_MSTORE _mm512_mask_storeu_epi16
#define FJ_MIN _mm512_min_epu16
#define FJ_MAX _mm512_max_epu16
#define FJ_LOADU(p) _mm512_loadu_si512((const void *)(p))
#define FJ_STOREU(p, v) _mm512_storeu_si512((void *)(p), v)
#include "median5x5_body.h"
#undef FJ_NAME
#undef FJ_T
#undef FJ_V
#undef FJ_LANES
#undef FJ_MT
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_LOADU
#undef FJ_STOREU
int filterjit_median5x5_u16(const uint16_t *const *rows, ptrdiff_t start, ptrdiff_t n, uint16_t *out) {
    if (!filterjit_rank_kernels_avx512()) return 0;
    if (n > 0) filterjit_median5x5_u16_avx512(rows, start, n, out);
    return 1;
}
#define FJ_NAME filterjit_median5x5_i16_avx512
#define FJ_T int16_t
#define FJ_V __m512i
#define FJ_LANES 32
#define FJ_MT __mmask32
#define FJ_MASK fj_mask32
#define FJ_MLOAD _mm512_maskz_loadu_epi16
#define FJ_MSTORE _mm512_mask_storeu_epi16
#define FJ_MIN _mm512_min_epi16
#define FJ_MAX _mm512_max_epi16
#define FJ_LOADU(p) _mm512_loadu_si512((const void *)(p))
#define FJ_STOREU(p, v) _mm512_storeu_si512((void *)(p), v)
#include "median5x5_body.h"
#undef FJ_NAME
#undef FJ_T
#undef FJ_V
#undef FJ_LANES
#undef FJ_MT
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_LOADU
#undef FJ_STOREU
int filterjit_median5x5_i16(const int16_t *const *rows, ptrdiff_t start, ptrdiff_t n, int16_t *out) {
    if (!filterjit_rank_kernels_avx512()) return 0;
    if (n > 0) filterjit_median5x5_i16_avx512(rows, start, n, out);
    return 1;
}
#define FJ_NAME filterjit_median5x5_f32_avx512
#define FJ_T float
#define FJ_V __m512
#define FJ_LANES 16
#define FJ_MT __mmask16
#define FJ_MASK fj_mask16
#define FJ_MLOAD _mm512_maskz_loadu_ps
#define FJ_MSTORE _mm512_mask_storeu_ps
#define FJ_MIN _mm512_min_ps
#define FJ_MAX _mm512_max_ps
#define FJ_LOADU(p) _mm512_loadu_ps((const void *)(p))
#define FJ_STOREU(p, v) _mm512_storeu_ps((void *)(p), v)
#include "median5x5_body.h"
#undef FJ_NAME
#undef FJ_T
#undef FJ_V
#undef FJ_LANES
#undef FJ_MT
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_LOADU
#undef FJ_STOREU
int filterjit_median5x5_f32(const float *const *rows, ptrdiff_t start, ptrdiff_t n, float *out) {
    if (!filterjit_rank_kernels_avx512()) return 0;
    if (n > 0) filterjit_median5x5_f32_avx512(rows, start, n, out);
    return 1;
}
#define FJ_NAME filterjit_median5x5_f64_avx512
#define FJ_T double
#define FJ_V __m512d
#define FJ_LANES 8
#define FJ_MT __mmask8
#define FJ_MASK fj_mask8
#define FJ_MLOAD _mm512_maskz_loadu_pd
#define FJ_MSTORE _mm512_mask_storeu_pd
#define FJ_MIN _mm512_min_pd
#define FJ_MAX _mm512_max_pd
#define FJ_LOADU(p) _mm512_loadu_pd((const void *)(p))
#define FJ_STOREU(p, v) _mm512_storeu_pd((void *)(p), v)
#include "median5x5_body.h"
#undef FJ_NAME
#undef FJ_T
#undef FJ_V
#undef FJ_LANES
#undef FJ_MT
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_LOADU
#undef FJ_STOREU
int filterjit_median5x5_f64(const double *const *rows, ptrdiff_t start, ptrdiff_t n, double *out) {
    if (!filterjit_rank_kernels_avx512()) return 0;
    if (n > 0) filterjit_median5x5_f64_avx512(rows, start, n, out);
    return 1;
}

#else

int filterjit_rank_kernels_avx512(void) { return 0; }
#define FJ_NONE(NAME, T) int NAME(const T *const *rows, ptrdiff_t start, ptrdiff_t n, T *out) { \
    (void)rows; (void)start; (void)n; (void)out; return 0; }
FJ_NONE(filterjit_median3x3_u8, uint8_t)
FJ_NONE(filterjit_median3x3_i8, int8_t)
FJ_NONE(filterjit_median3x3_u16, uint16_t)
FJ_NONE(filterjit_median3x3_i16, int16_t)
FJ_NONE(filterjit_median3x3_u32, uint32_t)
FJ_NONE(filterjit_median3x3_i32, int32_t)
FJ_NONE(filterjit_median3x3_f32, float)
FJ_NONE(filterjit_median3x3_f64, double)
FJ_NONE(filterjit_median5x5_u8, uint8_t)
FJ_NONE(filterjit_median5x5_i8, int8_t)
FJ_NONE(filterjit_median5x5_u16, uint16_t)
FJ_NONE(filterjit_median5x5_i16, int16_t)
FJ_NONE(filterjit_median5x5_f32, float)
FJ_NONE(filterjit_median5x5_f64, double)

#endif

void filterjit_histogram_rank8(const uint16_t *fine, const uint16_t *coarse, ptrdiff_t n, ptrdiff_t length,
                               ptrdiff_t k, uint8_t *bins) {
    uint16_t h[16], f[256];
    ptrdiff_t synced[16];
    for (int c = 0; c < 16; c++) { h[c] = 0; synced[c] = -1; }
    for (ptrdiff_t j = 0; j < length; j++)
        for (int c = 0; c < 16; c++) h[c] = (uint16_t)(h[c] + coarse[j * 16 + c]);
    for (ptrdiff_t x = 0; x < n; x++) {
        if (x > 0) {
            const uint16_t *in = coarse + (x - 1 + length) * 16, *out = coarse + (x - 1) * 16;
            for (int c = 0; c < 16; c++) h[c] = (uint16_t)(h[c] + in[c] - out[c]);
        }
        ptrdiff_t rest = k;
        int c = 0;
        while (c < 15 && h[c] <= rest) { rest -= h[c]; c++; }
        uint16_t *segment = f + c * 16;
        if (synced[c] < 0 || (x - synced[c]) * 2 >= length) {
            for (int b = 0; b < 16; b++) segment[b] = 0;
            for (ptrdiff_t j = x; j < x + length; j++) {
                const uint16_t *column = fine + j * 256 + c * 16;
                for (int b = 0; b < 16; b++) segment[b] = (uint16_t)(segment[b] + column[b]);
            }
        } else {
            for (ptrdiff_t step = synced[c] + 1; step <= x; step++) {
                const uint16_t *in = fine + (step - 1 + length) * 256 + c * 16, *out = fine + (step - 1) * 256 + c * 16;
                for (int b = 0; b < 16; b++) segment[b] = (uint16_t)(segment[b] + in[b] - out[b]);
            }
        }
        synced[c] = x;
        int b = 0;
        while (b < 15 && segment[b] <= rest) { rest -= segment[b]; b++; }
        bins[x] = (uint8_t)(c * 16 + b);
    }
}

// Sorted-window steps (WindowReductionJob's sortedOrderStatistics for float data). The searches compare
// random data, so a branch per level mispredicts half the time: `__builtin_unpredictable` keeps the
// selects as conditional moves (Swift's `c ? a : b` and masks were turned back into branches).
#if defined(__clang__)
#define FJ_UNPREDICTABLE(c) __builtin_unpredictable(c)
#else
#define FJ_UNPREDICTABLE(c) (c)
#endif
#define FJ_SORTED_REPLACE(NAME, T)                                                                       \
    static inline ptrdiff_t NAME##_below(const T *a, ptrdiff_t n, T v) {                                 \
        const T *base = a;                                                                                \
        while (n > 1) {                                                                                   \
            ptrdiff_t half = n >> 1;                                                                      \
            base = FJ_UNPREDICTABLE(base[half - 1] < v) ? base + half : base;                             \
            n -= half;                                                                                    \
        }                                                                                                 \
        return (base - a) + (*base < v);                                                                  \
    }                                                                                                     \
    static inline ptrdiff_t NAME##_notAbove(const T *a, ptrdiff_t n, T v) {                              \
        const T *base = a;                                                                                \
        while (n > 1) {                                                                                   \
            ptrdiff_t half = n >> 1;                                                                      \
            base = FJ_UNPREDICTABLE(base[half - 1] <= v) ? base + half : base;                            \
            n -= half;                                                                                    \
        }                                                                                                 \
        return (base - a) + (*base <= v);                                                                 \
    }                                                                                                     \
    void NAME(T *window, ptrdiff_t count, T leaving, T entering) {                                        \
        if (leaving == entering || count <= 0) return;                                                    \
        ptrdiff_t from = NAME##_below(window, count, leaving); /* an element equal to `leaving` */       \
        if (entering > leaving) {                                                                         \
            ptrdiff_t to = NAME##_below(window, count, entering);                                         \
            memmove(window + from, window + from + 1, (size_t)(to - from - 1) * sizeof(T));               \
            window[to - 1] = entering;                                                                    \
        } else {                                                                                          \
            ptrdiff_t to = NAME##_notAbove(window, count, entering);                                      \
            memmove(window + to + 1, window + to, (size_t)(from - to) * sizeof(T));                       \
            window[to] = entering;                                                                        \
        }                                                                                                 \
    }
FJ_SORTED_REPLACE(filterjit_sorted_replace_f64, double)
FJ_SORTED_REPLACE(filterjit_sorted_replace_f32, float)
