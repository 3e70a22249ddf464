// Min/max of float32, float64, uint16 and int16 2-D boxes of 9 or more rows with AVX2, for CPUs without AVX-512
// (the kernel behind `filterjit_box_long_f32` / `_f64` / `_u16` / `_i16` there: see include/box_minmax_long.h and
// docs/window-strategies.md). Columns first, as the 8-bit AVX2 kernel (box_minmax_long_avx2.c):
//  - down the columns, van Herk / Gil-Werman over blocks of k output rows: at a block's start the suffix minima of
//    its k input rows (the last is the input row itself, the first goes straight into the row of column minima, the
//    k - 2 between are scratch rows), then per output row t of the block one pass that takes the prefix over the
//    next block's rows
//    (one prefix row, updated in place) and op(suffix[t], prefix) together: about 3 operations per element whatever k;
//  - the output row's column minima go into a scratch row with room on both sides, where the columns its windows
//    read outside the row are set through the mode (the extension commutes with a minimum down a column);
//  - along the row, in L1-resident scratch rows: windows doubled per level (1, 2, ... W) by one pass each, then
//    every output vector takes op over m = ceil(length / W) W-windows at offsets 0, W, 2W, ... and length - W
//    (min and max are idempotent, so the last may overlap). With 4-16 lanes per vector unaligned loads are cheap
//    enough that the levels need no in-register shifts (the 8-bit kernel's 32 lanes do); W is chosen per call to
//    keep levels + m small (`fj_lw2_levels`).
// NaN and -0.0 in float data (where min/max are order-dependent, so the exact path must run): every input row is
// checked once, as it is first read: the entering rows by the prefix pass that loads them, the rest (each block's
// last row, the first block's rows) by a check of their own; float32 by integer min/max of the bits on the side
// (f32_hazards_avx2.h), float64 by two 64-bit compares (AVX2 has no 64-bit integer min/max).
// Swift's van Herk passes (BoxMinMax.swift) took these boxes here before, with a separate NaN scan: Zen 3, 2048x2048,
// one thread, float32 9x9 min 4.35 -> 2.85 ms through Python against `cv2.erode`'s 3.6 ms (in a later A/B in one
// process, when the VM ran slower: 4.00 -> 3.09 ms; docs/status.md, "Sixteenth session").
// One body per type: box_minmax_long_wide_avx2_body.h.

#include "box_minmax_long.h"
#include "box_minmax_long_wide_avx2.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "avx2_switch.h"
#include "f32_hazards_avx2.h"

#define FJ_LW2 __attribute__((target("avx2")))
#define FJ_LW2_INLINE static inline __attribute__((always_inline))

static int fj_lw2_cached = -1;
int filterjit_box_long_wide_avx2(void) { return fj_avx2_switch(&fj_lw2_cached); }
void filterjit_box_long_set_wide_avx2(int enabled) { fj_avx2_switch_set(&fj_lw2_cached, enabled); }

static uint64_t fj_lw2_runs = 0;
uint64_t filterjit_box_long_wide_avx2_runs(void) { return __atomic_load_n(&fj_lw2_runs, __ATOMIC_RELAXED); }

static ptrdiff_t fj_lw2_round(ptrdiff_t x, ptrdiff_t lanes) { return (x + lanes - 1) / lanes * lanes; }

// The most W-windows an output vector combines (m), and so the fewest levels for a length; the most levels
// (length <= 1024 = 2^10 needs at most 10).
#define FJ_LW2_MAX_M 8
#define FJ_LW2_MAX_LEVELS 10

typedef struct {
    ptrdiff_t n, k, centre, s, length;
    const ptrdiff_t *columns;
    ptrdiff_t leftCount, rightCount;   // extended positions before / after the row that windows read
    int levels;                        // W = 2^levels
    int m;                             // W-windows per output: offsets 0, W, ..., (m - 2) W and length - W
    // need[l]: positions of level l (windows of 2^l) that must be valid, from cm + s.
    ptrdiff_t need[FJ_LW2_MAX_LEVELS + 1];
} fj_lw2_plan;

// The levels for a window of `length` columns: the fewest passes plus loads per output vector, with at most
// FJ_LW2_MAX_M windows. The weights are empirical: a level pass (a load pair, an op and a store per vector) counts
// 3, each W-window of the output (a load and an op) 1. C harness, Zen 3, float32, 2048 columns x 128 rows in
// cache, best of 200: the levels it picks (1, 2, 3 at k = 9, 15, 31) were the fastest or within 3% of them (one
// level fewer or more: 0-20% slower).
static int fj_lw2_levels(ptrdiff_t length) {
    int best = -1;
    ptrdiff_t bestCost = 0;
    for (int l = 0; ((ptrdiff_t)1 << l) <= length; l++) {
        const ptrdiff_t W = (ptrdiff_t)1 << l, m = (length + W - 1) / W;
        if (m > FJ_LW2_MAX_M) continue;
        const ptrdiff_t cost = 3 * l + m;
        if (best < 0 || cost < bestCost) { best = l; bestCost = cost; }
    }
    return best;
}

