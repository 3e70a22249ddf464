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
#include "avx2_switch.h"

#define FJ_AVX512 __attribute__((target("avx512f,avx512bw")))

static int fj_avx512_cached = -1;

static int fj_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

int filterjit_rank_kernels_avx512(void) {
    int value = __atomic_load_n(&fj_avx512_cached, __ATOMIC_RELAXED);
    if (value < 0) {
        const char *off = getenv("FILTERJIT_NO_AVX512");
        value = fj_cpu_has_avx512() && !(off && off[0] && off[0] != '0');
        __atomic_store_n(&fj_avx512_cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

// Calls of the median row kernels (tests: proof that a path reached them): [0] 3x3, [1] 5x5, [2] either with
// non-temporal stores.
static uint64_t fj_median_runs[3];
uint64_t filterjit_median_rows_runs(int which) {
    return which >= 0 && which < 3 ? __atomic_load_n(&fj_median_runs[which], __ATOMIC_RELAXED) : 0;
}
static void fj_median_ran(int which, int stream) {
    __atomic_fetch_add(&fj_median_runs[which], 1, __ATOMIC_RELAXED);
    if (stream) __atomic_fetch_add(&fj_median_runs[2], 1, __ATOMIC_RELAXED);
}

// The AVX2 3x3 row kernels (no non-temporal stores), counted as the AVX-512 ones are: 0 where AVX2 is off.
#define fj_median3x3_avx2(KERNEL, rows, outs, count, start, n)                                             \
    (!filterjit_median3x3_avx2() ? 0 : ((n) <= 0 || (count) <= 0) ? 1 : (fj_median_ran(0, 0), KERNEL(rows, outs, count, start, n)))

// Their switch: the CPU has AVX2 and FILTERJIT_NO_AVX2 is unset, empty or starts with '0' (its own flag, so
// that a test switching them does not change the pairwise sums' strategy threshold under other tests).
static int fj_median_avx2_cached = -1;

int filterjit_median3x3_avx2(void) { return fj_avx2_switch(&fj_median_avx2_cached); }

void filterjit_median3x3_set_avx2(int enabled) { fj_avx2_switch_set(&fj_median_avx2_cached, enabled); }

void filterjit_rank_kernels_set_avx512(int enabled) {
    __atomic_store_n(&fj_avx512_cached, enabled < 0 ? -1 : enabled && fj_cpu_has_avx512() ? 1 : 0, __ATOMIC_RELAXED);
}

// The first `left` lanes (none when left <= 0, all from the vector's width on).
static inline __mmask64 fj_mask64(ptrdiff_t left) { return left >= 64 ? ~(__mmask64)0 : left <= 0 ? 0 : (((__mmask64)1 << left) - 1); }
static inline __mmask32 fj_mask32(ptrdiff_t left) { return left >= 32 ? ~(__mmask32)0 : left <= 0 ? 0 : (__mmask32)((((uint64_t)1) << left) - 1); }
static inline __mmask16 fj_mask16(ptrdiff_t left) { return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1); }
static inline __mmask8 fj_mask8(ptrdiff_t left) { return left >= 8 ? (__mmask8)0xFF : left <= 0 ? 0 : (__mmask8)((1u << left) - 1); }

// Whether the CPU has AVX-512 VBMI (byte permutes across the whole vector); only asked when
// filterjit_rank_kernels_avx512() holds.
static int fj_has_vbmi(void) {
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        __builtin_cpu_init();
        value = __builtin_cpu_supports("avx512vbmi") ? 1 : 0;
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

// Whether the CPU has AVX-512 DQ (asked as fj_has_vbmi).
static int fj_has_dq(void) {
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        __builtin_cpu_init();
        value = __builtin_cpu_supports("avx512dq") ? 1 : 0;
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

// Non-temporal stores of whole 64-byte-aligned vectors (the _rows_stream kernels: big outputs, which
// otherwise cost a read of every output line and its write-back through the caches), and the number
// of elements before the first 64-byte boundary of a row (all of it when its elements are not
// aligned to their size).
// (Always inlined: a debug build called them with the vector passed on a stack that was not 64-byte aligned,
// and the aligned store of that argument faulted under AddressSanitizer.)
FJ_AVX512 static inline __attribute__((always_inline)) void fj_stream_ps(void *p, __m512 v) { _mm512_stream_ps((float *)p, v); }
FJ_AVX512 static inline __attribute__((always_inline)) void fj_stream_pd(void *p, __m512d v) { _mm512_stream_pd((double *)p, v); }
FJ_AVX512 static inline __attribute__((always_inline)) void fj_stream_si(void *p, __m512i v) { _mm512_stream_si512(p, v); }
#define FJ_STREAM(p, v) _Generic((v), __m512: fj_stream_ps, __m512d: fj_stream_pd, default: fj_stream_si)((void *)(p), v)
static inline ptrdiff_t fj_stream_head(const void *out, size_t size, ptrdiff_t n) {
    uintptr_t address = (uintptr_t)out;
    if (address % size != 0) return n;
    ptrdiff_t head = (ptrdiff_t)(((64 - (address & 63)) & 63) / size);
    return head < n ? head : n;
}

// NAME, element type, vector type, lanes, mask type, mask function, masked zero load, masked store,
// min, max, the shifts by one and two elements (SH1(a, next): lanes 1.. of a then the first of next),
// HAZARD(v) (a mask of the lanes holding NaN or -0.0; 0 for integers), HAS_HAZARDS (1 for floats),
// the target attribute. Each column of three is sorted once (6 min/max per vector of columns) and the
// sorted columns of the block are carried to the next block: a window's second and third columns are
// the sorted vectors shifted by one and two elements across into the next block's, so a vector of
// medians takes 18 min/max and 6 shifts instead of 30 min/max. The same min/max on the same values as
// per-pixel column sorts, so the same bits. The shifts: `valignd` / `valignq` (one instruction) for
// 32- and 64-bit elements, `vpermt2b` for bytes where the CPU has VBMI (0.44 -> 0.33 ms for 2048x2048
// uint8 in a C loop over the rows on Zen 4), else `valignq` by 16 bytes then `vpalignr` within each
// 128-bit lane (the valignq shared by both shifts: 9 shuffles per vector).
//
// NAME##_row: one output row from three input rows, columns 0 ..< n + 2 of each; `check` bit r asks
// for row r's values to be checked (HAZARD): returns whether one was a hazard.
// NAME##_rows_impl: `count` output rows, row y from rows[3y + r] + start, into outs[y][0 ..< n];
// each input row is checked once per call, when it first enters a window (a row pointer also in
// the previous output row's window was checked there, over the same columns).
#define FJ_MEDIAN3X3(NAME, T, V, LANES, MT, MASK, MLOAD, MSTORE, MIN, MAX, SH1, SH2, HAZARD, HAS_HAZARDS, ATTR) \
    /* The medians of the windows at out[x ..< x + LANES] from the sorted columns of this vector (lo, mid, */ \
    /* hi) and the next (for the shifts), stored (masked at the row's end, non-temporal with `stream`). */   \
    ATTR static inline __attribute__((always_inline)) void NAME##_finish(V lo, V mid, V hi, V loNext, V midNext, \
                                                                      V hiNext, T *out, ptrdiff_t x,        \
                                                                      ptrdiff_t n, int stream) {            \
        V lo1 = SH1(lo, loNext), lo2 = SH2(lo, loNext);                                                     \
        V mid1 = SH1(mid, midNext), mid2 = SH2(mid, midNext);                                               \
        V hi1 = SH1(hi, hiNext), hi2 = SH2(hi, hiNext);                                                     \
        V l = MAX(MAX(lo, lo1), lo2);                                                                       \
        V h = MIN(MIN(hi, hi1), hi2);                                                                       \
        V md = MAX(MIN(mid, mid1), MIN(MAX(mid, mid1), mid2));                                              \
        V r = MAX(MIN(l, md), MIN(MAX(l, md), h));                                                          \
        if (n - x < LANES) MSTORE(out + x, MASK(n - x), r);                                                 \
        else if (stream) FJ_STREAM(out + x, r);                                                             \
        else MSTORE(out + x, ~(MT)0, r);                                                                    \
    }                                                                                                       \
    ATTR static inline int NAME##_row(const T *r0, const T *r1, const T *r2, ptrdiff_t n, T *out, unsigned check,   \
                                     int stream) {                                                  \
        const ptrdiff_t columns = n + 2;                                                                    \
        MT bad = 0;                                                                                         \
        V lo, mid, hi;                                                                                      \
        {                                                                                                   \
            MT m = MASK(columns);                                                                           \
            V a = MLOAD(m, r0), b = MLOAD(m, r1), c = MLOAD(m, r2);                                          \
            if (HAS_HAZARDS) {                                                                              \
                if (check & 1) bad |= HAZARD(a);                                                            \
                if (check & 2) bad |= HAZARD(b);                                                            \
                if (check & 4) bad |= HAZARD(c);                                                            \
            }                                                                                               \
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
            if (HAS_HAZARDS) {                                                                              \
                if (check & 1) bad |= HAZARD(a);                                                            \
                if (check & 2) bad |= HAZARD(b);                                                            \
                if (check & 4) bad |= HAZARD(c);                                                            \
            }                                                                                               \
            V l1 = MIN(b, c), h1 = MAX(b, c), t = MAX(a, l1);                                               \
            V loNext = MIN(a, l1), midNext = MIN(t, h1), hiNext = MAX(t, h1);                               \
            NAME##_finish(lo, mid, hi, loNext, midNext, hiNext, out, x, n, stream);                         \
            lo = loNext; mid = midNext; hi = hiNext;                                                        \
        }                                                                                                   \
        return bad != 0;                                                                                    \
    }                                                                                                       \
    /* Two output rows, outA from rows r0, r1, r2 and outB from r1, r2, r3: the middle pair sorted once */ \
    /* per vector for both (10 instead of 12 min/max for the two column sorts, 4 loads instead of 6), */   \
    /* then NAME##_row's horizontal part per row. The same columns sorted, so the same bits. */            \
    ATTR static inline int NAME##_row2(const T *r0, const T *r1, const T *r2, const T *r3, ptrdiff_t n,      \
                                       T *outA, T *outB, unsigned check, int stream) {                      \
        const ptrdiff_t columns = n + 2;                                                                    \
        MT bad = 0;                                                                                         \
        V loA, midA, hiA, loB, midB, hiB;                                                                   \
        for (ptrdiff_t x = -LANES; x < n; x += LANES) {                                                     \
            const ptrdiff_t next = x + LANES;                                                               \
            V a, b, c, d;                                                                                   \
            if (next + LANES <= columns) {                                                                  \
                a = MLOAD(~(MT)0, r0 + next); b = MLOAD(~(MT)0, r1 + next);                                 \
                c = MLOAD(~(MT)0, r2 + next); d = MLOAD(~(MT)0, r3 + next);                                 \
            } else {                                                                                        \
                MT m = MASK(columns - next);                                                                \
                a = MLOAD(m, r0 + next); b = MLOAD(m, r1 + next); c = MLOAD(m, r2 + next); d = MLOAD(m, r3 + next); \
            }                                                                                               \
            if (HAS_HAZARDS) {                                                                              \
                if (check & 1) bad |= HAZARD(a);                                                            \
                if (check & 2) bad |= HAZARD(b);                                                            \
                if (check & 4) bad |= HAZARD(c);                                                            \
                if (check & 8) bad |= HAZARD(d);                                                            \
            }                                                                                               \
            V p = MIN(b, c), q = MAX(b, c);                                                                 \
            V loAN = MIN(a, p), hiAN = MAX(a, q), midAN = MAX(p, MIN(a, q));                                \
            V loBN = MIN(d, p), hiBN = MAX(d, q), midBN = MAX(p, MIN(d, q));                                \
            if (x >= 0) {                                                                                   \
                NAME##_finish(loA, midA, hiA, loAN, midAN, hiAN, outA, x, n, stream);                       \
                NAME##_finish(loB, midB, hiB, loBN, midBN, hiBN, outB, x, n, stream);                       \
            }                                                                                               \
            loA = loAN; midA = midAN; hiA = hiAN; loB = loBN; midB = midBN; hiB = hiBN;                     \
        }                                                                                                   \
        return bad != 0;                                                                                    \
    }                                                                                                       \
    ATTR static int NAME##_rows_impl(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, \
                                     ptrdiff_t n, int stream) {                                             \
        fj_median_ran(0, stream);                                                                           \
        ptrdiff_t y = 0;                                                                                    \
        while (y < count) {                                                                                 \
            const T *const *w = rows + 3 * y;                                                               \
            /* Row r is checked unless it was in the previous output row's window (checked there). */      \
            unsigned check = 0;                                                                             \
            if (HAS_HAZARDS) {                                                                              \
                for (int r = 0; r < 3; r++) {                                                               \
                    if (y == 0 || (w[r] != w[-3] && w[r] != w[-2] && w[r] != w[-1])) check |= 1u << r;      \
                }                                                                                           \
            }                                                                                               \
            const T *a = w[0] + start, *b = w[1] + start, *c = w[2] + start;                                \
            T *o = outs[y];                                                                                 \
            /* Streaming 32/64-bit rows: two output rows per pass where their windows slide (measured */    \
            /* on the Xeon: float32 2048x2048 6-15% faster than one row per pass; not measured faster */    \
            /* for 8/16-bit data or with plain stores, which keep one). */                                 \
            if (stream && sizeof(T) >= 4 && y + 1 < count && w[3] == w[1] && w[4] == w[2]) {                \
                const T *d = w[5] + start;                                                                  \
                unsigned check2 = check;                                                                    \
                if (HAS_HAZARDS && w[5] != w[0] && w[5] != w[1] && w[5] != w[2]) check2 |= 8;               \
                T *o2 = outs[y + 1];                                                                        \
                ptrdiff_t head = fj_stream_head(o, sizeof(T), n);                                           \
                if (head != fj_stream_head(o2, sizeof(T), n)) head = n;                                     \
                int bad = head > 0 && NAME##_row2(a, b, c, d, head, o, o2, check2, 0);                      \
                if (!bad && head < n)                                                                       \
                    bad = NAME##_row2(a + head, b + head, c + head, d + head, n - head, o + head, o2 + head, check2, 1); \
                if (bad) { _mm_sfence(); return -1; }                                                       \
                y += 2;                                                                                     \
                continue;                                                                                   \
            }                                                                                               \
            /* Streaming: plain stores up to the first 64-byte boundary of the output row, then */          \
            /* non-temporal ones for the full vectors. */                                                   \
            ptrdiff_t head = stream ? fj_stream_head(o, sizeof(T), n) : n;                                  \
            int bad = head > 0 && NAME##_row(a, b, c, head, o, check, 0);                                   \
            if (!bad && head < n) bad = NAME##_row(a + head, b + head, c + head, n - head, o + head, check, 1); \
            if (bad) { if (stream) _mm_sfence(); return -1; }                                               \
            y += 1;                                                                                         \
        }                                                                                                   \
        if (stream) _mm_sfence();                                                                           \
        return 1;                                                                                           \
    }

