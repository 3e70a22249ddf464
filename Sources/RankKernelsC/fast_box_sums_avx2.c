// Fast-math float box sums with AVX2, for CPUs without AVX-512: the passes of fast_box_sums.c (and of
// NDImage/FastBoxSums.swift, `runFastBoxSum` then `fastBoxSumStore`) with the same additions in the same
// order, so the same bits, in 4-double vectors. The rows and plans they take, the scratch and the order of
// the vertical passes are those of fast_box_sums_driver.h; what differs from the AVX-512 file is the
// vector width and how a direct plan's row keeps its column sums in registers: for windows of 3 and 5
// columns at unaligned columns, shifted by vperm2f128 / vshufpd (AVX2 has no two-source permute of
// doubles), other lengths through the scratch row in steps of 256 columns. Each output element is a
// function of its own window only, so the layout does not change a bit. Compiled without fast-math:
// every addition is explicit. The one fused multiply-add is explicit too: a mean's finish (s + 0.0) x
// factor as fma(s, factor, +0.0), the same bits for a factor > 0 (s + 0.0 differs from s only at s =
// -0.0, where both give +0.0; elsewhere the product is rounded once either way), and it takes the add off
// Zen's two add pipes, which the conversions and sums fill. Nothing in the file multiplies then adds
// otherwise, and clang's `fp contract(off)` below would keep it from fusing such a pair if something did.

#include "fast_box_sums.h"
#include "fast_box_sums_avx2.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "avx2_switch.h"

#pragma clang fp contract(off)
#define FJ_FBS_TARGET __attribute__((target("avx2,fma")))
#define FJ_FBS_INLINE inline __attribute__((always_inline))
#include "fast_box_sums_scalar.h"

static int fj_fbs_avx2_cached = -1;
// (Every AVX2 CPU made has FMA too; the switch checks it all the same.)
int filterjit_fast_box_sum_avx2(void) { return fj_avx2_switch(&fj_fbs_avx2_cached) && __builtin_cpu_supports("fma"); }
void filterjit_fast_box_sum_set_avx2(int enabled) { fj_avx2_switch_set(&fj_fbs_avx2_cached, enabled); }

FJ_FBS_TARGET static FJ_FBS_INLINE __m256d fj_fbs_finish4(__m256d s, __m256d factor, __m256d divisor, int divide) {
    if (!divide) return _mm256_fmadd_pd(s, factor, _mm256_setzero_pd());
    return _mm256_div_pd(_mm256_add_pd(s, _mm256_setzero_pd()), divisor);
}

FJ_FBS_TARGET static FJ_FBS_INLINE __m256d fj_fbs_load(const void *p, ptrdiff_t x, int f32) {
    if (f32) return _mm256_cvtps_pd(_mm_loadu_ps((const float *)p + x));
    return _mm256_loadu_pd((const double *)p + x);
}

// d = widen(src) (`fastBoxSumWiden`).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_widen(const void *src, double *d, ptrdiff_t n, int f32) {
    ptrdiff_t x = 0;
    for (; x + 4 <= n; x += 4) _mm256_storeu_pd(d + x, fj_fbs_load(src, x, f32));
    for (; x < n; x++) d[x] = fj_fbs_load1(src, x, f32);
}

// d = d + src (`fastBoxSumAccumulateWidened`).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_accumulate(const void *src, double *d, ptrdiff_t n, int f32) {
    ptrdiff_t x = 0;
    for (; x + 4 <= n; x += 4) _mm256_storeu_pd(d + x, _mm256_add_pd(_mm256_loadu_pd(d + x), fj_fbs_load(src, x, f32)));
    for (; x < n; x++) d[x] = d[x] + fj_fbs_load1(src, x, f32);
}

// d = src + below, or widen(src) when below is NULL (`fastBoxSumAddWidened`, `fastBoxSumWiden`).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_add_row(const void *src, const double *below, double *d, ptrdiff_t n, int f32) {
    ptrdiff_t x = 0;
    if (below) {
        for (; x + 8 <= n; x += 8) {
            _mm256_storeu_pd(d + x, _mm256_add_pd(fj_fbs_load(src, x, f32), _mm256_loadu_pd(below + x)));
            _mm256_storeu_pd(d + x + 4, _mm256_add_pd(fj_fbs_load(src, x + 4, f32), _mm256_loadu_pd(below + x + 4)));
        }
        for (; x < n; x++) d[x] = fj_fbs_load1(src, x, f32) + below[x];
    } else {
        fj_fbs_widen(src, d, n, f32);
    }
}

