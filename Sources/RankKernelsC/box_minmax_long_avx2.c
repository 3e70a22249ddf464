// Min/max of 8-bit 2-D boxes with more than 8 rows or columns with AVX2, for CPUs without AVX-512 (the kernel
// behind `filterjit_box_long_u8` / `_i8` there: see include/box_minmax_long.h and docs/window-strategies.md).
// Columns first, as the AVX-512 kernel's `fj_cf`:
//  - down the columns, van Herk / Gil-Werman over blocks of k output rows: at a block's start the suffix minima
//    of its k input rows (k - 2 scratch rows, the last being the input row itself; the first straight into the
//    row of column minima), then per output row t of the block one prefix step over the next block's rows (one
//    prefix row: the first entering row itself at t = 1, then a scratch row updated in place) and op(suffix[t],
//    prefix), in one pass: about 3 operations per element whatever k;
//  - the output row's column minima go into a scratch row with room on both sides, where the columns its
//    windows read outside the row are set through the mode (the extension commutes with a minimum down a
//    column: every row extends through the same columns), so the edges need no code of their own;
//  - along the row, in registers: the row cut in two halves at H, run side by side in the two 128-bit lanes of
//    each vector (16 positions each), so that no shift crosses lanes; loaded from the window's start (s = start -
//    centre), windows doubled per level (1, 2, 4, ... up to the largest power of two W <= length, each level one
//    `vpalignr` + one min with the next vector of the level below, one vector behind it), then the window of
//    `length` = op of the W-windows at offsets 0 and d = length - W (min and max are idempotent, so they may
//    overlap), the second a shift by the run-time d: two `vpshufb` from tables of indices and an or.
// Rows outside the image (NULL) read a row of cval. Scratch per call: the cval row, k - 2 suffix rows, the prefix
// row and the scratch row of column minima, each n bytes and the margins rounded up to 64.

#include "box_minmax_long.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "avx2_switch.h"

#define FJ_L2 __attribute__((target("avx2")))
#define FJ_L2_INLINE static inline __attribute__((always_inline))

static int fj_long2_cached = -1;
int filterjit_box_long_avx2(void) { return fj_avx2_switch(&fj_long2_cached); }
void filterjit_box_long_set_avx2(int enabled) { fj_avx2_switch_set(&fj_long2_cached, enabled); }

// op: 0 unsigned min, 1 unsigned max, 2 signed min, 3 signed max.
FJ_L2 FJ_L2_INLINE __m256i fj_l2_op(int op, __m256i a, __m256i b) {
    switch (op) {
    case 0: return _mm256_min_epu8(a, b);
    case 1: return _mm256_max_epu8(a, b);
    case 2: return _mm256_min_epi8(a, b);
    default: return _mm256_max_epi8(a, b);
    }
}

// The maximal levels: W = 2^(J - 1) <= 32.
#define FJ_L2_MAX_LEVELS 6

// A shift by a run-time r (0 < r < 16) within each 128-bit half: lane j of the result is byte j + r of (b | a) (what
// `vpalignr` does with an immediate), taken as two `vpshufb` (bytes from b where j + r < 16, from a beyond; 0x80
// zeroes the other) and an or. The tables for r.
typedef struct {
    __m256i fromB, fromA;
} fj_l2_shift;

FJ_L2 static fj_l2_shift fj_l2_plan_shift(int r) {
    fj_l2_shift p;
    _Alignas(32) int8_t b[32], a[32];
    for (int j = 0; j < 32; j++) {
        const int at = j % 16 + r;
        b[j] = at < 16 ? (int8_t)at : (int8_t)0x80;
        a[j] = at >= 16 ? (int8_t)(at - 16) : (int8_t)0x80;
    }
    p.fromB = _mm256_load_si256((const __m256i *)b);
    p.fromA = _mm256_load_si256((const __m256i *)a);
    return p;
}

