// Single-pass 2-D box min/max of 8- and 16-bit integers and float32 with AVX2, for CPUs without AVX-512 (the kernel
// behind `filterjit_fused_box_{u8,i8,u16,i16}` there, and `filterjit_fused_box_f32`: see include/box_minmax_fused.h
// and docs/window-strategies.md, "min/max, one pass in registers"). The AVX-512 kernel's scheme with 32-byte vectors
// (float32: each row checked for NaN and -0.0 by the first call that reads it, as it loads it; one makes the call
// return 1):
//  - per vector of output columns and pair of output rows, t = op of rows 0 ..< k and u = op of rows 1 ... k
//    (the k - 1 rows both windows read combined once), kept in registers as the previous, current and next
//    vectors of each;
//  - the window along the row needs the column values at offsets o = s ... s + length - 1 from the output column:
//    AVX2 has no two-source permute, so lane i + o of (previous | current | next) is one `vpalignr` of the current
//    vector with `hi` = (current's upper half | next's lower half) or `lo` = (previous's upper half | current's
//    lower half), each one `vperm2i128`, and `lo` of a vector is `hi` of the one before: one `vperm2i128` and
//    one `vpalignr` per tap and row. `vpalignr` takes its offset as an immediate, so the bodies are compiled per
//    window length with the default centre (s = -(length / 2)); other origins return -1 (the caller's passes run).
//  - the columns a window reads outside the row (through the mode: `columns`), and a row's last vector when the
//    row is not a whole number of vectors, are computed one by one into two small buffers and loaded as the
//    vector before the row and the last ones: the left one at the row's start (its loads then find the stores
//    retired), the right one when the loop reaches the row's end (computed up front, its reads of the row's end
//    missed the cache, which cost more than the failed store forwarding of a load just after the stores).
// Output rows in pairs where `filterjit_box_row_pairs()` says so (AMD), else one at a time.

#include "box_minmax_fused.h"
#include "box_minmax.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "avx2_switch.h"
#include "f32_hazards_avx2.h"

#define FJ_F2 __attribute__((target("avx2")))
#define FJ_F2_INLINE static inline __attribute__((always_inline))

static int fj_fused2_cached = -1;
int filterjit_fused_box_avx2(void) { return fj_avx2_switch(&fj_fused2_cached); }
void filterjit_fused_box_set_avx2(int enabled) { fj_avx2_switch_set(&fj_fused2_cached, enabled); }

// Element types: 0 uint8, 1 int8, 2 uint16, 3 int16, 4 float32; op 0 min, 1 max.
FJ_F2 FJ_F2_INLINE __m256i fj_f2_op(int ty, int op, __m256i a, __m256i b) {
    switch (ty * 2 + op) {
    case 0: return _mm256_min_epu8(a, b);
    case 1: return _mm256_max_epu8(a, b);
    case 2: return _mm256_min_epi8(a, b);
    case 3: return _mm256_max_epi8(a, b);
    case 4: return _mm256_min_epu16(a, b);
    case 5: return _mm256_max_epu16(a, b);
    case 6: return _mm256_min_epi16(a, b);
    case 7: return _mm256_max_epi16(a, b);
    // float32: without NaN and -0.0 (the caller's check) `vminps` / `vmaxps` pick what the scalar op picks.
    case 8: return _mm256_castps_si256(_mm256_min_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b)));
    default: return _mm256_castps_si256(_mm256_max_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b)));
    }
}

// Scalar values as doubles (exact for every element type here).
FJ_F2_INLINE double fj_f2_get(int ty, const uint8_t *p, ptrdiff_t i) {
    switch (ty) {
    case 0: return p[i];
    case 1: return ((const int8_t *)p)[i];
    case 2: return ((const uint16_t *)p)[i];
    case 3: return ((const int16_t *)p)[i];
    default: return ((const float *)p)[i];
    }
}

FJ_F2_INLINE void fj_f2_put(int ty, uint8_t *p, ptrdiff_t i, double v) {
    if (ty < 2) p[i] = (uint8_t)(int)v;
    else if (ty < 4) memcpy(p + 2 * i, &(uint16_t){(uint16_t)(int)v}, 2);
    else memcpy(p + 4 * i, &(float){(float)v}, 4);
}

FJ_F2_INLINE double fj_f2_sop(int op, double a, double b) { return op ? (a > b ? a : b) : (a < b ? a : b); }

