// Fast-math float box sums with AVX-512 (see include/fast_box_sums.h): the passes of
// NDImage/FastBoxSums.swift (`runFastBoxSum` then `fastBoxSumStore`) with the same additions in the
// same order, so the same bits (this file is compiled without fast-math, every addition is explicit
// and nothing is multiplied then added, so no contraction applies). What differs is only how the
// work is laid out:
//   - the vertical passes (suffix sums of a block, the prefix update fused with the column sums) in
//     8-double vectors, float32 rows widened with vcvtps2pd as they are loaded;
//   - the horizontal windows and the store fused: each window sum goes straight from registers
//     through `(s + 0.0) x factor` (and the float rounding) to a non-temporal store, with no
//     result row; the factored plan's first pass (windows of a columns) writes one chunk row in L1;
//   - folds of fixed length unrolled in registers (no arrays of row pointers).
// Each output element is a function of its own window only (the tree does not depend on the chunk
// or the vector lane), so any loop order gives the Swift passes' bits.

#include "fast_box_sums.h"
#include "fast_box_sums_avx2.h"
#include "rank_kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define FJ_FBS_TARGET __attribute__((target("avx512f,avx512bw")))
#define FJ_FBS_INLINE inline __attribute__((always_inline))
#include "fast_box_sums_scalar.h"

#define FJ_FBS_HINT _MM_HINT_T0
// The aligned vectors of an output row (non-temporal when `fj_fbs_stream`).
#define FJ_FBS_STORE_PS(p, v) (fj_fbs_stream ? _mm512_stream_ps((p), (v)) : _mm512_store_ps((p), (v)))
#define FJ_FBS_STORE_PD(p, v) (fj_fbs_stream ? _mm512_stream_pd((p), (v)) : _mm512_store_pd((p), (v)))

FJ_FBS_TARGET static FJ_FBS_INLINE __m512d fj_fbs_finish8(__m512d s, __m512d factor, __m512d divisor, int divide) {
    const __m512d v = _mm512_add_pd(s, _mm512_setzero_pd());
    return divide ? _mm512_div_pd(v, divisor) : _mm512_mul_pd(v, factor);
}

FJ_FBS_TARGET static FJ_FBS_INLINE __m512d fj_fbs_load(const void *p, ptrdiff_t x, int f32) {
    if (f32) return _mm512_cvtps_pd(_mm256_loadu_ps((const float *)p + x));
    return _mm512_loadu_pd((const double *)p + x);
}

// d = widen(src) (`fastBoxSumWiden`).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_widen(const void *src, double *d, ptrdiff_t n, int f32) {
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) _mm512_storeu_pd(d + x, fj_fbs_load(src, x, f32));
    for (; x < n; x++) d[x] = fj_fbs_load1(src, x, f32);
}

// d = d + src (`fastBoxSumAccumulateWidened`).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_accumulate(const void *src, double *d, ptrdiff_t n, int f32) {
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) _mm512_storeu_pd(d + x, _mm512_add_pd(_mm512_loadu_pd(d + x), fj_fbs_load(src, x, f32)));
    for (; x < n; x++) d[x] = d[x] + fj_fbs_load1(src, x, f32);
}

// The suffix sums of rows hi, hi - 1, ..., lo (at most 8) in one pass: d[t] = src[t] + d[t - 1]
// (`fastBoxSumAddWidened`), starting from src[0] + below, or widen(src[0]) (`fastBoxSumWiden`)
// when below is NULL; the running sum stays in a register.
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_suffixes(const void *const *src, double *const *d, int count, const double *below,
                                                        ptrdiff_t n, int f32) {
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) {
        __m512d v = below ? _mm512_add_pd(fj_fbs_load(src[0], x, f32), _mm512_loadu_pd(below + x)) : fj_fbs_load(src[0], x, f32);
        _mm512_storeu_pd(d[0] + x, v);
        for (int t = 1; t < count; t++) {
            v = _mm512_add_pd(fj_fbs_load(src[t], x, f32), v);
            _mm512_storeu_pd(d[t] + x, v);
        }
    }
    for (; x < n; x++) {
        double v = below ? fj_fbs_load1(src[0], x, f32) + below[x] : fj_fbs_load1(src[0], x, f32);
        d[0][x] = v;
        for (int t = 1; t < count; t++) {
            v = fj_fbs_load1(src[t], x, f32) + v;
            d[t][x] = v;
        }
    }
}

