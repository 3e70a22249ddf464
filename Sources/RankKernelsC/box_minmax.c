// AVX-512 passes of the separable box min/max (see include/box_minmax.h and docs/window-strategies.md).
// Each pass is the plain element-wise min/max of rows read at offsets, 64 bytes per instruction (the
// Swift module is compiled for AVX2, 32 bytes), with the row length and the row count turned into
// constants (fully unrolled loads, row pointers in registers) for the common sizes. Full vectors use
// plain loads and stores, the tail masked ones (masked-out lanes are never touched). The float row pass
// also flags NaN and -0.0 with one `vfpclass` per vector of its first operand (quiet or signalling NaN,
// negative zero), which covers every element it reads.

#include "box_minmax.h"
#include <stdlib.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define FJ_BOX __attribute__((target("avx512f,avx512bw,avx512dq")))
#define FJ_INLINE static inline __attribute__((always_inline))

int filterjit_box_kernels_avx512(void) {
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        __builtin_cpu_init();
        const char *off = getenv("FILTERJIT_NO_AVX512");
        value = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512dq") && !(off && off[0] && off[0] != '0');
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

static int fj_row_pairs_override = -1;

int filterjit_box_row_pairs(void) {
    const int forced = __atomic_load_n(&fj_row_pairs_override, __ATOMIC_RELAXED);
    if (forced >= 0) return forced;
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        __builtin_cpu_init();
        const char *env = getenv("FILTERJIT_ROW_PAIRS");
        value = env && env[0] ? env[0] != '0' : __builtin_cpu_is("amd");
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

void filterjit_box_set_row_pairs(int pairs) {
    __atomic_store_n(&fj_row_pairs_override, pairs < 0 ? -1 : pairs != 0, __ATOMIC_RELAXED);
}

// The first `left` lanes (none when left <= 0, all from the vector's width on).
FJ_INLINE __mmask64 fj_box_mask64(ptrdiff_t left) { return left >= 64 ? ~(__mmask64)0 : left <= 0 ? 0 : (((__mmask64)1 << left) - 1); }
FJ_INLINE __mmask32 fj_box_mask32(ptrdiff_t left) { return left >= 32 ? ~(__mmask32)0 : left <= 0 ? 0 : (__mmask32)((((uint64_t)1) << left) - 1); }
FJ_INLINE __mmask16 fj_box_mask16(ptrdiff_t left) { return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1); }
FJ_INLINE __mmask8 fj_box_mask8(ptrdiff_t left) { return left >= 8 ? (__mmask8)0xFF : left <= 0 ? 0 : (__mmask8)((1u << left) - 1); }

// The most rows the column passes keep in registers as constants (more go through the generic loop).
#define FJ_BOX_MAX_ROWS 33

// One pass family for one element type and one operation.
// SUF: name suffix; OPN: min or max; OP: the vector operation; HAZ(v): the lanes of v holding NaN or -0.0.
#define FJ_BOX_PASSES(SUF, OPN, T, V, LANES, MT, MASK, LOAD, MLOAD, STORE, MSTORE, OP, HAZ)                   \
    FJ_BOX FJ_INLINE int fj_row_##SUF##_##OPN##_body(const T *s, ptrdiff_t L, T *d, ptrdiff_t count) {       \
        MT h = 0;                                                                                          \
        ptrdiff_t x = 0;                                                                                   \
        for (; x + 2 * LANES <= count; x += 2 * LANES) {                                                   \
            V a = LOAD(s + x), b = LOAD(s + x + LANES);                                                    \
            h |= HAZ(a) | HAZ(b);                                                                          \
            for (ptrdiff_t j = 1; j < L; j++) {                                                            \
                a = OP(a, LOAD(s + x + j));                                                                \
                b = OP(b, LOAD(s + x + LANES + j));                                                        \
            }                                                                                              \
            STORE(d + x, a);                                                                               \
            STORE(d + x + LANES, b);                                                                       \
        }                                                                                                  \
        for (; x < count; x += LANES) {                                                                    \
            MT m = MASK(count - x);                                                                        \
            V a = MLOAD(m, s + x);                                                                         \
            h |= HAZ(a);                                                                                   \
            for (ptrdiff_t j = 1; j < L; j++) a = OP(a, MLOAD(m, s + x + j));                              \
            MSTORE(d + x, m, a);                                                                           \
        }                                                                                                  \
        /* The last L - 1 elements read (not first operands); masked-out lanes load +0.0. */               \
        for (ptrdiff_t t = count; t < count + L - 1; t += LANES) h |= HAZ(MLOAD(MASK(count + L - 1 - t), s + t)); \
        return h != 0;                                                                                     \
    }                                                                                                      \
    FJ_BOX static int fj_row_##SUF##_##OPN(const T *s, ptrdiff_t L, T *d, ptrdiff_t count) {               \
        switch (L) {                                                                                       \
        case 1: return fj_row_##SUF##_##OPN##_body(s, 1, d, count);                                        \
        case 2: return fj_row_##SUF##_##OPN##_body(s, 2, d, count);                                        \
        case 3: return fj_row_##SUF##_##OPN##_body(s, 3, d, count);                                        \
        case 4: return fj_row_##SUF##_##OPN##_body(s, 4, d, count);                                        \
        case 5: return fj_row_##SUF##_##OPN##_body(s, 5, d, count);                                        \
        case 6: return fj_row_##SUF##_##OPN##_body(s, 6, d, count);                                        \
        case 7: return fj_row_##SUF##_##OPN##_body(s, 7, d, count);                                        \
        case 8: return fj_row_##SUF##_##OPN##_body(s, 8, d, count);                                        \
        case 9: return fj_row_##SUF##_##OPN##_body(s, 9, d, count);                                        \
        default: return fj_row_##SUF##_##OPN##_body(s, L, d, count);                                       \
        }                                                                                                  \
    }                                                                                                      \
    /* d0 = op(rows 0 ..< k); with `pair`, also d1 = op(rows 1 ... k), sharing rows 1 ..< k. */            \
    FJ_BOX FJ_INLINE void fj_cols_##SUF##_##OPN##_body(const T *const *rows, ptrdiff_t k, int pair, T *d0, T *d1, \
                                                        ptrdiff_t count) {                                 \
        /* Local copies: for 8-bit types a store may alias anything, the row pointers included. */          \
        const T *p[FJ_BOX_MAX_ROWS];                                                                       \
        for (ptrdiff_t j = 0; j <= k - 1 + pair; j++) p[j] = rows[j];                                      \
        ptrdiff_t x = 0;                                                                                   \
        for (; x + LANES <= count; x += LANES) {                                                           \
            V a = LOAD(p[0] + x);                                                                          \
            if (k >= 2) {                                                                                  \
                V shared = LOAD(p[1] + x);                                                                 \
                for (ptrdiff_t j = 2; j < k; j++) shared = OP(shared, LOAD(p[j] + x));                     \
                if (pair) STORE(d1 + x, OP(shared, LOAD(p[k] + x)));                                       \
                a = OP(a, shared);                                                                         \
            } else if (pair) {                                                                             \
                STORE(d1 + x, LOAD(p[1] + x));                                                             \
            }                                                                                              \
            STORE(d0 + x, a);                                                                              \
        }                                                                                                  \
        if (x < count) {                                                                                   \
            MT m = MASK(count - x);                                                                        \
            V a = MLOAD(m, p[0] + x);                                                                      \
            if (k >= 2) {                                                                                  \
                V shared = MLOAD(m, p[1] + x);                                                             \
                for (ptrdiff_t j = 2; j < k; j++) shared = OP(shared, MLOAD(m, p[j] + x));                 \
                if (pair) MSTORE(d1 + x, m, OP(shared, MLOAD(m, p[k] + x)));                               \
                a = OP(a, shared);                                                                         \
            } else if (pair) {                                                                             \
                MSTORE(d1 + x, m, MLOAD(m, p[1] + x));                                                     \
            }                                                                                              \
            MSTORE(d0 + x, m, a);                                                                          \
        }                                                                                                  \
    }                                                                                                      \
    FJ_BOX static void fj_cols_##SUF##_##OPN(const T *const *rows, ptrdiff_t k, int pair, T *d0, T *d1,     \
                                             ptrdiff_t count) {                                            \
        switch (k) {                                                                                       \
        case 1: if (pair) fj_cols_##SUF##_##OPN##_body(rows, 1, 1, d0, d1, count); else fj_cols_##SUF##_##OPN##_body(rows, 1, 0, d0, d1, count); return; \
        case 2: if (pair) fj_cols_##SUF##_##OPN##_body(rows, 2, 1, d0, d1, count); else fj_cols_##SUF##_##OPN##_body(rows, 2, 0, d0, d1, count); return; \
        case 3: if (pair) fj_cols_##SUF##_##OPN##_body(rows, 3, 1, d0, d1, count); else fj_cols_##SUF##_##OPN##_body(rows, 3, 0, d0, d1, count); return; \
        case 4: if (pair) fj_cols_##SUF##_##OPN##_body(rows, 4, 1, d0, d1, count); else fj_cols_##SUF##_##OPN##_body(rows, 4, 0, d0, d1, count); return; \
        case 5: if (pair) fj_cols_##SUF##_##OPN##_body(rows, 5, 1, d0, d1, count); else fj_cols_##SUF##_##OPN##_body(rows, 5, 0, d0, d1, count); return; \
        case 6: if (pair) fj_cols_##SUF##_##OPN##_body(rows, 6, 1, d0, d1, count); else fj_cols_##SUF##_##OPN##_body(rows, 6, 0, d0, d1, count); return; \
        case 7: if (pair) fj_cols_##SUF##_##OPN##_body(rows, 7, 1, d0, d1, count); else fj_cols_##SUF##_##OPN##_body(rows, 7, 0, d0, d1, count); return; \
        case 8: if (pair) fj_cols_##SUF##_##OPN##_body(rows, 8, 1, d0, d1, count); else fj_cols_##SUF##_##OPN##_body(rows, 8, 0, d0, d1, count); return; \
        case 9: if (pair) fj_cols_##SUF##_##OPN##_body(rows, 9, 1, d0, d1, count); else fj_cols_##SUF##_##OPN##_body(rows, 9, 0, d0, d1, count); return; \
        default: fj_cols_##SUF##_##OPN##_body(rows, k, pair, d0, d1, count); return;                        \
        }                                                                                                  \
    }