// NaN or -0.0 (float32 data only; integers have none).
FJ_F2_INLINE int fj_f2_scalar_hazard(int ty, double v) { return ty == 4 && (v != v || (v == 0 && __builtin_signbit(v))); }

// `vpalignr` by r bytes (1 ... 15; a constant where inlined: the instruction takes an immediate).
FJ_F2 FJ_F2_INLINE __m256i fj_f2_alignr(__m256i a, __m256i b, int r) {
    switch (r) {
    case 1: return _mm256_alignr_epi8(a, b, 1);
    case 2: return _mm256_alignr_epi8(a, b, 2);
    case 3: return _mm256_alignr_epi8(a, b, 3);
    case 4: return _mm256_alignr_epi8(a, b, 4);
    case 5: return _mm256_alignr_epi8(a, b, 5);
    case 6: return _mm256_alignr_epi8(a, b, 6);
    case 7: return _mm256_alignr_epi8(a, b, 7);
    case 8: return _mm256_alignr_epi8(a, b, 8);
    case 9: return _mm256_alignr_epi8(a, b, 9);
    case 10: return _mm256_alignr_epi8(a, b, 10);
    case 11: return _mm256_alignr_epi8(a, b, 11);
    case 12: return _mm256_alignr_epi8(a, b, 12);
    case 13: return _mm256_alignr_epi8(a, b, 13);
    case 14: return _mm256_alignr_epi8(a, b, 14);
    case 15: return _mm256_alignr_epi8(a, b, 15);
    default: return b;
    }
}

// Lanes i + ob (bytes, -32 < ob < 32, a constant) of (prev | cur | next), given lo = (prev's upper half | cur's
// lower half) and hi = (cur's upper half | next's lower half).
FJ_F2 FJ_F2_INLINE __m256i fj_f2_shift(__m256i prev, __m256i cur, __m256i next, __m256i lo, __m256i hi, int ob) {
    if (ob == 0) return cur;
    if (ob > 0) {
        if (ob < 16) return fj_f2_alignr(hi, cur, ob);
        if (ob == 16) return hi;
        return fj_f2_alignr(next, hi, ob - 16);
    }
    if (ob > -16) return fj_f2_alignr(cur, lo, 16 + ob);
    if (ob == -16) return lo;
    return fj_f2_alignr(lo, prev, 32 + ob);
}

// One vector of a row; with `check` (float32 rows that no earlier call read) added to *seen (f32_hazards_avx2.h).
FJ_F2 FJ_F2_INLINE __m256i fj_f2_load(int ty, const uint8_t *p, int check, fj_f32_seen *seen) {
    const __m256i v = _mm256_loadu_si256((const __m256i *)p);
    if (ty == 4 && check) fj_f32_seen_add(seen, v);
    return v;
}

// The column values at byte offset `at` of the rows: TT = op(rows 0 ..< K) and, with `pair`, UU = op(rows 1 ... K).
#define FJ_F2_COLUMNS(at, TT, UU)                                                                          \
    {                                                                                                      \
        const __m256i first = fj_f2_load(ty, p[0] + (at), check[0], &seen);                                \
        if (K >= 2) {                                                                                      \
            __m256i shared = fj_f2_load(ty, p[1] + (at), check[1], &seen);                                 \
            for (ptrdiff_t i = 2; i < K; i++) shared = fj_f2_op(ty, op, shared, fj_f2_load(ty, p[i] + (at), check[i], &seen)); \
            TT = fj_f2_op(ty, op, first, shared);                                                          \
            if (pair) UU = fj_f2_op(ty, op, shared, fj_f2_load(ty, p[K] + (at), check[K], &seen));         \
        } else {                                                                                           \
            TT = first;                                                                                    \
            if (pair) UU = fj_f2_load(ty, p[1] + (at), check[1], &seen);                                   \
        }                                                                                                  \
    }

