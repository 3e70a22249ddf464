// NumPy's pairwise float sum across pixels with AVX2 vectors, for CPUs without AVX-512 (see
// include/pairwise_sums.h and pairwise_sums.c, whose AVX-512 kernel this follows with half the lanes).
// Eight pixels per step, two vectors of four doubles: for windows of 8 to 128 taps the eight
// accumulators of each vector stay in registers (all 16 ymm registers; every tap is one add with its
// load folded in, read straight from the tap's row at the pixel's offset). Longer windows split in
// halves as NumPy does (the tree's shape: pairwise_tree.h, shared with the AVX-512 kernels). Every lane
// follows one pixel's exact sequence of additions (no reassociation: no fast-math, explicit intrinsics,
// plain adds), so the result is the bits of the scalar sum, NaN, inf and -0.0 included. The last pixels of a row take masked loads (`vmaskmovpd` reads nothing where the
// mask is clear, so no element past the row is touched) and masked stores.

#include "pairwise_sums.h"
#include "pairwise_tree.h"
#include <stdlib.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "avx2_switch.h"

#define FJ_AVX2 __attribute__((target("avx2")))

static int fj_avx2_cached = -1;

int filterjit_pairwise_avx2(void) { return fj_avx2_switch(&fj_avx2_cached); }

void filterjit_pairwise_set_avx2(int enabled) { fj_avx2_switch_set(&fj_avx2_cached, enabled); }

typedef struct {
    __m256d a, b;
} fj_pair4;

#define FJ4_LOAD_FULL(m, p) _mm256_loadu_pd(p)
#define FJ4_LOAD_MASKED(m, p) _mm256_maskload_pd(p, m)
#define FJ4_ADD _mm256_add_pd

// pairwise(t[0 ..< n]) of pixels x ..< x + 8 (lanes beyond the masks are zero and never stored).
#define FJ4_PAIRWISE(NAME, LOAD) FJ_PAIRWISE_TREE(NAME, FJ_AVX2, fj_pair4, __m256d, __m256i, FJ4_ADD, _mm256_setzero_pd(), LOAD, 4)

FJ4_PAIRWISE(fj_pairwise4_full, FJ4_LOAD_FULL)
FJ4_PAIRWISE(fj_pairwise4_masked, FJ4_LOAD_MASKED)

// Lanes 0 ..< left of a vector of four (all from 4 on, none from 0 down): the sign bit set.
FJ_AVX2 static inline __m256i fj_mask4(ptrdiff_t left) {
    const __m256i lanes = _mm256_setr_epi64x(0, 1, 2, 3);
    ptrdiff_t clamped = left < 0 ? 0 : left > 4 ? 4 : left;
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)clamped), lanes);
}

FJ_AVX2 void filterjit_pairwise_sum_f64_avx2(const double *const *t, ptrdiff_t n, ptrdiff_t count, double *out) {
    const __m256d zero = _mm256_setzero_pd();
    const __m256i all = _mm256_set1_epi64x(-1);
    ptrdiff_t x = 0;
    for (; x + 8 <= count; x += 8) {
        fj_pair4 s = fj_pairwise4_full(t, n, x, all, all);
        // 0.0 + sum, as NumPy's add.reduce starts from +0.0 (a window of -0.0 only sums to +0.0).
        _mm256_storeu_pd(out + x, FJ4_ADD(zero, s.a));
        _mm256_storeu_pd(out + x + 4, FJ4_ADD(zero, s.b));
    }
    if (x < count) {
        ptrdiff_t left = count - x;
        __m256i ma = fj_mask4(left), mb = fj_mask4(left - 4);
        fj_pair4 s = fj_pairwise4_masked(t, n, x, ma, mb);
        _mm256_maskstore_pd(out + x, ma, FJ4_ADD(zero, s.a));
        _mm256_maskstore_pd(out + x + 4, mb, FJ4_ADD(zero, s.b));
    }
}