// The fused step: two rows enter the ring (reduced along the row from s0 and s1) and two output rows
// leave it, in one pass over the columns: the entering rows stay in registers for the output rows.
// FULL: a whole vector at x (plain loads and stores), else the lanes of m. (Non-temporal output stores
// were measured slower here, in the fused loop and as a separate streaming copy: docs/status.md, w12f.)
#define FJ_BOX_STEP_VECTOR(V, LOAD, MLOAD, STORE, MSTORE, OP, HAZ, FULL)                                       \
    {                                                                                                      \
        V a0 = FULL ? LOAD(s0 + x) : MLOAD(m, s0 + x), a1 = FULL ? LOAD(s1 + x) : MLOAD(m, s1 + x);         \
        if (FULL) { _mm_prefetch((const char *)(n0 + x), _MM_HINT_T0); _mm_prefetch((const char *)(n1 + x), _MM_HINT_T0); } \
        h |= HAZ(a0) | HAZ(a1);                                                                            \
        for (ptrdiff_t j = 1; j < L; j++) {                                                                \
            a0 = OP(a0, FULL ? LOAD(s0 + x + j) : MLOAD(m, s0 + x + j));                                    \
            a1 = OP(a1, FULL ? LOAD(s1 + x + j) : MLOAD(m, s1 + x + j));                                    \
        }                                                                                                  \
        if (FULL) { STORE(p[k - 1] + x, a0); STORE(p[k] + x, a1); }                                        \
        else { MSTORE(p[k - 1] + x, m, a0); MSTORE(p[k] + x, m, a1); }                                     \
        V o0 = a0, o1 = a1;                                                                                \
        if (k >= 2) {                                                                                      \
            V shared = a0;                                                                                 \
            for (ptrdiff_t j = 1; j < k - 1; j++) shared = OP(shared, FULL ? LOAD(p[j] + x) : MLOAD(m, p[j] + x)); \
            o0 = OP(FULL ? LOAD(p[0] + x) : MLOAD(m, p[0] + x), shared);                                   \
            o1 = OP(shared, a1);                                                                           \
        }                                                                                                  \
        if (FULL) { STORE(d0 + x, o0); STORE(d1 + x, o1); }                                                \
        else { MSTORE(d0 + x, m, o0); MSTORE(d1 + x, m, o1); }                                             \
    }