// The column values of extended column q (relative to the row's first element) for the two rows into bt[j], bu[j];
// nonzero when a float element read is NaN or -0.0.
FJ_F2_INLINE int fj_f2_scalar_column(int ty, int op, const uint8_t *const *p, ptrdiff_t K, int pair, ptrdiff_t col,
                                     double cval, uint8_t *bt, uint8_t *bu, ptrdiff_t j) {
    double vt = cval, vu = cval;
    int hazard = 0;
    if (col >= 0) {
        for (ptrdiff_t i = 0; i < K + pair; i++) hazard |= fj_f2_scalar_hazard(ty, fj_f2_get(ty, p[i], col));
        double shared = fj_f2_get(ty, p[K >= 2 ? 1 : 0], col);
        for (ptrdiff_t i = 2; i < K; i++) shared = fj_f2_sop(op, shared, fj_f2_get(ty, p[i], col));
        vt = K >= 2 ? fj_f2_sop(op, fj_f2_get(ty, p[0], col), shared) : shared;
        if (pair) vu = K >= 2 ? fj_f2_sop(op, shared, fj_f2_get(ty, p[K], col)) : fj_f2_get(ty, p[1], col);
    }
    fj_f2_put(ty, bt, j, vt);
    if (pair) fj_f2_put(ty, bu, j, vu);
    return hazard;
}

// The buffers of the row's ends (not inlined, to keep the bodies small). Left: the vector before the row (lanes
// lanes + q for q = s ..< 0). Right: the extended columns tail ..< tail + 2 lanes beyond the ones loaded from the
// rows (the row's last elements when last < lanes, then the columns past it, n ..< n + s + L - 1).
FJ_F2_INLINE int fj_f2_left_body(int ty, int op, const uint8_t *const *p, ptrdiff_t K, ptrdiff_t L, int pair,
                                  const ptrdiff_t *columns, ptrdiff_t centre, double cval, ptrdiff_t lanes, uint8_t *lt,
                                  uint8_t *lu) {
    int hazard = 0;
    for (ptrdiff_t q = -(L / 2); q < 0; q++)
        hazard |= fj_f2_scalar_column(ty, op, p, K, pair, columns[centre + q], cval, lt, lu, lanes + q);
    return hazard;
}
FJ_F2_INLINE int fj_f2_right_body(int ty, int op, const uint8_t *const *p, ptrdiff_t K, ptrdiff_t L, int pair,
                                   const ptrdiff_t *columns, ptrdiff_t centre, double cval, ptrdiff_t n, ptrdiff_t lanes,
                                   ptrdiff_t tail, uint8_t *rt, uint8_t *ru) {
    int hazard = 0;
    if (n - tail < lanes)
        for (ptrdiff_t c = tail; c < n; c++) hazard |= fj_f2_scalar_column(ty, op, p, K, pair, c, cval, rt, ru, c - tail);
    for (ptrdiff_t q = n; q < n - (L / 2) + L - 1; q++)
        hazard |= fj_f2_scalar_column(ty, op, p, K, pair, columns[centre + q], cval, rt, ru, q - tail);
    return hazard;
}

// The ends' buffers per element type and op, each compiled with both constant (the generic scalar code's switches
// on the type cost a fifth of a 3x3 uint8 box's time), not inlined into the bodies.
#define FJ_F2_EDGES(TY, OP)                                                                                \
    __attribute__((noinline)) static int fj_f2_left_##TY##_##OP(const uint8_t *const *p, ptrdiff_t K, ptrdiff_t L, \
        int pair, const ptrdiff_t *columns, ptrdiff_t centre, double cval, ptrdiff_t lanes, uint8_t *lt,   \
        uint8_t *lu) {                                                                                     \
        return fj_f2_left_body(TY, OP, p, K, L, pair, columns, centre, cval, lanes, lt, lu);               \
    }                                                                                                      \
    __attribute__((noinline)) static int fj_f2_right_##TY##_##OP(const uint8_t *const *p, ptrdiff_t K, ptrdiff_t L, \
        int pair, const ptrdiff_t *columns, ptrdiff_t centre, double cval, ptrdiff_t n, ptrdiff_t lanes,   \
        ptrdiff_t tail, uint8_t *rt, uint8_t *ru) {                                                        \
        return fj_f2_right_body(TY, OP, p, K, L, pair, columns, centre, cval, n, lanes, tail, rt, ru);     \
    }
FJ_F2_EDGES(0, 0) FJ_F2_EDGES(0, 1) FJ_F2_EDGES(1, 0) FJ_F2_EDGES(1, 1) FJ_F2_EDGES(2, 0)
FJ_F2_EDGES(2, 1) FJ_F2_EDGES(3, 0) FJ_F2_EDGES(3, 1) FJ_F2_EDGES(4, 0) FJ_F2_EDGES(4, 1)
#undef FJ_F2_EDGES

