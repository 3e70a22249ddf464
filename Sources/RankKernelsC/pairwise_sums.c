// NumPy's pairwise float sum across pixels with AVX-512 vectors (see include/pairwise_sums.h).
// Sixteen pixels per step, two vectors of eight doubles: for windows of 8 to 128 taps the eight
// accumulators of each vector stay in registers (16 of the 32 zmm registers), every tap one load
// folded into one add per vector, read straight from the tap's row at the pixel's offset (no window
// buffer, no scratch rows). Longer windows split in halves as NumPy does, each half the same code.
// Every lane follows one pixel's exact sequence of additions (no reassociation: this file is
// compiled without fast-math, and the adds are explicit intrinsics), so the result is the bits of
// the scalar sum, NaN, inf and -0.0 included.

#include "pairwise_sums.h"
#include "pairwise_tree.h"
#include "rank_kernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define FJ_AVX512F __attribute__((target("avx512f")))

typedef struct {
    __m512d a, b;
} fj_pair;

#define FJ_LOAD_FULL(m, p) _mm512_loadu_pd(p)
#define FJ_LOAD_MASKED(m, p) _mm512_maskz_loadu_pd(m, p)
#define FJ_ADD _mm512_add_pd

// pairwise(t[0 ..< n]) of pixels x ..< x + 16 (lanes beyond the masks are zero and never stored).
#define FJ_PAIRWISE(NAME, LOAD) FJ_PAIRWISE_TREE(NAME, FJ_AVX512F, fj_pair, __m512d, __mmask8, FJ_ADD, _mm512_setzero_pd(), LOAD, 8)

FJ_PAIRWISE(fj_pairwise_full, FJ_LOAD_FULL)
FJ_PAIRWISE(fj_pairwise_masked, FJ_LOAD_MASKED)

FJ_AVX512F static void fj_pairwise_sum_f64_avx512(const double *const *t, ptrdiff_t n, ptrdiff_t count, double *out) {
    const __m512d zero = _mm512_setzero_pd();
    ptrdiff_t x = 0;
    for (; x + 16 <= count; x += 16) {
        fj_pair s = fj_pairwise_full(t, n, x, 0xFF, 0xFF);
        _mm512_storeu_pd(out + x, FJ_ADD(zero, s.a));
        _mm512_storeu_pd(out + x + 8, FJ_ADD(zero, s.b));
    }
    if (x < count) {
        ptrdiff_t left = count - x;
        __mmask8 ma = left >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << left) - 1);
        __mmask8 mb = left <= 8 ? (__mmask8)0 : (__mmask8)((1u << (left - 8)) - 1);
        fj_pair s = fj_pairwise_masked(t, n, x, ma, mb);
        _mm512_mask_storeu_pd(out + x, ma, FJ_ADD(zero, s.a));
        _mm512_mask_storeu_pd(out + x + 8, mb, FJ_ADD(zero, s.b));
    }
}

// Square boxes of k x k taps (k = 3 ... 15): tap r * k + c of pixel x is rows[r][x + c]. Per footprint row
// and step of 16 pixels, (k + 14) / 8 + 1 unaligned loads; every tap's two vectors are shifted out of them
// with valignq (an unaligned load per tap split cache lines: 1.4x slower at 9x9 on Zen 4). The loops
// over rows and columns are unrolled in full, so every tap's accumulator (tap index mod 8, within its
// half of the pairwise split beyond 128 taps) is a register known at compile time. Odd taps of the
// accumulator chains add by fma(tap, 1.0, acc), exactly tap + acc rounded once (the product is exact),
// which spreads the adds over the FMA pipes (11x11: 1.25x faster).
FJ_AVX512F static inline __m512d fj_shift(__m512d lo, __m512d hi, int s) {
    __m512i l = _mm512_castpd_si512(lo), h = _mm512_castpd_si512(hi);
    switch (s) {
    case 1: return _mm512_castsi512_pd(_mm512_alignr_epi64(h, l, 1));
    case 2: return _mm512_castsi512_pd(_mm512_alignr_epi64(h, l, 2));
    case 3: return _mm512_castsi512_pd(_mm512_alignr_epi64(h, l, 3));
    case 4: return _mm512_castsi512_pd(_mm512_alignr_epi64(h, l, 4));
    case 5: return _mm512_castsi512_pd(_mm512_alignr_epi64(h, l, 5));
    case 6: return _mm512_castsi512_pd(_mm512_alignr_epi64(h, l, 6));
    case 7: return _mm512_castsi512_pd(_mm512_alignr_epi64(h, l, 7));
    default: return lo;
    }
}