// Lanes i + d (d = 1, 2, 4, 8, 16: a constant) of (cur | next) within each 128-bit half (two independent rows of
// 16 lanes: one `vpalignr`, no lane crossing).
FJ_L2 FJ_L2_INLINE __m256i fj_l2_forward_halves(__m256i cur, __m256i next, int d) {
    switch (d) {
    case 1: return _mm256_alignr_epi8(next, cur, 1);
    case 2: return _mm256_alignr_epi8(next, cur, 2);
    case 4: return _mm256_alignr_epi8(next, cur, 4);
    case 8: return _mm256_alignr_epi8(next, cur, 8);
    default: return next;
    }
}

// The level pipeline of `fj_l2_row` for one loaded vector `v`: lv[j] is the newest vector of level j + 1, the
// top level keeps its three newest (top[0] oldest).
FJ_L2 FJ_L2_INLINE void fj_l2_levels(int op, int J, __m256i *lv, __m256i *top, __m256i v) {
    __m256i below = lv[0];
    lv[0] = v;
    for (int j = 1; j < J; j++) {
        // Level j at indices i - j and i - j + 1 (below, v) give level j + 1 at i - j.
        const __m256i up = fj_l2_op(op, below, fj_l2_forward_halves(below, v, 1 << (j - 1)));
        below = lv[j];
        lv[j] = up;
        v = up;
    }
    top[0] = top[1]; top[1] = top[2]; top[2] = v;
}

// The window's second W-window (kind 0: d = 0, 1: d = 16, 2: 0 < d < 16, 3: d > 16), op'd with the first.
FJ_L2 FJ_L2_INLINE __m256i fj_l2_window(int op, int kind, const __m256i *top, const fj_l2_shift *shift) {
    __m256i second;
    switch (kind) {
    case 0: second = top[0]; break;
    case 1: second = top[1]; break;
    case 2: second = _mm256_or_si256(_mm256_shuffle_epi8(top[0], shift->fromB), _mm256_shuffle_epi8(top[1], shift->fromA)); break;
    default: second = _mm256_or_si256(_mm256_shuffle_epi8(top[1], shift->fromB), _mm256_shuffle_epi8(top[2], shift->fromA)); break;
    }
    return fj_l2_op(op, top[0], second);
}

// One output row along the row: out[x] = op(c[x + s ..< x + s + length]) for x < n, where c = row of column
// minima at `cm` (positions s ..< n + s + 16 (J + 4) readable). The row is cut in two halves at H (a multiple of
// 16, H >= n - H), run side by side in the two 128-bit lanes of every vector (lane 0: columns 16 i ..< 16 i + 16,
// lane 1: H + 16 i ...), so that a shift along the row never crosses lanes. The vectors are loaded from the
// window's start (cm + s): the top level (W-windows) at x starts at x + s, and the window is op(top[x],
// top[x + d]), d = length - W (0 <= d < W <= 32), the second a shift by the run-time d over the top level's next
// two vectors (`shift`: two `vpshufb` and an or). J levels and the kind of shift constants where inlined; the
// vectors whose two stores are whole run without a branch.
FJ_L2 FJ_L2_INLINE void fj_l2_row_kind(int op, int J, int kind, const uint8_t *cm, ptrdiff_t n, ptrdiff_t s,
                                       const fj_l2_shift *shift, uint8_t *out) {
    const ptrdiff_t H = ((n + 1) / 2 + 15) / 16 * 16, nh = H / 16;
    const ptrdiff_t end0 = H < n ? H : n;
    __m256i lv[FJ_L2_MAX_LEVELS], top[3];
    for (int j = 0; j < J; j++) lv[j] = _mm256_setzero_si256();
    top[0] = top[1] = top[2] = _mm256_setzero_si256();
    const uint8_t *c = cm + s;
#define FJ_L2_LOAD(i) _mm256_loadu2_m128i((const __m128i *)(c + H + 16 * (i)), (const __m128i *)(c + 16 * (i)))
    // After loading vector i, level j (1-based) gains index i - (j - 1), and output vector u = i - J - 1 (needing
    // the top level at u ... u + 2) is ready.
    for (ptrdiff_t i = 0; i < J + 1; i++) fj_l2_levels(op, J, lv, top, FJ_L2_LOAD(i));
    // Output vectors u < whole store both lanes whole (16 u + 16 <= end0, H + 16 u + 16 <= n).
    const ptrdiff_t whole0 = end0 / 16, whole1 = (n - H) / 16, whole = whole0 < whole1 ? whole0 : whole1;
    ptrdiff_t u = 0;
    for (; u < whole; u++) {
        fj_l2_levels(op, J, lv, top, FJ_L2_LOAD(u + J + 1));
        const __m256i r = fj_l2_window(op, kind, top, shift);
        _mm_storeu_si128((__m128i *)(out + 16 * u), _mm256_castsi256_si128(r));
        _mm_storeu_si128((__m128i *)(out + H + 16 * u), _mm256_extracti128_si256(r, 1));
    }
    for (; u < nh; u++) {
        fj_l2_levels(op, J, lv, top, FJ_L2_LOAD(u + J + 1));
        const __m256i r = fj_l2_window(op, kind, top, shift);
        // Lane 0 to columns 16 u ..< 16 u + 16 (below H and n), lane 1 to H + 16 u ... (below n).
        const ptrdiff_t x0 = 16 * u, x1 = H + 16 * u;
        _Alignas(32) uint8_t part[32];
        _mm256_store_si256((__m256i *)part, r);
        if (x0 < end0) memcpy(out + x0, part, (size_t)(x0 + 16 <= end0 ? 16 : end0 - x0));
        if (x1 < n) memcpy(out + x1, part + 16, (size_t)(x1 + 16 <= n ? 16 : n - x1));
    }
#undef FJ_L2_LOAD
}

