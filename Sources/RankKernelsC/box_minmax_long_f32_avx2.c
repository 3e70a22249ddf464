// Min/max of float32 2-D boxes of 9 or more rows with AVX2, for CPUs without AVX-512 (the kernel behind
// `filterjit_box_long_f32` there: see include/box_minmax_long.h and docs/window-strategies.md). Columns first, as
// the 8-bit AVX2 kernel (box_minmax_long_avx2.c):
//  - down the columns, van Herk / Gil-Werman over blocks of k output rows: at a block's start the suffix minima of
//    its k input rows (k - 2 scratch rows, the last being the input row itself, the first straight into the row of
//    column minima), then per output row t of the block one pass that takes the prefix over the next block's rows
//    (one prefix row, updated in place) and op(suffix[t], prefix) together: about 3 operations per element whatever k;
//  - the output row's column minima go into a scratch row with room on both sides, where the columns its windows
//    read outside the row are set through the mode (the extension commutes with a minimum down a column);
//  - along the row, in L1-resident scratch rows: windows doubled per level (1, 2, ... W) by one pass each, then
//    every output vector takes op over m = ceil(length / W) W-windows at offsets 0, W, 2W, ... and length - W
//    (min and max are idempotent, so the last may overlap). Eight float32 lanes make unaligned loads cheap enough
//    that the levels need no in-register shifts (the 8-bit kernel's 32 lanes do); W is chosen per call to keep
//    levels + m small (`fj_lf2_levels`).
// NaN and -0.0 (where min/max are order-dependent, so the exact path must run): every input row is checked once,
// as it is first read: the entering rows by the prefix pass that loads them, the rest (each block's last row, the
// first block's rows) by a check of their own; integer min/max of the bits on the side (f32_hazards_avx2.h).
// Swift's van Herk passes (BoxMinMax.swift) took the float32 9x9 boxes here before, with a separate NaN scan.

#include "box_minmax_long.h"
#include "box_minmax_long_f32_avx2.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "avx2_switch.h"
#include "f32_hazards_avx2.h"

#define FJ_LF2 __attribute__((target("avx2")))
#define FJ_LF2_INLINE static inline __attribute__((always_inline))

static int fj_lf2_cached = -1;
int filterjit_box_long_f32_avx2(void) { return fj_avx2_switch(&fj_lf2_cached); }
void filterjit_box_long_set_f32_avx2(int enabled) { fj_avx2_switch_set(&fj_lf2_cached, enabled); }

static uint64_t fj_lf2_runs = 0;
uint64_t filterjit_box_long_f32_avx2_runs(void) { return __atomic_load_n(&fj_lf2_runs, __ATOMIC_RELAXED); }

FJ_LF2 FJ_LF2_INLINE __m256 fj_lf2_op(int maximum, __m256 a, __m256 b) {
    return maximum ? _mm256_max_ps(a, b) : _mm256_min_ps(a, b);
}
FJ_LF2_INLINE float fj_lf2_op1(int maximum, float a, float b) { return maximum ? (a > b ? a : b) : (a < b ? a : b); }

// NaN or -0.0 (the same test as fj_f32_seen, for one value).
FJ_LF2_INLINE int fj_lf2_hazard1(float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return (bits & 0x7FFFFFFFu) > 0x7F800000u || bits == 0x80000000u;
}

// Whether row[0 ..< n] holds NaN or -0.0.
FJ_LF2 static int fj_lf2_row_hazard(const float *row, ptrdiff_t n) {
    fj_f32_seen seen = fj_f32_seen_none();
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) fj_f32_seen_add(&seen, _mm256_loadu_si256((const __m256i *)(row + x)));
    int bad = fj_f32_seen_any(seen);
    for (; x < n; x++) bad |= fj_lf2_hazard1(row[x]);
    return bad;
}

// dst[x] = op(a[x], b[x]) for x < n.
FJ_LF2 FJ_LF2_INLINE void fj_lf2_combine(int maximum, float *dst, const float *a, const float *b, ptrdiff_t n) {
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) _mm256_storeu_ps(dst + x, fj_lf2_op(maximum, _mm256_loadu_ps(a + x), _mm256_loadu_ps(b + x)));
    for (; x < n; x++) dst[x] = fj_lf2_op1(maximum, a[x], b[x]);
}