// prefix = src; columns = suffix + prefix (`fastBoxSumStartPrefix`).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_start_prefix(const void *src, const double *suffix, double *prefix, double *columns,
                                                            ptrdiff_t n, int f32, const char *ahead) {
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) {
        if (ahead) _mm_prefetch(ahead + x * (f32 ? 4 : 8), FJ_FBS_HINT);
        __m512d p = fj_fbs_load(src, x, f32);
        _mm512_storeu_pd(prefix + x, p);
        _mm512_storeu_pd(columns + x, _mm512_add_pd(_mm512_loadu_pd(suffix + x), p));
    }
    for (; x < n; x++) {
        double p = fj_fbs_load1(src, x, f32);
        prefix[x] = p;
        columns[x] = suffix[x] + p;
    }
}

// prefix = prefix + src; columns = suffix + prefix (`fastBoxSumContinuePrefix`).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_continue_prefix(const void *src, const double *suffix, double *prefix, double *columns,
                                                               ptrdiff_t n, int f32, const char *ahead) {
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) {
        // The next output row's input row, one row ahead (it comes from memory).
        if (ahead) _mm_prefetch(ahead + x * (f32 ? 4 : 8), FJ_FBS_HINT);
        __m512d p = _mm512_add_pd(_mm512_loadu_pd(prefix + x), fj_fbs_load(src, x, f32));
        _mm512_storeu_pd(prefix + x, p);
        _mm512_storeu_pd(columns + x, _mm512_add_pd(_mm512_loadu_pd(suffix + x), p));
    }
    for (; x < n; x++) {
        double p = prefix[x] + fj_fbs_load1(src, x, f32);
        prefix[x] = p;
        columns[x] = suffix[x] + p;
    }
}

// Columns c ..< c + 8 of a three-row mode (fast_box_sums_scalar.h, FJ_FBS_RIGHT).
FJ_FBS_TARGET static FJ_FBS_INLINE __m512d fj_fbs_three8(int mode, const void *w0, const void *w1, const void *w2, double *pair,
                                                         ptrdiff_t c, int f32) {
    const __m512d c2 = fj_fbs_load(w2, c, f32);
    if (mode == FJ_FBS_LEFT_PAIR) return _mm512_add_pd(_mm512_loadu_pd(pair + c), c2);
    if (mode == FJ_FBS_LEFT) return _mm512_add_pd(_mm512_add_pd(fj_fbs_load(w0, c, f32), fj_fbs_load(w1, c, f32)), c2);
    const __m512d p = _mm512_add_pd(fj_fbs_load(w1, c, f32), c2);
    if (mode == FJ_FBS_RIGHT_KEEP) _mm512_storeu_pd(pair + c, p);
    return _mm512_add_pd(fj_fbs_load(w0, c, f32), p);
}

// Columns 0 ..< n of a three-row mode into `columns` (`ahead`: the next output row's new input row).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_three_rows(int mode, const void *w0, const void *w1, const void *w2, double *pair,
                                                          double *columns, ptrdiff_t n, int f32, const char *ahead) {
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) {
        if (ahead) _mm_prefetch(ahead + x * (f32 ? 4 : 8), FJ_FBS_HINT);
        _mm512_storeu_pd(columns + x, fj_fbs_three8(mode, w0, w1, w2, pair, x, f32));
    }
    for (; x < n; x++) columns[x] = fj_fbs_three1(mode, w0, w1, w2, pair, x, f32);
}

