// The scalar half of the fast-math box sums (fast_box_sums.c, fast_box_sums_avx2.c): the per-call flags, the
// plan's constants and the one-element forms of the passes (a row's ends), the same in every vector width.
// The includer defines FJ_FBS_INLINE first.
#ifndef FILTERJIT_FAST_BOX_SUMS_SCALAR_H
#define FILTERJIT_FAST_BOX_SUMS_SCALAR_H

#include <stddef.h>

// Columns per chunk of the horizontal passes (as `fastBoxSumChunk`; the result does not depend on it).
enum { FJ_FBS_CHUNK = 512 };

// Doubles between scratch rows beyond a multiple of 8 (their starts at distinct offsets modulo 4 KiB).
#define FJ_FBS_PAD 24
// The output rows' aligned vectors take non-temporal stores when the caller asks (`stream`: outputs bigger
// than the last-level cache, NonTemporalStores in NDImage), else ordinary ones. Set per call; each call
// runs on one thread.
static _Thread_local int fj_fbs_stream;
// The finish of each window sum: `(s + 0.0) / divisor` when the caller gives a divisor (the exact box
// sums of data whose sums are exact, NDImage/ExactBoxSums.swift: the literal kernel's `sum / taps`),
// else `(s + 0.0) * factor` (fast-math). Set per call, as the stream flag.
static _Thread_local double fj_fbs_divisor;

static FJ_FBS_INLINE double fj_fbs_finish1(double s, double factor) {
    return fj_fbs_divisor != 0 ? (s + 0.0) / fj_fbs_divisor : (s + 0.0) * factor;
}

static FJ_FBS_INLINE double fj_fbs_load1(const void *p, ptrdiff_t x, int f32) {
    return f32 ? (double)((const float *)p)[x] : ((const double *)p)[x];
}

// The vertical pass of one output row. Rows i >= 1 of the van Herk passes: prefix = src (START) or
// prefix + src (CONTINUE), columns = suffix + prefix, src being the row entering. A box of three rows
// (k = 3) takes no van Herk scratch rows: output row y = B + i sums its window rows w0, w1, w2 (input
// rows y + top ...) in the order those passes give, so the same bits: w0 + (w1 + w2) at i = 0
// (suffix(0)) and at i = 2 (row B + 2 plus the prefix of rows B + 3 and B + 4), (w0 + w1) + w2 at
// i = 1 (suffix(1) plus row B + 3). Row i = 0's pair w1 + w2 is row i = 1's w0 + w1: kept in a scratch
// row when the call ran row i = 0. What this saves is stores: the van Herk passes store five scratch
// rows per three output rows with AVX-512 (seven in the Swift and AVX2 passes), this one pair row (and,
// in the AVX2 file, the columns of the rows whose windows are not 3 or 5 columns, and those a row's ends
// read); it loads seven input rows per three output rows against five.
// (The three-row modes come first: `mode < FJ_FBS_START_PREFIX` tells them from the van Herk ones.)
enum {
    FJ_FBS_RIGHT = 0,            // columns = w0 + (w1 + w2)
    FJ_FBS_RIGHT_KEEP = 1,       // the same, and pair = w1 + w2
    FJ_FBS_LEFT = 2,             // columns = (w0 + w1) + w2
    FJ_FBS_LEFT_PAIR = 3,        // columns = pair + w2, pair being w0 + w1
    FJ_FBS_START_PREFIX = 4,     // van Herk row i = 1 (src = w2)
    FJ_FBS_CONTINUE_PREFIX = 5,  // van Herk row i >= 2 (src = w2)
    FJ_FBS_FIRST_ROW = 6,        // van Herk row i = 0 of k >= 2 rows: columns = suffix(0) = w2 + suffix(1)
};
_Static_assert(FJ_FBS_LEFT_PAIR < FJ_FBS_START_PREFIX && FJ_FBS_START_PREFIX < FJ_FBS_FIRST_ROW,
               "the three-row modes come before the van Herk ones");

// The three-row mode of row i of a block; `kept`: this call ran row i - 1 = 0 (its pair is kept).
static FJ_FBS_INLINE int fj_fbs_three_mode(ptrdiff_t i, int kept) {
    return i == 0 ? FJ_FBS_RIGHT_KEEP : i == 2 ? FJ_FBS_RIGHT : kept ? FJ_FBS_LEFT_PAIR : FJ_FBS_LEFT;
}

// Column x of a three-row mode (the row's ends; the vector forms do the same additions).
static FJ_FBS_INLINE double fj_fbs_three1(int mode, const void *w0, const void *w1, const void *w2, double *pair, ptrdiff_t x,
                                          int f32) {
    const double c2 = fj_fbs_load1(w2, x, f32);
    if (mode == FJ_FBS_LEFT_PAIR) return pair[x] + c2;
    const double c1 = fj_fbs_load1(w1, x, f32), c0 = fj_fbs_load1(w0, x, f32);
    if (mode == FJ_FBS_LEFT) return (c0 + c1) + c2;
    const double p = c1 + c2;
    if (mode == FJ_FBS_RIGHT_KEEP) pair[x] = p;
    return c0 + p;
}

