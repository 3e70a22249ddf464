// 3x3 medians with AVX2 vectors, for CPUs without AVX-512 (the row kernels behind
// `filterjit_median3x3_{u8,i8,f32,f64}_rows` in rank_kernels.c, same contract: see include/rank_kernels.h).
// Paeth's method as the AVX-512 kernels: each of the window's three columns sorted (lo <= mid <= hi), then
// med3(max of the lows, med3 of the mids, min of the highs). The sorted columns stay in registers: the
// window's second and third columns are the current sorted vector and the next one's spliced by a
// vperm2i128 + vpalignr pair (AVX2 has no one-instruction shift across its two 128-bit halves). A row's
// last vector is moved back to end at the row's end and loads its columns at each offset (it recomputes
// a few outputs with the same values); rows shorter than a vector take the same formula one pixel at a
// time. Float rows are checked for NaN and -0.0 as they are read (min/max only move elements, which is
// exact for totally ordered data): a row that reads one returns -1 (earlier rows are written; this one
// may be in part).

#include "rank_kernels.h"
#include <stdint.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "f32_hazards_avx2.h"

#define FJ_AVX2 __attribute__((target("avx2")))

#define FJ_MED3(MIN, MAX, a, b, c) MAX(MIN(a, b), MIN(MAX(a, b), c))

// The scalar formula for one pixel (windows of rows r0, r1, r2 at columns x, x + 1, x + 2).
#define FJ_SCALAR_MIN(a, b) ((b) < (a) ? (b) : (a))
#define FJ_SCALAR_MAX(a, b) ((a) < (b) ? (b) : (a))

// The vector formula at column x of rows r0, r1, r2 from loads at x, x + 1 and x + 2 (30 min/max): the last
// vector of a row, whose next columns are past the row's end.
#define FJ_MEDIAN3X3_AT(V, LOAD, MIN, MAX, r0, r1, r2, x, result)                                                \
    {                                                                                                           \
        V lo_[3], mid_[3], hi_[3];                                                                              \
        for (int c_ = 0; c_ < 3; c_++) {                                                                        \
            V a_ = LOAD(r0 + x + c_), b_ = LOAD(r1 + x + c_), d_ = LOAD(r2 + x + c_);                           \
            V mn_ = MIN(a_, b_), mx_ = MAX(a_, b_);                                                             \
            lo_[c_] = MIN(mn_, d_);                                                                             \
            hi_[c_] = MAX(mx_, d_);                                                                             \
            mid_[c_] = MAX(mn_, MIN(mx_, d_));                                                                  \
        }                                                                                                       \
        V l_ = MAX(MAX(lo_[0], lo_[1]), lo_[2]), h_ = MIN(MIN(hi_[0], hi_[1]), hi_[2]);                        \
        result = FJ_MED3(MIN, MAX, l_, FJ_MED3(MIN, MAX, mid_[0], mid_[1], mid_[2]), h_);                       \
    }