// ((s[0] + s[1]) + s[2]) + ... + s[count - 1], 8 lanes (`pairwiseFold`'s order).
FJ_FBS_TARGET static FJ_FBS_INLINE __m512d fj_fbs_fold(const double *s, int count) {
    __m512d v = _mm512_loadu_pd(s);
    for (int c = 1; c < count; c++) v = _mm512_add_pd(v, _mm512_loadu_pd(s + c));
    return v;
}

// The same fold from registers: lo = s[0 ..< 8], hi = s[8 ..< 16], count <= 8; s + c is the lanes
// c ... c + 7 of (lo, hi) (valignq), so a row pass loads each vector once instead of count times.
#define FJ_FBS_SHIFTED(C) _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(hi), _mm512_castpd_si512(lo), C))
FJ_FBS_TARGET static FJ_FBS_INLINE __m512d fj_fbs_fold_shifted(__m512d lo, __m512d hi, int count) {
    __m512d v = lo;
    if (count > 1) v = _mm512_add_pd(v, FJ_FBS_SHIFTED(1));
    if (count > 2) v = _mm512_add_pd(v, FJ_FBS_SHIFTED(2));
    if (count > 3) v = _mm512_add_pd(v, FJ_FBS_SHIFTED(3));
    if (count > 4) v = _mm512_add_pd(v, FJ_FBS_SHIFTED(4));
    if (count > 5) v = _mm512_add_pd(v, FJ_FBS_SHIFTED(5));
    if (count > 6) v = _mm512_add_pd(v, FJ_FBS_SHIFTED(6));
    if (count > 7) v = _mm512_add_pd(v, FJ_FBS_SHIFTED(7));
    return v;
}
#undef FJ_FBS_SHIFTED

FJ_FBS_TARGET static FJ_FBS_INLINE __m512d fj_fbs_sum8(const fj_fbs_row *h, ptrdiff_t x, int direct, int length, int a) {
    if (direct) return fj_fbs_fold(h->source + x, length);
    __m512d v = _mm512_loadu_pd(h->level + x);
    for (int m = 1; m < h->b; m++) v = _mm512_add_pd(v, _mm512_loadu_pd(h->level + x + m * a));
    const double *tail = h->source + x + h->b * a;
    for (int q = 0; q < h->r; q++) v = _mm512_add_pd(v, _mm512_loadu_pd(tail + q));
    return v;
}

// The level row's vector at offset o (a constant after unrolling) from the 64-byte blocks blk[0 ...].
FJ_FBS_TARGET static FJ_FBS_INLINE __m512d fj_fbs_level_at(const __m512d *blk, int o) {
    __m512i lo = _mm512_castpd_si512(blk[o / 8]), hi = _mm512_castpd_si512(blk[o / 8 + (o % 8 != 0)]);
    switch (o % 8) {
    case 1: return _mm512_castsi512_pd(_mm512_alignr_epi64(hi, lo, 1));
    case 2: return _mm512_castsi512_pd(_mm512_alignr_epi64(hi, lo, 2));
    case 3: return _mm512_castsi512_pd(_mm512_alignr_epi64(hi, lo, 3));
    case 4: return _mm512_castsi512_pd(_mm512_alignr_epi64(hi, lo, 4));
    case 5: return _mm512_castsi512_pd(_mm512_alignr_epi64(hi, lo, 5));
    case 6: return _mm512_castsi512_pd(_mm512_alignr_epi64(hi, lo, 6));
    case 7: return _mm512_castsi512_pd(_mm512_alignr_epi64(hi, lo, 7));
    default: return blk[o / 8];
    }
}