#define FJ_SAME(v) (v)
#define FJ_NOHAZARD(v) 0
// Shifts through valignq by 16 bytes, then vpalignr (any element size; BYTES = elements * size).
#define FJ_SHIFT(A, NEXT, BYTES) _mm512_alignr_epi8(_mm512_alignr_epi64((NEXT), (A), 2), (A), (BYTES))
#define FJ_SH1_8(a, b) FJ_SHIFT(a, b, 1)
#define FJ_SH2_8(a, b) FJ_SHIFT(a, b, 2)
#define FJ_SH1_16(a, b) FJ_SHIFT(a, b, 2)
#define FJ_SH2_16(a, b) FJ_SHIFT(a, b, 4)
#define FJ_SH1_32(a, b) _mm512_alignr_epi32(b, a, 1)
#define FJ_SH2_32(a, b) _mm512_alignr_epi32(b, a, 2)
#define FJ_SH1_F32(a, b) _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), 1))
#define FJ_SH2_F32(a, b) _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(b), _mm512_castps_si512(a), 2))
#define FJ_SH1_F64(a, b) _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(b), _mm512_castpd_si512(a), 1))
#define FJ_SH2_F64(a, b) _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(b), _mm512_castpd_si512(a), 2))
// vpermt2b: index i takes byte i + 1 (i + 2) of the pair (a, next); indices 64.. select next.
static const uint8_t fj_shift_index[2][64] __attribute__((aligned(64))) = {
    { 1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
     33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64},
    { 2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
     34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65}};