// NAME: the kernel; T the element; V the vector; LANES per vector; LOAD/STORE unaligned; MIN/MAX; HZ_STATE(h)
// declares h, an account of the vectors read, HZ_ADD(h, v) adds v to it and HZ_FOUND(h) says whether any
// held NaN or -0.0 (never for integers); SCALAR_HAZARD(x) the same for one element; SHIFT1/SHIFT2(c, n)
// the vector one / two elements further along a row whose vector at x is c and at x + LANES is n. Per output vector the columns of the next vector's
// three input rows are sorted (lo, mid, hi: 6 min/max, every element read checked) and the window's three
// columns are the current sorted vectors shifted by 0, 1 and 2 elements in registers (per sorted vector a
// lane-crossing vperm2 and two vpalignr), then 12 min/max. The entering row is prefetched 512 bytes
// ahead (with the caches swept before each call, uint8 2048x2048 0.53-0.56 -> 0.48-0.53 ms; no change
// with hot caches). Measured on Zen 3 (C loop over uint8 2048x2048, batches of 96 rows, best of 40):
// the earlier kernel went through scratch rows in L1 (sorted columns stored, read back at offsets 0, 1
// and 2): 0.58 ms hot / 0.72-0.82 cold against 0.43 / 0.53-0.59 in registers; two output rows sharing
// the sort of their common rows: 0.39 hot but 0.73 cold (four input and two output streams); sorting
// each column again at every offset from the input (30 min/max per vector): 0.86 ms.
#define FJ_MEDIAN3X3_AVX2(NAME, T, V, LANES, LOAD, STORE, MIN, MAX, HZ_STATE, HZ_ADD, HZ_FOUND, SCALAR_HAZARD,  \
                          SHIFT1, SHIFT2)                                                                       \
    FJ_AVX2 int NAME(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n) {       \
        if (n < LANES) {                                                                                        \
            for (ptrdiff_t y = 0; y < count; y++) {                                                             \
                const T *r0 = rows[3 * y] + start, *r1 = rows[3 * y + 1] + start, *r2 = rows[3 * y + 2] + start; \
                T *out = outs[y];                                                                               \
                for (ptrdiff_t x = 0; x < n; x++) {                                                             \
                    T lo[3], mid[3], hi[3];                                                                     \
                    for (int c = 0; c < 3; c++) {                                                               \
                        T a = r0[x + c], b = r1[x + c], d = r2[x + c];                                          \
                        if (SCALAR_HAZARD(a) || SCALAR_HAZARD(b) || SCALAR_HAZARD(d)) return -1;                \
                        T mn = FJ_SCALAR_MIN(a, b), mx = FJ_SCALAR_MAX(a, b);                                   \
                        lo[c] = FJ_SCALAR_MIN(mn, d);                                                           \
                        hi[c] = FJ_SCALAR_MAX(mx, d);                                                           \
                        mid[c] = FJ_SCALAR_MAX(mn, FJ_SCALAR_MIN(mx, d));                                       \
                    }                                                                                           \
                    T l = FJ_SCALAR_MAX(FJ_SCALAR_MAX(lo[0], lo[1]), lo[2]);                                    \
                    T h = FJ_SCALAR_MIN(FJ_SCALAR_MIN(hi[0], hi[1]), hi[2]);                                    \
                    T m = FJ_MED3(FJ_SCALAR_MIN, FJ_SCALAR_MAX, mid[0], mid[1], mid[2]);                        \
                    out[x] = FJ_MED3(FJ_SCALAR_MIN, FJ_SCALAR_MAX, l, m, h);                                    \
                }                                                                                               \
            }                                                                                                   \
            return 1;                                                                                           \
        }                                                                                                       \
        for (ptrdiff_t y = 0; y < count; y++) {                                                                 \
            const T *r0 = rows[3 * y] + start, *r1 = rows[3 * y + 1] + start, *r2 = rows[3 * y + 2] + start;    \
            T *out = outs[y];                                                                                   \
            HZ_STATE(hazard);                                                                                   \
            /* Windows sliding down one row (the previous window's last two rows are this one's first two): */ \
            /* only the entering row is checked, the others were in the previous window. */                   \
            const int slides = y > 0 && rows[3 * y] == rows[3 * y - 2] && rows[3 * y + 1] == rows[3 * y - 1];  \
            ptrdiff_t x = 0;                                                                                    \
            V lo, mid, hi;                                                                                      \
            {                                                                                                   \
                V a = LOAD(r0), b = LOAD(r1), d = LOAD(r2);                                                     \
                HZ_ADD(hazard, d);                                                                              \
                if (!slides) { HZ_ADD(hazard, a); HZ_ADD(hazard, b); }                                          \
                V mn = MIN(a, b), mx = MAX(a, b);                                                               \
                lo = MIN(mn, d), hi = MAX(mx, d), mid = MAX(mn, MIN(mx, d));                                    \
            }                                                                                                   \
            /* While the next vector's columns are in the row (n + 2 columns). */                              \
            for (; x + 2 * LANES <= n + 2; x += LANES) {                                                        \
                V a = LOAD(r0 + x + LANES), b = LOAD(r1 + x + LANES), d = LOAD(r2 + x + LANES);                 \
                _mm_prefetch((const char *)(r2 + x) + 512, _MM_HINT_T0);                                        \
                HZ_ADD(hazard, d);                                                                              \
                if (!slides) { HZ_ADD(hazard, a); HZ_ADD(hazard, b); }                                          \
                V mn = MIN(a, b), mx = MAX(a, b);                                                               \
                V next_lo = MIN(mn, d), next_hi = MAX(mx, d), next_mid = MAX(mn, MIN(mx, d));                   \
                V l = MAX(MAX(lo, SHIFT1(lo, next_lo)), SHIFT2(lo, next_lo));                                   \
                V h = MIN(MIN(hi, SHIFT1(hi, next_hi)), SHIFT2(hi, next_hi));                                   \
                V m = FJ_MED3(MIN, MAX, mid, SHIFT1(mid, next_mid), SHIFT2(mid, next_mid));                     \
                STORE(out + x, FJ_MED3(MIN, MAX, l, m, h));                                                     \
                lo = next_lo, mid = next_mid, hi = next_hi;                                                     \
            }                                                                                                   \
            /* The rest from loads at each offset; the last vector moved back to end at the row's end (it */   \
            /* recomputes a few outputs with the same values). Every column from x on is read and checked. */  \
            for (;;) {                                                                                          \
                if (x > n - LANES) x = n - LANES;                                                               \
                for (int c = 0; c < 3; c++) {                                                                   \
                    HZ_ADD(hazard, LOAD(r2 + x + c));                                                           \
                    if (!slides) { HZ_ADD(hazard, LOAD(r0 + x + c)); HZ_ADD(hazard, LOAD(r1 + x + c)); }        \
                }                                                                                               \
                V result;                                                                                       \
                FJ_MEDIAN3X3_AT(V, LOAD, MIN, MAX, r0, r1, r2, x, result)                                       \
                STORE(out + x, result);                                                                         \
                if (x == n - LANES) break;                                                                      \
                x += LANES;                                                                                     \
            }                                                                                                   \
            if (HZ_FOUND(hazard)) return -1;                                                                    \
        }                                                                                                       \
        return 1;                                                                                               \
    }