// The factored plan's second fold (`fj_fbs_sum8`'s order) with the level row read as whole
// vectors (aligned when the row is) and shifted in registers; a, b, r constants. With `loadOdd`
// (float32 rows) the odd terms are unaligned loads instead, balancing the load ports against the
// shuffle pipes (1.04-1.07x for float32 at 9-31 columns; float64 0.96-1.01x, so not there).
FJ_FBS_TARGET static FJ_FBS_INLINE __m512d fj_fbs_sum8_blocks(const double *level, const double *tail, int a, int b, int r,
                                                              int loadOdd) {
    __m512d blk[10];
    const int blocks = ((b - 1) * a + 7) / 8 + 1;
    for (int q = 0; q < blocks; q++) blk[q] = _mm512_loadu_pd(level + 8 * q);
    __m512d v = blk[0];
    for (int m = 1; m < b; m++)
        v = _mm512_add_pd(v, loadOdd && m % 2 == 1 ? _mm512_loadu_pd(level + m * a) : fj_fbs_level_at(blk, m * a));
    for (int q = 0; q < r; q++) v = _mm512_add_pd(v, _mm512_loadu_pd(tail + q));
    return v;
}

// One chunk of `count` outputs: out[x] = (sum(x) + 0.0) * factor, non-temporal stores for the
// 64-byte aligned middle (as `filterjit_box_store_f32/_f64`).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_chunk(const double *source, double *level, ptrdiff_t count, int f32, int direct,
                                                     int length, int a, int b, int r, int blocks, double factor, void *out) {
    fj_fbs_row h = {source, level, b, r};
    if (!direct) {
        // Windows of a columns at positions < count + (b - 1) a.
        // (The vectors read up to 7 positions past the row's last window: scratch, never used.)
        ptrdiff_t m = count + (ptrdiff_t)(b - 1) * a, x = 0;
        if (m >= 8) {
            __m512d lo = _mm512_loadu_pd(source);
            for (; x + 8 <= m; x += 8) {
                __m512d hi = _mm512_loadu_pd(source + x + 8);
                _mm512_storeu_pd(level + x, fj_fbs_fold_shifted(lo, hi, a));
                lo = hi;
            }
        }
        for (; x < m; x++) level[x] = fj_fbs_fold1(source + x, a);
    }
    const __m512d f = _mm512_set1_pd(factor);
    const int divide = fj_fbs_divisor != 0;
    const __m512d dv = _mm512_set1_pd(divide ? fj_fbs_divisor : 1.0);
    ptrdiff_t x = 0;
    if (f32) {
        float *o = (float *)out;
        while (x < count && ((uintptr_t)(o + x) & 63) != 0) { o[x] = (float)fj_fbs_finish1(fj_fbs_sum1(&h, x, direct, length, a), factor); x++; }
        __m512d next = _mm512_loadu_pd(source + x);
        for (; x + 16 <= count; x += 16) {
            __m512d s0, s1;
            if (direct) {
                __m512d v0 = next, v1 = _mm512_loadu_pd(source + x + 8);
                next = _mm512_loadu_pd(source + x + 16);
                s0 = fj_fbs_fold_shifted(v0, v1, length);
                s1 = fj_fbs_fold_shifted(v1, next, length);
            } else if (blocks) {
                s0 = fj_fbs_sum8_blocks(level + x, source + x + b * a, a, b, r, 1);
                s1 = fj_fbs_sum8_blocks(level + x + 8, source + x + 8 + b * a, a, b, r, 1);
            } else {
                s0 = fj_fbs_sum8(&h, x, direct, length, a);
                s1 = fj_fbs_sum8(&h, x + 8, direct, length, a);
            }
            __m256 lo = _mm512_cvtpd_ps(fj_fbs_finish8(s0, f, dv, divide));
            __m256 hi = _mm512_cvtpd_ps(fj_fbs_finish8(s1, f, dv, divide));
            __m512d both = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1);
            FJ_FBS_STORE_PS(o + x, _mm512_castpd_ps(both));
        }
        for (; x < count; x++) o[x] = (float)fj_fbs_finish1(fj_fbs_sum1(&h, x, direct, length, a), factor);
    } else {
        double *o = (double *)out;
        while (x < count && ((uintptr_t)(o + x) & 63) != 0) { o[x] = fj_fbs_finish1(fj_fbs_sum1(&h, x, direct, length, a), factor); x++; }
        __m512d next = _mm512_loadu_pd(source + x);
        for (; x + 8 <= count; x += 8) {
            __m512d sum;
            if (direct) {
                __m512d v0 = next;
                next = _mm512_loadu_pd(source + x + 8);
                sum = fj_fbs_fold_shifted(v0, next, length);
            } else if (blocks) {
                sum = fj_fbs_sum8_blocks(level + x, source + x + b * a, a, b, r, 0);
            } else {
                sum = fj_fbs_sum8(&h, x, direct, length, a);
            }
            FJ_FBS_STORE_PD(o + x, fj_fbs_finish8(sum, f, dv, divide));
        }
        for (; x < count; x++) o[x] = fj_fbs_finish1(fj_fbs_sum1(&h, x, direct, length, a), factor);
    }
}

