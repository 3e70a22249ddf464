// Single-pass 2-D box min/max of 8- and 16-bit integers (see include/box_minmax_fused.h and
// docs/window-strategies.md, "min/max, one pass in registers").
//
// Per vector of LANES output columns at x and a pair of output rows: t = op of rows 0 ..< k and
// u = op of rows 1 ... k at columns x ..< x + LANES (loads of the k + 1 rows, the k - 1 shared rows
// combined once). The window along the row needs those column values at x + o for o in s ..< s + length
// (s = start - centre): lane i of that is lane i + o of the concatenation (previous | current | next)
// vectors, one two-source permute per o (vpermt2b / vpermt2w). The loop keeps the previous, current
// and next vectors of t and u in registers, so every input element is loaded once per pair of output
// rows and nothing is stored but the output.
//
// Edges: the columns a window reads outside the row (-s of them on the left, s + length - 1 on the
// right, at most LANES - 1 each) go through the mode (`columns`): their column values are computed one
// by one and set as the lanes of a virtual vector before the first one (the first vector's "previous")
// and after the last loaded lane (blended into the last vector, and its "next"), so every output, the
// edge ones too, comes out of the same vector code.
//
// Output rows in pairs where `filterjit_box_row_pairs()` says so (AMD: bound by instructions), else one at a
// time, each pass prefetching the next one's entering row and output row over the same columns (Intel
// Emerald Rapids, bound by the cache: 2048x2048 uint8 min, C harness, 3x3 0.41 ms paired, 0.32 single,
// 0.30 single with the prefetch (memcpy 0.29-0.30); 5x5 0.35 -> 0.32, 7x7 0.45 -> 0.42 by the prefetch).

#include "box_minmax_fused.h"
#include "box_minmax.h"
#include <stdlib.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define FJ_FUSED_INLINE static inline __attribute__((always_inline))
#define FJ_FUSED8 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vbmi,prfchw")))
#define FJ_FUSED16 __attribute__((target("avx512f,avx512bw,avx512dq,prfchw")))

static uint64_t fj_fused_runs = 0, fj_fused_shifted_runs = 0;
uint64_t filterjit_fused_box_runs(void) { return __atomic_load_n(&fj_fused_runs, __ATOMIC_RELAXED); }
uint64_t filterjit_fused_box_shifted_runs(void) { return __atomic_load_n(&fj_fused_shifted_runs, __ATOMIC_RELAXED); }

// The AVX-512 kernels: F/BW/DQ on (and VBMI for 1-byte elements).
static int fj_fused_avx512(ptrdiff_t itemSize) {
    static int vbmi = -1;
    if (!filterjit_box_kernels_avx512()) return 0;
    if (itemSize == 2) return 1;
    if (itemSize != 1) return 0;
    int value = __atomic_load_n(&vbmi, __ATOMIC_RELAXED);
    if (value < 0) {
        __builtin_cpu_init();
        value = __builtin_cpu_supports("avx512vbmi") ? 1 : 0;
        __atomic_store_n(&vbmi, value, __ATOMIC_RELAXED);
    }
    return value;
}

int filterjit_fused_box_available(ptrdiff_t itemSize) {
    return (itemSize == 1 || itemSize == 2) && (fj_fused_avx512(itemSize) || filterjit_fused_box_avx2());
}

// The column values at X: TT = op(rows 0 ..< K) and, with `pair`, UU = op(rows 1 ... K); LD(ptr) loads
// one vector (whole, or the lanes of a mask).
#define FJ_FUSED_COLUMNS(X, TT, UU, OP, LD)                                                                \
    {                                                                                                      \
        __m512i first = LD(p[0] + (X));                                                                    \
        if (K >= 2) {                                                                                      \
            __m512i shared = LD(p[1] + (X));                                                               \
            for (ptrdiff_t i = 2; i < K; i++) shared = OP(shared, LD(p[i] + (X)));                         \
            TT = OP(first, shared);                                                                        \
            if (pair) UU = OP(shared, LD(p[K] + (X)));                                                     \
        } else {                                                                                           \
            TT = first;                                                                                    \
            if (pair) UU = LD(p[1] + (X));                                                                 \
        }                                                                                                  \
    }