#define FJ_SH1_VBMI(a, b) _mm512_permutex2var_epi8(a, _mm512_load_si512((const void *)fj_shift_index[0]), b)
#define FJ_SH2_VBMI(a, b) _mm512_permutex2var_epi8(a, _mm512_load_si512((const void *)fj_shift_index[1]), b)
// NaN (unordered with itself) or -0.0 (the sign bit alone).
#define FJ_HAZARD_F32(v) (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) |                                       \
                          _mm512_cmpeq_epi32_mask(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)))
#define FJ_HAZARD_F64(v) (_mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q) |                                       \
                          _mm512_cmpeq_epi64_mask(_mm512_castpd_si512(v), _mm512_set1_epi64((long long)0x8000000000000000ull)))
#define FJ_VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi")))
// The same test in one instruction where the CPU has AVX-512 DQ: vfpclassps / vfpclasspd with the
// classes QNaN (bit 0), -0 (bit 2) and SNaN (bit 7); one port-5 operation instead of two compares
// and an or of their masks, per checked vector of the 3x3 kernels.
#define FJ_DQ __attribute__((target("avx512f,avx512bw,avx512dq")))
#define FJ_HAZARD_F32_DQ(v) _mm512_fpclass_ps_mask(v, 0x85)
#define FJ_HAZARD_F64_DQ(v) _mm512_fpclass_pd_mask(v, 0x85)