// The chunk loop with the fold lengths as constants (unrolled).
#define FJ_FBS_ROWBR(NAME, F32, DIRECT, LENGTH, A, B, R, BLOCKS)                                                        \
    FJ_FBS_TARGET static void NAME(const double *source, double *level, ptrdiff_t n, int b, int r, double factor,        \
                                   void *out) {                                                                        \
        (void)b; (void)r;                                                                                              \
        /* Chunks end where the output is 64-byte aligned (NumPy's rows often start 16 bytes past), */                 \
        /* so that only the row's ends take the scalar loops. */                                                       \
        const ptrdiff_t size = (F32) ? 4 : 8, vector = 64 / size;                                                      \
        uintptr_t misaligned = (uintptr_t)out & 63;                                                                    \
        ptrdiff_t lead = misaligned % (uintptr_t)size == 0 ? (ptrdiff_t)((64 - misaligned) & 63) / size : 0;           \
        ptrdiff_t first = lead + (FJ_FBS_CHUNK - lead) / vector * vector;                                              \
        for (ptrdiff_t x0 = 0; x0 < n;) {                                                                              \
            ptrdiff_t end = x0 == 0 ? first : x0 + FJ_FBS_CHUNK;                                                       \
            ptrdiff_t width = (end < n ? end : n) - x0;                                                                \
            fj_fbs_chunk(source + x0, level, width, F32, DIRECT, LENGTH, A, B, R, BLOCKS, factor,                     \
                         (F32) ? (void *)((float *)out + x0) : (void *)((double *)out + x0));                         \
            x0 += width;                                                                                               \
        }                                                                                                              \
    }

FJ_FBS_ROWS(1, f32)
FJ_FBS_ROWS(0, f64)

// Columns c ..< c + 8 of a row's vertical pass (`mode`, fast_box_sums_scalar.h): a three-row mode, or
// p = prefix + src (START: p = src), prefix = p, suffix + p (`fj_fbs_start_prefix` /
// `fj_fbs_continue_prefix`, kept in a register; src = w2).
FJ_FBS_TARGET static FJ_FBS_INLINE __m512d fj_fbs_column8(int mode, const void *w0, const void *w1, const void *w2,
                                                          const double *suffix, double *prefix, double *pair, ptrdiff_t c, int f32) {
    if (mode < FJ_FBS_START_PREFIX) return fj_fbs_three8(mode, w0, w1, w2, pair, c, f32);
    if (mode == FJ_FBS_FIRST_ROW) return _mm512_add_pd(fj_fbs_load(w2, c, f32), _mm512_loadu_pd(suffix + c));
    __m512d p = mode == FJ_FBS_START_PREFIX ? fj_fbs_load(w2, c, f32)
                                            : _mm512_add_pd(_mm512_loadu_pd(prefix + c), fj_fbs_load(w2, c, f32));
    _mm512_storeu_pd(prefix + c, p);
    return _mm512_add_pd(_mm512_loadu_pd(suffix + c), p);
}

#include "fast_box_sums_vertical.h"