// The windows along the row of the current vector: r0 from tp | t | tn, r1 from up | u | un.
#define FJ_FUSED_WINDOWS(OP, PERM)                                                                         \
    __m512i r0 = t, r1 = u;                                                                                \
    for (ptrdiff_t j = 0; j < L; j++) {                                                                    \
        const ptrdiff_t o = s + j;                                                                         \
        const __m512i a0 = o < 0 ? PERM(tp, index[j], t) : o > 0 ? PERM(t, index[j], tn) : t;              \
        r0 = j == 0 ? a0 : OP(r0, a0);                                                                     \
        if (pair) {                                                                                        \
            const __m512i a1 = o < 0 ? PERM(up, index[j], u) : o > 0 ? PERM(u, index[j], un) : u;          \
            r1 = j == 0 ? a1 : OP(r1, a1);                                                                 \
        }                                                                                                  \
    }

// The column value at extended position q (read through the mode: `columns`, -1 for cval) for the two
// output rows, into VT and VU.
#define FJ_FUSED_EDGE_VALUE(T, SPICK, q, VT, VU)                                                           \
    T VT = cval, VU = cval;                                                                                \
    {                                                                                                      \
        const ptrdiff_t col = columns[centre + (q)];                                                       \
        if (col >= 0) {                                                                                    \
            T shared = K >= 2 ? p[1][col] : p[0][col];                                                     \
            for (ptrdiff_t i = 2; i < K; i++) shared = SPICK(shared, p[i][col]);                           \
            VT = K >= 2 ? SPICK(p[0][col], shared) : shared;                                               \
            if (pair) VU = K >= 2 ? SPICK(shared, p[K][col]) : p[1][col];                                  \
        }                                                                                                  \
    }

// The edges, set lane by lane in registers (a vector load over bytes just stored would stall on the
// failed store forwarding). Left (q = s ..< 0): lane a + q of the first vector (t / u) where that is a lane,
// else lane LANES + a + q of the vector before it (tp / up).
// Right (q = n ..< n + s + L - 1): lane last + (q - n) of the lanes after the last loaded one, in wt0 /
// wu0 (blended into the last vector) and wt1 / wu1 (the vector after it). The right ones are computed
// when the loop reaches the last vector, with the row's end in cache.
#define FJ_FUSED_LEFT_EDGES(T, LANES, MT, SPICK, SET1)                                                     \
    for (ptrdiff_t q = s; q < 0; q++) {                                                                    \
        FJ_FUSED_EDGE_VALUE(T, SPICK, q, vt, vu)                                                           \
        if (a + q >= 0) {                                                                                  \
            const MT bit = (MT)((uint64_t)1 << (a + q));                                                   \
            t = SET1(t, bit, vt);                                                                          \
            if (pair) u = SET1(u, bit, vu);                                                                \
        } else {                                                                                           \
            const MT bit = (MT)((uint64_t)1 << (LANES + a + q));                                           \
            tp = SET1(tp, bit, vt);                                                                        \
            if (pair) up = SET1(up, bit, vu);                                                              \
        }                                                                                                  \
    }
#define FJ_FUSED_RIGHT_EDGES(T, LANES, MT, SPICK, SET1)                                                    \
    for (ptrdiff_t q = n; q < n + s + L - 1; q++) {                                                        \
        FJ_FUSED_EDGE_VALUE(T, SPICK, q, vt, vu)                                                           \
        const ptrdiff_t lane = last + (q - n);                                                             \
        if (lane < LANES) {                                                                                \
            const MT bit = (MT)((uint64_t)1 << lane);                                                      \
            wt0 = SET1(wt0, bit, vt);                                                                      \
            if (pair) wu0 = SET1(wu0, bit, vu);                                                            \
        } else {                                                                                           \
            const MT bit = (MT)((uint64_t)1 << (lane - LANES));                                            \
            wt1 = SET1(wt1, bit, vt);                                                                      \
            if (pair) wu1 = SET1(wu1, bit, vu);                                                            \
        }                                                                                                  \
    }