// The exported kernels: one row (no checks) and `count` rows (checked for floats).
#define FJ_MEDIAN3X3_EXPORT(NAME, T, IMPL)                                                                  \
    int NAME(const T *const *rows, ptrdiff_t start, ptrdiff_t n, T *out) {                                  \
        if (!filterjit_rank_kernels_avx512()) return 0;                                                     \
        if (n > 0) IMPL##_row(rows[0] + start, rows[1] + start, rows[2] + start, n, out, 0, 0);            \
        return 1;                                                                                           \
    }                                                                                                       \
    int NAME##_rows(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n) {  \
        if (!filterjit_rank_kernels_avx512()) return 0;                                                     \
        if (n <= 0 || count <= 0) return 1;                                                                 \
        return IMPL##_rows_impl(rows, outs, count, start, n, 0);                                            \
    }                                                                                                       \
    int NAME##_rows_stream(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n) { \
        if (!filterjit_rank_kernels_avx512()) return 0;                                                     \
        if (n <= 0 || count <= 0) return 1;                                                                 \
        return IMPL##_rows_impl(rows, outs, count, start, n, 1);                                            \
    }
// The exported kernels of a type with a second instance IMPL##ALT for CPUs where HAS() holds; without
// AVX-512 the row kernels take NAME##_rows_avx2 (median3x3_avx2.c) where filterjit_median3x3_avx2() holds.
#define FJ_MEDIAN3X3_EXPORT_ALT(NAME, T, IMPL, ALT, HAS)                                                    \
    int NAME(const T *const *rows, ptrdiff_t start, ptrdiff_t n, T *out) {                                  \
        if (!filterjit_rank_kernels_avx512()) return 0;                                                     \
        if (n <= 0) return 1;                                                                               \
        if (HAS()) IMPL##ALT##_row(rows[0] + start, rows[1] + start, rows[2] + start, n, out, 0, 0);       \
        else IMPL##_row(rows[0] + start, rows[1] + start, rows[2] + start, n, out, 0, 0);                  \
        return 1;                                                                                           \
    }                                                                                                       \
    int NAME##_rows(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n) {  \
        if (!filterjit_rank_kernels_avx512()) return fj_median3x3_avx2(NAME##_rows_avx2, rows, outs, count, start, n); \
        if (n <= 0 || count <= 0) return 1;                                                                 \
        return HAS() ? IMPL##ALT##_rows_impl(rows, outs, count, start, n, 0)                                \
                     : IMPL##_rows_impl(rows, outs, count, start, n, 0);                                    \
    }                                                                                                       \
    int NAME##_rows_stream(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n) { \
        if (!filterjit_rank_kernels_avx512()) return fj_median3x3_avx2(NAME##_rows_avx2, rows, outs, count, start, n); \
        if (n <= 0 || count <= 0) return 1;                                                                 \
        return HAS() ? IMPL##ALT##_rows_impl(rows, outs, count, start, n, 1)                                \
                     : IMPL##_rows_impl(rows, outs, count, start, n, 1);                                    \
    }
#define FJ_MEDIAN3X3_EXPORT_VBMI(NAME, T, IMPL) FJ_MEDIAN3X3_EXPORT_ALT(NAME, T, IMPL, _vbmi, fj_has_vbmi)

FJ_MEDIAN3X3(fj_m3_u8, uint8_t, __m512i, 64, __mmask64, fj_mask64, _mm512_maskz_loadu_epi8, _mm512_mask_storeu_epi8,
             _mm512_min_epu8, _mm512_max_epu8, FJ_SH1_8, FJ_SH2_8, FJ_NOHAZARD, 0, FJ_AVX512)
FJ_MEDIAN3X3(fj_m3_u8_vbmi, uint8_t, __m512i, 64, __mmask64, fj_mask64, _mm512_maskz_loadu_epi8, _mm512_mask_storeu_epi8,
             _mm512_min_epu8, _mm512_max_epu8, FJ_SH1_VBMI, FJ_SH2_VBMI, FJ_NOHAZARD, 0, FJ_VBMI)
FJ_MEDIAN3X3_EXPORT_VBMI(filterjit_median3x3_u8, uint8_t, fj_m3_u8)
FJ_MEDIAN3X3(fj_m3_i8, int8_t, __m512i, 64, __mmask64, fj_mask64, _mm512_maskz_loadu_epi8, _mm512_mask_storeu_epi8,
             _mm512_min_epi8, _mm512_max_epi8, FJ_SH1_8, FJ_SH2_8, FJ_NOHAZARD, 0, FJ_AVX512)