// Square boxes of k x k taps (k = 3 ... 15): tap r * k + c of pixel x is rows[r][x + c], each tap one
// unaligned load folded into its add (no table of tap pointers to read: the row's pointer once per
// footprint row). The loops over rows and columns are unrolled in full, so every tap's accumulator (tap
// index mod 8, within its half of the pairwise split beyond 128 taps) is a register known at compile time.
// Taps [S, E) of the pairwise split: FJ_TREE_SEGMENT_TAP (pairwise_tree.h) with plain adds throughout.
#define FJ4_SEGMENT_TAP(S, E, a, b, ra, rb) FJ_TREE_SEGMENT_TAP(FJ4_ADD, FJ4_ADD, S, E, a, b, ra, rb)

// Stores 4 sums at x: into out (doubles) or, when out32 is set, rounded to floats; divided first by
// `divisor` unless it is 0 (an IEEE division, as the compiled tail's `sum / taps`).
FJ_AVX2 static inline void fj4_store(double *out, float *out32, ptrdiff_t x, __m256d v, double divisor, __m256d dv) {
    if (divisor != 0) v = _mm256_div_pd(v, dv);
    if (out32) _mm_storeu_ps(out32 + x, _mm256_cvtpd_ps(v));
    else _mm256_storeu_pd(out + x, v);
}

#define FJ4_BOX(K)                                                                                           \
    FJ_AVX2 static ptrdiff_t fj4_box##K(const double *const *rows, ptrdiff_t count, double *out, float *out32, \
                                         double divisor) {                                                 \
        enum { N = K * K, SPLIT = N > 128, H0 = N / 2, HALF = SPLIT ? H0 - H0 % 8 : N };                    \
        const __m256d zero = _mm256_setzero_pd(), dv = _mm256_set1_pd(divisor);                             \
        ptrdiff_t x = 0;                                                                                    \
        for (; x + 8 <= count; x += 8) {                                                                    \
            __m256d a[8], b[8], c8[8], d8[8], ra = zero, rb = zero, sa = zero, sb = zero;                   \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < K; r++) {                               \
                const double *p = rows[r] + x;                                                              \
                _Pragma("clang loop unroll(full)") for (int c = 0; c < K; c++) {                           \
                    const int i = r * K + c;                                                                \
                    __m256d v0 = _mm256_loadu_pd(p + c), v1 = _mm256_loadu_pd(p + c + 4);                   \
                    FJ4_SEGMENT_TAP(0, HALF, a, b, ra, rb)                                                  \
                    FJ4_SEGMENT_TAP(HALF, N, c8, d8, sa, sb)                                                \
                }                                                                                           \
            }                                                                                               \
            if (SPLIT) {                                                                                    \
                ra = FJ4_ADD(ra, sa);                                                                       \
                rb = FJ4_ADD(rb, sb);                                                                       \
            }                                                                                               \
            fj4_store(out, out32, x, FJ4_ADD(zero, ra), divisor, dv);                                       \
            fj4_store(out, out32, x + 4, FJ4_ADD(zero, rb), divisor, dv);                                   \
        }                                                                                                   \
        return x;                                                                                           \
    }

FJ4_BOX(3)
FJ4_BOX(4)
FJ4_BOX(5)
FJ4_BOX(6)
FJ4_BOX(7)
FJ4_BOX(8)
FJ4_BOX(9)
FJ4_BOX(10)
FJ4_BOX(11)
FJ4_BOX(12)
FJ4_BOX(13)
FJ4_BOX(14)
FJ4_BOX(15)

static const fj_tree_box_fn fj4_boxes[13] = {fj4_box3, fj4_box4, fj4_box5, fj4_box6, fj4_box7, fj4_box8, fj4_box9,
                                             fj4_box10, fj4_box11, fj4_box12, fj4_box13, fj4_box14, fj4_box15};

int filterjit_pairwise_box_avx2(const double *const *rows, ptrdiff_t k, ptrdiff_t count, double *out, float *out32,
                                double divisor) {
    if (!filterjit_pairwise_avx2() || k < 3 || k > 15) return 0;
    fj_tree_box_run(fj4_boxes, filterjit_pairwise_sum_f64_avx2, rows, k, count, out, out32, divisor);
    return 1;
}