// One output row's vertical step for t >= 2 of a block: prefix = op(previous, entering) (previous may be prefix
// itself: each element is read before it is written), cm = op(suffix, prefix); the entering row's bits added to
// `seen` (returns whether its scalar tail held NaN or -0.0).
FJ_LF2 FJ_LF2_INLINE int fj_lf2_prefix_step(int maximum, float *cm, float *prefix, const float *previous, const float *entering,
                                            const float *suffix, ptrdiff_t n, fj_f32_seen *seen, const float *ahead) {
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) {
        if (ahead && (x & 15) == 0) _mm_prefetch((const char *)(ahead + x), _MM_HINT_T0);
        const __m256 e = _mm256_loadu_ps(entering + x);
        fj_f32_seen_add(seen, _mm256_castps_si256(e));
        const __m256 p = fj_lf2_op(maximum, _mm256_loadu_ps(previous + x), e);
        _mm256_storeu_ps(prefix + x, p);
        _mm256_storeu_ps(cm + x, fj_lf2_op(maximum, _mm256_loadu_ps(suffix + x), p));
    }
    int bad = 0;
    for (; x < n; x++) {
        bad |= fj_lf2_hazard1(entering[x]);
        const float p = fj_lf2_op1(maximum, previous[x], entering[x]);
        prefix[x] = p;
        cm[x] = fj_lf2_op1(maximum, suffix[x], p);
    }
    return bad;
}

// t == 1: cm = op(suffix, entering), the entering row checked (it becomes the prefix as it is).
FJ_LF2 FJ_LF2_INLINE int fj_lf2_first_step(int maximum, float *cm, const float *entering, const float *suffix, ptrdiff_t n,
                                           fj_f32_seen *seen, const float *ahead) {
    ptrdiff_t x = 0;
    for (; x + 8 <= n; x += 8) {
        if (ahead && (x & 15) == 0) _mm_prefetch((const char *)(ahead + x), _MM_HINT_T0);
        const __m256 e = _mm256_loadu_ps(entering + x);
        fj_f32_seen_add(seen, _mm256_castps_si256(e));
        _mm256_storeu_ps(cm + x, fj_lf2_op(maximum, _mm256_loadu_ps(suffix + x), e));
    }
    int bad = 0;
    for (; x < n; x++) {
        bad |= fj_lf2_hazard1(entering[x]);
        cm[x] = fj_lf2_op1(maximum, suffix[x], entering[x]);
    }
    return bad;
}

// The most W-windows an output vector combines (m), and so the fewest levels for a length.
#define FJ_LF2_MAX_M 8

typedef struct {
    ptrdiff_t n, k, centre, s, length;
    const ptrdiff_t *columns;
    ptrdiff_t leftCount, rightCount;   // extended positions before / after the row that windows read
    float cval;
    int levels;                        // W = 2^levels
    int m;                             // W-windows per output: offsets 0, W, ..., (m - 2) W and length - W
    ptrdiff_t need[24];                // need[l]: positions of level l (windows of 2^l) that must be valid, from c = cm + s
} fj_lf2_plan;

// The row of column minima (cm[0 ..< n]) extended through the mode: positions -leftCount ..< 0 and n ..<
// n + rightCount.
static inline void fj_lf2_extend(const fj_lf2_plan *p, float *cm) {
    for (ptrdiff_t q = -p->leftCount; q < 0; q++) {
        const ptrdiff_t col = p->columns[p->centre + q];
        cm[q] = col >= 0 ? cm[col] : p->cval;
    }
    for (ptrdiff_t q = p->n; q < p->n + p->rightCount; q++) {
        const ptrdiff_t col = p->columns[p->centre + q];
        cm[q] = col >= 0 ? cm[col] : p->cval;
    }
}