FJ_MEDIAN3X3(fj_m3_i8_vbmi, int8_t, __m512i, 64, __mmask64, fj_mask64, _mm512_maskz_loadu_epi8, _mm512_mask_storeu_epi8,
             _mm512_min_epi8, _mm512_max_epi8, FJ_SH1_VBMI, FJ_SH2_VBMI, FJ_NOHAZARD, 0, FJ_VBMI)
FJ_MEDIAN3X3_EXPORT_VBMI(filterjit_median3x3_i8, int8_t, fj_m3_i8)
FJ_MEDIAN3X3(fj_m3_u16, uint16_t, __m512i, 32, __mmask32, fj_mask32, _mm512_maskz_loadu_epi16, _mm512_mask_storeu_epi16,
             _mm512_min_epu16, _mm512_max_epu16, FJ_SH1_16, FJ_SH2_16, FJ_NOHAZARD, 0, FJ_AVX512)
FJ_MEDIAN3X3_EXPORT(filterjit_median3x3_u16, uint16_t, fj_m3_u16)
FJ_MEDIAN3X3(fj_m3_i16, int16_t, __m512i, 32, __mmask32, fj_mask32, _mm512_maskz_loadu_epi16, _mm512_mask_storeu_epi16,
             _mm512_min_epi16, _mm512_max_epi16, FJ_SH1_16, FJ_SH2_16, FJ_NOHAZARD, 0, FJ_AVX512)
FJ_MEDIAN3X3_EXPORT(filterjit_median3x3_i16, int16_t, fj_m3_i16)
FJ_MEDIAN3X3(fj_m3_u32, uint32_t, __m512i, 16, __mmask16, fj_mask16, _mm512_maskz_loadu_epi32, _mm512_mask_storeu_epi32,
             _mm512_min_epu32, _mm512_max_epu32, FJ_SH1_32, FJ_SH2_32, FJ_NOHAZARD, 0, FJ_AVX512)
FJ_MEDIAN3X3_EXPORT(filterjit_median3x3_u32, uint32_t, fj_m3_u32)
FJ_MEDIAN3X3(fj_m3_i32, int32_t, __m512i, 16, __mmask16, fj_mask16, _mm512_maskz_loadu_epi32, _mm512_mask_storeu_epi32,
             _mm512_min_epi32, _mm512_max_epi32, FJ_SH1_32, FJ_SH2_32, FJ_NOHAZARD, 0, FJ_AVX512)
FJ_MEDIAN3X3_EXPORT(filterjit_median3x3_i32, int32_t, fj_m3_i32)
FJ_MEDIAN3X3(fj_m3_f32, float, __m512, 16, __mmask16, fj_mask16, _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps,
             _mm512_min_ps, _mm512_max_ps, FJ_SH1_F32, FJ_SH2_F32, FJ_HAZARD_F32, 1, FJ_AVX512)
FJ_MEDIAN3X3(fj_m3_f32_dq, float, __m512, 16, __mmask16, fj_mask16, _mm512_maskz_loadu_ps, _mm512_mask_storeu_ps,
             _mm512_min_ps, _mm512_max_ps, FJ_SH1_F32, FJ_SH2_F32, FJ_HAZARD_F32_DQ, 1, FJ_DQ)
FJ_MEDIAN3X3_EXPORT_ALT(filterjit_median3x3_f32, float, fj_m3_f32, _dq, fj_has_dq)
FJ_MEDIAN3X3(fj_m3_f64, double, __m512d, 8, __mmask8, fj_mask8, _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd,
             _mm512_min_pd, _mm512_max_pd, FJ_SH1_F64, FJ_SH2_F64, FJ_HAZARD_F64, 1, FJ_AVX512)
FJ_MEDIAN3X3(fj_m3_f64_dq, double, __m512d, 8, __mmask8, fj_mask8, _mm512_maskz_loadu_pd, _mm512_mask_storeu_pd,
             _mm512_min_pd, _mm512_max_pd, FJ_SH1_F64, FJ_SH2_F64, FJ_HAZARD_F64_DQ, 1, FJ_DQ)
FJ_MEDIAN3X3_EXPORT_ALT(filterjit_median3x3_f64, double, fj_m3_f64, _dq, fj_has_dq)