// The call's plan; 0 for a shape the kernel does not take (k > 255, length > 1024, start or centre negative,
// positions past extendedLength).
static int fj_lw2_make_plan(fj_lw2_plan *p, ptrdiff_t lanes, ptrdiff_t k, ptrdiff_t n, const ptrdiff_t *columns,
                            ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start, ptrdiff_t length) {
    if (k < 1 || k > 255 || length < 1 || length > (1 << FJ_LW2_MAX_LEVELS) || n < 1 || n > ((ptrdiff_t)1 << 40) ||
        start < 0 || centre < 0 || start + n + length - 1 > extendedLength)
        return 0;
    p->n = n; p->k = k; p->centre = centre; p->s = start - centre; p->length = length; p->columns = columns;
    p->leftCount = p->s < 0 ? -p->s : 0;
    p->rightCount = p->s + length - 1 > 0 ? p->s + length - 1 : 0;
    p->levels = fj_lw2_levels(length);
    if (p->levels < 0) return 0;
    const ptrdiff_t W = (ptrdiff_t)1 << p->levels;
    p->m = (int)((length + W - 1) / W);
    // Positions of each level that the next reads (the output reads vectors x < round(n) at offsets up to
    // length - W; level l + 1's vectors i < round(need[l + 1]) read level l up to i + 2^l + lanes - 1).
    p->need[p->levels] = fj_lw2_round(n, lanes) + length - W;
    for (int l = p->levels - 1; l >= 0; l--) p->need[l] = fj_lw2_round(p->need[l + 1], lanes) + ((ptrdiff_t)1 << l);
    return 1;
}

// Whether the call reads cval: a row outside the image (NULL) or a column outside it.
static int fj_lw2_reads_cval(const void *const *rows, ptrdiff_t rowCount, const fj_lw2_plan *p) {
    for (ptrdiff_t i = 0; i < rowCount; i++)
        if (!rows[i]) return 1;
    for (ptrdiff_t q = -p->leftCount; q < 0; q++)
        if (p->columns[p->centre + q] < 0) return 1;
    for (ptrdiff_t q = p->n; q < p->n + p->rightCount; q++)
        if (p->columns[p->centre + q] < 0) return 1;
    return 0;
}