FJ_L2 FJ_L2_INLINE void fj_l2_row(int op, int J, const uint8_t *cm, ptrdiff_t n, ptrdiff_t s, int d,
                                  const fj_l2_shift *shift, uint8_t *out) {
    if (d == 0) fj_l2_row_kind(op, J, 0, cm, n, s, shift, out);
    else if (d == 16) fj_l2_row_kind(op, J, 1, cm, n, s, shift, out);
    else if (d < 16) fj_l2_row_kind(op, J, 2, cm, n, s, shift, out);
    else fj_l2_row_kind(op, J, 3, cm, n, s, shift, out);
}

// dst[x] = op(a[x], b[x]) for x < n (whole vectors, then a scalar tail).
FJ_L2 FJ_L2_INLINE void fj_l2_combine(int op, uint8_t *dst, const uint8_t *a, const uint8_t *b, ptrdiff_t n) {
    ptrdiff_t x = 0;
    for (; x + 32 <= n; x += 32)
        _mm256_storeu_si256((__m256i *)(dst + x),
                            fj_l2_op(op, _mm256_loadu_si256((const __m256i *)(a + x)), _mm256_loadu_si256((const __m256i *)(b + x))));
    for (; x < n; x++) {
        const int signedOp = op >= 2, maximum = op & 1;
        const int va = signedOp ? (int8_t)a[x] : a[x], vb = signedOp ? (int8_t)b[x] : b[x];
        dst[x] = (uint8_t)(maximum ? (va > vb ? va : vb) : (va < vb ? va : vb));
    }
}

typedef struct {
    ptrdiff_t n, k, centre, s, length;
    const ptrdiff_t *columns;
    ptrdiff_t leftCount, rightCount;  // extended positions before / after the row that windows read
    uint8_t cval;
} fj_l2_plan;

// The row of column minima (at cm[0 ..< n]) extended through the mode: positions -leftCount ..< 0 and n ..<
// n + rightCount.
static inline void fj_l2_extend(const fj_l2_plan *p, uint8_t *cm) {
    // Locals: cm may alias anything, so fields read through p would be reloaded after every store.
    const ptrdiff_t *columns = p->columns + p->centre;
    const ptrdiff_t n = p->n, left = p->leftCount, right = p->rightCount;
    const uint8_t cval = p->cval;
    for (ptrdiff_t q = -left; q < 0; q++) {
        const ptrdiff_t col = columns[q];
        cm[q] = col >= 0 ? cm[col] : cval;
    }
    for (ptrdiff_t q = n; q < n + right; q++) {
        const ptrdiff_t col = columns[q];
        cm[q] = col >= 0 ? cm[col] : cval;
    }
}