#define FJ_BOX_STEP(SUF, OPN, T, V, LANES, MT, MASK, LOAD, MLOAD, STORE, MSTORE, OP, HAZ)                       \
    FJ_BOX FJ_INLINE int fj_step_##SUF##_##OPN##_body(const T *s0, const T *s1, const T *n0, const T *n1, ptrdiff_t L, T *const *ring,  \
                                                       ptrdiff_t k, T *d0, T *d1, ptrdiff_t count) { \
        T *p[FJ_BOX_MAX_ROWS];                                                                             \
        for (ptrdiff_t j = 0; j <= k; j++) p[j] = ring[j];                                                 \
        MT h = 0, m = 0;                                                                                   \
        ptrdiff_t x = 0;                                                                                   \
        for (; x + LANES <= count; x += LANES)                                                             \
            FJ_BOX_STEP_VECTOR(V, LOAD, MLOAD, STORE, MSTORE, OP, HAZ, 1)                                      \
        if (x < count) { m = MASK(count - x); FJ_BOX_STEP_VECTOR(V, LOAD, MLOAD, STORE, MSTORE, OP, HAZ, 0) }   \
        for (ptrdiff_t t = count; t < count + L - 1; t += LANES) {                                         \
            MT mm = MASK(count + L - 1 - t);                                                               \
            h |= HAZ(MLOAD(mm, s0 + t)) | HAZ(MLOAD(mm, s1 + t));                                          \
        }                                                                                                  \
        return h != 0;                                                                                     \
    }                                                                                                      \
    FJ_BOX static int fj_step_##SUF##_##OPN##_k(const T *s0, const T *s1, const T *n0, const T *n1, ptrdiff_t L, T *const *ring,        \
                                                ptrdiff_t k, T *d0, T *d1, ptrdiff_t count) {  \
        switch (k) {                                                                                       \
        case 1: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, L, ring, 1, d0, d1, count);            \
        case 2: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, L, ring, 2, d0, d1, count);            \
        case 3: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, L, ring, 3, d0, d1, count);            \
        case 4: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, L, ring, 4, d0, d1, count);            \
        case 5: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, L, ring, 5, d0, d1, count);            \
        case 6: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, L, ring, 6, d0, d1, count);            \
        case 7: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, L, ring, 7, d0, d1, count);            \
        case 8: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, L, ring, 8, d0, d1, count);            \
        case 9: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, L, ring, 9, d0, d1, count);            \
        default: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, L, ring, k, d0, d1, count);           \
        }                                                                                                  \
    }                                                                                                      \
    /* Square boxes (L == k) and the rest. */                                                              \
    FJ_BOX static int fj_step_##SUF##_##OPN(const T *s0, const T *s1, const T *n0, const T *n1, ptrdiff_t L, T *const *ring,           \
                                            ptrdiff_t k, T *d0, T *d1, ptrdiff_t count) {      \
        if (L == k) {                                                                                      \
            switch (k) {                                                                                   \
            case 3: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, 3, ring, 3, d0, d1, count);        \
            case 5: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, 5, ring, 5, d0, d1, count);        \
            case 7: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, 7, ring, 7, d0, d1, count);        \
            case 9: return fj_step_##SUF##_##OPN##_body(s0, s1, n0, n1, 9, ring, 9, d0, d1, count);        \
            default: break;                                                                                \
            }                                                                                              \
        }                                                                                                  \
        return fj_step_##SUF##_##OPN##_k(s0, s1, n0, n1, L, ring, k, d0, d1, count);                        \
    }