// The 5x5 median: pruned merge networks over sorted columns (median5x5_networks.h, generated and checked
// on every 0-1 input by scripts/make_median5x5_c.py): 90 min/max per vector of one output row, 150 per
// vector of two output rows that share four window rows (75 per row, against 120 for the earlier
// network of one row). FJ_M5_1 / FJ_M5_2 return a nonzero hazard mask when a checked row holds NaN or
// -0.0 (never for integers).
#define FJ_ATTR FJ_AVX512
#define FJ_T uint8_t
#define FJ_V __m512i
#define FJ_LANES 64
#define FJ_MASK fj_mask64
#define FJ_MLOAD _mm512_maskz_loadu_epi8
#define FJ_MSTORE _mm512_mask_storeu_epi8
#define FJ_MIN _mm512_min_epu8
#define FJ_MAX _mm512_max_epu8
#define FJ_LOADU(p) _mm512_loadu_si512((const void *)(p))
#define FJ_STOREU(p, v) _mm512_storeu_si512((void *)(p), v)
#define FJ_HAZARD_T uint64_t
#define FJ_HAS_HAZARDS 0
#define FJ_HAZARD(v) 0
#define FJ_M5_1 fj_m5_u8_1
#define FJ_M5_2 fj_m5_u8_2
#include "median5x5_networks.h"
#undef FJ_M5_1
#undef FJ_M5_2
#undef FJ_MIN
#undef FJ_MAX
#define FJ_MIN _mm512_min_epi8
#define FJ_MAX _mm512_max_epi8
#define FJ_M5_1 fj_m5_i8_1
#define FJ_M5_2 fj_m5_i8_2
#undef FJ_T
#define FJ_T int8_t
#include "median5x5_networks.h"
#undef FJ_M5_1
#undef FJ_M5_2
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_T
#undef FJ_LANES
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#define FJ_T uint16_t
#define FJ_LANES 32
#define FJ_MASK fj_mask32
#define FJ_MLOAD _mm512_maskz_loadu_epi16
#define FJ_MSTORE _mm512_mask_storeu_epi16
#define FJ_MIN _mm512_min_epu16
#define FJ_MAX _mm512_max_epu16
#define FJ_M5_1 fj_m5_u16_1
#define FJ_M5_2 fj_m5_u16_2
#include "median5x5_networks.h"
#undef FJ_M5_1
#undef FJ_M5_2
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_T
#define FJ_T int16_t
#define FJ_MIN _mm512_min_epi16
#define FJ_MAX _mm512_max_epi16
#define FJ_M5_1 fj_m5_i16_1
#define FJ_M5_2 fj_m5_i16_2
#include "median5x5_networks.h"
#undef FJ_M5_1
#undef FJ_M5_2
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_T
#undef FJ_V
#undef FJ_LANES
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#undef FJ_LOADU
#undef FJ_STOREU
#undef FJ_HAZARD_T
#undef FJ_HAS_HAZARDS
#undef FJ_HAZARD
#define FJ_T float
#define FJ_V __m512
#define FJ_LANES 16
#define FJ_MASK fj_mask16
#define FJ_MLOAD _mm512_maskz_loadu_ps
#define FJ_MSTORE _mm512_mask_storeu_ps
#define FJ_MIN _mm512_min_ps
#define FJ_MAX _mm512_max_ps
#define FJ_LOADU(p) _mm512_loadu_ps((const void *)(p))
#define FJ_STOREU(p, v) _mm512_storeu_ps((void *)(p), v)
#define FJ_HAZARD_T uint32_t
#define FJ_HAS_HAZARDS 1
#define FJ_HAZARD(v) FJ_HAZARD_F32(v)
#define FJ_M5_1 fj_m5_f32_1
#define FJ_M5_2 fj_m5_f32_2
#include "median5x5_networks.h"
#undef FJ_M5_1
#undef FJ_M5_2
#undef FJ_T
#undef FJ_V
#undef FJ_LANES
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_LOADU
#undef FJ_STOREU
#undef FJ_HAZARD
#define FJ_T double
#define FJ_V __m512d
#define FJ_LANES 8
#define FJ_MASK fj_mask8
#define FJ_MLOAD _mm512_maskz_loadu_pd
#define FJ_MSTORE _mm512_mask_storeu_pd
#define FJ_MIN _mm512_min_pd
#define FJ_MAX _mm512_max_pd
#define FJ_LOADU(p) _mm512_loadu_pd((const void *)(p))
#define FJ_STOREU(p, v) _mm512_storeu_pd((void *)(p), v)
#define FJ_HAZARD(v) FJ_HAZARD_F64(v)
#define FJ_M5_1 fj_m5_f64_1
#define FJ_M5_2 fj_m5_f64_2
#include "median5x5_networks.h"
#undef FJ_M5_1
#undef FJ_M5_2
#undef FJ_T
#undef FJ_V
#undef FJ_LANES
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_LOADU
#undef FJ_STOREU
#undef FJ_HAZARD_T
#undef FJ_HAS_HAZARDS
#undef FJ_HAZARD
#undef FJ_ATTR

// The same networks with AVX2 vectors for the 8- and 16-bit integers, for CPUs without AVX-512 (where
// `filterjit_median3x3_avx2()` holds, the switch of every AVX2 median). AVX2 has no masked byte loads or stores:
// a vector's part (a block's last columns, at most once per row and 1024 bytes) goes through a small buffer.
// No streaming (FJ_STREAM is a plain store: the AVX2 rows are never called with `stream`).
#define FJ_AVX2_MEDIAN __attribute__((target("avx2")))
FJ_AVX2_MEDIAN static inline __m256i fj_avx2_load_part(ptrdiff_t bytes, const void *p) {
    _Alignas(32) uint8_t buffer[32] = {0};
    if (bytes > 0) memcpy(buffer, p, (size_t)(bytes < 32 ? bytes : 32));
    return _mm256_load_si256((const __m256i *)buffer);
}
FJ_AVX2_MEDIAN static inline void fj_avx2_store_part(void *p, ptrdiff_t bytes, __m256i v) {
    _Alignas(32) uint8_t buffer[32];
    _mm256_store_si256((__m256i *)buffer, v);
    if (bytes > 0) memcpy(p, buffer, (size_t)(bytes < 32 ? bytes : 32));
}
#define FJ_ATTR FJ_AVX2_MEDIAN
#define FJ_V __m256i
#define FJ_MASK(count) (count)
#define FJ_MLOAD(count, p) fj_avx2_load_part((count) * (ptrdiff_t)sizeof(FJ_T), p)
#define FJ_MSTORE(p, count, v) fj_avx2_store_part(p, (count) * (ptrdiff_t)sizeof(FJ_T), v)
#define FJ_LOADU(p) _mm256_loadu_si256((const __m256i *)(p))
#define FJ_STOREU(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#pragma push_macro("FJ_STREAM")
#undef FJ_STREAM
#define FJ_STREAM(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define FJ_HAZARD_T uint32_t
#define FJ_HAS_HAZARDS 0
#define FJ_HAZARD(v) 0
#define FJ_T uint8_t
#define FJ_LANES 32
#define FJ_MIN _mm256_min_epu8
#define FJ_MAX _mm256_max_epu8
#define FJ_M5_1 fj_m5_u8_avx2_1
#define FJ_M5_2 fj_m5_u8_avx2_2
#include "median5x5_networks.h"
#undef FJ_T
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_M5_1
#undef FJ_M5_2
#define FJ_T int8_t
#define FJ_MIN _mm256_min_epi8
#define FJ_MAX _mm256_max_epi8
#define FJ_M5_1 fj_m5_i8_avx2_1
#define FJ_M5_2 fj_m5_i8_avx2_2
#include "median5x5_networks.h"
#undef FJ_T
#undef FJ_LANES
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_M5_1
#undef FJ_M5_2
#define FJ_T uint16_t
#define FJ_LANES 16
#define FJ_MIN _mm256_min_epu16
#define FJ_MAX _mm256_max_epu16
#define FJ_M5_1 fj_m5_u16_avx2_1
#define FJ_M5_2 fj_m5_u16_avx2_2
#include "median5x5_networks.h"
#undef FJ_T
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_M5_1
#undef FJ_M5_2
#define FJ_T int16_t
#define FJ_MIN _mm256_min_epi16
#define FJ_MAX _mm256_max_epi16
#define FJ_M5_1 fj_m5_i16_avx2_1
#define FJ_M5_2 fj_m5_i16_avx2_2
#include "median5x5_networks.h"
#undef FJ_T
#undef FJ_LANES
#undef FJ_MIN
#undef FJ_MAX
#undef FJ_M5_1
#undef FJ_M5_2
#undef FJ_ATTR
#undef FJ_V
#undef FJ_MASK
#undef FJ_MLOAD
#undef FJ_MSTORE
#undef FJ_LOADU
#undef FJ_STOREU
#undef FJ_STREAM
#pragma pop_macro("FJ_STREAM")
#undef FJ_HAZARD_T
#undef FJ_HAS_HAZARDS
#undef FJ_HAZARD