// Boxes of R footprint rows of L columns (the 3-D cubes of 3 and 5: R = 9, L = 3 and R = 25, L = 5), read in
// place as in pairwise_sums.c's FJ_RECT: tap r * L + c of pixel x is rows[r][x + c], float64 rows or float32
// ones (widened by `vcvtps2pd` as loaded). Every tap one load at its own offset, the square-box kernel's
// unrolled tree. The last (up to 7) pixels of a call take masked loads, which read only the elements of
// pixels below `count` (so nothing past rows[r][count + L - 2]), and masked stores.
typedef struct {
    __m256i d0, d1;  // lanes of the two vectors of doubles
    __m128i f0, f1;  // the same lanes as 32-bit masks (float rows)
} fj4_masks;

#define FJ4_ROW_F64(p, m, half) _mm256_loadu_pd(p)
#define FJ4_ROW_F64_MASKED(p, m, half) _mm256_maskload_pd(p, (half) ? (m).d1 : (m).d0)
#define FJ4_ROW_F32(p, m, half) _mm256_cvtps_pd(_mm_loadu_ps(p))
#define FJ4_ROW_F32_MASKED(p, m, half) _mm256_cvtps_pd(_mm_maskload_ps(p, (half) ? (m).f1 : (m).f0))

#define FJ4_RECT_STEP(FN, R, L, TYPE, LOADV)                                                                 \
    FJ_AVX2 static inline fj_pair4 FN(const TYPE *const *rows, ptrdiff_t x, fj4_masks m) {                  \
        enum { N = R * L, SPLIT = N > 128, H0 = N / 2, HALF = SPLIT ? H0 - H0 % 8 : N };                    \
        (void)m;                                                                                            \
        const __m256d zero = _mm256_setzero_pd();                                                           \
        __m256d a[8], b[8], c8[8], d8[8], ra = zero, rb = zero, sa = zero, sb = zero;                       \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {                                   \
            const TYPE *p = rows[r] + x;                                                                    \
            _Pragma("clang loop unroll(full)") for (int c = 0; c < L; c++) {                               \
                const int i = r * L + c;                                                                    \
                __m256d v0 = LOADV(p + c, m, 0), v1 = LOADV(p + c + 4, m, 1);                               \
                FJ4_SEGMENT_TAP(0, HALF, a, b, ra, rb)                                                      \
                FJ4_SEGMENT_TAP(HALF, N, c8, d8, sa, sb)                                                    \
            }                                                                                               \
        }                                                                                                   \
        if (SPLIT) {                                                                                        \
            ra = FJ4_ADD(ra, sa);                                                                           \
            rb = FJ4_ADD(rb, sb);                                                                           \
        }                                                                                                   \
        fj_pair4 s;                                                                                         \
        s.a = FJ4_ADD(zero, ra);                                                                            \
        s.b = FJ4_ADD(zero, rb);                                                                            \
        return s;                                                                                           \
    }