// The kernel for one element type and operation; K rows, L columns and the offset s are constants where
// the switch below inlines the body for them. MASK(r): the first r lanes (1 <= r <= LANES); PART(ptr)
// loads the lanes of the local mask m (the others zero; memory outside them is not touched), MSTORE(ptr,
// m, v) stores them; INDEX(o): the vector of lane indices i + o; SPICK(a, b) the scalar operation;
// SET1(v, bit, x) sets the lane of `bit` to x.
#define FJ_FUSED_KERNEL(SUF, OPN, T, TARGET, LANES, MT, MASK, PART, MSTORE, OP, PERM, INDEX, SPICK, SET1) \
    TARGET FJ_FUSED_INLINE void fj_fused_##SUF##_##OPN##_body(const T *const *rows, const ptrdiff_t K,       \
                                                               const ptrdiff_t L, const ptrdiff_t s,        \
                                                               const ptrdiff_t *columns, ptrdiff_t centre,  \
                                                               T cval, T *d0, T *d1, ptrdiff_t n,           \
                                                               const int pair, const T *pfIn, T *pfOut) {                           \
        const T *p[FILTERJIT_FUSED_BOX_MAX_ROWS + 1];                                                      \
        for (ptrdiff_t j = 0; j < K + pair; j++) p[j] = rows[j];                                           \
        /* Tap j (offset o = s + j) reads lane i + o of (previous | current) for o < 0 (index LANES + i + o), \
           of (current | next) for o > 0 (index i + o). */                                                 \
        __m512i index[FILTERJIT_FUSED_BOX_MAX_COLUMNS];                                                    \
        for (ptrdiff_t j = 0; j < L; j++) {                                                                \
            index[j] = INDEX(s + j < 0 ? LANES + s + j : s + j);                                           \
            /* Opaque to the compiler: with the indices known it splits each permute into two shifts. */   \
            __asm__("" : "+v"(index[j]));                                                                  \
        }                                                                                                  \
        /* The vectors lie on a grid shifted `a` lanes left of the row, so that the first output row's      \
           stores (and, when the rows share its offset from a 64-byte line, as a NumPy array's do, every load) \
           are aligned: the first vector holds columns -a ..< LANES - a (its first a lanes written by no store). \
           2048x2048 uint8 3x3 min, C loop (benchmarks/box_fused_bench.c), Zen 4, rows 16 bytes past a line \
           as NumPy allocates them: 0.120-0.122 -> 0.104 ms (rows on lines: 0.101; memcpy 0.085). Rows of fewer \
           than 3 vectors stay on the row's own grid (a = 0). */                                            \
        const ptrdiff_t a = n >= 3 * LANES ? (ptrdiff_t)((uintptr_t)d0 % 64) / (ptrdiff_t)sizeof(T) : 0;  \
        const ptrdiff_t nn = n + a;                                                                        \
        /* The last vector starts at grid position `tail` (column tail - a) and holds `last` lanes of the row. */ \
        const ptrdiff_t tail = (nn - 1) / LANES * LANES, last = nn - tail;                                 \
        const MT beyond = (MT)~MASK(last);                                                                 \
        __m512i t = _mm512_setzero_si512(), u = t, tn, un = u, tp = u, up = u, wt0 = u, wt1 = u, wu0 = u, wu1 = u; \
        if (a > 0) {                                                                                       \
            const MT m = (MT)~MASK(a);                                                                     \
            FJ_FUSED_COLUMNS(-a, t, u, OP, PART)                                                           \
        } else if (n > LANES) {                                                                            \
            FJ_FUSED_COLUMNS(0, t, u, OP, FJ_FUSED_FULL)                                                   \
        } else {                                                                                           \
            const MT m = MASK(n);                                                                          \
            FJ_FUSED_COLUMNS(0, t, u, OP, PART)                                                            \
            FJ_FUSED_RIGHT_EDGES(T, LANES, MT, SPICK, SET1)                                                \
            t = _mm512_mask_mov_##SUF##_lanes(t, beyond, wt0);                                             \
            if (pair) u = _mm512_mask_mov_##SUF##_lanes(u, beyond, wu0);                                   \
        }                                                                                                  \
        FJ_FUSED_LEFT_EDGES(T, LANES, MT, SPICK, SET1)                                                     \
        ptrdiff_t x = 0;                                                                                   \
        if (a > 0) {                                                                                       \
            /* The first vector (3 or more follow: its next one is whole), its lanes before column 0 not stored. */ \
            FJ_FUSED_COLUMNS(LANES - a, tn, un, OP, FJ_FUSED_FULL)                                         \
            if (pfIn) _mm_prefetch((const char *)(pfIn - a), _MM_HINT_T0);                                  \
            if (pfOut) _m_prefetchw(pfOut - a);                                                            \
            FJ_FUSED_WINDOWS(OP, PERM)                                                                     \
            const MT m = (MT)~MASK(a);                                                                     \
            MSTORE(d0 - a, m, r0);                                                                         \
            if (pair) MSTORE(d1 - a, m, r1);                                                               \
            tp = t; t = tn; up = u; u = un;                                                                \
            x = LANES;                                                                                     \
        }                                                                                                  \
        /* While the next vector is whole and not the last: plain loads and stores. */                     \
        for (; x + LANES < tail; x += LANES) {                                                             \
            FJ_FUSED_COLUMNS(x + LANES - a, tn, un, OP, FJ_FUSED_FULL)                                     \
            if (pfIn) _mm_prefetch((const char *)(pfIn + x - a), _MM_HINT_T0);                              \
            if (pfOut) _m_prefetchw(pfOut + x - a);                                                        \
            FJ_FUSED_WINDOWS(OP, PERM)                                                                     \
            _mm512_storeu_si512((void *)(d0 + x - a), r0);                                                 \
            if (pair) _mm512_storeu_si512((void *)(d1 + x - a), r1);                                       \
            tp = t; t = tn; up = u; u = un;                                                                \
        }                                                                                                  \
        /* The vector before the last (its next one is the last), then the last one (its next one is      \
           the virtual vector after the row). */                                                           \
        for (; x < nn; x += LANES) {                                                                       \
            if (x + LANES == tail) {                                                                       \
                const MT m = MASK(last);                                                                   \
                FJ_FUSED_COLUMNS(tail - a, tn, un, OP, PART)                                               \
                FJ_FUSED_RIGHT_EDGES(T, LANES, MT, SPICK, SET1)                                            \
                tn = _mm512_mask_mov_##SUF##_lanes(tn, beyond, wt0);                                       \
                if (pair) un = _mm512_mask_mov_##SUF##_lanes(un, beyond, wu0);                             \
            } else {                                                                                       \
                tn = wt1; un = wu1;                                                                        \
            }                                                                                              \
            FJ_FUSED_WINDOWS(OP, PERM)                                                                     \
            if (x + LANES <= nn) {                                                                         \
                _mm512_storeu_si512((void *)(d0 + x - a), r0);                                             \
                if (pair) _mm512_storeu_si512((void *)(d1 + x - a), r1);                                   \
            } else {                                                                                       \
                const MT m = MASK(nn - x);                                                                 \
                MSTORE(d0 + x - a, m, r0);                                                                 \
                if (pair) MSTORE(d1 + x - a, m, r1);                                                       \
            }                                                                                              \
            tp = t; t = tn; up = u; u = un;                                                                \
        }                                                                                                  \
    }                                                                                                      \
    /* Rows in pairs (d1) or one; centred square boxes (no origin) with every permute fixed at compile  \
       time, the rest with run-time sizes. */                                                             \
    TARGET FJ_FUSED_INLINE void fj_fused_##SUF##_##OPN##_sized(const T *const *rows, ptrdiff_t K, ptrdiff_t L, \
                                                      ptrdiff_t s, const ptrdiff_t *columns,              \
                                                      ptrdiff_t centre, T cval, T *d0, T *d1, ptrdiff_t n, \
                                                      const int pair, const T *pfIn, T *pfOut) {                                    \
        if (K == L && s == -(L / 2)) {                                                                     \
            switch (K) {                                                                                   \
            case 2: fj_fused_##SUF##_##OPN##_body(rows, 2, 2, -1, columns, centre, cval, d0, d1, n, pair, pfIn, pfOut); return;          \
            case 3: fj_fused_##SUF##_##OPN##_body(rows, 3, 3, -1, columns, centre, cval, d0, d1, n, pair, pfIn, pfOut); return;          \
            case 4: fj_fused_##SUF##_##OPN##_body(rows, 4, 4, -2, columns, centre, cval, d0, d1, n, pair, pfIn, pfOut); return;          \
            case 5: fj_fused_##SUF##_##OPN##_body(rows, 5, 5, -2, columns, centre, cval, d0, d1, n, pair, pfIn, pfOut); return;          \
            case 7: fj_fused_##SUF##_##OPN##_body(rows, 7, 7, -3, columns, centre, cval, d0, d1, n, pair, pfIn, pfOut); return;          \
            default: break;                                                                                \
            }                                                                                              \
        }                                                                                                  \
        fj_fused_##SUF##_##OPN##_body(rows, K, L, s, columns, centre, cval, d0, d1, n, pair, pfIn, pfOut);                              \
    }                                                                                                      \
    TARGET static void fj_fused_##SUF##_##OPN(const T *const *rows, ptrdiff_t K, ptrdiff_t L, ptrdiff_t s,  \
                                              const ptrdiff_t *columns, ptrdiff_t centre, T cval,          \
                                              T *d0, T *d1, ptrdiff_t n, const T *pfIn, T *pfOut) {        \
        if (d1) fj_fused_##SUF##_##OPN##_sized(rows, K, L, s, columns, centre, cval, d0, d1, n, 1, pfIn, pfOut); \
        else fj_fused_##SUF##_##OPN##_sized(rows, K, L, s, columns, centre, cval, d0, d1, n, 0, pfIn, pfOut); \
    }

