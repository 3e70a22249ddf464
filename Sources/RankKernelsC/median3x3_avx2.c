// 3x3 medians with AVX2 vectors, for CPUs without AVX-512 (the row kernels behind
// `filterjit_median3x3_{u8,i8,f32,f64}_rows` in rank_kernels.c, same contract: see include/rank_kernels.h).
// Paeth's method as the AVX-512 kernels: each of the window's three columns sorted (lo <= mid <= hi), then
// med3(max of the lows, med3 of the mids, min of the highs). AVX2 has no cheap shift across its two
// 128-bit halves, so the sorted columns go through three scratch rows in L1 and are read back at offsets
// 0, 1 and 2 (unaligned loads are cheap on the AMD Zen cores that lack AVX-512). A row's last vector is
// moved back to end at the row's end (it recomputes a few outputs with the same values); rows shorter
// than a vector take the same formula one pixel at a time. Float rows are checked for NaN and -0.0 as
// they are read (min/max only move elements, which is exact for totally ordered data): a row that reads
// one returns -1 (earlier rows are written; this one may be in part). A failed scratch allocation
// returns 0 (nothing computed: the caller's portable path runs).

#include "rank_kernels.h"
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define FJ_AVX2 __attribute__((target("avx2")))

#define FJ_MED3(MIN, MAX, a, b, c) MAX(MIN(a, b), MIN(MAX(a, b), c))

// The scalar formula for one pixel (windows of rows r0, r1, r2 at columns x, x + 1, x + 2).
#define FJ_SCALAR_MIN(a, b) ((b) < (a) ? (b) : (a))
#define FJ_SCALAR_MAX(a, b) ((a) < (b) ? (b) : (a))

// NAME: the kernel; T the element; V the vector; LANES per vector; LOAD/STORE unaligned; MIN/MAX; HAZARDS(v)
// a vector whose lanes are nonzero where v holds NaN or -0.0 (or zero for integers); ANY(h) whether any is;
// SCALAR_HAZARD(x) the same for one element. Per output row two passes: the columns of its three input
// rows sorted into three scratch rows (lo, mid, hi: 6 min/max per vector, every element read checked),
// then per output vector the scratch rows at offsets 0, 1 and 2 (9 loads, 12 min/max). Sorting each
// column again at every offset from the input (no scratch) took 30 min/max per vector: uint8 2048x2048
// 0.86 ms against 0.7 for cv2.medianBlur on Zen 3.
#define FJ_MEDIAN3X3_AVX2(NAME, T, V, LANES, LOAD, STORE, MIN, MAX, OR, ZERO, HAZARDS, ANY, SCALAR_HAZARD)        \
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
        /* Scratch rows 24 elements past a multiple of 64 apart: at n + 2 elements apart (8200 bytes for      \
           2048 float32, 8 past 8192) the loads of one waited on stores into another at nearly the same      \
           address modulo 4096 (Zen 3, C loop over 256x2048 in cache: uint8 0.081-0.095 -> 0.063 ms, float32  \
           0.33-0.45 -> 0.30). */                                                                             \
        const ptrdiff_t columns = n + 2, stride = (columns + 63) / 64 * 64 + 24;                                \
        T *scratch = (T *)malloc(3 * (size_t)stride * sizeof(T));                                               \
        if (!scratch) return 0;                                                                                 \
        T *los = scratch, *mids = scratch + stride, *his = scratch + 2 * stride;                                \
        int status = 1;                                                                                         \
        for (ptrdiff_t y = 0; y < count && status == 1; y++) {                                                  \
            const T *r0 = rows[3 * y] + start, *r1 = rows[3 * y + 1] + start, *r2 = rows[3 * y + 2] + start;    \
            T *out = outs[y];                                                                                   \
            V hazard = ZERO;                                                                                    \
            /* Windows sliding down one row (the previous window's last two rows are this one's first two): */ \
            /* only the entering row is checked, the others were in the previous window. */                   \
            const int slides = y > 0 && rows[3 * y] == rows[3 * y - 2] && rows[3 * y + 1] == rows[3 * y - 1];  \
            for (ptrdiff_t x = 0;; x += LANES) {                                                                \
                if (x > columns - LANES) x = columns - LANES; /* the last vector ends at the row's end */      \
                V a = LOAD(r0 + x), b = LOAD(r1 + x), d = LOAD(r2 + x);                                         \
                if (slides) hazard = OR(hazard, HAZARDS(d));                                                    \
                else hazard = OR(hazard, OR(HAZARDS(a), OR(HAZARDS(b), HAZARDS(d))));                           \
                V mn = MIN(a, b), mx = MAX(a, b);                                                               \
                STORE(los + x, MIN(mn, d));                                                                     \
                STORE(his + x, MAX(mx, d));                                                                     \
                STORE(mids + x, MAX(mn, MIN(mx, d)));                                                           \
                if (x == columns - LANES) break;                                                                \
            }                                                                                                   \
            if (ANY(hazard)) {                                                                                  \
                status = -1;                                                                                    \
                break;                                                                                          \
            }                                                                                                   \
            for (ptrdiff_t x = 0;; x += LANES) {                                                                \
                if (x > n - LANES) x = n - LANES;                                                               \
                V l = MAX(MAX(LOAD(los + x), LOAD(los + x + 1)), LOAD(los + x + 2));                            \
                V h = MIN(MIN(LOAD(his + x), LOAD(his + x + 1)), LOAD(his + x + 2));                            \
                V m = FJ_MED3(MIN, MAX, LOAD(mids + x), LOAD(mids + x + 1), LOAD(mids + x + 2));                \
                STORE(out + x, FJ_MED3(MIN, MAX, l, m, h));                                                     \
                if (x == n - LANES) break;                                                                      \
            }                                                                                                   \
        }                                                                                                       \
        free(scratch);                                                                                          \
        return status;                                                                                          \
    }