// Four pixels per step, one vector, software-pipelined: step x adds the taps of pixels x ..< x + 4 into the
// eight accumulators of the first N - N % 8 taps (tap i into accumulator i mod 8, NumPy's order for 8 <= N
// <= 128) and finishes the pixels of step x - 4: their combined accumulators, then the last N % 8 taps in
// order, + 0.0, the divisor and the store. With 25 x 5 taps the two-vector steps above spill their 16
// accumulators and end each step in a chain of 6 dependent adds and a divide; one vector needs 8 registers,
// and the previous step's chain overlaps this step's independent adds (128^3 float64 5x5x5 on Zen 3: 8.9 ->
// 7.9 ns per voxel in a C harness; the 3x3x3 cube was 4% slower this way and keeps the two-vector steps).
// Returns the pixels done (a multiple of 4; none below 4). Not inlined: inlined into the caller beside the
// two-vector steps it ran at 8.4 ns per voxel, on its own at 7.9. Float32 rows keep the two-vector steps:
// with a conversion per tap clang materialises every widened tap before adding them (spills, 2x slower).
#define FJ4_RECT_PIPELINED(NAME, R, L, TYPE, LOADV)                                                          \
    FJ_AVX2 __attribute__((noinline)) static ptrdiff_t NAME(const TYPE *const *rows, ptrdiff_t count, double divisor, double *out, float *out32) { \
        enum { N = R * L, END = N - N % 8 };                                                                \
        _Static_assert(N >= 8 && N <= 128, "one leaf of the pairwise tree");                                \
        const __m256d zero = _mm256_setzero_pd(), dv = _mm256_set1_pd(divisor);                             \
        const fj4_masks m = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm_setzero_si128(), _mm_setzero_si128()}; \
        (void)m;                                                                                            \
        if (count < 4) return 0;                                                                            \
        __m256d previous = zero;                                                                            \
        ptrdiff_t x = 0;                                                                                    \
        for (;; x += 4) {                                                                                   \
            __m256d a[8];                                                                                   \
            _Pragma("clang loop unroll(full)") for (int i = 0; i < END; i++) {                              \
                __m256d v = LOADV(rows[i / L] + x + i % L, m, 0);                                           \
                a[i % 8] = i < 8 ? v : FJ4_ADD(a[i % 8], v);                                                \
            }                                                                                               \
            if (x > 0) {                                                                                    \
                __m256d t = previous;                                                                       \
                _Pragma("clang loop unroll(full)") for (int i = END; i < N; i++)                            \
                    t = FJ4_ADD(t, LOADV(rows[i / L] + x - 4 + i % L, m, 0));                               \
                fj4_store(out, out32, x - 4, FJ4_ADD(zero, t), divisor, dv);                                \
            }                                                                                               \
            previous = FJ_TREE_COMBINE(FJ4_ADD, a);                                                         \
            if (x + 8 > count) break;                                                                       \
        }                                                                                                   \
        __m256d t = previous;                                                                               \
        _Pragma("clang loop unroll(full)") for (int i = END; i < N; i++) t = FJ4_ADD(t, LOADV(rows[i / L] + x + i % L, m, 0)); \
        fj4_store(out, out32, x, FJ4_ADD(zero, t), divisor, dv);                                            \
        return x + 4;                                                                                       \
    }

