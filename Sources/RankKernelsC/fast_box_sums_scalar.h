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

#endif