#define FJ_FUSED_SMIN(a, b) ((a) < (b) ? (a) : (b))
#define FJ_FUSED_SMAX(a, b) ((a) > (b) ? (a) : (b))
#define FJ_FUSED_FULL(ptr) _mm512_loadu_si512((const void *)(ptr))
#define FJ_FUSED_PART8(ptr) _mm512_maskz_loadu_epi8(m, (const void *)(ptr))
#define FJ_FUSED_PART16(ptr) _mm512_maskz_loadu_epi16(m, (const void *)(ptr))
#define FJ_FUSED_MSTORE8(ptr, mask, v) _mm512_mask_storeu_epi8((void *)(ptr), mask, v)
#define FJ_FUSED_MSTORE16(ptr, mask, v) _mm512_mask_storeu_epi16((void *)(ptr), mask, v)
#define _mm512_mask_mov_u8_lanes(a, m, b) _mm512_mask_mov_epi8(a, m, b)
#define _mm512_mask_mov_i8_lanes(a, m, b) _mm512_mask_mov_epi8(a, m, b)
#define _mm512_mask_mov_u16_lanes(a, m, b) _mm512_mask_mov_epi16(a, m, b)
#define _mm512_mask_mov_i16_lanes(a, m, b) _mm512_mask_mov_epi16(a, m, b)
// Lanes i + offset: the permute index of a tap (bytes / 16-bit words).
#define FJ_FUSED_INDEX8(offset) _mm512_add_epi8(_mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, \
    47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, \
    15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi8((char)(offset)))