// The fused step with the row windows built in registers (float32, 16-bit types): the minimum of A
// consecutive elements (A loads) per vector of columns, carried to the next vector, and the window of L
// as the minimum of that vector shifted by 0, A, 2A, ..., L - A lanes across into the next one
// (`vpermt2`; the last shift may overlap the one before: min and max are idempotent). For L = 9: 3 loads,
// 2 shifts and 4 operations per vector instead of 9 loads and 8 operations (about 20% faster for
// 7x7 and 9x9 float32 boxes in a C loop on Zen 4).
#define FJ_BOX_STEP_PERM(SUF, OPN, T, V, LANES, MT, MASK, LOAD, MLOAD, STORE, MSTORE, OP, HAZ, IOTA, SET1, ADD, PERM) \
    /* op(s[x + i ..< x + i + A]) per lane i, elements from `end` on read as 0 (masked out). */            \
    FJ_BOX FJ_INLINE V fj_wa_##SUF##_##OPN(const T *s, ptrdiff_t x, ptrdiff_t A, ptrdiff_t end, MT *h) {     \
        V v;                                                                                               \
        if (x + LANES + A - 1 <= end) {                                                                    \
            v = LOAD(s + x);                                                                               \
            *h |= HAZ(v);                                                                                  \
            for (ptrdiff_t t = 1; t < A; t++) v = OP(v, LOAD(s + x + t));                                  \
        } else {                                                                                           \
            v = MLOAD(MASK(end - x), s + x);                                                               \
            *h |= HAZ(v);                                                                                  \
            for (ptrdiff_t t = 1; t < A; t++) v = OP(v, MLOAD(MASK(end - x - t), s + x + t));              \
        }                                                                                                  \
        return v;                                                                                          \
    }                                                                                                      \
    FJ_BOX FJ_INLINE int fj_pstep_##SUF##_##OPN##_body(const T *s0, const T *s1, const T *n0, const T *n1,   \
                                                        ptrdiff_t L, ptrdiff_t A, T *const *ring, ptrdiff_t k, \
                                                        T *d0, T *d1, ptrdiff_t count) {                   \
        T *p[FJ_BOX_MAX_ROWS];                                                                             \
        for (ptrdiff_t j = 0; j <= k; j++) p[j] = ring[j];                                                 \
        __m512i idx[LANES];                                                                                \
        ptrdiff_t shifts = 0;                                                                              \
        for (ptrdiff_t o = A; o < L; o += A) idx[shifts++] = ADD(IOTA, SET1(o + A > L ? L - A : o));        \
        const ptrdiff_t end = count + L - 1;                                                               \
        MT h = 0;                                                                                          \
        /* The first operands of all the A-windows cover s[0 ..< end]: every element read is checked. */   \
        V c0 = fj_wa_##SUF##_##OPN(s0, 0, A, end, &h), c1 = fj_wa_##SUF##_##OPN(s1, 0, A, end, &h);         \
        for (ptrdiff_t x = 0; x < count; x += LANES) {                                                     \
            V next0 = fj_wa_##SUF##_##OPN(s0, x + LANES, A, end, &h);                                       \
            V next1 = fj_wa_##SUF##_##OPN(s1, x + LANES, A, end, &h);                                       \
            _mm_prefetch((const char *)(n0 + x), _MM_HINT_T0);                                             \
            _mm_prefetch((const char *)(n1 + x), _MM_HINT_T0);                                             \
            V a0 = c0, a1 = c1;                                                                            \
            for (ptrdiff_t j = 0; j < shifts; j++) {                                                       \
                a0 = OP(a0, PERM(c0, idx[j], next0));                                                      \
                a1 = OP(a1, PERM(c1, idx[j], next1));                                                      \
            }                                                                                              \
            c0 = next0;                                                                                    \
            c1 = next1;                                                                                    \
            V o0 = a0, o1 = a1;                                                                            \
            if (x + LANES <= count) {                                                                      \
                STORE(p[k - 1] + x, a0);                                                                   \
                STORE(p[k] + x, a1);                                                                       \
                if (k >= 2) {                                                                              \
                    V shared = a0;                                                                         \
                    for (ptrdiff_t j = 1; j < k - 1; j++) shared = OP(shared, LOAD(p[j] + x));             \
                    o0 = OP(LOAD(p[0] + x), shared);                                                       \
                    o1 = OP(shared, a1);                                                                   \
                }                                                                                          \
                STORE(d0 + x, o0);                                                                         \
                STORE(d1 + x, o1);                                                                         \
            } else {                                                                                       \
                MT m = MASK(count - x);                                                                    \
                MSTORE(p[k - 1] + x, m, a0);                                                               \
                MSTORE(p[k] + x, m, a1);                                                                   \
                if (k >= 2) {                                                                              \
                    V shared = a0;                                                                         \
                    for (ptrdiff_t j = 1; j < k - 1; j++) shared = OP(shared, MLOAD(m, p[j] + x));         \
                    o0 = OP(MLOAD(m, p[0] + x), shared);                                                   \
                    o1 = OP(shared, a1);                                                                   \
                }                                                                                          \
                MSTORE(d0 + x, m, o0);                                                                     \
                MSTORE(d1 + x, m, o1);                                                                     \
            }                                                                                              \
        }                                                                                                  \
        return h != 0;                                                                                     \
    }                                                                                                      \
    /* A per L: the fewest operations 2A - 1 + 2 (ceil(L / A) - 1), ties to the larger A. */               \
    FJ_BOX static int fj_pstep_##SUF##_##OPN(const T *s0, const T *s1, const T *n0, const T *n1, ptrdiff_t L, \
                                             T *const *ring, ptrdiff_t k, T *d0, T *d1, ptrdiff_t count) { \
        if (L == k) {                                                                                      \
            switch (k) {                                                                                   \
            case 3: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 3, 2, ring, 3, d0, d1, count);    \
            case 4: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 4, 2, ring, 4, d0, d1, count);    \
            case 5: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 5, 3, ring, 5, d0, d1, count);    \
            case 6: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 6, 3, ring, 6, d0, d1, count);    \
            case 7: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 7, 4, ring, 7, d0, d1, count);    \
            case 8: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 8, 4, ring, 8, d0, d1, count);    \
            case 9: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 9, 3, ring, 9, d0, d1, count);    \
            default: break;                                                                                \
            }                                                                                              \
        }                                                                                                  \
        switch (L) {                                                                                       \
        case 3: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 3, 2, ring, k, d0, d1, count);        \
        case 4: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 4, 2, ring, k, d0, d1, count);        \
        case 5: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 5, 3, ring, k, d0, d1, count);        \
        case 6: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 6, 3, ring, k, d0, d1, count);        \
        case 7: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 7, 4, ring, k, d0, d1, count);        \
        case 8: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 8, 4, ring, k, d0, d1, count);        \
        case 9: return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, 9, 3, ring, k, d0, d1, count);        \
        default: {                                                                                         \
            ptrdiff_t best = 1, cost = -1;                                                                 \
            for (ptrdiff_t a = 1; a <= L; a++) {                                                           \
                ptrdiff_t c = 2 * a - 1 + 2 * ((L + a - 1) / a - 1);                                       \
                if (L - a < LANES && (cost < 0 || c <= cost)) { best = a; cost = c; }                      \
            }                                                                                              \
            return fj_pstep_##SUF##_##OPN##_body(s0, s1, n0, n1, L, best, ring, k, d0, d1, count);         \
        }                                                                                                  \
        }                                                                                                  \
    }