// Lanes s ..< s + 8 of (a, b) for a run-time s in 0 ..< 8.
FJ_FBS_TARGET static FJ_FBS_INLINE __m512d fj_fbs_window(__m512d a, __m512d b, __m512i index) {
    return _mm512_permutex2var_pd(a, index, b);
}

// The middle outputs x0 ..< x1 of `fj_fbs_fused_row` (b: the column vector at q0 + 8, lo: the first
// window vector).
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_fused_middle(int f32, int out32, int mode, const void *w0, const void *w1, const void *w2,
                                                            const double *suffix, double *prefix, double *pair, double *columns,
                                                            void *o, ptrdiff_t x0, ptrdiff_t x1, ptrdiff_t q0, __m512i index,
                                                            __m512d f, __m512d dv, int divide, int length, const char *ahead,
                                                            __m512d b, __m512d lo) {
    const ptrdiff_t isize = f32 ? 4 : 8, vector = out32 ? 16 : 8;
    for (ptrdiff_t x = x0; x < x1; x += vector) {
        ptrdiff_t q = q0 + (x - x0);
        if (ahead) {
            _mm_prefetch(ahead + (q + 16) * isize, FJ_FBS_HINT);
            // (float64 rows into float32 output: 16 columns of input, two cache lines, per step.)
            if (vector * isize > 64) _mm_prefetch(ahead + (q + 16) * isize + 64, FJ_FBS_HINT);
        }
        int last = x + vector >= x1;
        __m512d c = fj_fbs_column8(mode, w0, w1, w2, suffix, prefix, pair, q + 16, f32);
        if (last) _mm512_storeu_pd(columns + q + 16, c);
        if (out32) {
            __m512d e = fj_fbs_column8(mode, w0, w1, w2, suffix, prefix, pair, q + 24, f32);
            if (last) _mm512_storeu_pd(columns + q + 24, e);
            __m512d mid = fj_fbs_window(b, c, index), hi = fj_fbs_window(c, e, index);
            __m512d s0 = fj_fbs_fold_shifted(lo, mid, length), s1 = fj_fbs_fold_shifted(mid, hi, length);
            __m256 l = _mm512_cvtpd_ps(fj_fbs_finish8(s0, f, dv, divide));
            __m256 h = _mm512_cvtpd_ps(fj_fbs_finish8(s1, f, dv, divide));
            __m512d both = _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(l)), _mm256_castps_pd(h), 1);
            FJ_FBS_STORE_PS((float *)o + x, _mm512_castpd_ps(both));
            b = e;
            lo = hi;
        } else {
            if (last) _mm512_storeu_pd(columns + q + 8, b);
            __m512d hi = fj_fbs_window(b, c, index);
            __m512d sum = fj_fbs_fold_shifted(lo, hi, length);
            FJ_FBS_STORE_PD((double *)o + x, fj_fbs_finish8(sum, f, dv, divide));
            b = c;
            lo = hi;
        }
    }
}