// The top level's windows at m offsets into the output row (whole vectors, then a masked tail: lanes from n on are
// not written). M is a constant where inlined.
FJ_LF2 FJ_LF2_INLINE void fj_lf2_final(int maximum, int M, const float *top, ptrdiff_t W, ptrdiff_t last, ptrdiff_t n,
                                       float *out) {
    ptrdiff_t x = 0;
    for (; x < n; x += 8) {
        __m256 v = _mm256_loadu_ps(top + x + last);
        for (int j = 0; j < M - 1; j++) v = fj_lf2_op(maximum, v, _mm256_loadu_ps(top + x + j * W));
        if (x + 8 <= n) _mm256_storeu_ps(out + x, v);
        else {
            const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            _mm256_maskstore_ps(out + x, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - x)), lanes), v);
        }
    }
}

// One output row along the row, from the extended column minima `cm`: the levels into `levelA` / `levelB` in turn,
// then the output row.
FJ_LF2 FJ_LF2_INLINE void fj_lf2_row(int maximum, const fj_lf2_plan *p, const float *cm, float *levelA, float *levelB,
                                     float *out) {
    const float *level = cm + p->s;
    ptrdiff_t w = 1;
    for (int l = 1; l <= p->levels; l++) {
        float *dst = l % 2 ? levelA : levelB;
        const ptrdiff_t count = (p->need[l] + 7) / 8 * 8;
        for (ptrdiff_t i = 0; i < count; i += 8)
            _mm256_storeu_ps(dst + i, fj_lf2_op(maximum, _mm256_loadu_ps(level + i), _mm256_loadu_ps(level + i + w)));
        level = dst;
        w *= 2;
    }
    const ptrdiff_t last = p->length - w;
    switch (p->m) {
    case 1: fj_lf2_final(maximum, 1, level, w, last, p->n, out); break;
    case 2: fj_lf2_final(maximum, 2, level, w, last, p->n, out); break;
    case 3: fj_lf2_final(maximum, 3, level, w, last, p->n, out); break;
    case 4: fj_lf2_final(maximum, 4, level, w, last, p->n, out); break;
    case 5: fj_lf2_final(maximum, 5, level, w, last, p->n, out); break;
    case 6: fj_lf2_final(maximum, 6, level, w, last, p->n, out); break;
    case 7: fj_lf2_final(maximum, 7, level, w, last, p->n, out); break;
    default: fj_lf2_final(maximum, 8, level, w, last, p->n, out); break;
    }
}

// Returns 1 on NaN or -0.0 in a row read (the outputs written so far are meaningless), else 0.
FJ_LF2 FJ_LF2_INLINE int fj_lf2_run(int maximum, const fj_lf2_plan *p, const float *const *rows, float *const *outs,
                                    ptrdiff_t count, float *const *suffix, float *prefix, float *cm, float *levelA,
                                    float *levelB) {
    const ptrdiff_t n = p->n, k = p->k;
    ptrdiff_t checked = 0;   // rows[0 ..< checked] have been checked
    for (ptrdiff_t y0 = 0; y0 < count; y0 += k) {
        // The block's rows not yet checked (the first block's, then each block's last row).
        for (; checked < y0 + k; checked++)
            if (fj_lf2_row_hazard(rows[checked], n)) return 1;
        // The block's suffix minima: S[t] = op(rows y0 + t ... y0 + k - 1); S[k - 1] is the row itself, S[0] the
        // first output row's column minima.
        const float *next = rows[y0 + k - 1];
        for (ptrdiff_t t = k - 2; t >= 0; t--) {
            float *dst = t == 0 ? cm : suffix[t];
            fj_lf2_combine(maximum, dst, rows[y0 + t], next, n);
            next = dst;
        }
        if (k == 1) memcpy(cm, rows[y0], sizeof(float) * (size_t)n);
        fj_lf2_extend(p, cm);
        fj_lf2_row(maximum, p, cm, levelA, levelB, outs[y0]);
        // The block's other rows: the prefix over the next block's rows, combined with the suffix.
        fj_f32_seen seen = fj_f32_seen_none();
        int bad = 0;
        const float *previous = NULL;
        for (ptrdiff_t t = 1; t < k && y0 + t < count; t++) {
            const float *entering = rows[y0 + k + t - 1];
            const float *sfx = t == k - 1 ? rows[y0 + k - 1] : suffix[t];
            const float *ahead = y0 + t + 1 < count ? rows[y0 + k + t] : NULL;   // the next entering row
            if (t == 1) bad |= fj_lf2_first_step(maximum, cm, entering, sfx, n, &seen, ahead);
            else bad |= fj_lf2_prefix_step(maximum, cm, prefix, previous, entering, sfx, n, &seen, ahead);
            previous = t == 1 ? entering : prefix;
            checked = y0 + k + t;
            fj_lf2_extend(p, cm);
            fj_lf2_row(maximum, p, cm, levelA, levelB, outs[y0 + t]);
        }
        if (bad || fj_f32_seen_any(seen)) return 1;
    }
    return 0;
}