#define FJ_FUSED_INDEX16(offset) _mm512_add_epi16(_mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, \
    15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi16((short)(offset)))
FJ_FUSED_INLINE __mmask64 fj_fused_mask64(ptrdiff_t r) { return r >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << r) - 1); }
FJ_FUSED_INLINE __mmask32 fj_fused_mask32(ptrdiff_t r) { return r >= 32 ? ~(__mmask32)0 : (__mmask32)((((uint64_t)1) << r) - 1); }

FJ_FUSED_KERNEL(u8, min, uint8_t, FJ_FUSED8, 64, __mmask64, fj_fused_mask64, FJ_FUSED_PART8, FJ_FUSED_MSTORE8, _mm512_min_epu8, _mm512_permutex2var_epi8, FJ_FUSED_INDEX8, FJ_FUSED_SMIN, _mm512_mask_set1_epi8)
FJ_FUSED_KERNEL(u8, max, uint8_t, FJ_FUSED8, 64, __mmask64, fj_fused_mask64, FJ_FUSED_PART8, FJ_FUSED_MSTORE8, _mm512_max_epu8, _mm512_permutex2var_epi8, FJ_FUSED_INDEX8, FJ_FUSED_SMAX, _mm512_mask_set1_epi8)
FJ_FUSED_KERNEL(i8, min, int8_t, FJ_FUSED8, 64, __mmask64, fj_fused_mask64, FJ_FUSED_PART8, FJ_FUSED_MSTORE8, _mm512_min_epi8, _mm512_permutex2var_epi8, FJ_FUSED_INDEX8, FJ_FUSED_SMIN, _mm512_mask_set1_epi8)
FJ_FUSED_KERNEL(i8, max, int8_t, FJ_FUSED8, 64, __mmask64, fj_fused_mask64, FJ_FUSED_PART8, FJ_FUSED_MSTORE8, _mm512_max_epi8, _mm512_permutex2var_epi8, FJ_FUSED_INDEX8, FJ_FUSED_SMAX, _mm512_mask_set1_epi8)
FJ_FUSED_KERNEL(u16, min, uint16_t, FJ_FUSED16, 32, __mmask32, fj_fused_mask32, FJ_FUSED_PART16, FJ_FUSED_MSTORE16, _mm512_min_epu16, _mm512_permutex2var_epi16, FJ_FUSED_INDEX16, FJ_FUSED_SMIN, _mm512_mask_set1_epi16)
FJ_FUSED_KERNEL(u16, max, uint16_t, FJ_FUSED16, 32, __mmask32, fj_fused_mask32, FJ_FUSED_PART16, FJ_FUSED_MSTORE16, _mm512_max_epu16, _mm512_permutex2var_epi16, FJ_FUSED_INDEX16, FJ_FUSED_SMAX, _mm512_mask_set1_epi16)
FJ_FUSED_KERNEL(i16, min, int16_t, FJ_FUSED16, 32, __mmask32, fj_fused_mask32, FJ_FUSED_PART16, FJ_FUSED_MSTORE16, _mm512_min_epi16, _mm512_permutex2var_epi16, FJ_FUSED_INDEX16, FJ_FUSED_SMIN, _mm512_mask_set1_epi16)
FJ_FUSED_KERNEL(i16, max, int16_t, FJ_FUSED16, 32, __mmask32, fj_fused_mask32, FJ_FUSED_PART16, FJ_FUSED_MSTORE16, _mm512_max_epi16, _mm512_permutex2var_epi16, FJ_FUSED_INDEX16, FJ_FUSED_SMAX, _mm512_mask_set1_epi16)