// Stores 8 sums at x: into out (doubles) or, when out32 is set, rounded to floats; divided first by
// `divisor` unless it is 0 (an IEEE division, as the compiled tail's `sum / taps`).
FJ_AVX512F static inline void fj_store(double *out, float *out32, ptrdiff_t x, __m512d v, double divisor, __m512d dv) {
    if (divisor != 0) v = _mm512_div_pd(v, dv);
    if (out32) _mm256_storeu_ps(out32 + x, _mm512_cvtpd_ps(v));
    else _mm512_storeu_pd(out + x, v);
}

// Taps [S, E) of the pairwise split: FJ_TREE_SEGMENT_TAP (pairwise_tree.h), odd-numbered taps of the
// accumulator chains by fma(tap, 1.0, acc) (`one` is in scope where it is used).
#define FJ_ODD_ADD(acc, v) _mm512_fmadd_pd(v, one, acc)
#define FJ_SEGMENT_TAP(S, E, a, b, ra, rb) FJ_TREE_SEGMENT_TAP(FJ_ADD, FJ_ODD_ADD, S, E, a, b, ra, rb)

#define FJ_BOX(K)                                                                                            \
    FJ_AVX512F static ptrdiff_t fj_box##K(const double *const *rows, ptrdiff_t count, double *out, float *out32, \
                                           double divisor) {                                               \
        enum { N = K * K, SPLIT = N > 128, H0 = N / 2, HALF = SPLIT ? H0 - H0 % 8 : N, NB = (K + 14) / 8 + 1, LAST = K + 15 - 8 * (NB - 1) }; \
        const __m512d zero = _mm512_setzero_pd(), dv = _mm512_set1_pd(divisor);                             \
        __m512d one = _mm512_set1_pd(1.0);                                                                  \
        __asm__("" : "+v"(one)); /* keeps fma(v, 1.0, acc) from being folded back into an add */          \
        ptrdiff_t x = 0;                                                                                    \
        for (; x + 16 <= count; x += 16) {                                                                  \
            __m512d a[8], b[8], c8[8], d8[8], ra = zero, rb = zero, sa = zero, sb = zero;                   \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < K; r++) {                               \
                const double *p = rows[r] + x;                                                              \
                __m512d A[NB];                                                                              \
                _Pragma("clang loop unroll(full)") for (int j = 0; j < NB - 1; j++) A[j] = _mm512_loadu_pd(p + 8 * j); \
                /* The last block only up to element K + 14 (no read past the row). */                    \
                A[NB - 1] = LAST == 8 ? _mm512_loadu_pd(p + 8 * (NB - 1))                                   \
                                      : _mm512_maskz_loadu_pd((__mmask8)((1u << LAST) - 1), p + 8 * (NB - 1)); \
                _Pragma("clang loop unroll(full)") for (int c = 0; c < K; c++) {                           \
                    const int i = r * K + c, bl = c / 8, s = c % 8;                                         \
                    __m512d v0 = fj_shift(A[bl], A[s ? bl + 1 : bl], s);                                    \
                    __m512d v1 = fj_shift(A[bl + 1], A[s ? bl + 2 : bl + 1], s);                            \
                    FJ_SEGMENT_TAP(0, HALF, a, b, ra, rb)                                                   \
                    FJ_SEGMENT_TAP(HALF, N, c8, d8, sa, sb)                                                 \
                }                                                                                           \
            }                                                                                               \
            if (SPLIT) {                                                                                    \
                ra = FJ_ADD(ra, sa);                                                                        \
                rb = FJ_ADD(rb, sb);                                                                        \
            }                                                                                               \
            fj_store(out, out32, x, FJ_ADD(zero, ra), divisor, dv);                                         \
            fj_store(out, out32, x + 8, FJ_ADD(zero, rb), divisor, dv);                                     \
        }                                                                                                   \
        return x;                                                                                           \
    }