// The suffix sums of rows hi, hi - 1, ..., lo (at most 8): d[t] = src[t] + d[t - 1], starting from
// src[0] + below, or widen(src[0]) when below is NULL; a row at a time (the row below is in L1).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_suffixes(const void *const *src, double *const *d, int count, const double *below,
                                                        ptrdiff_t n, int f32) {
    for (int t = 0; t < count; t++) fj_fbs_add_row(src[t], t == 0 ? below : d[t - 1], d[t], n, f32);
}

// The column sums at c ..< c + 4 of a row's vertical pass by mode (a constant where the caller makes it one;
// the additions and operand order of fast_box_sums_scalar.h's modes and of fj_fbs_add_row for the first
// row), with the stores to the pair and prefix rows: the one definition the steps' passes
// (FJ_FBS_PREFIX4, FJ_FBS_THREE4) and the register middle share.
FJ_FBS_TARGET static FJ_FBS_INLINE __m256d fj_fbs_column4(const int MODE, const void *w0, const void *w1, const void *w2,
                                                          const double *suffix, double *prefix, double *pair, ptrdiff_t c, int f32) {
    if (MODE < FJ_FBS_START_PREFIX) {
        __m256d c2 = fj_fbs_load(w2, c, f32);
        if (MODE == FJ_FBS_LEFT_PAIR) return _mm256_add_pd(_mm256_loadu_pd(pair + c), c2);
        if (MODE == FJ_FBS_LEFT) return _mm256_add_pd(_mm256_add_pd(fj_fbs_load(w0, c, f32), fj_fbs_load(w1, c, f32)), c2);
        __m256d p = _mm256_add_pd(fj_fbs_load(w1, c, f32), c2);
        if (MODE == FJ_FBS_RIGHT_KEEP) _mm256_storeu_pd(pair + c, p);
        return _mm256_add_pd(fj_fbs_load(w0, c, f32), p);
    }
    if (MODE == FJ_FBS_FIRST_ROW) return _mm256_add_pd(fj_fbs_load(w2, c, f32), _mm256_loadu_pd(suffix + c));
    __m256d p = MODE == FJ_FBS_START_PREFIX ? fj_fbs_load(w2, c, f32) : _mm256_add_pd(_mm256_loadu_pd(prefix + c), fj_fbs_load(w2, c, f32));
    _mm256_storeu_pd(prefix + c, p);
    return _mm256_add_pd(_mm256_loadu_pd(suffix + c), p);
}

// Columns x ..< x + 4: p = src (`first`) or prefix + src, prefix = p, columns = suffix + p.
#define FJ_FBS_PREFIX4(X, FIRST)                                                                                       \
    _mm256_storeu_pd(columns + (X), fj_fbs_column4(FIRST ? FJ_FBS_START_PREFIX : FJ_FBS_CONTINUE_PREFIX, NULL, NULL, src, \
                                                   suffix, prefix, NULL, (X), f32))

// prefix = src (`FIRST`, `fastBoxSumStartPrefix`) or prefix + src (`fastBoxSumContinuePrefix`);
// columns = suffix + prefix. `ahead`: the next output row's input row, fetched a row early, one cache
// line per 16 columns.
#define FJ_FBS_PREFIX_PASS(NAME, FIRST)                                                                                \
    FJ_FBS_TARGET static FJ_FBS_INLINE void NAME(const void *src, const double *suffix, double *prefix, double *columns, \
                                                 ptrdiff_t n, int f32, const char *ahead) {                            \
        ptrdiff_t x = 0;                                                                                               \
        for (; x + 16 <= n; x += 16) {                                                                                 \
            if (ahead) {                                                                                               \
                _mm_prefetch(ahead + x * (f32 ? 4 : 8), _MM_HINT_T0);                                                  \
                if (!f32) _mm_prefetch(ahead + x * 8 + 64, _MM_HINT_T0);                                               \
            }                                                                                                          \
            FJ_FBS_PREFIX4(x, FIRST);                                                                                       \
            FJ_FBS_PREFIX4(x + 4, FIRST);                                                                                   \
            FJ_FBS_PREFIX4(x + 8, FIRST);                                                                                   \
            FJ_FBS_PREFIX4(x + 12, FIRST);                                                                                  \
        }                                                                                                              \
        for (; x + 4 <= n; x += 4) FJ_FBS_PREFIX4(x, FIRST);                                                                \
        for (; x < n; x++) {                                                                                           \
            double p = FIRST ? fj_fbs_load1(src, x, f32) : prefix[x] + fj_fbs_load1(src, x, f32);                      \
            prefix[x] = p;                                                                                             \
            columns[x] = suffix[x] + p;                                                                                \
        }                                                                                                              \
    }
FJ_FBS_PREFIX_PASS(fj_fbs_start_prefix, 1)
FJ_FBS_PREFIX_PASS(fj_fbs_continue_prefix, 0)
#undef FJ_FBS_PREFIX_PASS
#undef FJ_FBS_PREFIX4