#define FJ_BOX_TYPE(SUF, T, V, LANES, MT, MASK, LOAD, MLOAD, STORE, MSTORE, MINOP, MAXOP, HAZ)                \
    FJ_BOX_PASSES(SUF, min, T, V, LANES, MT, MASK, LOAD, MLOAD, STORE, MSTORE, MINOP, HAZ)                   \
    FJ_BOX_PASSES(SUF, max, T, V, LANES, MT, MASK, LOAD, MLOAD, STORE, MSTORE, MAXOP, HAZ)                   \
    FJ_BOX_STEP(SUF, min, T, V, LANES, MT, MASK, LOAD, MLOAD, STORE, MSTORE, MINOP, HAZ)            \
    FJ_BOX_STEP(SUF, max, T, V, LANES, MT, MASK, LOAD, MLOAD, STORE, MSTORE, MAXOP, HAZ)            \
    int filterjit_box_step_##SUF(const T *s0, const T *s1, const T *n0, const T *n1, ptrdiff_t length,       \
                                 T *const *ring, ptrdiff_t k, T *d0, T *d1, ptrdiff_t count, int maximum) { \
        if (!filterjit_box_kernels_avx512()) return -1;                                                    \
        if (!n0) n0 = s0;                                                                                  \
        if (!n1) n1 = s1;                                                    \
        if (count <= 0 || k < 1 || k > FJ_BOX_MAX_ROWS - 2) return count <= 0 ? 0 : -1;                   \
        if (FJ_BOX_HAS_PERM_##SUF && length >= 3 && length <= LANES)                                       \
            return maximum ? FJ_BOX_PSTEP_##SUF(max)(s0, s1, n0, n1, length, ring, k, d0, d1, count)       \
                           : FJ_BOX_PSTEP_##SUF(min)(s0, s1, n0, n1, length, ring, k, d0, d1, count);      \
        return maximum ? fj_step_##SUF##_max(s0, s1, n0, n1, length, ring, k, d0, d1, count)        \
                       : fj_step_##SUF##_min(s0, s1, n0, n1, length, ring, k, d0, d1, count);      \
    }                                                                                                      \
    int filterjit_box_row_##SUF(const T *s, ptrdiff_t length, T *d, ptrdiff_t count, int maximum) {          \
        if (!filterjit_box_kernels_avx512()) return -1;                                                    \
        if (count <= 0) return 0;                                                                          \
        return maximum ? fj_row_##SUF##_max(s, length, d, count) : fj_row_##SUF##_min(s, length, d, count); \
    }                                                                                                      \
    int filterjit_box_rows_##SUF(const T *const *rows, ptrdiff_t k, T *d, ptrdiff_t count, int maximum) {   \
        if (!filterjit_box_kernels_avx512()) return -1;                                                    \
        if (count <= 0) return 0;                                                                          \
        if (k <= FJ_BOX_MAX_ROWS - 1) {                                                                    \
            if (maximum) fj_cols_##SUF##_max(rows, k, 0, d, d, count); else fj_cols_##SUF##_min(rows, k, 0, d, d, count); \
            return 0;                                                                                      \
        }                                                                                                  \
        /* More rows than the pointer array holds: the first 32 into d, then d with 31 more at a time. */  \
        const T *chunk[FJ_BOX_MAX_ROWS];                                                                   \
        ptrdiff_t done = FJ_BOX_MAX_ROWS - 1;                                                              \
        if (maximum) fj_cols_##SUF##_max(rows, done, 0, d, d, count); else fj_cols_##SUF##_min(rows, done, 0, d, d, count); \
        while (done < k) {                                                                                 \
            ptrdiff_t take = k - done < FJ_BOX_MAX_ROWS - 2 ? k - done : FJ_BOX_MAX_ROWS - 2;              \
            chunk[0] = d;                                                                                  \
            for (ptrdiff_t j = 0; j < take; j++) chunk[j + 1] = rows[done + j];                            \
            if (maximum) fj_cols_##SUF##_max(chunk, take + 1, 0, d, d, count); else fj_cols_##SUF##_min(chunk, take + 1, 0, d, d, count); \
            done += take;                                                                                  \
        }                                                                                                  \
        return 0;                                                                                          \
    }                                                                                                      \
    int filterjit_box_pair_##SUF(const T *const *rows, ptrdiff_t k, T *d0, T *d1, ptrdiff_t count, int maximum) { \
        if (!filterjit_box_kernels_avx512()) return -1;                                                    \
        if (count <= 0) return 0;                                                                          \
        if (k <= FJ_BOX_MAX_ROWS - 2) {                                                                    \
            if (maximum) fj_cols_##SUF##_max(rows, k, 1, d0, d1, count); else fj_cols_##SUF##_min(rows, k, 1, d0, d1, count); \
            return 0;                                                                                      \
        }                                                                                                  \
        filterjit_box_rows_##SUF(rows, k, d0, count, maximum);                                             \
        filterjit_box_rows_##SUF(rows + 1, k, d1, count, maximum);                                         \
        return 0;                                                                                          \
    }