#define FJ_LOAD_I(p) _mm256_loadu_si256((const __m256i *)(p))
#define FJ_STORE_I(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define FJ_HZ_NONE_STATE(h) (void)0
#define FJ_HZ_NONE_ADD(h, v) (void)0
#define FJ_HZ_NONE_FOUND(h) 0
#define FJ_NO_SCALAR_HAZARD(x) 0
// The 32 bytes K bytes along from the start of c in the 64 bytes c, n (vperm2i128 brings c's high and n's
// low half together, vpalignr shifts within each 128-bit lane).
#define FJ_ALONG_I(c, n, K) _mm256_alignr_epi8(_mm256_permute2x128_si256(c, n, 0x21), c, K)
#define FJ_SHIFT1_8(c, n) FJ_ALONG_I(c, n, 1)
#define FJ_SHIFT2_8(c, n) FJ_ALONG_I(c, n, 2)

FJ_MEDIAN3X3_AVX2(filterjit_median3x3_u8_rows_avx2, uint8_t, __m256i, 32, FJ_LOAD_I, FJ_STORE_I, _mm256_min_epu8,
                  _mm256_max_epu8, FJ_HZ_NONE_STATE, FJ_HZ_NONE_ADD, FJ_HZ_NONE_FOUND, FJ_NO_SCALAR_HAZARD,
                  FJ_SHIFT1_8, FJ_SHIFT2_8)
