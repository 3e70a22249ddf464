// The van Herk / Gil-Werman plan of the fast-math box sums' horizontal pass (`FastBoxSumHorizontal.vanHerk`
// in NDImage/FastBoxSums.swift, `fastBoxSumVanHerk`), included by fast_box_sums.c and fast_box_sums_avx2.c
// (written in AVX vectors, which both targets have). The includer defines FJ_FBS_TARGET first and has
// included fast_box_sums_scalar.h.
//
// The row's window starts go in blocks of L (the window's length) from the first: the window at B + t
// (B a multiple of L, 0 <= t < L) is S(t) for t = 0, else S(t) + P(t), where S(t) = c[B + t] + S(t + 1)
// (S(L - 1) = c[B + L - 1]) sums the block's columns from B + t, and P(1) = c[B + L], P(t) = P(t - 1) +
// c[B + L + t - 1] the next block's first t columns. Three additions per window whatever L, no subtraction,
// each column through at most L - 1 of them. The scans run along the row, so the row is cut into four
// segments of Q window starts (Q a multiple of L, so every segment starts at a block), transposed 4 x 4
// into vectors of one column of each segment (T), scanned in place of its four lanes (R: first the
// suffixes, then plus the prefixes: the suffix scan of block m + 1 runs beside the prefix scan over the
// same columns for block m, two dependency chains in one loop), and transposed back for the stores.
// It takes windows longer than 31 columns (`FastBoxSumHorizontal`). Measured on Zen 3 (2048x2048 float32
// box means, the whole C passes, one thread): 4.9-6.0 ms for every length from 10 to 64; the factored plans
// with run-time fold lengths took 5.5-8.0 ms, and with constant ones (fast_box_sums_avx2.c) 4.1-5.3 ms up to
// 31 columns and 5.6-6.2 ms from 33.
#ifndef FILTERJIT_FAST_BOX_SUMS_VAN_HERK_H
#define FILTERJIT_FAST_BOX_SUMS_VAN_HERK_H

// Window starts per segment: a multiple of L, 4 Q >= n.
static inline ptrdiff_t fj_fbs_van_herk_segment(ptrdiff_t n, ptrdiff_t length) {
    return (n + 4 * length - 1) / (4 * length) * length;
}

// Window starts per chunk of a segment (a multiple of 4 L, about 256): T and R hold one chunk and the next
// block (about 9 KB each at L = 31), not whole segments (17 KB each at 2048 columns). The first version, whole
// segments and a test per store, ran the 31x31 float32 mean in 6.9 ms; with its stores' tests hoisted and
// chunks of about 256 (or 128: the same) 5.7 ms.
static inline ptrdiff_t fj_fbs_van_herk_chunk(ptrdiff_t length) {
    const ptrdiff_t blocks = (256 + 2 * length) / (4 * length);
    return 4 * length * (blocks > 1 ? blocks : 1);
}

// The columns T holds for a chunk (a multiple of 4): its window starts read up to L - 1 columns further.
static inline ptrdiff_t fj_fbs_van_herk_columns(ptrdiff_t length) {
    return (fj_fbs_van_herk_chunk(length) + length + 3) / 4 * 4;
}

// Doubles of scratch (T and R).
static inline ptrdiff_t fj_fbs_van_herk_scratch(ptrdiff_t length) {
    return 8 * (fj_fbs_van_herk_columns(length) + 4);
}

// How far past the windows' last column (n + length - 2) the transposes read the source row: the last
// segment's last chunk reaches column 3 Q + roundup4(Q + L) - 1, at most 4 length + 4 beyond. Those
// positions must be readable and initialised; their lanes are never stored.
static inline ptrdiff_t fj_fbs_van_herk_overread(ptrdiff_t n, ptrdiff_t length) {
    const ptrdiff_t Q = fj_fbs_van_herk_segment(n, length);
    const ptrdiff_t reach = 3 * Q + (Q + length + 3) / 4 * 4, last = n + length - 1;
    return reach > last ? reach - last : 0;
}