// prefix[x] = op(before[x], entering[x]); cm[x] = op(sfx[x], prefix[x]) for x < n, in one pass.
FJ_L2 FJ_L2_INLINE void fj_l2_step(int op, uint8_t *cm, uint8_t *prefix, const uint8_t *before, const uint8_t *sfx,
                                   const uint8_t *entering, ptrdiff_t n) {
    ptrdiff_t x = 0;
    for (; x + 32 <= n; x += 32) {
        const __m256i pre = fj_l2_op(op, _mm256_loadu_si256((const __m256i *)(before + x)),
                                     _mm256_loadu_si256((const __m256i *)(entering + x)));
        _mm256_storeu_si256((__m256i *)(prefix + x), pre);
        _mm256_storeu_si256((__m256i *)(cm + x), fj_l2_op(op, _mm256_loadu_si256((const __m256i *)(sfx + x)), pre));
    }
    if (x < n) {
        fj_l2_combine(op, prefix + x, before + x, entering + x, n - x);
        fj_l2_combine(op, cm + x, sfx + x, prefix + x, n - x);
    }
}

FJ_L2 FJ_L2_INLINE void fj_l2_run(int op, int J, const fj_l2_plan *p, const uint8_t *const *rows, uint8_t *const *outs,
                                  ptrdiff_t count, uint8_t *const *suffix, uint8_t *prefix, uint8_t *cm) {
    const ptrdiff_t n = p->n, k = p->k;
    const int d = (int)(p->length - (1 << (J - 1)));
    const fj_l2_shift shift = fj_l2_plan_shift(d % 16);
    for (ptrdiff_t y0 = 0; y0 < count; y0 += k) {
        // The block's suffix minima: S[t] = op(rows y0 + t ... y0 + k - 1); S[k - 1] is the row itself, S[0] the
        // first output row's column minima.
        const uint8_t *next = rows[y0 + k - 1];
        for (ptrdiff_t t = k - 2; t >= 0; t--) {
            uint8_t *dst = t == 0 ? cm : suffix[t];
            fj_l2_combine(op, dst, rows[y0 + t], next, n);
            next = dst;
        }
        if (k == 1) memcpy(cm, rows[y0], (size_t)n);
        fj_l2_extend(p, cm);
        fj_l2_row(op, J, cm, n, p->s, d, &shift, outs[y0]);
        // The block's other rows: prefix over the next block's rows, combined with the suffix.
        const uint8_t *before = NULL;  // the prefix so far: the first entering row itself, then `prefix`
        for (ptrdiff_t t = 1; t < k && y0 + t < count; t++) {
            const uint8_t *entering = rows[y0 + k + t - 1];
            const uint8_t *sfx = t == k - 1 ? rows[y0 + k - 1] : suffix[t];
            if (t == 1) {
                fj_l2_combine(op, cm, sfx, entering, n);
                before = entering;
            } else {
                fj_l2_step(op, cm, prefix, before, sfx, entering, n);
                before = prefix;
            }
            fj_l2_extend(p, cm);
            fj_l2_row(op, J, cm, n, p->s, d, &shift, outs[y0 + t]);
        }
    }
}

#define FJ_L2_VARIANTS(OP)                                                                                 \
    FJ_L2 static void fj_l2_run_##OP(int J, const fj_l2_plan *p, const uint8_t *const *rows, uint8_t *const *outs, \
                                     ptrdiff_t count, uint8_t *const *suffix, uint8_t *prefix, uint8_t *cm) {     \
        switch (J) {                                                                                       \
        case 1: fj_l2_run(OP, 1, p, rows, outs, count, suffix, prefix, cm); break;                         \
        case 2: fj_l2_run(OP, 2, p, rows, outs, count, suffix, prefix, cm); break;                         \
        case 3: fj_l2_run(OP, 3, p, rows, outs, count, suffix, prefix, cm); break;                         \
        case 4: fj_l2_run(OP, 4, p, rows, outs, count, suffix, prefix, cm); break;                         \
        case 5: fj_l2_run(OP, 5, p, rows, outs, count, suffix, prefix, cm); break;                         \
        default: fj_l2_run(OP, 6, p, rows, outs, count, suffix, prefix, cm); break;                        \
        }                                                                                                  \
    }