FJ_MEDIAN3X3_AVX2(filterjit_median3x3_i8_rows_avx2, int8_t, __m256i, 32, FJ_LOAD_I, FJ_STORE_I, _mm256_min_epi8,
                  _mm256_max_epi8, FJ_HZ_NONE_STATE, FJ_HZ_NONE_ADD, FJ_HZ_NONE_FOUND, FJ_NO_SCALAR_HAZARD,
                  FJ_SHIFT1_8, FJ_SHIFT2_8)

// float32: the running magnitude maximum and pattern minimum of f32_hazards_avx2.h.
#define FJ_HZ_PS_STATE(h) fj_f32_seen h = fj_f32_seen_none()
#define FJ_HZ_PS_ADD(h, v) fj_f32_seen_add(&h, _mm256_castps_si256(v))
#define FJ_HZ_PS_FOUND(h) fj_f32_seen_any(h)
// float64 (AVX2 has no 64-bit integer max): lanes that are NaN (unordered with themselves) or -0.0 (the sign
// bit alone) or-ed together.
#define FJ_HZ_PD_STATE(h) __m256d h = _mm256_setzero_pd()
#define FJ_HZ_PD_ADD(h, v)                                                                                   \
    h = _mm256_or_pd(h, _mm256_or_pd(_mm256_cmp_pd(v, v, _CMP_UNORD_Q),                                     \
        _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_castpd_si256(v), _mm256_set1_epi64x((long long)0x8000000000000000ull)))))
#define FJ_HZ_PD_FOUND(h) (_mm256_movemask_pd(h) != 0)
#define FJ_SCALAR_HAZARD_F(x) ((x) != (x) || ((x) == 0 && __builtin_signbit(x)))
#define FJ_SHIFT1_PS(c, n) _mm256_castsi256_ps(FJ_ALONG_I(_mm256_castps_si256(c), _mm256_castps_si256(n), 4))
#define FJ_SHIFT2_PS(c, n) _mm256_castsi256_ps(FJ_ALONG_I(_mm256_castps_si256(c), _mm256_castps_si256(n), 8))
#define FJ_SHIFT1_PD(c, n) _mm256_castsi256_pd(FJ_ALONG_I(_mm256_castpd_si256(c), _mm256_castpd_si256(n), 8))
#define FJ_SHIFT2_PD(c, n) _mm256_permute2f128_pd(c, n, 0x21)

FJ_MEDIAN3X3_AVX2(filterjit_median3x3_f32_rows_avx2, float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_min_ps,
                  _mm256_max_ps, FJ_HZ_PS_STATE, FJ_HZ_PS_ADD, FJ_HZ_PS_FOUND, FJ_SCALAR_HAZARD_F,
                  FJ_SHIFT1_PS, FJ_SHIFT2_PS)
FJ_MEDIAN3X3_AVX2(filterjit_median3x3_f64_rows_avx2, double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_min_pd,
                  _mm256_max_pd, FJ_HZ_PD_STATE, FJ_HZ_PD_ADD, FJ_HZ_PD_FOUND, FJ_SCALAR_HAZARD_F,
                  FJ_SHIFT1_PD, FJ_SHIFT2_PD)

#else

#define FJ_MEDIAN3X3_AVX2_NONE(NAME, T)                                                                     \
    int NAME(const T *const *rows, T *const *outs, ptrdiff_t count, ptrdiff_t start, ptrdiff_t n) {       \
        (void)rows; (void)outs; (void)count; (void)start; (void)n;                                        \
        return 0;                                                                                           \
    }
FJ_MEDIAN3X3_AVX2_NONE(filterjit_median3x3_u8_rows_avx2, uint8_t)
FJ_MEDIAN3X3_AVX2_NONE(filterjit_median3x3_i8_rows_avx2, int8_t)
FJ_MEDIAN3X3_AVX2_NONE(filterjit_median3x3_f32_rows_avx2, float)
FJ_MEDIAN3X3_AVX2_NONE(filterjit_median3x3_f64_rows_avx2, double)

#endif