// PIPELINED: the whole steps by FJ4_RECT_PIPELINED instead of the two-vector steps.
#define FJ4_RECT(NAME, R, L, TYPE, LOADF, LOADM, PIPELINED)                                                  \
    FJ4_RECT_STEP(NAME##_step, R, L, TYPE, LOADF)                                                           \
    FJ4_RECT_STEP(NAME##_tail, R, L, TYPE, LOADM)                                                           \
    FJ4_RECT_PIPELINED(NAME##_pipelined, R, L, TYPE, LOADF)                                                 \
    FJ_AVX2 static void NAME(const TYPE *const *rows, ptrdiff_t count, double divisor, double *out, float *out32) { \
        const __m256d dv = _mm256_set1_pd(divisor);                                                         \
        fj4_masks none = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm_setzero_si128(), _mm_setzero_si128()}; \
        ptrdiff_t x = 0;                                                                                    \
        if (PIPELINED) {                                                                                    \
            x = NAME##_pipelined(rows, count, divisor, out, out32);                                         \
            if (x < count && count >= 4) {                                                                  \
                /* The last pixels by one step ending at the last pixel (same bits for those rewritten). */ \
                const TYPE *last[R];                                                                        \
                for (int r = 0; r < R; r++) last[r] = rows[r] + count - 4;                                  \
                NAME##_pipelined(last, 4, divisor, out ? out + count - 4 : NULL, out32 ? out32 + count - 4 : NULL); \
                x = count;                                                                                  \
            }                                                                                               \
        }                                                                                                   \
        for (; x + 8 <= count; x += 8) {                                                                    \
            fj_pair4 s = NAME##_step(rows, x, none);                                                        \
            fj4_store(out, out32, x, s.a, divisor, dv);                                                     \
            fj4_store(out, out32, x + 4, s.b, divisor, dv);                                                 \
        }                                                                                                   \
        if (x < count) {                                                                                    \
            ptrdiff_t left = count - x;                                                                     \
            fj4_masks m;                                                                                    \
            m.d0 = fj_mask4(left);                                                                          \
            m.d1 = fj_mask4(left - 4);                                                                      \
            m.f0 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(m.d0, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6))); \
            m.f1 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(m.d1, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6))); \
            fj_pair4 s = NAME##_tail(rows, x, m);                                                           \
            __m256d va = s.a, vb = s.b;                                                                     \
            if (divisor != 0) {                                                                             \
                va = _mm256_div_pd(va, dv);                                                                 \
                vb = _mm256_div_pd(vb, dv);                                                                 \
            }                                                                                               \
            if (out32) {                                                                                    \
                _mm_maskstore_ps(out32 + x, m.f0, _mm256_cvtpd_ps(va));                                     \
                _mm_maskstore_ps(out32 + x + 4, m.f1, _mm256_cvtpd_ps(vb));                                 \
            } else {                                                                                        \
                _mm256_maskstore_pd(out + x, m.d0, va);                                                     \
                _mm256_maskstore_pd(out + x + 4, m.d1, vb);                                                 \
            }                                                                                               \
        }                                                                                                   \
    }

FJ4_RECT(fj4_rect9x3_f64, 9, 3, double, FJ4_ROW_F64, FJ4_ROW_F64_MASKED, 0)
FJ4_RECT(fj4_rect25x5_f64, 25, 5, double, FJ4_ROW_F64, FJ4_ROW_F64_MASKED, 1)
FJ4_RECT(fj4_rect9x3_f32, 9, 3, float, FJ4_ROW_F32, FJ4_ROW_F32_MASKED, 0)
FJ4_RECT(fj4_rect25x5_f32, 25, 5, float, FJ4_ROW_F32, FJ4_ROW_F32_MASKED, 0)

// The 7x7x7 cube, float64 rows (49 footprint rows of 7 columns): 343 taps, past NumPy's leaf of 128, so its
// tree splits twice, into the leaves [0, 80), [80, 168), [168, 248) and [248, 343) (halves rounded down to a
// multiple of 8: 343 -> 168 + 175, 168 -> 80 + 88, 175 -> 80 + 95), summed as ((l0 + l1) + (l2 + l3)). Four
// pixels per step, one leaf at a time in 8 registers (the leaves' chains are independent, so one leaf's
// combine overlaps the next one's adds), every tap one load at its offset. Before, these cubes took the
// general kernel, a tap pointer loaded per tap (128^3 in a C harness: 35.7 -> 25.1-26.1 ns per voxel).
// `masked`: the last pixels of a call shorter than a step, lanes below `left` only (`vmaskmovpd` reads
// nothing for the others).
FJ_AVX2 static inline __attribute__((always_inline)) __m256d fj4_cube7_leaf(const double *const *rows, ptrdiff_t x, const int S,
                                                                             const int E, __m256i mask, const int masked) {
    const int end = E - (E - S) % 8;
    __m256d a[8];
    _Pragma("clang loop unroll(full)") for (int i = S; i < end; i++) {
        const double *p = rows[i / 7] + x + i % 7;
        __m256d v = masked ? _mm256_maskload_pd(p, mask) : _mm256_loadu_pd(p);
        a[(i - S) % 8] = i - S < 8 ? v : FJ4_ADD(a[(i - S) % 8], v);
    }
    __m256d r = FJ_TREE_COMBINE(FJ4_ADD, a);
    _Pragma("clang loop unroll(full)") for (int i = end; i < E; i++) {
        const double *p = rows[i / 7] + x + i % 7;
        r = FJ4_ADD(r, masked ? _mm256_maskload_pd(p, mask) : _mm256_loadu_pd(p));
    }
    return r;
}