FJ_FBS_TARGET static inline void fj_fbs_transpose4(__m256d *v) {
    const __m256d t0 = _mm256_unpacklo_pd(v[0], v[1]), t1 = _mm256_unpackhi_pd(v[0], v[1]);
    const __m256d t2 = _mm256_unpacklo_pd(v[2], v[3]), t3 = _mm256_unpackhi_pd(v[2], v[3]);
    v[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    v[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    v[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    v[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

// (s + 0.0) x factor, or (s + 0.0) / divisor (`fj_fbs_finish1`, four at a time).
FJ_FBS_TARGET static inline __m256d fj_fbs_van_herk_finish(__m256d s, __m256d factor, __m256d divisor, int divide) {
    const __m256d t = _mm256_add_pd(s, _mm256_setzero_pd());
    return divide ? _mm256_div_pd(t, divisor) : _mm256_mul_pd(t, factor);
}

// out[x] = finish(window sum at x) for x < n over source[0 ... n + length - 2] (readable, with
// fj_fbs_van_herk_overread positions more); scratch: fj_fbs_van_herk_scratch doubles.
FJ_FBS_TARGET static inline void fj_fbs_van_herk_row(const double *source, double *scratch, ptrdiff_t n, ptrdiff_t length,
                                                     int out32, double factor, void *out) {
    const ptrdiff_t L = length, Q = fj_fbs_van_herk_segment(n, L), C = fj_fbs_van_herk_chunk(L);
    double *T = scratch, *R = scratch + 4 * (fj_fbs_van_herk_columns(L) + 4);
    const int divide = fj_fbs_divisor != 0;
    const __m256d f = _mm256_set1_pd(factor), dv = _mm256_set1_pd(divide ? fj_fbs_divisor : 1.0);
    // Window starts below `whole` have every segment's 4 of a group inside the row.
    ptrdiff_t whole = n - 3 * Q < Q ? n - 3 * Q : Q;
    whole = whole > 0 ? whole / 4 * 4 : 0;
#define FJ_VH(P, i) ((P) + 4 * (i))
    for (ptrdiff_t c0 = 0; c0 < Q; c0 += C) {
        // Window starts c0 ..< c1 (a whole number of blocks), reading columns up to c1 + L - 2.
        const ptrdiff_t c1 = c0 + C < Q ? c0 + C : Q, span = c1 - c0, width = (span + L + 3) / 4 * 4;
        const double *from = source + c0;
        for (ptrdiff_t i = 0; i < width; i += 4) {
            __m256d v[4];
            for (int j = 0; j < 4; j++) v[j] = _mm256_loadu_pd(from + j * Q + i);
            fj_fbs_transpose4(v);
            for (int j = 0; j < 4; j++) _mm256_storeu_pd(FJ_VH(T, i + j), v[j]);
        }
        // The first block's suffixes; then per block B its prefixes beside block B + L's suffixes (when it
        // has windows here).
        __m256d s = _mm256_loadu_pd(FJ_VH(T, L - 1));
        _mm256_storeu_pd(FJ_VH(R, L - 1), s);
        for (ptrdiff_t t = L - 2; t >= 0; t--) {
            s = _mm256_add_pd(_mm256_loadu_pd(FJ_VH(T, t)), s);
            _mm256_storeu_pd(FJ_VH(R, t), s);
        }
        for (ptrdiff_t B = 0; B < span; B += L) {
            const ptrdiff_t next = B + L;
            __m256d p = _mm256_loadu_pd(FJ_VH(T, next));
            if (next < span) {
                s = _mm256_loadu_pd(FJ_VH(T, next + L - 1));
                _mm256_storeu_pd(FJ_VH(R, next + L - 1), s);
                for (ptrdiff_t t = 1; t < L; t++) {
                    s = _mm256_add_pd(_mm256_loadu_pd(FJ_VH(T, next + L - 1 - t)), s);
                    _mm256_storeu_pd(FJ_VH(R, next + L - 1 - t), s);
                    if (t > 1) p = _mm256_add_pd(p, _mm256_loadu_pd(FJ_VH(T, next + t - 1)));
                    _mm256_storeu_pd(FJ_VH(R, B + t), _mm256_add_pd(_mm256_loadu_pd(FJ_VH(R, B + t)), p));
                }
            } else {
                for (ptrdiff_t t = 1; t < L; t++) {
                    if (t > 1) p = _mm256_add_pd(p, _mm256_loadu_pd(FJ_VH(T, next + t - 1)));
                    _mm256_storeu_pd(FJ_VH(R, B + t), _mm256_add_pd(_mm256_loadu_pd(FJ_VH(R, B + t)), p));
                }
            }
        }
        // Back to the segments' rows: groups of 4 with every segment inside the row (no tests in the loop:
        // one loop per output type and finish), then the rest segment by segment.
        const ptrdiff_t wholeHere = whole < c1 ? whole - c0 : span;
        ptrdiff_t i = 0;
#define FJ_VH_WHOLE(OUT32, DIVIDE)                                                                                     \
        for (; i + 4 <= wholeHere; i += 4) {                                                                           \
            __m256d v[4];                                                                                              \
            for (int j = 0; j < 4; j++) v[j] = _mm256_loadu_pd(FJ_VH(R, i + j));                                      \
            fj_fbs_transpose4(v);                                                                                      \
            for (int j = 0; j < 4; j++) {                                                                              \
                const __m256d m = fj_fbs_van_herk_finish(v[j], f, dv, DIVIDE);                                         \
                if (OUT32) _mm_storeu_ps((float *)out + j * Q + c0 + i, _mm256_cvtpd_ps(m));                           \
                else _mm256_storeu_pd((double *)out + j * Q + c0 + i, m);                                              \
            }                                                                                                          \
        }
        if (out32) { if (divide) { FJ_VH_WHOLE(1, 1) } else { FJ_VH_WHOLE(1, 0) } }
        else if (divide) { FJ_VH_WHOLE(0, 1) } else { FJ_VH_WHOLE(0, 0) }
#undef FJ_VH_WHOLE
        for (; i < span; i += 4) {
            __m256d v[4];
            for (int j = 0; j < 4; j++) v[j] = _mm256_loadu_pd(FJ_VH(R, i + j));
            fj_fbs_transpose4(v);
            for (int j = 0; j < 4; j++) {
                // This segment's window starts below c1 and n.
                const ptrdiff_t at = j * Q + c0 + i, end = j * Q + c1 < n ? j * Q + c1 : n;
                if (at >= end) continue;
                _Alignas(32) double part[4];
                _mm256_store_pd(part, fj_fbs_van_herk_finish(v[j], f, dv, divide));
                for (ptrdiff_t q = 0; q < 4 && at + q < end; q++) {
                    if (out32) ((float *)out)[at + q] = (float)part[q];
                    else ((double *)out)[at + q] = part[q];
                }
            }
        }
    }
#undef FJ_VH
}

// The row functions (`fj_fbs_row_fn`): the plan's length comes in `r` (fast_box_sums_driver.h, `b` < 0).
FJ_FBS_TARGET static void fj_fbs_van_herk_f32(const double *source, double *level, ptrdiff_t n, int b, int r, double factor,
                                              void *out) {
    (void)b;
    fj_fbs_van_herk_row(source, level, n, r, 1, factor, out);
}

FJ_FBS_TARGET static void fj_fbs_van_herk_f64(const double *source, double *level, ptrdiff_t n, int b, int r, double factor,
                                              void *out) {
    (void)b;
    fj_fbs_van_herk_row(source, level, n, r, 0, factor, out);
}

#endif