// The exported 5x5 kernels. One row: FJ_M5_1, unchecked. `count` rows (rows[5y + r] for output row y):
// two output rows at a time by FJ_M5_2 when their windows slide down one sequence of rows
// (rows[5y + 5 + r] == rows[5y + 1 + r] for r in 0..<4), else one. A float row is checked for NaN and
// -0.0 unless it was in the previous call's window (checked there, over the same columns); -1 at the
// first hazard (the rows before it are written).
#define FJ_MEDIAN5X5_ROWS_IMPL(ATTR, T, IMPL)                                                              \
    ATTR static int IMPL##_rows_impl(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, \
                                          ptrdiff_t n, int stream) {                                         \
        fj_median_ran(1, stream);                                                                            \
        const T *previous[6] = {0, 0, 0, 0, 0, 0};                                                           \
        int previousCount = 0;                                                                               \
        ptrdiff_t y = 0;                                                                                     \
        while (y < count) {                                                                                  \
            const T *const *w = rows + 5 * y;                                                                \
            const T *window[6];                                                                              \
            int height = 5;                                                                                  \
            for (int r = 0; r < 5; r++) window[r] = w[r];                                                    \
            if (y + 1 < count && w[5] == w[1] && w[6] == w[2] && w[7] == w[3] && w[8] == w[4]) {             \
                window[5] = w[9];                                                                            \
                height = 6;                                                                                  \
            }                                                                                                \
            unsigned check = 0;                                                                              \
            for (int r = 0; r < height; r++) {                                                               \
                int seen = 0;                                                                                \
                for (int q = 0; q < previousCount; q++) seen |= window[r] == previous[q];                    \
                if (!seen) check |= 1u << r;                                                                 \
            }                                                                                                \
            /* Streaming: plain stores up to the first 64-byte boundary of the output rows (both at */       \
            /* the same offset from one), then non-temporal ones. */                                         \
            ptrdiff_t head = stream ? fj_stream_head(outs[y], sizeof(T), n) : n;                             \
            if (height == 6 && head != (stream ? fj_stream_head(outs[y + 1], sizeof(T), n) : n)) head = n;   \
            T *o[2] = {outs[y], height == 6 ? outs[y + 1] : outs[y]};                                        \
            T *tail[2] = {o[0] + head, o[1] + head};                                                         \
            const T *shifted[6];                                                                             \
            for (int r = 0; r < height; r++) shifted[r] = window[r] + head;                                  \
            int bad;                                                                                         \
            if (height == 6) {                                                                               \
                bad = head > 0 && IMPL##_2(window, start, head, o, check, 0);                                \
                if (!bad && head < n) bad = IMPL##_2(shifted, start, n - head, tail, check, 1) != 0;         \
            } else {                                                                                         \
                bad = head > 0 && IMPL##_1(window, start, head, o, check, 0);                                \
                if (!bad && head < n) bad = IMPL##_1(shifted, start, n - head, tail, check, 1) != 0;         \
            }                                                                                                \
            if (bad) { if (stream) _mm_sfence(); return -1; }                                                \
            for (int r = 0; r < height; r++) previous[r] = window[r];                                        \
            previousCount = height;                                                                          \
            y += height - 4;                                                                                 \
        }                                                                                                    \
        if (stream) _mm_sfence();                                                                            \
        return 1;                                                                                            \
    }