// The public entry: the AVX-512 kernel (checks, then the kernel per pair of output rows, the last one alone when
// count is odd) where it runs, else the AVX2 one (box_minmax_fused_avx2.c; TYPE: its element code).
#define FJ_FUSED_ENTRY(SUF, T, SIZE, LANES, TYPE)                                                          \
    int filterjit_fused_box_##SUF(const T *const *inputs, T *const *outputs, ptrdiff_t count, ptrdiff_t k,  \
                                  ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns,             \
                                  ptrdiff_t centre, ptrdiff_t extended, T cval, ptrdiff_t n, int maximum) { \
        const ptrdiff_t s = start - centre;                                                                \
        if (!fj_fused_avx512(SIZE)) {                                                                      \
            const int ran = filterjit_fused_box_avx2_run(TYPE, (const void *const *)inputs, (void *const *)outputs, \
                                                         count, k, start, length, columns, centre, extended, \
                                                         (double)cval, n, maximum);                        \
            if (ran == 0) __atomic_fetch_add(&fj_fused_runs, 1, __ATOMIC_RELAXED);                         \
            return ran;                                                                                    \
        }                                                                                                  \
        if (k < 1 || k > FILTERJIT_FUSED_BOX_MAX_ROWS ||                                                   \
            length < 1 || length > FILTERJIT_FUSED_BOX_MAX_COLUMNS || n < 1 || count < 0 || start < 0 ||  \
            start + n - 1 + length > extended || s <= -(LANES) || s + length - 1 >= (LANES))              \
            return -1;                                                                                     \
        __atomic_fetch_add(&fj_fused_runs, 1, __ATOMIC_RELAXED);                                           \
        /* (Counted when the first output row's vectors shift onto its lines: the body's test for `a`.) */ \
        if (count > 0 && n >= 3 * LANES && (uintptr_t)outputs[0] % 64 >= SIZE)                             \
            __atomic_fetch_add(&fj_fused_shifted_runs, 1, __ATOMIC_RELAXED);                               \
        const int pairs = filterjit_box_row_pairs();                                                       \
        for (ptrdiff_t y = 0; y < count;) {                                                                \
            const T *const *rows = inputs + y;                                                             \
            const int pair = pairs && y + 1 < count;                                                       \
            T *d1 = pair ? outputs[y + 1] : NULL;                                                          \
            /* One row at a time: the next output row's entering row and the row itself, prefetched. */  \
            const T *pfIn = !pairs && y + 1 < count ? inputs[y + k] : NULL;                                \
            T *pfOut = !pairs && y + 1 < count ? outputs[y + 1] : NULL;                                    \
            if (maximum) fj_fused_##SUF##_max(rows, k, length, s, columns, centre, cval, outputs[y], d1, n, pfIn, pfOut); \
            else fj_fused_##SUF##_min(rows, k, length, s, columns, centre, cval, outputs[y], d1, n, pfIn, pfOut); \
            y += pair ? 2 : 1;                                                                             \
        }                                                                                                  \
        return 0;                                                                                          \
    }