#define FJ_NO_HAZARD(v) ((void)(v), 0)
#define FJ_HAZ_F32(v) _mm512_fpclass_ps_mask((v), 0x85)
#define FJ_HAZ_F64(v) _mm512_fpclass_pd_mask((v), 0x85)
#define FJ_LOADI(p) _mm512_loadu_si512((const void *)(p))
#define FJ_STOREI(p, v) _mm512_storeu_si512((void *)(p), (v))

// The register-shift step for the types whose shifts cost one instruction (vpermt2ps, vpermt2w).
#define FJ_IOTA32 _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define FJ_IOTA16 _mm512_set_epi16(31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, \
                                   9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define FJ_SET1_16(o) _mm512_set1_epi16((short)(o))
#define FJ_SET1_32(o) _mm512_set1_epi32((int)(o))
FJ_BOX_STEP_PERM(f32, min, float, __m512, 16, __mmask16, fj_box_mask16, _mm512_loadu_ps, _mm512_maskz_loadu_ps, _mm512_storeu_ps,
                 _mm512_mask_storeu_ps, _mm512_min_ps, FJ_HAZ_F32, FJ_IOTA32, FJ_SET1_32, _mm512_add_epi32, _mm512_permutex2var_ps)
FJ_BOX_STEP_PERM(f32, max, float, __m512, 16, __mmask16, fj_box_mask16, _mm512_loadu_ps, _mm512_maskz_loadu_ps, _mm512_storeu_ps,
                 _mm512_mask_storeu_ps, _mm512_max_ps, FJ_HAZ_F32, FJ_IOTA32, FJ_SET1_32, _mm512_add_epi32, _mm512_permutex2var_ps)