// NaN or -0.0 in one float.
FJ_LW2_INLINE int fj_lw2_hazard_f32(float v) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return (bits & 0x7FFFFFFFu) > 0x7F800000u || bits == 0x80000000u;
}
FJ_LW2_INLINE int fj_lw2_hazard_f64(double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return (bits & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull || bits == 0x8000000000000000ull;
}

// float64 lanes seen: NaN (magnitude bits above infinity's) or -0.0 (the least int64) as an or of compares.
typedef struct { __m256i any; } fj_f64_seen;
FJ_LW2 FJ_LW2_INLINE fj_f64_seen fj_f64_seen_none(void) { return (fj_f64_seen){_mm256_setzero_si256()}; }
FJ_LW2 FJ_LW2_INLINE void fj_f64_seen_add(fj_f64_seen *seen, __m256d v) {
    const __m256i bits = _mm256_castpd_si256(v);
    const __m256i magnitude = _mm256_and_si256(bits, _mm256_set1_epi64x(INT64_MAX));
    seen->any = _mm256_or_si256(seen->any,
                                _mm256_or_si256(_mm256_cmpgt_epi64(magnitude, _mm256_set1_epi64x(0x7FF0000000000000ll)),
                                                _mm256_cmpeq_epi64(bits, _mm256_set1_epi64x(INT64_MIN))));
}
FJ_LW2 FJ_LW2_INLINE int fj_f64_seen_any(fj_f64_seen seen) { return !_mm256_testz_si256(seen.any, seen.any); }

// float32
#define FJA(name) fj_lw2_f32_##name
#define FJA_T float
#define FJA_LANES 8
#define FJA_V __m256
#define FJA_LOADU(p) _mm256_loadu_ps(p)
#define FJA_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define FJA_OP(maximum, a, b) ((maximum) ? _mm256_max_ps((a), (b)) : _mm256_min_ps((a), (b)))
#define FJA_HAZARDS 1
#define FJA_SEEN fj_f32_seen
#define FJA_SEEN_NONE() fj_f32_seen_none()
#define FJA_SEEN_ADD(seen, v) fj_f32_seen_add((seen), _mm256_castps_si256(v))
#define FJA_SEEN_ANY(seen) fj_f32_seen_any(seen)
#define FJA_HAZARD1(v) fj_lw2_hazard_f32(v)
#include "box_minmax_long_wide_avx2_body.h"
#undef FJA
#undef FJA_T
#undef FJA_LANES
#undef FJA_V
#undef FJA_LOADU
#undef FJA_STOREU
#undef FJA_OP
#undef FJA_HAZARDS
#undef FJA_SEEN
#undef FJA_SEEN_NONE
#undef FJA_SEEN_ADD
#undef FJA_SEEN_ANY
#undef FJA_HAZARD1

// float64
#define FJA(name) fj_lw2_f64_##name
#define FJA_T double
#define FJA_LANES 4
#define FJA_V __m256d
#define FJA_LOADU(p) _mm256_loadu_pd(p)
#define FJA_STOREU(p, v) _mm256_storeu_pd((p), (v))
#define FJA_OP(maximum, a, b) ((maximum) ? _mm256_max_pd((a), (b)) : _mm256_min_pd((a), (b)))
#define FJA_HAZARDS 1
#define FJA_SEEN fj_f64_seen
#define FJA_SEEN_NONE() fj_f64_seen_none()
#define FJA_SEEN_ADD(seen, v) fj_f64_seen_add((seen), (v))
#define FJA_SEEN_ANY(seen) fj_f64_seen_any(seen)
#define FJA_HAZARD1(v) fj_lw2_hazard_f64(v)
#include "box_minmax_long_wide_avx2_body.h"
#undef FJA
#undef FJA_T
#undef FJA_LANES
#undef FJA_V
#undef FJA_LOADU
#undef FJA_STOREU
#undef FJA_OP
#undef FJA_HAZARDS
#undef FJA_SEEN
#undef FJA_SEEN_NONE
#undef FJA_SEEN_ADD
#undef FJA_SEEN_ANY
#undef FJA_HAZARD1

// uint16 and int16 (no hazards)
#define FJA_LANES 16
#define FJA_V __m256i
#define FJA_LOADU(p) _mm256_loadu_si256((const __m256i *)(p))
#define FJA_STOREU(p, v) _mm256_storeu_si256((__m256i *)(p), (v))
#define FJA_HAZARDS 0
#define FJA_SEEN int
#define FJA_SEEN_NONE() 0
#define FJA_SEEN_ADD(seen, v) ((void)(seen), (void)(v))
#define FJA_SEEN_ANY(seen) ((void)(seen), 0)
#define FJA_HAZARD1(v) ((void)(v), 0)
#define FJA(name) fj_lw2_u16_##name
#define FJA_T uint16_t
#define FJA_OP(maximum, a, b) ((maximum) ? _mm256_max_epu16((a), (b)) : _mm256_min_epu16((a), (b)))
#include "box_minmax_long_wide_avx2_body.h"
#undef FJA
#undef FJA_T
#undef FJA_OP
#define FJA(name) fj_lw2_i16_##name
#define FJA_T int16_t
#define FJA_OP(maximum, a, b) ((maximum) ? _mm256_max_epi16((a), (b)) : _mm256_min_epi16((a), (b)))
#include "box_minmax_long_wide_avx2_body.h"
#undef FJA
#undef FJA_T
#undef FJA_OP
#undef FJA_LANES
#undef FJA_V
#undef FJA_LOADU
#undef FJA_STOREU
#undef FJA_HAZARDS
#undef FJA_SEEN
#undef FJA_SEEN_NONE
#undef FJA_SEEN_ADD
#undef FJA_SEEN_ANY
#undef FJA_HAZARD1

#define FJ_LW2_ENTRY(NAME, T)                                                                                       \
    int fj_box_long_##NAME##_avx2_run(int maximum, const T *const *rows, ptrdiff_t k, T *const *outs, ptrdiff_t count,  \
                                      ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, \
                                      ptrdiff_t start, ptrdiff_t length, T cval) {                                 \
        return fj_lw2_##NAME##_entry(maximum, rows, k, outs, count, n, columns, extendedLength, centre, start, length, cval); \
    }

#else

int filterjit_box_long_wide_avx2(void) { return 0; }
void filterjit_box_long_set_wide_avx2(int enabled) { (void)enabled; }
uint64_t filterjit_box_long_wide_avx2_runs(void) { return 0; }

#define FJ_LW2_ENTRY(NAME, T)                                                                                       \
    int fj_box_long_##NAME##_avx2_run(int maximum, const T *const *rows, ptrdiff_t k, T *const *outs, ptrdiff_t count,  \
                                      ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, \
                                      ptrdiff_t start, ptrdiff_t length, T cval) {                                 \
        (void)maximum; (void)rows; (void)k; (void)outs; (void)count; (void)n; (void)columns; (void)extendedLength;   \
        (void)centre; (void)start; (void)length; (void)cval;                                                        \
        return -1;                                                                                                 \
    }

#endif

FJ_LW2_ENTRY(f32, float)
FJ_LW2_ENTRY(f64, double)
FJ_LW2_ENTRY(u16, uint16_t)
FJ_LW2_ENTRY(i16, int16_t)