FJ_FUSED_ENTRY(u8, uint8_t, 1, 64, 0)
FJ_FUSED_ENTRY(i8, int8_t, 1, 64, 1)
FJ_FUSED_ENTRY(u16, uint16_t, 2, 32, 2)
FJ_FUSED_ENTRY(i16, int16_t, 2, 32, 3)

// float32: the AVX2 kernel only (with AVX-512 the rows-first AVX-512 passes serve float32 boxes).
int filterjit_fused_box_f32(const float *const *inputs, float *const *outputs, ptrdiff_t count, ptrdiff_t k,
                            ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns, ptrdiff_t centre,
                            ptrdiff_t extended, float cval, ptrdiff_t n, int maximum) {
    const int ran = filterjit_fused_box_avx2_run(4, (const void *const *)inputs, (void *const *)outputs, count, k, start,
                                                 length, columns, centre, extended, (double)cval, n, maximum);
    if (ran == 0) __atomic_fetch_add(&fj_fused_runs, 1, __ATOMIC_RELAXED);
    return ran;
}

#else

int filterjit_fused_box_available(ptrdiff_t itemSize) { (void)itemSize; return 0; }
uint64_t filterjit_fused_box_runs(void) { return 0; }
uint64_t filterjit_fused_box_shifted_runs(void) { return 0; }
#define FJ_FUSED_NONE(SUF, T)                                                                              \
    int filterjit_fused_box_##SUF(const T *const *inputs, T *const *outputs, ptrdiff_t count, ptrdiff_t k,  \
                                  ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns,             \
                                  ptrdiff_t centre, ptrdiff_t extended, T cval, ptrdiff_t n, int maximum) { \
        (void)inputs; (void)outputs; (void)count; (void)k; (void)start; (void)length; (void)columns;       \
        (void)centre; (void)extended; (void)cval; (void)n; (void)maximum;                                  \
        return -1;                                                                                         \
    }
FJ_FUSED_NONE(u8, uint8_t)
FJ_FUSED_NONE(i8, int8_t)
FJ_FUSED_NONE(u16, uint16_t)
FJ_FUSED_NONE(i16, int16_t)
FJ_FUSED_NONE(f32, float)

#endif