FJ_AVX2 static inline __attribute__((always_inline)) __m256d fj4_cube7_sum(const double *const *rows, ptrdiff_t x, __m256i mask,
                                                                            const int masked) {
    __m256d low = FJ4_ADD(fj4_cube7_leaf(rows, x, 0, 80, mask, masked), fj4_cube7_leaf(rows, x, 80, 168, mask, masked));
    __m256d high = FJ4_ADD(fj4_cube7_leaf(rows, x, 168, 248, mask, masked), fj4_cube7_leaf(rows, x, 248, 343, mask, masked));
    return FJ4_ADD(_mm256_setzero_pd(), FJ4_ADD(low, high));
}

FJ_AVX2 __attribute__((noinline)) static void fj4_cube7_f64(const double *const *rows, ptrdiff_t count, double divisor, double *out) {
    const __m256d dv = _mm256_set1_pd(divisor);
    const __m256i all = _mm256_set1_epi64x(-1);
    ptrdiff_t x = 0;
    for (; x + 4 <= count; x += 4) fj4_store(out, NULL, x, fj4_cube7_sum(rows, x, all, 0), divisor, dv);
    if (x < count && count >= 4) {
        // The last pixels by a whole step ending at the last pixel (it rewrites a few with the same bits):
        // a masked step's 343 `vmaskmovpd` ended every 128-pixel row (interior 122) otherwise.
        fj4_store(out, NULL, count - 4, fj4_cube7_sum(rows, count - 4, all, 0), divisor, dv);
        x = count;
    }
    if (x < count) {
        const __m256i mask = fj_mask4(count - x);
        __m256d v = fj4_cube7_sum(rows, x, mask, 1);
        if (divisor != 0) v = _mm256_div_pd(v, dv);
        _mm256_maskstore_pd(out + x, mask, v);
    }
}

int filterjit_pairwise_rows_avx2(const void *const *rows, int f32, ptrdiff_t r, ptrdiff_t length, ptrdiff_t count,
                                 double divisor, void *out) {
    if (!filterjit_pairwise_avx2()) return 0;
    if (r == 49 && length == 7 && !f32) {
        fj4_cube7_f64((const double *const *)rows, count, divisor, (double *)out);
        return 1;
    }
    if (!((r == 9 && length == 3) || (r == 25 && length == 5))) return 0;
    if (f32) {
        if (length == 3) fj4_rect9x3_f32((const float *const *)rows, count, divisor, NULL, (float *)out);
        else fj4_rect25x5_f32((const float *const *)rows, count, divisor, NULL, (float *)out);
    } else {
        if (length == 3) fj4_rect9x3_f64((const double *const *)rows, count, divisor, (double *)out, NULL);
        else fj4_rect25x5_f64((const double *const *)rows, count, divisor, (double *)out, NULL);
    }
    return 1;
}

#else

int filterjit_pairwise_avx2(void) { return 0; }

void filterjit_pairwise_set_avx2(int enabled) { (void)enabled; }

void filterjit_pairwise_sum_f64_avx2(const double *const *t, ptrdiff_t n, ptrdiff_t count, double *out) {
    (void)t;
    (void)n;
    (void)count;
    (void)out;
}

int filterjit_pairwise_box_avx2(const double *const *rows, ptrdiff_t k, ptrdiff_t count, double *out, float *out32,
                                double divisor) {
    (void)rows;
    (void)k;
    (void)count;
    (void)out;
    (void)out32;
    (void)divisor;
    return 0;
}

int filterjit_pairwise_rows_avx2(const void *const *rows, int f32, ptrdiff_t r, ptrdiff_t length, ptrdiff_t count,
                                 double divisor, void *out) {
    (void)rows;
    (void)f32;
    (void)r;
    (void)length;
    (void)count;
    (void)divisor;
    (void)out;
    return 0;
}

#endif