FJ_LF2 static int fj_lf2_run_min(const fj_lf2_plan *p, const float *const *rows, float *const *outs, ptrdiff_t count,
                                 float *const *suffix, float *prefix, float *cm, float *levelA, float *levelB) {
    return fj_lf2_run(0, p, rows, outs, count, suffix, prefix, cm, levelA, levelB);
}
FJ_LF2 static int fj_lf2_run_max(const fj_lf2_plan *p, const float *const *rows, float *const *outs, ptrdiff_t count,
                                 float *const *suffix, float *prefix, float *cm, float *levelA, float *levelB) {
    return fj_lf2_run(1, p, rows, outs, count, suffix, prefix, cm, levelA, levelB);
}

// The levels for a window of `length` columns: the fewest passes plus loads per output vector (a level pass is a
// load pair, an op and a store per vector, counted as 3; each W-window of the output one load and one op),
// with at most FJ_LF2_MAX_M windows. C harness, Zen 3, 2048 columns x 128 rows in cache, best of 200: the levels
// it picks (1, 2, 3 at k = 9, 15, 31) were the fastest or within 3% of them (one level fewer or more: 0-20% slower).
static int fj_lf2_levels(ptrdiff_t length) {
    int best = -1;
    ptrdiff_t bestCost = 0;
    for (int l = 0; ((ptrdiff_t)1 << l) <= length; l++) {
        const ptrdiff_t W = (ptrdiff_t)1 << l, m = (length + W - 1) / W;
        if (m > FJ_LF2_MAX_M) continue;
        const ptrdiff_t cost = 3 * l + m;
        if (best < 0 || cost < bestCost) { best = l; bestCost = cost; }
    }
    return best;
}

static ptrdiff_t fj_lf2_round8(ptrdiff_t x) { return (x + 7) / 8 * 8; }