// ((s[0] + s[1]) + s[2]) + ... + s[count - 1], 4 lanes (`pairwiseFold`'s order).
FJ_FBS_TARGET static FJ_FBS_INLINE __m256d fj_fbs_fold(const double *s, int count) {
    __m256d v = _mm256_loadu_pd(s);
    for (int c = 1; c < count; c++) v = _mm256_add_pd(v, _mm256_loadu_pd(s + c));
    return v;
}

// The window sums at x ..< x + 4 (`fj_fbs_sum1`'s order).
FJ_FBS_TARGET static FJ_FBS_INLINE __m256d fj_fbs_sum4(const fj_fbs_row *h, ptrdiff_t x, int direct, int length, int a) {
    if (direct) return fj_fbs_fold(h->source + x, length);
    __m256d v = _mm256_loadu_pd(h->level + x);
    for (int m = 1; m < h->b; m++) v = _mm256_add_pd(v, _mm256_loadu_pd(h->level + x + m * a));
    const double *tail = h->source + x + h->b * a;
    for (int q = 0; q < h->r; q++) v = _mm256_add_pd(v, _mm256_loadu_pd(tail + q));
    return v;
}

// Columns q + m ..< q + m + 4 from the column vectors C[j] (columns q + 4j ...) and their middles P[j]
// (columns q + 4j + 2 ..., vperm2f128 of C[j] and C[j + 1]).
FJ_FBS_TARGET static FJ_FBS_INLINE __m256d fj_fbs_shifted4(const __m256d *C, const __m256d *P, int m) {
    const int j = m >> 2;
    switch (m & 3) {
    case 0: return C[j];
    case 1: return _mm256_shuffle_pd(C[j], P[j], 5);
    case 2: return P[j];
    default: return _mm256_shuffle_pd(P[j], C[j + 1], 5);
    }
}

// ((T[s] + T[s + 1]) + T[s + 2]) + ... + T[s + LENGTH - 1] (`fj_fbs_fold`'s order), T[m] the columns from q + m.
FJ_FBS_TARGET static FJ_FBS_INLINE __m256d fj_fbs_fold_registers(const __m256d *C, const __m256d *P, int s, const int LENGTH) {
    __m256d v = fj_fbs_shifted4(C, P, s);
    for (int m = 1; m < LENGTH; m++) v = _mm256_add_pd(v, fj_fbs_shifted4(C, P, s + m));
    return v;
}

// level[x] = fold(source + x, A) for x < m (the factored plan's first pass), A <= 5 from registers: one load
// per 4 positions, the other operands shifted by vperm2f128 / vshufpd (fj_fbs_fold_registers; the same
// additions as fj_fbs_fold). It reads source[m ... m + 3]: the extended row's padding (initialised).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_level(const double *source, double *level, ptrdiff_t m, const int A) {
    ptrdiff_t x = 0;
    if (A >= 2 && A <= 5) {
        __m256d C[2], P[1];
        C[0] = _mm256_loadu_pd(source);
        for (; x + 4 <= m; x += 4) {
            C[1] = _mm256_loadu_pd(source + x + 4);
            P[0] = _mm256_permute2f128_pd(C[0], C[1], 0x21);
            _mm256_storeu_pd(level + x, fj_fbs_fold_registers(C, P, 0, A));
            C[0] = C[1];
        }
    }
    for (; x + 4 <= m; x += 4) _mm256_storeu_pd(level + x, fj_fbs_fold(source + x, A));
    for (; x < m; x++) level[x] = fj_fbs_fold1(source + x, A);
}

// One chunk of `count` outputs: out[x] = finish(sum(x)), 32-byte aligned vectors in the middle (the
// factored plan's first pass, windows of a columns, into `level` first).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_chunk(const double *source, double *level, ptrdiff_t count, int f32, int direct,
                                                     int length, int a, int b, int r, double factor, void *out) {
    fj_fbs_row h = {source, level, b, r};
    if (!direct) {
        // Windows of a columns at positions < count + (b - 1) a.
        fj_fbs_level(source, level, count + (ptrdiff_t)(b - 1) * a, a);
    }
    const __m256d f = _mm256_set1_pd(factor);
    const int divide = fj_fbs_divisor != 0, stream = fj_fbs_stream;
    const __m256d dv = _mm256_set1_pd(divide ? fj_fbs_divisor : 1.0);
    ptrdiff_t x = 0;
    // The middle's loops for each (divide, stream): the flags are constants inside them.
#define FJ_FBS_MIDDLE_F32(DIVIDE, STREAM)                                                                              \
    for (; x + 8 <= count; x += 8) {                                                                                   \
        __m128 lo = _mm256_cvtpd_ps(fj_fbs_finish4(fj_fbs_sum4(&h, x, direct, length, a), f, dv, DIVIDE));            \
        __m128 hi = _mm256_cvtpd_ps(fj_fbs_finish4(fj_fbs_sum4(&h, x + 4, direct, length, a), f, dv, DIVIDE));        \
        __m256 both = _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);                                         \
        if (STREAM) _mm256_stream_ps(o + x, both); else _mm256_store_ps(o + x, both);                                 \
    }