#define FJ_LOAD_I(p) _mm256_loadu_si256((const __m256i *)(p))
#define FJ_STORE_I(p, v) _mm256_storeu_si256((__m256i *)(p), v)
#define FJ_NO_HAZARDS(v) _mm256_setzero_si256()
#define FJ_NONE_ANY(h) 0
#define FJ_NO_SCALAR_HAZARD(x) 0

FJ_MEDIAN3X3_AVX2(filterjit_median3x3_u8_rows_avx2, uint8_t, __m256i, 32, FJ_LOAD_I, FJ_STORE_I, _mm256_min_epu8,
                  _mm256_max_epu8, _mm256_or_si256, _mm256_setzero_si256(), FJ_NO_HAZARDS, FJ_NONE_ANY, FJ_NO_SCALAR_HAZARD)
FJ_MEDIAN3X3_AVX2(filterjit_median3x3_i8_rows_avx2, int8_t, __m256i, 32, FJ_LOAD_I, FJ_STORE_I, _mm256_min_epi8,
                  _mm256_max_epi8, _mm256_or_si256, _mm256_setzero_si256(), FJ_NO_HAZARDS, FJ_NONE_ANY, FJ_NO_SCALAR_HAZARD)

// NaN (unordered with itself) or -0.0 (the sign bit alone), lane by lane.
#define FJ_HAZARDS_PS(v) _mm256_or_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), \
    _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_castps_si256(v), _mm256_set1_epi32((int)0x80000000u))))
#define FJ_HAZARDS_PD(v) _mm256_or_pd(_mm256_cmp_pd(v, v, _CMP_UNORD_Q), \
    _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_castpd_si256(v), _mm256_set1_epi64x((long long)0x8000000000000000ull))))
#define FJ_ANY_PS(h) (_mm256_movemask_ps(h) != 0)
#define FJ_ANY_PD(h) (_mm256_movemask_pd(h) != 0)
#define FJ_SCALAR_HAZARD_F(x) ((x) != (x) || ((x) == 0 && __builtin_signbit(x)))

FJ_MEDIAN3X3_AVX2(filterjit_median3x3_f32_rows_avx2, float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_min_ps,
                  _mm256_max_ps, _mm256_or_ps, _mm256_setzero_ps(), FJ_HAZARDS_PS, FJ_ANY_PS, FJ_SCALAR_HAZARD_F)
FJ_MEDIAN3X3_AVX2(filterjit_median3x3_f64_rows_avx2, double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_min_pd,
                  _mm256_max_pd, _mm256_or_pd, _mm256_setzero_pd(), FJ_HAZARDS_PD, FJ_ANY_PD, FJ_SCALAR_HAZARD_F)

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