// A row with a direct horizontal plan (up to 8 columns; any row of a three-row box, or a van Herk row
// of a box of two or more rows: `mode`, with src = w2 for the van Herk modes; `f32` the input rows'
// type, `out32` the output's): the middle of the row with the column sums kept in registers and
// summed along the row at once, so they are not stored and read again. Column vectors at 64-byte
// aligned columns q (the scratch rows' alignment); output x's window is columns x + d ... x + d +
// length - 1 (d = start - centre), the lanes s ... of two column vectors (vpermt2pd), then shifted by
// valignq as in the row pass. Only the columns the row's ends need go through the column row: the
// outputs outside the middle and the edge positions' sources (low targets below q0 + 16, high ones
// from qEnd - 16, q0 ..< qEnd the middle's columns). The same operations as the separate passes.
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_fused_row(int f32, int out32, int mode, const void *w0, const void *w1, const void *w2,
                                                         const double *suffix, double *prefix, double *pair, double *extended,
                                                         ptrdiff_t n, ptrdiff_t centre, ptrdiff_t start, int length,
                                                         const ptrdiff_t *lastMap, ptrdiff_t extendedLength, double cvalColumn,
                                                         ptrdiff_t lowTarget, ptrdiff_t highTarget, fj_fbs_row_fn row_fn,
                                                         double factor, void *o, const char *ahead) {
    double *columns = extended + centre;
    const ptrdiff_t d = start - centre, size = out32 ? 4 : 8, vector = out32 ? 16 : 8;
    ptrdiff_t leftEnd = centre < extendedLength ? centre : extendedLength;
    ptrdiff_t rightStart = centre + n < extendedLength ? centre + n : extendedLength;
    // The middle outputs x0 ..< x1 (64-byte aligned stores; x0 + d >= 0), columns q0 = x0 + d - s
    // (a multiple of 8) ..< qEnd = q0 + (x1 - x0) + 16 <= n.
    ptrdiff_t x0 = d < 0 ? -d : 0, x1 = x0;
    uintptr_t at = (uintptr_t)o + (uintptr_t)(x0 * size);
    int aligned = at % (uintptr_t)size == 0;
    if (aligned) x0 += (ptrdiff_t)((64 - at % 64) % 64) / size;
    ptrdiff_t s = (x0 + d) % 8, q0 = x0 + d - s;
    if (aligned && n - 16 - q0 >= 2 * vector) x1 = x0 + (n - 16 - q0) / vector * vector;
    if (x1 > n) x1 = x0 + (n - x0) / vector * vector;
    ptrdiff_t qEnd = q0 + (x1 - x0) + 16;
    if (x1 - x0 < 2 * vector || lowTarget >= q0 + 16 || highTarget < qEnd - 16) {
        fj_fbs_vertical_pass(mode, w0, w1, w2, suffix, prefix, pair, columns, 0, n, f32, ahead);
        fj_fbs_extend(extended, columns, lastMap, leftEnd, rightStart, extendedLength, cvalColumn);
        row_fn(extended + start, NULL, n, 0, 0, factor, o);
        return;
    }
    fj_fbs_vertical_pass(mode, w0, w1, w2, suffix, prefix, pair, columns, 0, q0, f32, ahead);
    const __m512d f = _mm512_set1_pd(factor);
    const int divide = fj_fbs_divisor != 0;
    const __m512d dv = _mm512_set1_pd(divide ? fj_fbs_divisor : 1.0);
    const __m512i index = _mm512_add_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi64(s));
    __m512d a = fj_fbs_column8(mode, w0, w1, w2, suffix, prefix, pair, q0, f32);
    __m512d b = fj_fbs_column8(mode, w0, w1, w2, suffix, prefix, pair, q0 + 8, f32);
    _mm512_storeu_pd(columns + q0, a);
    _mm512_storeu_pd(columns + q0 + 8, b);
    __m512d lo = fj_fbs_window(a, b, index);
    // The middle with the window's length a constant for the common 3 and 5 (a run-time count costs its
    // compares in every fold).
#define FJ_FBS_MIDDLE(LENGTH)                                                                                       \
    fj_fbs_fused_middle(f32, out32, mode, w0, w1, w2, suffix, prefix, pair, columns, o, x0, x1, q0, index, f, dv, divide, \
                        (LENGTH), ahead, b, lo)
    if (length == 3) FJ_FBS_MIDDLE(3);
    else if (length == 5) FJ_FBS_MIDDLE(5);
    else FJ_FBS_MIDDLE(length);
#undef FJ_FBS_MIDDLE
    fj_fbs_vertical_pass(mode, w0, w1, w2, suffix, prefix, pair, columns, qEnd, n - qEnd, f32, ahead);
    fj_fbs_extend(extended, columns, lastMap, leftEnd, rightStart, extendedLength, cvalColumn);
    row_fn(extended + start, NULL, x0, 0, 0, factor, o);
    row_fn(extended + start + x1, NULL, n - x1, 0, 0, factor, (char *)o + x1 * size);
}