FJ_BOX_STEP_PERM(u16, min, uint16_t, __m512i, 32, __mmask32, fj_box_mask32, FJ_LOADI, _mm512_maskz_loadu_epi16, FJ_STOREI,
                 _mm512_mask_storeu_epi16, _mm512_min_epu16, FJ_NO_HAZARD, FJ_IOTA16, FJ_SET1_16, _mm512_add_epi16, _mm512_permutex2var_epi16)
FJ_BOX_STEP_PERM(u16, max, uint16_t, __m512i, 32, __mmask32, fj_box_mask32, FJ_LOADI, _mm512_maskz_loadu_epi16, FJ_STOREI,
                 _mm512_mask_storeu_epi16, _mm512_max_epu16, FJ_NO_HAZARD, FJ_IOTA16, FJ_SET1_16, _mm512_add_epi16, _mm512_permutex2var_epi16)
FJ_BOX_STEP_PERM(i16, min, int16_t, __m512i, 32, __mmask32, fj_box_mask32, FJ_LOADI, _mm512_maskz_loadu_epi16, FJ_STOREI,
                 _mm512_mask_storeu_epi16, _mm512_min_epi16, FJ_NO_HAZARD, FJ_IOTA16, FJ_SET1_16, _mm512_add_epi16, _mm512_permutex2var_epi16)
FJ_BOX_STEP_PERM(i16, max, int16_t, __m512i, 32, __mmask32, fj_box_mask32, FJ_LOADI, _mm512_maskz_loadu_epi16, FJ_STOREI,
                 _mm512_mask_storeu_epi16, _mm512_max_epi16, FJ_NO_HAZARD, FJ_IOTA16, FJ_SET1_16, _mm512_add_epi16, _mm512_permutex2var_epi16)
#define FJ_BOX_HAS_PERM_f32 1
#define FJ_BOX_HAS_PERM_u16 1
#define FJ_BOX_HAS_PERM_i16 1
#define FJ_BOX_HAS_PERM_f64 0
#define FJ_BOX_HAS_PERM_u8 0
#define FJ_BOX_HAS_PERM_i8 0
#define FJ_BOX_PSTEP_f32(OPN) fj_pstep_f32_##OPN
#define FJ_BOX_PSTEP_u16(OPN) fj_pstep_u16_##OPN
#define FJ_BOX_PSTEP_i16(OPN) fj_pstep_i16_##OPN
#define FJ_BOX_PSTEP_f64(OPN) fj_step_none
#define FJ_BOX_PSTEP_u8(OPN) fj_step_none
#define FJ_BOX_PSTEP_i8(OPN) fj_step_none
/* Never called (the types without a register-shift step); keeps the dispatch one expression. */
static int fj_step_none(const void *s0, const void *s1, const void *n0, const void *n1, ptrdiff_t L, const void *ring,
                        ptrdiff_t k, void *d0, void *d1, ptrdiff_t count) {
    (void)s0; (void)s1; (void)n0; (void)n1; (void)L; (void)ring; (void)k; (void)d0; (void)d1; (void)count;
    return -1;
}