FJ_BOX(3)
FJ_BOX(4)
FJ_BOX(5)
FJ_BOX(6)
FJ_BOX(7)
FJ_BOX(8)
FJ_BOX(9)
FJ_BOX(10)
FJ_BOX(11)
FJ_BOX(12)
FJ_BOX(13)
FJ_BOX(14)
FJ_BOX(15)

static const fj_tree_box_fn fj_boxes[13] = {fj_box3, fj_box4, fj_box5, fj_box6, fj_box7, fj_box8, fj_box9,
                                            fj_box10, fj_box11, fj_box12, fj_box13, fj_box14, fj_box15};

static int fj_box(const double *const *rows, ptrdiff_t k, ptrdiff_t count, double *out, float *out32, double divisor) {
    if (!filterjit_rank_kernels_avx512()) return filterjit_pairwise_box_avx2(rows, k, count, out, out32, divisor);
    if (k < 3 || k > 15) return 0;
    fj_tree_box_run(fj_boxes, fj_pairwise_sum_f64_avx512, rows, k, count, out, out32, divisor);
    return 1;
}

// Boxes of R footprint rows of L columns (3-D cubes: R = k * k rows of k columns, k = 3 and 5; up to 128 taps,
// where NumPy's tree has one level of eight accumulators), read in
// place: tap r * L + c of pixel x is rows[r][x + c], float64 or float32 rows (widened by vcvtps2pd as
// they are loaded). The same unrolled tree as the square boxes (FJ_SEGMENT_TAP: accumulator by tap
// index, the fma(tap, 1.0, acc) adds), the same bits. The last (up to 15) pixels of a call run the
// same step with masked loads of the elements they read and masked stores (a zero-padded copy of
// their rows, tried first, compiled to gathers and took most of the time), so no element beyond
// rows[r][count + L - 2] is read or written.
#define FJ_LOAD_ROW_F64(p) _mm512_loadu_pd(p)
#define FJ_LOAD_ROW_F64_MASKED(m, p) _mm512_maskz_loadu_pd(m, p)
#define FJ_LOAD_ROW_F32(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))
#define FJ_LOAD_ROW_F32_MASKED(m, p) _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_maskz_loadu_ps((__mmask16)(m), p)))

// One step of 16 pixels; block j of a row (8 elements from p + 8 j) loaded by LOADBLOCK(j, p).
#define FJ_RECT_STEP(FN, R, L, TYPE, LOADBLOCK, ...)                                                        \
    FJ_AVX512F static inline fj_pair FN(const TYPE *const *rows, ptrdiff_t x, __m512d one, __VA_ARGS__) {     \
        enum { N = R * L, SPLIT = N > 128, H0 = N / 2, HALF = SPLIT ? H0 - H0 % 8 : N, NB = (L + 14) / 8 + 1 }; \
        const __m512d zero = _mm512_setzero_pd();                                                           \
        __m512d a[8], b[8], c8[8], d8[8], ra = zero, rb = zero, sa = zero, sb = zero;                       \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < R; r++) {                                   \
            const TYPE *p = rows[r] + x;                                                                    \
            __m512d A[NB];                                                                                  \
            _Pragma("clang loop unroll(full)") for (int j = 0; j < NB; j++) A[j] = LOADBLOCK(j, p);        \
            _Pragma("clang loop unroll(full)") for (int c = 0; c < L; c++) {                               \
                const int i = r * L + c, bl = c / 8, s = c % 8;                                             \
                __m512d v0 = fj_shift(A[bl], A[s ? bl + 1 : bl], s);                                        \
                __m512d v1 = fj_shift(A[bl + 1], A[s ? bl + 2 : bl + 1], s);                                \
                FJ_SEGMENT_TAP(0, HALF, a, b, ra, rb)                                                       \
                FJ_SEGMENT_TAP(HALF, N, c8, d8, sa, sb)                                                     \
            }                                                                                               \
        }                                                                                                   \
        if (SPLIT) {                                                                                        \
            ra = FJ_ADD(ra, sa);                                                                            \
            rb = FJ_ADD(rb, sb);                                                                            \
        }                                                                                                   \
        fj_pair s;                                                                                          \
        s.a = FJ_ADD(zero, ra);                                                                             \
        s.b = FJ_ADD(zero, rb);                                                                             \
        return s;                                                                                           \
    }