// The variant of (ty, op): constants where inlined, so one direct call.
#define FJ_F2_EDGE_CALL(SIDE, ty, op, ...)                                                                 \
    ((ty) * 2 + (op) == 0 ? fj_f2_##SIDE##_0_0(__VA_ARGS__) : (ty) * 2 + (op) == 1 ? fj_f2_##SIDE##_0_1(__VA_ARGS__) \
     : (ty) * 2 + (op) == 2 ? fj_f2_##SIDE##_1_0(__VA_ARGS__) : (ty) * 2 + (op) == 3 ? fj_f2_##SIDE##_1_1(__VA_ARGS__) \
     : (ty) * 2 + (op) == 4 ? fj_f2_##SIDE##_2_0(__VA_ARGS__) : (ty) * 2 + (op) == 5 ? fj_f2_##SIDE##_2_1(__VA_ARGS__) \
     : (ty) * 2 + (op) == 6 ? fj_f2_##SIDE##_3_0(__VA_ARGS__) : (ty) * 2 + (op) == 7 ? fj_f2_##SIDE##_3_1(__VA_ARGS__) \
     : (ty) * 2 + (op) == 8 ? fj_f2_##SIDE##_4_0(__VA_ARGS__) : fj_f2_##SIDE##_4_1(__VA_ARGS__))
#define fj_f2_left(ty, op, ...) FJ_F2_EDGE_CALL(left, ty, op, __VA_ARGS__)
#define fj_f2_right(ty, op, ...) FJ_F2_EDGE_CALL(right, ty, op, __VA_ARGS__)

// One output row (pair: two) of a K x L box, s = -(L / 2); K, L constants where inlined from the switch below.
// Returns 1 when a float32 element it read is NaN or -0.0 (the outputs are then meaningless), else 0.
FJ_F2 FJ_F2_INLINE int fj_f2_body(int ty, int op, const uint8_t *const *rows, const ptrdiff_t K, const ptrdiff_t L,
                                   const ptrdiff_t *columns, ptrdiff_t centre, double cval, uint8_t *d0, uint8_t *d1,
                                   ptrdiff_t n, const int pair, ptrdiff_t firstNew) {
    const ptrdiff_t es = ty < 2 ? 1 : ty < 4 ? 2 : 4, lanes = 32 / es, s = -(L / 2);
    int edgeHazards = 0;
    const uint8_t *p[FILTERJIT_FUSED_BOX_MAX_ROWS + 1];
    // float32 rows from firstNew on are checked as they are loaded (the earlier ones were, by the previous call).
    int check[FILTERJIT_FUSED_BOX_MAX_ROWS + 1];
    fj_f32_seen seen = fj_f32_seen_none();
    for (ptrdiff_t j = 0; j < K + pair; j++) p[j] = rows[j], check[j] = j >= firstNew;
    // The vectors: nv of them, the last (at `tail`) holding `last` elements of the row.
    const ptrdiff_t nv = (n + lanes - 1) / lanes, tail = (nv - 1) * lanes, last = n - tail;
    // The row's ends: the vector before it now, the two from `tail` on when the loop reaches them (with the row's
    // end in cache: computed up front, their loads missed it, which cost more than the failed store forwarding).
    _Alignas(32) uint8_t lt[32] = {0}, lu[32] = {0}, rt[64] = {0}, ru[64] = {0};
    edgeHazards |= fj_f2_left(ty, op, rows, K, L, pair, columns, centre, cval, lanes, lt, lu);
    __m256i tp = _mm256_load_si256((const __m256i *)lt), up = _mm256_load_si256((const __m256i *)lu);
    __m256i t = tp, u = up, tn = tp, un = up;
    if (nv > 1 || last == lanes) {
        FJ_F2_COLUMNS(0, t, u)
    } else {
        edgeHazards |= fj_f2_right(ty, op, rows, K, L, pair, columns, centre, cval, n, lanes, tail, rt, ru);
        t = _mm256_load_si256((const __m256i *)rt);
        if (pair) u = _mm256_load_si256((const __m256i *)ru);
    }
    __m256i tlo = _mm256_permute2x128_si256(tp, t, 0x21), ulo = _mm256_permute2x128_si256(up, u, 0x21);
    // One output vector at x from the previous, current and next column values (NEXT loads the next ones), stored
    // by STORE; then the three move on.
#define FJ_F2_STEP(NEXT, STORE)                                                                            \
    {                                                                                                      \
        NEXT;                                                                                              \
        const __m256i thi = _mm256_permute2x128_si256(t, tn, 0x21);                                        \
        __m256i r0 = fj_f2_shift(tp, t, tn, tlo, thi, (int)(s * es));                                      \
        for (ptrdiff_t j = 1; j < L; j++) r0 = fj_f2_op(ty, op, r0, fj_f2_shift(tp, t, tn, tlo, thi, (int)((s + j) * es))); \
        __m256i r1 = r0, uhi = ulo;                                                                        \
        if (pair) {                                                                                        \
            uhi = _mm256_permute2x128_si256(u, un, 0x21);                                                  \
            r1 = fj_f2_shift(up, u, un, ulo, uhi, (int)(s * es));                                          \
            for (ptrdiff_t j = 1; j < L; j++) r1 = fj_f2_op(ty, op, r1, fj_f2_shift(up, u, un, ulo, uhi, (int)((s + j) * es))); \
        }                                                                                                  \
        STORE;                                                                                             \
        tp = t; t = tn; tlo = thi;                                                                         \
        up = u; u = un; ulo = uhi;                                                                         \
    }
    // While the next vector is whole (`whole` vectors are loaded from the rows): loads and stores only.
    const ptrdiff_t whole = last == lanes ? nv : nv - 1;
    ptrdiff_t v = 0;
    for (; v + 1 < whole; v++) {
        const ptrdiff_t x = v * lanes;
        FJ_F2_STEP(FJ_F2_COLUMNS((x + lanes) * es, tn, un),
                   _mm256_storeu_si256((__m256i *)(d0 + x * es), r0);
                   if (pair) _mm256_storeu_si256((__m256i *)(d1 + x * es), r1))
    }
    // The last one or two: the next column values from the right buffer, the last vector stored in part.
    if (nv > 1 || last == lanes)
        edgeHazards |= fj_f2_right(ty, op, rows, K, L, pair, columns, centre, cval, n, lanes, tail, rt, ru);
    for (; v < nv; v++) {
        const ptrdiff_t x = v * lanes, at = v + 1 == nv - 1 ? 0 : 32;
        FJ_F2_STEP(tn = _mm256_load_si256((const __m256i *)(rt + at));
                   if (pair) un = _mm256_load_si256((const __m256i *)(ru + at)),
                   if (v + 1 < nv || last == lanes) {
                       _mm256_storeu_si256((__m256i *)(d0 + x * es), r0);
                       if (pair) _mm256_storeu_si256((__m256i *)(d1 + x * es), r1);
                   } else {
                       _Alignas(32) uint8_t out[32];
                       _mm256_store_si256((__m256i *)out, r0);
                       memcpy(d0 + x * es, out, (size_t)(last * es));
                       if (pair) {
                           _mm256_store_si256((__m256i *)out, r1);
                           memcpy(d1 + x * es, out, (size_t)(last * es));
                       }
                   })
    }
#undef FJ_F2_STEP
    return edgeHazards || (ty == 4 && fj_f32_seen_any(seen));
}

// Per (type, op): the body with L constant (vpalignr's immediates) and, for the square box 3, K too; `pair` stays a
// run-time flag (a branch the loop predicts): bodies compiled per pair as well took 50 s to build at -O0 with ASan.
#define FJ_F2_SIZED(TY, OP, NAME)                                                                          \
    FJ_F2 static int NAME(const uint8_t *const *rows, ptrdiff_t K, ptrdiff_t L, const ptrdiff_t *columns,     \
                          ptrdiff_t centre, double cval, uint8_t *d0, uint8_t *d1, ptrdiff_t n, int pair,    \
                          ptrdiff_t firstNew) {                                                            \
        if (K == 3 && L == 3) return fj_f2_body(TY, OP, rows, 3, 3, columns, centre, cval, d0, d1, n, pair, firstNew); \
        switch (L) {                                                                                       \
        case 1: return fj_f2_body(TY, OP, rows, K, 1, columns, centre, cval, d0, d1, n, pair, firstNew);   \
        case 2: return fj_f2_body(TY, OP, rows, K, 2, columns, centre, cval, d0, d1, n, pair, firstNew);   \
        case 3: return fj_f2_body(TY, OP, rows, K, 3, columns, centre, cval, d0, d1, n, pair, firstNew);   \
        case 4: return fj_f2_body(TY, OP, rows, K, 4, columns, centre, cval, d0, d1, n, pair, firstNew);   \
        case 5: return fj_f2_body(TY, OP, rows, K, 5, columns, centre, cval, d0, d1, n, pair, firstNew);   \
        case 6: return fj_f2_body(TY, OP, rows, K, 6, columns, centre, cval, d0, d1, n, pair, firstNew);   \
        case 7: return fj_f2_body(TY, OP, rows, K, 7, columns, centre, cval, d0, d1, n, pair, firstNew);   \
        default: return fj_f2_body(TY, OP, rows, K, 8, columns, centre, cval, d0, d1, n, pair, firstNew);  \
        }                                                                                                  \
    }
FJ_F2_SIZED(0, 0, fj_f2_u8_min)
FJ_F2_SIZED(0, 1, fj_f2_u8_max)
FJ_F2_SIZED(1, 0, fj_f2_i8_min)
FJ_F2_SIZED(1, 1, fj_f2_i8_max)
FJ_F2_SIZED(2, 0, fj_f2_u16_min)
FJ_F2_SIZED(2, 1, fj_f2_u16_max)
FJ_F2_SIZED(3, 0, fj_f2_i16_min)
FJ_F2_SIZED(3, 1, fj_f2_i16_max)
FJ_F2_SIZED(4, 0, fj_f2_f32_min)
FJ_F2_SIZED(4, 1, fj_f2_f32_max)

typedef int (*fj_f2_kernel)(const uint8_t *const *, ptrdiff_t, ptrdiff_t, const ptrdiff_t *, ptrdiff_t, double, uint8_t *,
                            uint8_t *, ptrdiff_t, int, ptrdiff_t);

int filterjit_fused_box_avx2_run(int type, const void *const *inputs, void *const *outputs, ptrdiff_t count, ptrdiff_t k,
                                 ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns, ptrdiff_t centre,
                                 ptrdiff_t extended, double cval, ptrdiff_t n, int maximum) {
    static const fj_f2_kernel kernels[10] = {fj_f2_u8_min, fj_f2_u8_max, fj_f2_i8_min, fj_f2_i8_max, fj_f2_u16_min,
                                             fj_f2_u16_max, fj_f2_i16_min, fj_f2_i16_max, fj_f2_f32_min, fj_f2_f32_max};
    if (!filterjit_fused_box_avx2() || type < 0 || type > 4 || k < 1 || k > FILTERJIT_FUSED_BOX_MAX_ROWS || length < 1 ||
        length > 8 || start - centre != -(length / 2) || n < 1 || count < 0 || start < 0 || start + n - 1 + length > extended)
        return -1;
    // A float cval of NaN or -0.0 would need the exact path's rules: declined as data holding one.
    if (type == 4 && fj_f2_scalar_hazard(4, (double)(float)cval)) return 1;
    const fj_f2_kernel kernel = kernels[type * 2 + (maximum ? 1 : 0)];
    const int pairs = filterjit_box_row_pairs();
    const uint8_t *const *rows = (const uint8_t *const *)inputs;
    uint8_t *const *outs = (uint8_t *const *)outputs;
    ptrdiff_t checked = 0; // rows[0 ..< checked] were read (float32: checked for NaN and -0.0) by earlier calls
    for (ptrdiff_t y = 0; y < count;) {
        const int pair = pairs && y + 1 < count;
        if (kernel(rows + y, k, length, columns, centre, cval, outs[y], pair ? outs[y + 1] : NULL, n, pair,
                   checked - y > 0 ? checked - y : 0))
            return 1;
        checked = y + k + pair;
        y += pair ? 2 : 1;
    }
    return 0;
}


#else

int filterjit_fused_box_avx2(void) { return 0; }
void filterjit_fused_box_set_avx2(int enabled) { (void)enabled; }
int filterjit_fused_box_avx2_run(int type, const void *const *inputs, void *const *outputs, ptrdiff_t count, ptrdiff_t k,
                                 ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns, ptrdiff_t centre,
                                 ptrdiff_t extended, double cval, ptrdiff_t n, int maximum) {
    (void)type; (void)inputs; (void)outputs; (void)count; (void)k; (void)start; (void)length; (void)columns;
    (void)centre; (void)extended; (void)cval; (void)n; (void)maximum;
    return -1;
}

#endif