static FJ_FBS_INLINE void fj_fbs_sfence(void) { _mm_sfence(); }

#include "fast_box_sums_driver.h"

// Calls that ran, and those of them that ran the AVX2 passes (tests check that the fused passes, not a
// fallback, produced what they compare).
static long fj_fbs_runs, fj_fbs_avx2_runs;

int filterjit_fast_box_sum(int f32, int out32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount,
                           ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t n, ptrdiff_t k, ptrdiff_t top,
                           const ptrdiff_t *lastMap, ptrdiff_t extendedLength, ptrdiff_t centre,
                           ptrdiff_t start, ptrdiff_t length, ptrdiff_t a, ptrdiff_t b, ptrdiff_t r,
                           double cvalColumn, double factor, double divisor, void *out, ptrdiff_t outRowStride, int stream) {
    // Each switch read once: a test turning one off meanwhile changes the next call, not this one.
    const int avx512 = filterjit_rank_kernels_avx512();
    if (!avx512 && !filterjit_fast_box_sum_avx2()) return 0;
    if (y1 <= y0) return 1;
    // (float32 rows into float64 output rows: the AVX2 passes only, fast_box_sums_avx2.c.)
    if (n < 1 || k < 1 || y0 < 0 || length < 1 || start < 0 || centre < 0 || (f32 && !out32 && avx512)) return 0;
    // The rows read: y0 + top ... y1 + k - 2 + top.
    if (y0 + top < rowBase || y1 + k - 2 + top >= rowBase + rowCount) return 0;
    // The horizontal reads extended positions start ... start + n + length - 2.
    if (centre + n > extendedLength || start + n + length - 1 > extendedLength) return 0;
    // (The passes read lastMap only outside the row, centre ..< centre + n being the row's own columns.)
    for (ptrdiff_t j = 0; j < extendedLength; j++) {
        if (j == centre) j = centre + n;
        if (j < extendedLength && lastMap[j] >= n) return 0;
    }
    const int ran = (avx512 ? fj_fbs_sums : fj_fbs_avx2_sums)(
        f32 != 0, out32 != 0, rows, rowBase, rowCount, y0, y1, n, k, top, lastMap, extendedLength, centre, start, length, a, b, r, cvalColumn,
        factor, divisor, out, outRowStride, stream);
    if (ran) __atomic_fetch_add(&fj_fbs_runs, 1, __ATOMIC_RELAXED);
    if (ran && !avx512) __atomic_fetch_add(&fj_fbs_avx2_runs, 1, __ATOMIC_RELAXED);
    return ran;
}

long filterjit_fast_box_sum_runs(void) { return __atomic_load_n(&fj_fbs_runs, __ATOMIC_RELAXED); }
long filterjit_fast_box_sum_avx2_runs(void) { return __atomic_load_n(&fj_fbs_avx2_runs, __ATOMIC_RELAXED); }

#else

int filterjit_fast_box_sum(int f32, int out32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount,
                           ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t n, ptrdiff_t k, ptrdiff_t top,
                           const ptrdiff_t *lastMap, ptrdiff_t extendedLength, ptrdiff_t centre,
                           ptrdiff_t start, ptrdiff_t length, ptrdiff_t a, ptrdiff_t b, ptrdiff_t r,
                           double cvalColumn, double factor, double divisor, void *out, ptrdiff_t outRowStride, int stream) {
    (void)stream; (void)divisor; (void)out32;
    (void)f32; (void)rows; (void)rowBase; (void)rowCount; (void)y0; (void)y1; (void)n; (void)k; (void)top;
    (void)lastMap; (void)extendedLength; (void)centre; (void)start; (void)length; (void)a; (void)b; (void)r;
    (void)cvalColumn; (void)factor; (void)out; (void)outRowStride;
    return 0;
}

long filterjit_fast_box_sum_runs(void) { return 0; }
long filterjit_fast_box_sum_avx2_runs(void) { return 0; }

#endif