// Full steps: every block loaded whole but the last, up to element L + 14 (no read past the row).
#define FJ_RECT_FULL_BLOCK(LOADF, LOADM, L, j, p)                                                           \
    ((j) < (L + 14) / 8 ? LOADF((p) + 8 * (j))                                                              \
                        : (L + 15 - 8 * ((L + 14) / 8) == 8 ? LOADF((p) + 8 * (j))                          \
                                                            : LOADM((__mmask8)((1u << (L + 15 - 8 * ((L + 14) / 8))) - 1), (p) + 8 * (j))))

#define FJ_RECT(NAME, R, L, TYPE, LOADF, LOADM)                                                              \
    FJ_RECT_STEP(NAME##_step, R, L, TYPE, FULL_BLOCK_##NAME, int unused)                                   \
    FJ_RECT_STEP(NAME##_tail, R, L, TYPE, TAIL_BLOCK_##NAME, const __mmask8 *masks)                        \
    FJ_AVX512F static void NAME(const TYPE *const *rows, ptrdiff_t count, double divisor, double *out, float *out32) { \
        __m512d one = _mm512_set1_pd(1.0);                                                                  \
        __asm__("" : "+v"(one)); /* keeps fma(v, 1.0, acc) from being folded back into an add */          \
        const __m512d dv = _mm512_set1_pd(divisor);                                                         \
        ptrdiff_t x = 0;                                                                                    \
        for (; x + 16 <= count; x += 16) {                                                                  \
            fj_pair s = NAME##_step(rows, x, one, 0);                                                       \
            fj_store(out, out32, x, s.a, divisor, dv);                                                      \
            fj_store(out, out32, x + 8, s.b, divisor, dv);                                                  \
        }                                                                                                   \
        if (x < count) {                                                                                    \
            /* The last pixels: masked loads of the elements they read, masked stores. */                 \
            enum { NB = (L + 14) / 8 + 1 };                                                                 \
            __mmask8 masks[NB];                                                                             \
            ptrdiff_t left = count - x, used = left + L - 1;                                                \
            for (int j = 0; j < NB; j++) {                                                                  \
                ptrdiff_t e = used - 8 * j;                                                                 \
                masks[j] = e >= 8 ? (__mmask8)0xFF : e <= 0 ? (__mmask8)0 : (__mmask8)((1u << e) - 1);      \
            }                                                                                               \
            fj_pair s = NAME##_tail(rows, x, one, masks);                                                   \
            __mmask8 ma = left >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << left) - 1);                        \
            __mmask8 mb = left <= 8 ? (__mmask8)0 : (__mmask8)((1u << (left - 8)) - 1);                     \
            __m512d va = s.a, vb = s.b;                                                                     \
            if (divisor != 0) {                                                                             \
                va = _mm512_div_pd(va, dv);                                                                 \
                vb = _mm512_div_pd(vb, dv);                                                                 \
            }                                                                                               \
            if (out32) {                                                                                    \
                _mm512_mask_storeu_ps(out32 + x, (__mmask16)ma, _mm512_castps256_ps512(_mm512_cvtpd_ps(va))); \
                _mm512_mask_storeu_ps(out32 + x + 8, (__mmask16)mb, _mm512_castps256_ps512(_mm512_cvtpd_ps(vb))); \
            } else {                                                                                        \
                _mm512_mask_storeu_pd(out + x, ma, va);                                                     \
                _mm512_mask_storeu_pd(out + x + 8, mb, vb);                                                 \
            }                                                                                               \
        }                                                                                                   \
    }