#define FJ_FBS_MIDDLE_F64(DIVIDE, STREAM)                                                                              \
    for (; x + 4 <= count; x += 4) {                                                                                   \
        __m256d v = fj_fbs_finish4(fj_fbs_sum4(&h, x, direct, length, a), f, dv, DIVIDE);                              \
        if (STREAM) _mm256_stream_pd(o + x, v); else _mm256_store_pd(o + x, v);                                        \
    }
    if (f32) {
        float *o = (float *)out;
        while (x < count && ((uintptr_t)(o + x) & 31) != 0) { o[x] = (float)fj_fbs_finish1(fj_fbs_sum1(&h, x, direct, length, a), factor); x++; }
        if (divide) { if (stream) { FJ_FBS_MIDDLE_F32(1, 1) } else { FJ_FBS_MIDDLE_F32(1, 0) } }
        else if (stream) { FJ_FBS_MIDDLE_F32(0, 1) } else { FJ_FBS_MIDDLE_F32(0, 0) }
        for (; x < count; x++) o[x] = (float)fj_fbs_finish1(fj_fbs_sum1(&h, x, direct, length, a), factor);
    } else {
        double *o = (double *)out;
        while (x < count && ((uintptr_t)(o + x) & 31) != 0) { o[x] = fj_fbs_finish1(fj_fbs_sum1(&h, x, direct, length, a), factor); x++; }
        if (divide) { if (stream) { FJ_FBS_MIDDLE_F64(1, 1) } else { FJ_FBS_MIDDLE_F64(1, 0) } }
        else if (stream) { FJ_FBS_MIDDLE_F64(0, 1) } else { FJ_FBS_MIDDLE_F64(0, 0) }
        for (; x < count; x++) o[x] = fj_fbs_finish1(fj_fbs_sum1(&h, x, direct, length, a), factor);
    }
#undef FJ_FBS_MIDDLE_F32
#undef FJ_FBS_MIDDLE_F64
}

// The chunk loop with the fold lengths as constants (unrolled). Chunks end where the output is 32-byte
// aligned, so that only the row's ends take the scalar loops. (BLOCKS: the AVX-512 file's choice of folds
// from whole vectors; here every fold loads.)
#define FJ_FBS_ROWBR(NAME, F32, DIRECT, LENGTH, A, B, R, BLOCKS)                                                           \
    FJ_FBS_TARGET static void NAME(const double *source, double *level, ptrdiff_t n, int b, int r, double factor,        \
                                   void *out) {                                                                        \
        (void)b; (void)r;                                                                                              \
        const ptrdiff_t size = (F32) ? 4 : 8, vector = 32 / size;                                                      \
        uintptr_t misaligned = (uintptr_t)out & 31;                                                                    \
        ptrdiff_t lead = misaligned % (uintptr_t)size == 0 ? (ptrdiff_t)((32 - misaligned) & 31) / size : 0;           \
        ptrdiff_t first = lead + (FJ_FBS_CHUNK - lead) / vector * vector;                                              \
        for (ptrdiff_t x0 = 0; x0 < n;) {                                                                              \
            ptrdiff_t end = x0 == 0 ? first : x0 + FJ_FBS_CHUNK;                                                       \
            ptrdiff_t width = (end < n ? end : n) - x0;                                                                \
            fj_fbs_chunk(source + x0, level, width, F32, DIRECT, LENGTH, A, B, R, factor,                              \
                         (F32) ? (void *)((float *)out + x0) : (void *)((double *)out + x0));                         \
            x0 += width;                                                                                               \
        }                                                                                                              \
    }

FJ_FBS_ROWS(1, f32)
FJ_FBS_ROWS(0, f64)

// The factored plans of the other lengths from 10 to 30 (`FastBoxSumHorizontal`) with their fold lengths as
// constants too: with run-time lengths they lost to the van Herk rows, compiled this way they beat them
// (2048x2048 float32 means, the whole passes: 11 5.2 -> 4.3 ms, 21 5.5 -> 4.9, 29 5.5 -> 5.0; from 33 on
// the van Herk rows are as fast or faster). The AVX-512 file runs these plans with run-time lengths: the
// same additions, so the same bits.
#define FJ_FBS_PLANS(X)                                                                                                \
    X(2, 5, 0) X(2, 5, 1) X(3, 4, 0) X(3, 4, 1) X(2, 7, 0) X(4, 4, 0) X(4, 4, 1) X(3, 6, 0) X(3, 6, 1) X(4, 5, 0)      \
    X(3, 7, 0) X(3, 7, 1) X(4, 5, 3) X(4, 6, 0) X(5, 5, 0) X(5, 5, 1) X(5, 5, 2) X(4, 7, 0) X(4, 7, 1) X(5, 6, 0)