FJ_BOX_TYPE(f32, float, __m512, 16, __mmask16, fj_box_mask16, _mm512_loadu_ps, _mm512_maskz_loadu_ps, _mm512_storeu_ps,
            _mm512_mask_storeu_ps, _mm512_min_ps, _mm512_max_ps, FJ_HAZ_F32)
FJ_BOX_TYPE(f64, double, __m512d, 8, __mmask8, fj_box_mask8, _mm512_loadu_pd, _mm512_maskz_loadu_pd, _mm512_storeu_pd,
            _mm512_mask_storeu_pd, _mm512_min_pd, _mm512_max_pd, FJ_HAZ_F64)
FJ_BOX_TYPE(u8, uint8_t, __m512i, 64, __mmask64, fj_box_mask64, FJ_LOADI, _mm512_maskz_loadu_epi8, FJ_STOREI,
            _mm512_mask_storeu_epi8, _mm512_min_epu8, _mm512_max_epu8, FJ_NO_HAZARD)
FJ_BOX_TYPE(i8, int8_t, __m512i, 64, __mmask64, fj_box_mask64, FJ_LOADI, _mm512_maskz_loadu_epi8, FJ_STOREI,
            _mm512_mask_storeu_epi8, _mm512_min_epi8, _mm512_max_epi8, FJ_NO_HAZARD)
FJ_BOX_TYPE(u16, uint16_t, __m512i, 32, __mmask32, fj_box_mask32, FJ_LOADI, _mm512_maskz_loadu_epi16, FJ_STOREI,
            _mm512_mask_storeu_epi16, _mm512_min_epu16, _mm512_max_epu16, FJ_NO_HAZARD)
FJ_BOX_TYPE(i16, int16_t, __m512i, 32, __mmask32, fj_box_mask32, FJ_LOADI, _mm512_maskz_loadu_epi16, FJ_STOREI,
            _mm512_mask_storeu_epi16, _mm512_min_epi16, _mm512_max_epi16, FJ_NO_HAZARD)

#else

int filterjit_box_kernels_avx512(void) { return 0; }
static int fj_row_pairs_override = -1;
int filterjit_box_row_pairs(void) {
    const int forced = __atomic_load_n(&fj_row_pairs_override, __ATOMIC_RELAXED);
    return forced >= 0 ? forced : 1;
}
void filterjit_box_set_row_pairs(int pairs) {
    __atomic_store_n(&fj_row_pairs_override, pairs < 0 ? -1 : pairs != 0, __ATOMIC_RELAXED);
}

#define FJ_BOX_NONE(SUF, T)                                                                                \
    int filterjit_box_row_##SUF(const T *s, ptrdiff_t length, T *d, ptrdiff_t count, int maximum) {          \
        (void)s; (void)length; (void)d; (void)count; (void)maximum; return -1;                             \
    }                                                                                                      \
    int filterjit_box_rows_##SUF(const T *const *rows, ptrdiff_t k, T *d, ptrdiff_t count, int maximum) {   \
        (void)rows; (void)k; (void)d; (void)count; (void)maximum; return -1;                               \
    }                                                                                                      \
    int filterjit_box_pair_##SUF(const T *const *rows, ptrdiff_t k, T *d0, T *d1, ptrdiff_t count, int maximum) { \
        (void)rows; (void)k; (void)d0; (void)d1; (void)count; (void)maximum; return -1;                    \
    }                                                                                                      \
    int filterjit_box_step_##SUF(const T *s0, const T *s1, const T *n0, const T *n1, ptrdiff_t length,       \
                                 T *const *ring, ptrdiff_t k, T *d0, T *d1, ptrdiff_t count, int maximum) { \
        (void)s0; (void)s1; (void)n0; (void)n1; (void)length; (void)ring; (void)k; (void)d0; (void)d1; (void)count;            \
        (void)maximum; return -1;                                                            \
    }
FJ_BOX_NONE(f32, float)
FJ_BOX_NONE(f64, double)
FJ_BOX_NONE(u8, uint8_t)
FJ_BOX_NONE(i8, int8_t)
FJ_BOX_NONE(u16, uint16_t)
FJ_BOX_NONE(i16, int16_t)

#endif