#define FULL_BLOCK_fj_rect9x3_f64(j, p) FJ_RECT_FULL_BLOCK(FJ_LOAD_ROW_F64, FJ_LOAD_ROW_F64_MASKED, 3, j, p)
#define TAIL_BLOCK_fj_rect9x3_f64(j, p) FJ_LOAD_ROW_F64_MASKED(masks[j], (p) + 8 * (j))
#define FULL_BLOCK_fj_rect25x5_f64(j, p) FJ_RECT_FULL_BLOCK(FJ_LOAD_ROW_F64, FJ_LOAD_ROW_F64_MASKED, 5, j, p)
#define TAIL_BLOCK_fj_rect25x5_f64(j, p) FJ_LOAD_ROW_F64_MASKED(masks[j], (p) + 8 * (j))
#define FULL_BLOCK_fj_rect9x3_f32(j, p) FJ_RECT_FULL_BLOCK(FJ_LOAD_ROW_F32, FJ_LOAD_ROW_F32_MASKED, 3, j, p)
#define TAIL_BLOCK_fj_rect9x3_f32(j, p) FJ_LOAD_ROW_F32_MASKED(masks[j], (p) + 8 * (j))
#define FULL_BLOCK_fj_rect25x5_f32(j, p) FJ_RECT_FULL_BLOCK(FJ_LOAD_ROW_F32, FJ_LOAD_ROW_F32_MASKED, 5, j, p)
#define TAIL_BLOCK_fj_rect25x5_f32(j, p) FJ_LOAD_ROW_F32_MASKED(masks[j], (p) + 8 * (j))

FJ_RECT(fj_rect9x3_f64, 9, 3, double, FJ_LOAD_ROW_F64, FJ_LOAD_ROW_F64_MASKED)
FJ_RECT(fj_rect25x5_f64, 25, 5, double, FJ_LOAD_ROW_F64, FJ_LOAD_ROW_F64_MASKED)
FJ_RECT(fj_rect9x3_f32, 9, 3, float, FJ_LOAD_ROW_F32, FJ_LOAD_ROW_F32_MASKED)
FJ_RECT(fj_rect25x5_f32, 25, 5, float, FJ_LOAD_ROW_F32, FJ_LOAD_ROW_F32_MASKED)

static uint64_t fj_rows_runs = 0;
uint64_t filterjit_pairwise_rows_runs(void) { return __atomic_load_n(&fj_rows_runs, __ATOMIC_RELAXED); }

int filterjit_pairwise_rows_supported(ptrdiff_t rows, ptrdiff_t length, int f32) {
    // (The 7x7x7 cube has an AVX2 kernel only, float64 rows only, measured only on a CPU without AVX-512;
    // AVX-512 CPUs keep their general kernel, 16 pixels per step, for it.)
    if (rows == 49 && length == 7) return !f32 && !filterjit_rank_kernels_avx512() && filterjit_pairwise_avx2();
    if (!filterjit_rank_kernels_avx512() && !filterjit_pairwise_avx2()) return 0;
    return (rows == 9 && length == 3) || (rows == 25 && length == 5);
}

int filterjit_pairwise_rows_store_f64(const double *const *rows, ptrdiff_t r, ptrdiff_t length, ptrdiff_t count,
                                      double divisor, double *out) {
    if (!filterjit_pairwise_rows_supported(r, length, 0)) return 0;
    if (count <= 0) return 1;
    if (!filterjit_rank_kernels_avx512()) {
        int ran = filterjit_pairwise_rows_avx2((const void *const *)rows, 0, r, length, count, divisor, out);
        if (ran) __atomic_fetch_add(&fj_rows_runs, 1, __ATOMIC_RELAXED);
        return ran;
    }
    __atomic_fetch_add(&fj_rows_runs, 1, __ATOMIC_RELAXED);
    switch (length) {
    case 3: fj_rect9x3_f64(rows, count, divisor, out, NULL); break;
    default: fj_rect25x5_f64(rows, count, divisor, out, NULL); break;
    }
    return 1;
}