#define FJ_FBS_PLAN_ROWS(A, B, R)                                                                                      \
    FJ_FBS_ROWBR(fj_fbs_factored##A##B##R##_f32, 1, 0, 0, A, B, R, 1)                                                 \
    FJ_FBS_ROWBR(fj_fbs_factored##A##B##R##_f64, 0, 0, 0, A, B, R, 1)
FJ_FBS_PLANS(FJ_FBS_PLAN_ROWS)
#undef FJ_FBS_PLAN_ROWS

// The row function of factored plan (a, b, r) with constant fold lengths, or NULL (fast_box_sums_driver.h).
static fj_fbs_row_fn fj_fbs_specialised(ptrdiff_t a, ptrdiff_t b, ptrdiff_t r, int out32) {
#define FJ_FBS_PLAN_PICK(A, B, R)                                                                                      \
    if (a == A && b == B && r == R) return out32 ? fj_fbs_factored##A##B##R##_f32 : fj_fbs_factored##A##B##R##_f64;
    FJ_FBS_PLANS(FJ_FBS_PLAN_PICK)
#undef FJ_FBS_PLAN_PICK
    return NULL;
}
#define FJ_FBS_SPECIALISED_PLANS 1

// Columns per step of a row with a direct plan (`fj_fbs_fused_row`).
enum { FJ_FBS_STEP = 256 };

// Columns x ..< x + 4 of a three-row mode (fast_box_sums_scalar.h).
#define FJ_FBS_THREE4(X) _mm256_storeu_pd(columns + (X), fj_fbs_column4(mode, w0, w1, w2, NULL, NULL, pair, (X), f32))

// Columns 0 ..< n of a three-row mode (the rows, pair and columns start at the step's first column).
// `ahead`: the next output row's new input row, fetched a row early.
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_three_rows(int mode, const void *w0, const void *w1, const void *w2, double *pair,
                                                          double *columns, ptrdiff_t n, int f32, const char *ahead) {
    ptrdiff_t x = 0;
    for (; x + 16 <= n; x += 16) {
        if (ahead) {
            _mm_prefetch(ahead + x * (f32 ? 4 : 8), _MM_HINT_T0);
            if (!f32) _mm_prefetch(ahead + x * 8 + 64, _MM_HINT_T0);
        }
        FJ_FBS_THREE4(x);
        FJ_FBS_THREE4(x + 4);
        FJ_FBS_THREE4(x + 8);
        FJ_FBS_THREE4(x + 12);
    }
    for (; x + 4 <= n; x += 4) FJ_FBS_THREE4(x);
    for (; x < n; x++) columns[x] = fj_fbs_three1(mode, w0, w1, w2, pair, x, f32);
}
#undef FJ_FBS_THREE4

#include "fast_box_sums_vertical.h"

// A row with a direct plan by steps (`fj_fbs_fused_row` below, for the rows the middle in registers does
// not take): the column sums into the scratch row FJ_FBS_STEP columns at a time, each step followed
// by the horizontal pass of the outputs whose windows it completed (those whose windows lie inside the
// row; the step's columns are still in L1), then the edge positions and the outputs that read them (the
// row's ends). The same operations as the separate passes.
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_fused_row_steps(int f32, int out32, int mode, const void *w0, const void *w1, const void *w2,
                                                               const double *suffix, double *prefix, double *pair, double *extended,
                                                               ptrdiff_t n, ptrdiff_t centre, ptrdiff_t start, int length,
                                                               const ptrdiff_t *lastMap, ptrdiff_t extendedLength, double cvalColumn,
                                                               fj_fbs_row_fn row_fn, double factor, void *o, const char *ahead) {
    double *columns = extended + centre;
    const ptrdiff_t size = out32 ? 4 : 8, d = start - centre;
    ptrdiff_t leftEnd = centre < extendedLength ? centre : extendedLength;
    ptrdiff_t rightStart = centre + n < extendedLength ? centre + n : extendedLength;
    // Output x reads columns x + d ... x + d + length - 1: inside the row for x0 <= x < x1.
    ptrdiff_t x0 = d < 0 ? -d : 0, x1 = n - d - (length - 1);
    if (x0 > n) x0 = n;
    if (x1 > n) x1 = n;
    if (x1 < x0) x1 = x0;
    ptrdiff_t done = x0;
    for (ptrdiff_t q = 0; q < n; q += FJ_FBS_STEP) {
        const ptrdiff_t count = n - q < FJ_FBS_STEP ? n - q : FJ_FBS_STEP;
        fj_fbs_vertical_pass(mode, w0, w1, w2, suffix, prefix, pair, columns, q, count, f32, ahead);
        // The outputs whose last column is below q + count, up to an output at a 32-byte boundary
        // (the row pass stores whole aligned vectors from there).
        ptrdiff_t limit = q + count - d - (length - 1);
        if (limit >= x1) limit = x1;
        else limit -= (ptrdiff_t)(((uintptr_t)o + (uintptr_t)(limit * size)) % 32 / (uintptr_t)size);
        if (limit > done) {
            row_fn(extended + start + done, NULL, limit - done, 0, 0, factor, (char *)o + done * size);
            done = limit;
        }
    }
    fj_fbs_extend(extended, columns, lastMap, leftEnd, rightStart, extendedLength, cvalColumn);
    if (x0 > 0) row_fn(extended + start, NULL, x0, 0, 0, factor, o);
    if (done < n) row_fn(extended + start + done, NULL, n - done, 0, 0, factor, (char *)o + done * size);
}

// The middle outputs x0 ..< x1 (steps of 8 float32 or 4 float64 outputs, stores aligned) of a row whose
// column sums stay in registers: output x's window is columns x + d ... x + d + LENGTH - 1, the columns
// q = x + d ... computed once each by MODE (both constants) and shifted into place by vperm2f128 and
// vshufpd. The J column vectors of the first step go to the column row too, and those of the last step
// that the outputs from x1 read; returns where the middle's columns end (q of the last step + 4J).
FJ_FBS_TARGET static FJ_FBS_INLINE ptrdiff_t fj_fbs_middle_registers(const int MODE, const int LENGTH, int f32, int out32, const void *w0,
                                                                     const void *w1, const void *w2, const double *suffix, double *prefix,
                                                                     double *pair, double *columns, ptrdiff_t d, ptrdiff_t x0, ptrdiff_t x1,
                                                                     double factor, void *o, const char *ahead) {
    const int V = out32 ? 8 : 4, J = (V + LENGTH - 1 + 3) / 4, isize = f32 ? 4 : 8;
    const __m256d f = _mm256_set1_pd(factor);
    const int divide = fj_fbs_divisor != 0, stream = fj_fbs_stream;
    const __m256d dv = _mm256_set1_pd(divide ? fj_fbs_divisor : 1.0);
    __m256d C[4], P[4];
    ptrdiff_t q = x0 + d;
    for (int j = 0; j < J; j++) {
        C[j] = fj_fbs_column4(MODE, w0, w1, w2, suffix, prefix, pair, q + 4 * j, f32);
        _mm256_storeu_pd(columns + q + 4 * j, C[j]);
    }
    for (ptrdiff_t x = x0;; x += V, q += V) {
        if (ahead) _mm_prefetch(ahead + (q + 32) * isize, _MM_HINT_T0);
        for (int j = 0; j + 1 < J; j++) P[j] = _mm256_permute2f128_pd(C[j], C[j + 1], 0x21);
        __m256d lo = fj_fbs_finish4(fj_fbs_fold_registers(C, P, 0, LENGTH), f, dv, divide);
        if (out32) {
            __m256d hi = fj_fbs_finish4(fj_fbs_fold_registers(C, P, 4, LENGTH), f, dv, divide);
            __m256 both = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
            if (stream) _mm256_stream_ps((float *)o + x, both); else _mm256_store_ps((float *)o + x, both);
        } else {
            if (stream) _mm256_stream_pd((double *)o + x, lo); else _mm256_store_pd((double *)o + x, lo);
        }
        if (x + V >= x1) break;
        for (int j = 0; j + V / 4 < J; j++) C[j] = C[j + V / 4];
        for (int j = J - V / 4; j < J; j++) C[j] = fj_fbs_column4(MODE, w0, w1, w2, suffix, prefix, pair, q + V + 4 * j, f32);
    }
    for (int j = V / 4; j < J; j++) _mm256_storeu_pd(columns + q + 4 * j, C[j]);
    return q + 4 * J;
}

// A row with a direct plan (any row of a three-row box, or a van Herk row of a box of two or more rows:
// `mode`, with src = w2 for the van Herk modes; `f32` the input rows' type, `out32` the output's; the
// same interface as the AVX-512 file's). Windows of 3 and 5 columns: the middle of the row with its
// column sums in registers (`fj_fbs_middle_registers`; on Zen 3 a float32 3x3 box ran 1.3x faster
// without the column row's stores and reloads and the steps' mode test per vector), the row's ends
// through the column row; other lengths, short rows, outputs not aligned to their element size and edge
// positions that copy columns the middle does not store take the steps. The same additions either way.
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_fused_row(int f32, int out32, int mode, const void *w0, const void *w1, const void *w2,
                                                         const double *suffix, double *prefix, double *pair, double *extended,
                                                         ptrdiff_t n, ptrdiff_t centre, ptrdiff_t start, int length,
                                                         const ptrdiff_t *lastMap, ptrdiff_t extendedLength, double cvalColumn,
                                                         ptrdiff_t lowTarget, ptrdiff_t highTarget, fj_fbs_row_fn row_fn,
                                                         double factor, void *o, const char *ahead) {
    const ptrdiff_t d = start - centre, size = out32 ? 4 : 8, V = out32 ? 8 : 4, J = (V + length - 1 + 3) / 4;
    // The middle outputs x0 ..< x1: x0 the first whose window starts in the row, moved to a 32-byte
    // aligned store; x1 such that the last step's columns (up to x1 - V + d + 4J) stay in the row.
    ptrdiff_t x0 = d < 0 ? -d : 0, x1 = x0;
    const uintptr_t at = (uintptr_t)o + (uintptr_t)(x0 * size);
    if (at % (uintptr_t)size == 0) x0 += (ptrdiff_t)((32 - at % 32) % 32) / size;
    const ptrdiff_t room = n - d - 4 * J + V;  // x1 <= room
    if (room > x0) x1 = x0 + (((room < n ? room : n) - x0) / V) * V;
    // (An output not aligned to its element size cannot have aligned vector stores: the steps, whose row
    // functions store it element by element, as the AVX-512 file does.)
    if (at % (uintptr_t)size != 0 || (length != 3 && length != 5) || x1 - x0 < 2 * V || lowTarget >= x0 + d + 4 * J ||
        highTarget < x1 + d) {
        fj_fbs_fused_row_steps(f32, out32, mode, w0, w1, w2, suffix, prefix, pair, extended, n, centre, start, length, lastMap,
                               extendedLength, cvalColumn, row_fn, factor, o, ahead);
        return;
    }
    double *columns = extended + centre;
    const ptrdiff_t q0 = x0 + d;
    fj_fbs_vertical_pass(mode, w0, w1, w2, suffix, prefix, pair, columns, 0, q0, f32, ahead);
    ptrdiff_t qEnd = 0;
#define FJ_FBS_MIDDLE(MODE, LENGTH)                                                                                    \
    qEnd = fj_fbs_middle_registers(MODE, LENGTH, f32, out32, w0, w1, w2, suffix, prefix, pair, columns, d, x0, x1, factor, o, ahead)
#define FJ_FBS_MIDDLE_MODE(LENGTH)                                                                                     \
    switch (mode) {                                                                                                    \
    case FJ_FBS_RIGHT: FJ_FBS_MIDDLE(FJ_FBS_RIGHT, LENGTH); break;                                                     \
    case FJ_FBS_RIGHT_KEEP: FJ_FBS_MIDDLE(FJ_FBS_RIGHT_KEEP, LENGTH); break;                                           \
    case FJ_FBS_LEFT: FJ_FBS_MIDDLE(FJ_FBS_LEFT, LENGTH); break;                                                       \
    case FJ_FBS_LEFT_PAIR: FJ_FBS_MIDDLE(FJ_FBS_LEFT_PAIR, LENGTH); break;                                             \
    case FJ_FBS_START_PREFIX: FJ_FBS_MIDDLE(FJ_FBS_START_PREFIX, LENGTH); break;                                       \
    case FJ_FBS_CONTINUE_PREFIX: FJ_FBS_MIDDLE(FJ_FBS_CONTINUE_PREFIX, LENGTH); break;                                 \
    default: FJ_FBS_MIDDLE(FJ_FBS_FIRST_ROW, LENGTH); break;                                                           \
    }
    if (length == 3) { FJ_FBS_MIDDLE_MODE(3) } else { FJ_FBS_MIDDLE_MODE(5) }
#undef FJ_FBS_MIDDLE_MODE
#undef FJ_FBS_MIDDLE
    fj_fbs_vertical_pass(mode, w0, w1, w2, suffix, prefix, pair, columns, qEnd, n - qEnd, f32, ahead);
    ptrdiff_t leftEnd = centre < extendedLength ? centre : extendedLength;
    ptrdiff_t rightStart = centre + n < extendedLength ? centre + n : extendedLength;
    fj_fbs_extend(extended, columns, lastMap, leftEnd, rightStart, extendedLength, cvalColumn);
    if (x0 > 0) row_fn(extended + start, NULL, x0, 0, 0, factor, o);
    if (x1 < n) row_fn(extended + start + x1, NULL, n - x1, 0, 0, factor, (char *)o + x1 * size);
}

static FJ_FBS_INLINE void fj_fbs_sfence(void) { _mm_sfence(); }

// Two rows of a block's van Herk pass at once (rows i and i + 1, i >= 1; `first`: i = 1): p = src1 (first) or
// prefix + src1, columns1 = suffix1 + p, p = p + src2, columns2 = suffix2 + p, prefix = p: the additions of two
// fj_fbs_start_prefix / fj_fbs_continue_prefix passes, with the prefix row loaded and stored once. `ahead`: the
// input row after src2, fetched early. (The factored plans and van Herk rows, which take a whole column row
// each: fast_box_sums_driver.h.)
FJ_FBS_TARGET static void fj_fbs_prefix_pair(int first, const void *src1, const void *src2, const double *suffix1,
                                             const double *suffix2, double *prefix, double *columns1, double *columns2,
                                             ptrdiff_t n, int f32, const char *ahead) {
    ptrdiff_t x = 0;
#define FJ_FBS_PAIR4(X, FIRST)                                                                                         \
    {                                                                                                                  \
        __m256d p = (FIRST) ? fj_fbs_load(src1, (X), f32) : _mm256_add_pd(_mm256_loadu_pd(prefix + (X)), fj_fbs_load(src1, (X), f32)); \
        _mm256_storeu_pd(columns1 + (X), _mm256_add_pd(_mm256_loadu_pd(suffix1 + (X)), p));                          \
        p = _mm256_add_pd(p, fj_fbs_load(src2, (X), f32));                                                             \
        _mm256_storeu_pd(prefix + (X), p);                                                                             \
        _mm256_storeu_pd(columns2 + (X), _mm256_add_pd(_mm256_loadu_pd(suffix2 + (X)), p));                          \
    }
#define FJ_FBS_PAIR_LOOP(FIRST)                                                                                        \
    for (; x + 8 <= n; x += 8) {                                                                                       \
        if (ahead && (x & 15) == 0) {                                                                                  \
            _mm_prefetch(ahead + x * (f32 ? 4 : 8), _MM_HINT_T0);                                                      \
            if (!f32) _mm_prefetch(ahead + x * 8 + 64, _MM_HINT_T0);                                                   \
        }                                                                                                              \
        FJ_FBS_PAIR4(x, FIRST)                                                                                         \
        FJ_FBS_PAIR4(x + 4, FIRST)                                                                                     \
    }                                                                                                                  \
    for (; x + 4 <= n; x += 4) FJ_FBS_PAIR4(x, FIRST)
    if (first) { FJ_FBS_PAIR_LOOP(1) } else { FJ_FBS_PAIR_LOOP(0) }
#undef FJ_FBS_PAIR_LOOP
#undef FJ_FBS_PAIR4
    for (; x < n; x++) {
        double p = first ? fj_fbs_load1(src1, x, f32) : prefix[x] + fj_fbs_load1(src1, x, f32);
        columns1[x] = suffix1[x] + p;
        p = p + fj_fbs_load1(src2, x, f32);
        prefix[x] = p;
        columns2[x] = suffix2[x] + p;
    }
}
#define FJ_FBS_PAIRED_PREFIX 1

// (These passes also take float32 rows into float64 output rows: a compiled tail's sums.)
#define FJ_FBS_F32_TO_F64 1
#include "fast_box_sums_driver.h"

int fj_fbs_avx2_sums(int f32, int out32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount, ptrdiff_t y0, ptrdiff_t y1,
                     ptrdiff_t n, ptrdiff_t k, ptrdiff_t top, const ptrdiff_t *lastMap, ptrdiff_t extendedLength,
                     ptrdiff_t centre, ptrdiff_t start, ptrdiff_t length, ptrdiff_t a, ptrdiff_t b, ptrdiff_t r,
                     double cvalColumn, double factor, double divisor, void *out, ptrdiff_t outRowStride, int stream) {
    // The finish's fused multiply-add gives (s + 0.0) x factor's bits only for a factor > 0 (1 or 1 / n).
    if (divisor == 0 && !(factor > 0)) return 0;
    return fj_fbs_sums(f32, out32, rows, rowBase, rowCount, y0, y1, n, k, top, lastMap, extendedLength, centre, start, length, a, b, r,
                       cvalColumn, factor, divisor, out, outRowStride, stream);
}

#else

int filterjit_fast_box_sum_avx2(void) { return 0; }
void filterjit_fast_box_sum_set_avx2(int enabled) { (void)enabled; }
// (fj_fbs_avx2_sums is not built: fast_box_sums.c calls it only on x86-64.)

#endif