#define FJ_MEDIAN5X5_EXPORT(NAME, T, IMPL, AVX2)                                                                   \
    int NAME(const T *const *rows, ptrdiff_t start, ptrdiff_t n, T *out) {                                   \
        if (!filterjit_rank_kernels_avx512()) {                                                              \
            if (!AVX2##_available()) return 0;                                                               \
            if (n > 0) { T *outs[1] = {out}; (void)AVX2##_1(rows, start, n, outs, 0, 0); }                   \
            return 1;                                                                                        \
        }                                                                                                    \
        if (n > 0) { T *outs[1] = {out}; (void)IMPL##_1(rows, start, n, outs, 0, 0); }                       \
        return 1;                                                                                            \
    }                                                                                                        \
    FJ_MEDIAN5X5_ROWS_IMPL(FJ_AVX512, T, IMPL)                                                               \
    int NAME##_rows(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n) {   \
        if (!filterjit_rank_kernels_avx512()) {                                                              \
            if (!AVX2##_available()) return 0;                                                               \
            if (n <= 0 || count <= 0) return 1;                                                              \
            return AVX2##_rows_impl(rows, outs, count, start, n, 0);                                         \
        }                                                                                                    \
        if (n <= 0 || count <= 0) return 1;                                                                  \
        return IMPL##_rows_impl(rows, outs, count, start, n, 0);                                             \
    }                                                                                                        \
    int NAME##_rows_stream(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n) { \
        if (!filterjit_rank_kernels_avx512()) return 0;                                                      \
        if (n <= 0 || count <= 0) return 1;                                                                  \
        return IMPL##_rows_impl(rows, outs, count, start, n, 1);                                             \
    }
// The AVX2 rows (integers) and, for float data, none: `NAME_available` says whether they run.
#define FJ_MEDIAN5X5_AVX2(T, AVX2)                                                                           \
    static int AVX2##_available(void) { return filterjit_median3x3_avx2(); }                                 \
    FJ_MEDIAN5X5_ROWS_IMPL(FJ_AVX2_MEDIAN, T, AVX2)
#define FJ_MEDIAN5X5_NO_AVX2(T, AVX2)                                                                        \
    static int AVX2##_available(void) { return 0; }                                                         \
    static int AVX2##_1(const T *const *rows, ptrdiff_t start, ptrdiff_t n, T *const *outs, unsigned check, int stream) { \
        (void)rows; (void)start; (void)n; (void)outs; (void)check; (void)stream; return 0; \
    }                                                                                                        \
    static int AVX2##_rows_impl(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start,      \
                                ptrdiff_t n, int stream) {                                                   \
        (void)rows; (void)outs; (void)count; (void)start; (void)n; (void)stream; return 0;                   \
    }
FJ_MEDIAN5X5_AVX2(uint8_t, fj_m5_u8_avx2)
FJ_MEDIAN5X5_AVX2(int8_t, fj_m5_i8_avx2)
FJ_MEDIAN5X5_AVX2(uint16_t, fj_m5_u16_avx2)
FJ_MEDIAN5X5_AVX2(int16_t, fj_m5_i16_avx2)
FJ_MEDIAN5X5_NO_AVX2(float, fj_m5_f32_avx2)
FJ_MEDIAN5X5_NO_AVX2(double, fj_m5_f64_avx2)
FJ_MEDIAN5X5_EXPORT(filterjit_median5x5_u8, uint8_t, fj_m5_u8, fj_m5_u8_avx2)
FJ_MEDIAN5X5_EXPORT(filterjit_median5x5_i8, int8_t, fj_m5_i8, fj_m5_i8_avx2)
FJ_MEDIAN5X5_EXPORT(filterjit_median5x5_u16, uint16_t, fj_m5_u16, fj_m5_u16_avx2)
FJ_MEDIAN5X5_EXPORT(filterjit_median5x5_i16, int16_t, fj_m5_i16, fj_m5_i16_avx2)
FJ_MEDIAN5X5_EXPORT(filterjit_median5x5_f32, float, fj_m5_f32, fj_m5_f32_avx2)
FJ_MEDIAN5X5_EXPORT(filterjit_median5x5_f64, double, fj_m5_f64, fj_m5_f64_avx2)

#else

int filterjit_rank_kernels_avx512(void) { return 0; }
int filterjit_median3x3_avx2(void) { return 0; }
void filterjit_median3x3_set_avx2(int enabled) { (void)enabled; }
void filterjit_rank_kernels_set_avx512(int enabled) { (void)enabled; }
uint64_t filterjit_median_rows_runs(int which) { (void)which; return 0; }
#define FJ_NONE_ROWS(NAME, T) int NAME(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n) { \
    (void)rows; (void)outs; (void)count; (void)start; (void)n; return 0; } \
    int NAME##_stream(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n) { \
    (void)rows; (void)outs; (void)count; (void)start; (void)n; return 0; }
FJ_NONE_ROWS(filterjit_median3x3_u8_rows, uint8_t)
FJ_NONE_ROWS(filterjit_median3x3_i8_rows, int8_t)
FJ_NONE_ROWS(filterjit_median3x3_u16_rows, uint16_t)
FJ_NONE_ROWS(filterjit_median3x3_i16_rows, int16_t)
FJ_NONE_ROWS(filterjit_median3x3_u32_rows, uint32_t)
FJ_NONE_ROWS(filterjit_median3x3_i32_rows, int32_t)
FJ_NONE_ROWS(filterjit_median3x3_f32_rows, float)
FJ_NONE_ROWS(filterjit_median3x3_f64_rows, double)
FJ_NONE_ROWS(filterjit_median5x5_u8_rows, uint8_t)
FJ_NONE_ROWS(filterjit_median5x5_i8_rows, int8_t)
FJ_NONE_ROWS(filterjit_median5x5_u16_rows, uint16_t)
FJ_NONE_ROWS(filterjit_median5x5_i16_rows, int16_t)
FJ_NONE_ROWS(filterjit_median5x5_f32_rows, float)
FJ_NONE_ROWS(filterjit_median5x5_f64_rows, double)
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