int filterjit_pairwise_rows_store_f32(const float *const *rows, ptrdiff_t r, ptrdiff_t length, ptrdiff_t count,
                                      double divisor, float *out) {
    if (!filterjit_pairwise_rows_supported(r, length, 1)) return 0;
    if (count <= 0) return 1;
    if (!filterjit_rank_kernels_avx512()) {
        int ran = filterjit_pairwise_rows_avx2((const void *const *)rows, 1, r, length, count, divisor, out);
        if (ran) __atomic_fetch_add(&fj_rows_runs, 1, __ATOMIC_RELAXED);
        return ran;
    }
    __atomic_fetch_add(&fj_rows_runs, 1, __ATOMIC_RELAXED);
    switch (length) {
    case 3: fj_rect9x3_f32(rows, count, divisor, NULL, out); break;
    default: fj_rect25x5_f32(rows, count, divisor, NULL, out); break;
    }
    return 1;
}

int filterjit_pairwise_box_sum_f64(const double *const *rows, ptrdiff_t k, ptrdiff_t count, double *out) {
    return fj_box(rows, k, count, out, NULL, 0);
}

int filterjit_pairwise_box_store(const double *const *rows, ptrdiff_t k, ptrdiff_t count, double divisor,
                                 double *out, float *out32) {
    return fj_box(rows, k, count, out, out32, divisor);
}

int filterjit_pairwise_sum_f64(const double *const *taps, ptrdiff_t n, ptrdiff_t count, double *out) {
    if (n < 1) return 0;
    if (filterjit_rank_kernels_avx512()) {
        if (count > 0) fj_pairwise_sum_f64_avx512(taps, n, count, out);
        return 1;
    }
    if (filterjit_pairwise_avx2()) {
        if (count > 0) filterjit_pairwise_sum_f64_avx2(taps, n, count, out);
        return 1;
    }
    return 0;
}

int filterjit_pairwise_sum_vectorised(void) { return filterjit_rank_kernels_avx512() || filterjit_pairwise_avx2(); }

#else

uint64_t filterjit_pairwise_rows_runs(void) { return 0; }

int filterjit_pairwise_rows_supported(ptrdiff_t rows, ptrdiff_t length, int f32) {
    (void)rows;
    (void)length;
    (void)f32;
    return 0;
}

int filterjit_pairwise_rows_store_f64(const double *const *rows, ptrdiff_t r, ptrdiff_t length, ptrdiff_t count,
                                      double divisor, double *out) {
    (void)rows;
    (void)r;
    (void)length;
    (void)count;
    (void)divisor;
    (void)out;
    return 0;
}

int filterjit_pairwise_rows_store_f32(const float *const *rows, ptrdiff_t r, ptrdiff_t length, ptrdiff_t count,
                                      double divisor, float *out) {
    (void)rows;
    (void)r;
    (void)length;
    (void)count;
    (void)divisor;
    (void)out;
    return 0;
}

int filterjit_pairwise_box_store(const double *const *rows, ptrdiff_t k, ptrdiff_t count, double divisor,
                                 double *out, float *out32) {
    (void)rows;
    (void)k;
    (void)count;
    (void)divisor;
    (void)out;
    (void)out32;
    return 0;
}

int filterjit_pairwise_box_sum_f64(const double *const *rows, ptrdiff_t k, ptrdiff_t count, double *out) {
    (void)rows;
    (void)k;
    (void)count;
    (void)out;
    return 0;
}

int filterjit_pairwise_sum_f64(const double *const *taps, ptrdiff_t n, ptrdiff_t count, double *out) {
    (void)taps;
    (void)n;
    (void)count;
    (void)out;
    return 0;
}

int filterjit_pairwise_sum_vectorised(void) { return 0; }

#endif