FJ_L2_VARIANTS(0)
FJ_L2_VARIANTS(1)
FJ_L2_VARIANTS(2)
FJ_L2_VARIANTS(3)

static ptrdiff_t fj_l2_round(ptrdiff_t x) { return (x + 63) / 64 * 64; }

int filterjit_box_long_avx2_run(int op, const uint8_t *const *rows, ptrdiff_t k, uint8_t *const *outs, ptrdiff_t count,
                                ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                                ptrdiff_t start, ptrdiff_t length, uint8_t cval) {
    if (!filterjit_box_long_avx2()) return -1;
    if (count <= 0) return 0;
    const ptrdiff_t s = start - centre;
    // Windows of at most 63 columns (W <= 32) starting within 31 positions of the pixel.
    if (k < 1 || k > 255 || length < 1 || length > 63 || n < 1 || start < 0 || centre < 0 || s <= -32 || s >= 32 ||
        start + n + length - 1 > extendedLength)
        return -1;
    int J = 1;
    while ((1 << J) <= length) J++;   // W = 2^(J - 1) <= length < 2W
    fj_l2_plan p;
    p.n = n; p.k = k; p.centre = centre; p.s = s; p.length = length; p.columns = columns; p.cval = cval;
    p.leftCount = s < 0 ? -s : 0;
    p.rightCount = s + length - 1 > 0 ? s + length - 1 : 0;
    // Scratch: the cval row, k - 2 suffix rows, the prefix row, and the row of column minima with 64 bytes before
    // it and 32 (J + 3) after (the pipeline reads from s > -32 up to s + 2H + 16 (J + 1), 2H <= n + 31, s < 32; the
    // mode's columns reach s + length - 1 < 95 past the row).
    const ptrdiff_t row = fj_l2_round(n) + 64, cmBytes = 64 + fj_l2_round(n) + 32 * (J + 3);
    const ptrdiff_t suffixRows = k > 2 ? k - 2 : 0;
    uint8_t *scratch = malloc((size_t)(row * (2 + suffixRows) + cmBytes + 64));
    if (!scratch) return -1;
    uint8_t *base = (uint8_t *)(((uintptr_t)scratch + 63) / 64 * 64);
    uint8_t *cvalRow = base, *prefix = base + row, *suffixBase = base + 2 * row;
    uint8_t *cm = base + (2 + suffixRows) * row + 64;
    memset(cvalRow, cval, (size_t)n);
    memset(cm - 64, 0, (size_t)cmBytes);
    uint8_t *suffix[256];
    for (ptrdiff_t t = 0; t < 256; t++) suffix[t] = t >= 1 && t <= suffixRows ? suffixBase + (t - 1) * row : NULL;
    // Rows outside the image: the cval row.
    const ptrdiff_t total = count + k - 1;
    const uint8_t **table = malloc(sizeof(uint8_t *) * (size_t)total);
    if (!table) { free(scratch); return -1; }
    for (ptrdiff_t i = 0; i < total; i++) table[i] = rows[i] ? rows[i] : cvalRow;
    switch (op) {
    case 0: fj_l2_run_0(J, &p, table, outs, count, suffix, prefix, cm); break;
    case 1: fj_l2_run_1(J, &p, table, outs, count, suffix, prefix, cm); break;
    case 2: fj_l2_run_2(J, &p, table, outs, count, suffix, prefix, cm); break;
    default: fj_l2_run_3(J, &p, table, outs, count, suffix, prefix, cm); break;
    }
    free(table);
    free(scratch);
    return 0;
}

#else

int filterjit_box_long_avx2(void) { return 0; }
void filterjit_box_long_set_avx2(int enabled) { (void)enabled; }
int filterjit_box_long_avx2_run(int op, const uint8_t *const *rows, ptrdiff_t k, uint8_t *const *outs, ptrdiff_t count,
                                ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                                ptrdiff_t start, ptrdiff_t length, uint8_t cval) {
    (void)op; (void)rows; (void)k; (void)outs; (void)count; (void)n; (void)columns; (void)extendedLength; (void)centre;
    (void)start; (void)length; (void)cval;
    return -1;
}

#endif