// The extended row's positions outside the row (before leftEnd, from rightStart) through the mode: the sum
// of the column lastMap names, or a column of cvals.
static FJ_FBS_INLINE void fj_fbs_extend(double *extended, const double *columns, const ptrdiff_t *lastMap, ptrdiff_t leftEnd,
                                        ptrdiff_t rightStart, ptrdiff_t extendedLength, double cvalColumn) {
    for (ptrdiff_t j = 0; j < leftEnd; j++) extended[j] = lastMap[j] >= 0 ? columns[lastMap[j]] : cvalColumn;
    for (ptrdiff_t j = rightStart; j < extendedLength; j++) extended[j] = lastMap[j] >= 0 ? columns[lastMap[j]] : cvalColumn;
}

static FJ_FBS_INLINE double fj_fbs_fold1(const double *s, int count) {
    double v = s[0];
    for (int c = 1; c < count; c++) v = v + s[c];
    return v;
}

// The window sum at x: direct (a fold of `length` source columns), or the factored plan's second
// fold: level[x] + level[x + a] + ... + level[x + (b - 1) a] + s[x + b a] + ... + s[x + b a + r - 1].
typedef struct {
    const double *source;
    const double *level;
    int b, r;
} fj_fbs_row;

static FJ_FBS_INLINE double fj_fbs_sum1(const fj_fbs_row *h, ptrdiff_t x, int direct, int length, int a) {
    if (direct) return fj_fbs_fold1(h->source + x, length);
    double v = h->level[x];
    for (int m = 1; m < h->b; m++) v = v + h->level[x + m * a];
    const double *tail = h->source + x + h->b * a;
    for (int q = 0; q < h->r; q++) v = v + tail[q];
    return v;
}

typedef void (*fj_fbs_row_fn)(const double *, double *, ptrdiff_t, int, int, double, void *);

// The row functions of every plan (`FJ_FBS_ROWS(F32, suffix)`), from the includer's
// FJ_FBS_ROWBR(NAME, F32, DIRECT, LENGTH, A, B, R, BLOCKS): the direct folds of 1-8 columns, the factored
// plans by a, and the plans of 9, 15 and 31 columns with every fold length a constant.
#define FJ_FBS_ROW(NAME, F32, DIRECT, LENGTH, A) FJ_FBS_ROWBR(NAME, F32, DIRECT, LENGTH, A, b, r, 0)

#define FJ_FBS_ROWS(F32, S)                                                                                            \
    FJ_FBS_ROW(fj_fbs_direct1_##S, F32, 1, 1, 1)                                                                       \
    FJ_FBS_ROW(fj_fbs_direct2_##S, F32, 1, 2, 1)                                                                       \
    FJ_FBS_ROW(fj_fbs_direct3_##S, F32, 1, 3, 1)                                                                       \
    FJ_FBS_ROW(fj_fbs_direct4_##S, F32, 1, 4, 1)                                                                       \
    FJ_FBS_ROW(fj_fbs_direct5_##S, F32, 1, 5, 1)                                                                       \
    FJ_FBS_ROW(fj_fbs_direct6_##S, F32, 1, 6, 1)                                                                       \
    FJ_FBS_ROW(fj_fbs_direct7_##S, F32, 1, 7, 1)                                                                       \
    FJ_FBS_ROW(fj_fbs_direct8_##S, F32, 1, 8, 1)                                                                       \
    FJ_FBS_ROW(fj_fbs_factored2_##S, F32, 0, 0, 2)                                                                     \
    FJ_FBS_ROW(fj_fbs_factored3_##S, F32, 0, 0, 3)                                                                     \
    FJ_FBS_ROW(fj_fbs_factored4_##S, F32, 0, 0, 4)                                                                     \
    FJ_FBS_ROW(fj_fbs_factored5_##S, F32, 0, 0, 5)                                                                     \
    FJ_FBS_ROW(fj_fbs_factored6_##S, F32, 0, 0, 6)                                                                     \
    FJ_FBS_ROW(fj_fbs_factored7_##S, F32, 0, 0, 7)                                                                     \
    FJ_FBS_ROW(fj_fbs_factored8_##S, F32, 0, 0, 8)                                                                     \
    static const fj_fbs_row_fn fj_fbs_direct_##S[9] = {0, fj_fbs_direct1_##S, fj_fbs_direct2_##S, fj_fbs_direct3_##S, \
                                                        fj_fbs_direct4_##S, fj_fbs_direct5_##S, fj_fbs_direct6_##S,     \
                                                        fj_fbs_direct7_##S, fj_fbs_direct8_##S};                       \
    static const fj_fbs_row_fn fj_fbs_factored_##S[9] = {0, 0, fj_fbs_factored2_##S, fj_fbs_factored3_##S,             \
                                                          fj_fbs_factored4_##S, fj_fbs_factored5_##S,                   \
                                                          fj_fbs_factored6_##S, fj_fbs_factored7_##S,                   \
                                                          fj_fbs_factored8_##S};                                \
    FJ_FBS_ROWBR(fj_fbs_factored330_##S, F32, 0, 0, 3, 3, 0, 1)                                                         \
    FJ_FBS_ROWBR(fj_fbs_factored350_##S, F32, 0, 0, 3, 5, 0, 1)                                                         \
    FJ_FBS_ROWBR(fj_fbs_factored561_##S, F32, 0, 0, 5, 6, 1, 1)

#endif