int fj_box_long_f32_avx2_run(int maximum, const float *const *rows, ptrdiff_t k, float *const *outs, ptrdiff_t count,
                             ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                             ptrdiff_t start, ptrdiff_t length, float cval) {
    if (!filterjit_box_long_f32_avx2()) return -1;
    if (count <= 0) return 0;
    if (k < 1 || k > 255 || length < 1 || length > 1024 || n < 1 || start < 0 || centre < 0 ||
        start + n + length - 1 > extendedLength || n > ((ptrdiff_t)1 << 40))
        return -1;
    fj_lf2_plan p;
    p.n = n; p.k = k; p.centre = centre; p.s = start - centre; p.length = length; p.columns = columns; p.cval = cval;
    p.leftCount = p.s < 0 ? -p.s : 0;
    p.rightCount = p.s + length - 1 > 0 ? p.s + length - 1 : 0;
    p.levels = fj_lf2_levels(length);
    if (p.levels < 0) return -1;
    const ptrdiff_t W = (ptrdiff_t)1 << p.levels;
    p.m = (int)((length + W - 1) / W);
    // Positions of each level that the next reads (the output reads vectors x < round8(n) at offsets up to
    // length - W; level l + 1's vectors i < round8(need[l + 1]) read level l at i + 2^l + 7 at most).
    p.need[p.levels] = fj_lf2_round8(n) + length - W;
    for (int l = p.levels - 1; l >= 0; l--) p.need[l] = fj_lf2_round8(p.need[l + 1]) + ((ptrdiff_t)1 << l);
    // A cval that NaN or -0.0 read anywhere: the exact path (rows outside the image, or columns outside it).
    if (fj_lf2_hazard1(cval)) {
        int reads = 0;
        for (ptrdiff_t i = 0; i < count + k - 1; i++) reads |= rows[i] == NULL;
        for (ptrdiff_t q = -p.leftCount; q < 0; q++) reads |= columns[centre + q] < 0;
        for (ptrdiff_t q = n; q < n + p.rightCount; q++) reads |= columns[centre + q] < 0;
        if (reads) return 1;
    }
    // Scratch (floats): the cval row, k - 2 suffix rows, the prefix row, two level rows, and the row of column
    // minima with room for positions min(s, 0) - 8 ..< max(n + rightCount, s + need[0]) + 8, all zeroed.
    const ptrdiff_t row = fj_lf2_round8(n) + 16;
    const ptrdiff_t cmLeft = fj_lf2_round8(8 + p.leftCount);
    ptrdiff_t cmRight = p.n + p.rightCount;
    if (p.s + p.need[0] > cmRight) cmRight = p.s + p.need[0];
    cmRight = fj_lf2_round8(cmRight + 8);
    const ptrdiff_t levelRow = fj_lf2_round8(p.need[p.levels < 1 ? 0 : 1]) + 16;
    const ptrdiff_t suffixRows = k > 2 ? k - 2 : 0;
    const ptrdiff_t total = row * (2 + suffixRows) + 2 * levelRow + cmLeft + cmRight + 16;
    float *scratch = aligned_alloc(64, (size_t)(total + 15) / 16 * 64);
    if (scratch) memset(scratch, 0, (size_t)(total + 15) / 16 * 64);
    const float **table = malloc(sizeof(float *) * (size_t)(count + k - 1));
    float **suffix = malloc(sizeof(float *) * (size_t)(k > 2 ? k : 2));
    if (!scratch || !table || !suffix) {
        free(scratch); free(table); free(suffix);
        return -1;
    }
    float *cvalRow = scratch, *prefix = scratch + row, *suffixBase = scratch + 2 * row;
    float *levelA = suffixBase + suffixRows * row, *levelB = levelA + levelRow;
    float *cm = levelB + levelRow + cmLeft;
    for (ptrdiff_t x = 0; x < n; x++) cvalRow[x] = cval;
    for (ptrdiff_t t = 0; t < (k > 2 ? k : 2); t++) suffix[t] = t >= 1 && t <= suffixRows ? suffixBase + (t - 1) * row : NULL;
    for (ptrdiff_t i = 0; i < count + k - 1; i++) table[i] = rows[i] ? rows[i] : cvalRow;
    const int result = maximum ? fj_lf2_run_max(&p, table, outs, count, suffix, prefix, cm, levelA, levelB)
                               : fj_lf2_run_min(&p, table, outs, count, suffix, prefix, cm, levelA, levelB);
    free(suffix);
    free(table);
    free(scratch);
    if (result == 0) __atomic_fetch_add(&fj_lf2_runs, 1, __ATOMIC_RELAXED);
    return result;
}

#else

int filterjit_box_long_f32_avx2(void) { return 0; }
void filterjit_box_long_set_f32_avx2(int enabled) { (void)enabled; }
uint64_t filterjit_box_long_f32_avx2_runs(void) { return 0; }
int fj_box_long_f32_avx2_run(int maximum, const float *const *rows, ptrdiff_t k, float *const *outs, ptrdiff_t count,
                             ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                             ptrdiff_t start, ptrdiff_t length, float cval) {
    (void)maximum; (void)rows; (void)k; (void)outs; (void)count; (void)n; (void)columns; (void)extendedLength;
    (void)centre; (void)start; (void)length; (void)cval;
    return -1;
}

#endif
