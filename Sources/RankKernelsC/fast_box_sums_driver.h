// The part of the fast-math box sums (fast_box_sums.c) that does not depend on the vector width,
// included by the AVX-512 file and by the AVX2 one (fast_box_sums_avx2.c), each its own translation
// unit with its own target. The includer defines first:
//   FJ_FBS_TARGET, FJ_FBS_INLINE            its target attribute and forced inlining;
//   FJ_FBS_CHUNK, FJ_FBS_PAD                the horizontal passes' chunk and the scratch rows' padding;
//   fj_fbs_stream, fj_fbs_divisor           the per-call flags (thread-local);
//   fj_fbs_row_fn, the row tables           fj_fbs_direct_<f32|f64>[1...8], fj_fbs_factored_<..>[2...8],
//                                           (optionally FJ_FBS_SPECIALISED_PLANS and fj_fbs_specialised: more
//                                           factored plans with constant fold lengths)
//                                           fj_fbs_factored330/350/561_<..> (the horizontal passes; the van
//                                           Herk plan's, fast_box_sums_van_herk.h, is included here);
//   fj_fbs_suffixes, fj_fbs_widen, fj_fbs_accumulate, fj_fbs_start_prefix, fj_fbs_continue_prefix,
//   fj_fbs_three_rows, fj_fbs_fused_row     the vertical passes (van Herk, and the three-row boxes' modes
//                                           of fast_box_sums_scalar.h) and the fused row of a direct plan,
//                                           having included fast_box_sums_vertical.h;
//   fj_fbs_sfence()                         the fence after non-temporal stores;
//   optionally FJ_FBS_PAIRED_PREFIX and fj_fbs_prefix_pair (two rows of a block per vertical pass for the
//   plans with a row function), FJ_FBS_F32_TO_F64 (float32 rows into float64 output rows): the AVX2 file.
// Every addition is in the primitives, in the order of NDImage/FastBoxSums.swift; this file only
// decides which rows go through which primitive, so both widths give the same bits.
#ifndef FILTERJIT_FAST_BOX_SUMS_DRIVER_H
#define FILTERJIT_FAST_BOX_SUMS_DRIVER_H

#include <limits.h>

// The van Herk plan's row function, the same in both files (AVX vectors).
#include "fast_box_sums_van_herk.h"

static void *fj_fbs_alloc(size_t doubles) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (doubles > 0 ? doubles : 1) * sizeof(double) + 64) != 0) return NULL;
    return p;
}

// Scratch kept per thread between calls (freed when the thread ends), up to FJ_FBS_KEPT bytes: a
// block this size from malloc is a fresh mapping each time, and the kernel zeroing its pages cost
// more than a 2048x2048 float32 5x5 sum's horizontal pass.
enum { FJ_FBS_KEPT = 8 << 20 };

typedef struct {
    double *block;
    size_t doubles;
} fj_fbs_kept;

static pthread_key_t fj_fbs_key;
static pthread_once_t fj_fbs_once = PTHREAD_ONCE_INIT;
static int fj_fbs_key_ok;

static void fj_fbs_release(void *p) {
    fj_fbs_kept *kept = (fj_fbs_kept *)p;
    if (kept) free(kept->block);
    free(kept);
}

static void fj_fbs_make_key(void) { fj_fbs_key_ok = pthread_key_create(&fj_fbs_key, fj_fbs_release) == 0; }

// Scratch of `doubles` doubles, zeroed when new; *owned says the caller frees it.
static double *fj_fbs_scratch(size_t doubles, int *owned) {
    *owned = 1;
    if (doubles * sizeof(double) <= FJ_FBS_KEPT) {
        pthread_once(&fj_fbs_once, fj_fbs_make_key);
        if (fj_fbs_key_ok) {
            fj_fbs_kept *kept = (fj_fbs_kept *)pthread_getspecific(fj_fbs_key);
            if (!kept) {
                kept = (fj_fbs_kept *)calloc(1, sizeof(fj_fbs_kept));
                if (kept && pthread_setspecific(fj_fbs_key, kept) != 0) { free(kept); kept = NULL; }
            }
            if (kept) {
                if (kept->doubles < doubles) {
                    free(kept->block);
                    kept->doubles = 0;
                    kept->block = (double *)fj_fbs_alloc(doubles);
                    if (!kept->block) return NULL;
                    memset(kept->block, 0, doubles * sizeof(double));
                    kept->doubles = doubles;
                }
                *owned = 0;
                return kept->block;
            }
        }
    }
    double *block = (double *)fj_fbs_alloc(doubles);
    if (block) memset(block, 0, doubles * sizeof(double));
    return block;
}

// `f32`: float32 input rows, `out32`: float32 output (the row functions' and the fused rows' stores).
// The vertical passes of `runFastBoxSum` in the same order (or, for three rows, the same additions
// without its scratch rows), then the fused horizontal row.
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_run(int f32, int out32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount, ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t n,
                                     ptrdiff_t k, ptrdiff_t top, const ptrdiff_t *lastMap, ptrdiff_t extendedLength,
                                     ptrdiff_t centre, ptrdiff_t start, int length, fj_fbs_row_fn row_fn, int b, int r, double cvalColumn,
                                     double factor, void *out, ptrdiff_t outRowStride, double *suffix, ptrdiff_t stride, double *prefix,
                                     double *extended, double *level, double *extended2) {
#define FJ_FBS_INPUT(p) (rows[(p) - rowBase])
    double *columns = extended + centre;
    // The columns the edge positions copy: the greatest in the row's low half, the least in its high half.
    ptrdiff_t lowTarget = -1, highTarget = n;
    ptrdiff_t leftEnd = centre < extendedLength ? centre : extendedLength;
    ptrdiff_t rightStart = centre + n < extendedLength ? centre + n : extendedLength;
    // (Only the positions outside the row: a call per batch of a compiled tail's rows spent a tenth of its
    // vertical pass walking the whole extended row here.)
    for (int side = 0; side < 2; side++) {
        const ptrdiff_t from = side ? rightStart : 0, to = side ? extendedLength : leftEnd;
        for (ptrdiff_t j = from; j < to; j++) {
            ptrdiff_t t = lastMap[j];
            if (t < 0) continue;
            if (2 * t < n) { if (t > lowTarget) lowTarget = t; }
            else if (t < highTarget) highTarget = t;
        }
    }
    ptrdiff_t block = -1;
    ptrdiff_t blockStart = (y0 / k) * k, i = y0 - blockStart;
    for (ptrdiff_t y = y0; y < y1; y++, i++) {
        if (i == k) { blockStart += k; i = 0; }
        void *o = out32 ? (void *)((float *)out + y * outRowStride) : (void *)((double *)out + y * outRowStride);
        if (k == 3) {
            // A three-row box (fast_box_sums_scalar.h, FJ_FBS_RIGHT): rows y + top ... y + 2 + top, the pair
            // in the suffix rows' second row; the next output row adds row y + 3 + top.
            const int mode = fj_fbs_three_mode(i, y > y0);
            const void *w0 = FJ_FBS_INPUT(y + top), *w1 = FJ_FBS_INPUT(y + 1 + top), *w2 = FJ_FBS_INPUT(y + 2 + top);
            const char *ahead = y + 1 < y1 && y + 3 + top < rowBase + rowCount ? (const char *)FJ_FBS_INPUT(y + 3 + top) : NULL;
            if (b == 0) {
                fj_fbs_fused_row(f32, out32, mode, w0, w1, w2, NULL, NULL, suffix + stride, extended, n, centre, start, length, lastMap,
                                 extendedLength, cvalColumn, lowTarget, highTarget, row_fn, factor, o, ahead);
                continue;
            }
            fj_fbs_vertical_pass(mode, w0, w1, w2, NULL, NULL, suffix + stride, columns, 0, n, f32, ahead);
        } else {
            if (blockStart != block) {
                block = blockStart;
                // suffix(k - 1) = row k - 1, suffix(j) = row j + suffix(j + 1) down to j = i, in groups of
                // up to 8 rows; suffix(0) (i = 0: the block's first output row) goes straight to the columns,
                // in the fused row below for a direct plan.
                const ptrdiff_t lowest = i == 0 && b == 0 && k >= 2 ? 1 : i;
                for (ptrdiff_t hi = k - 1; hi >= lowest;) {
                    ptrdiff_t lo = hi - 7 > lowest ? hi - 7 : lowest;
                    const void *src[8];
                    double *dst[8];
                    for (ptrdiff_t j = hi; j >= lo; j--) {
                        src[hi - j] = FJ_FBS_INPUT(blockStart + j + top);
                        dst[hi - j] = j == 0 ? columns : suffix + j * stride;
                    }
                    fj_fbs_suffixes(src, dst, (int)(hi - lo + 1), hi == k - 1 ? NULL : suffix + (hi + 1) * stride, n, f32);
                    hi = lo - 1;
                }
                if (i >= 2) {
                    fj_fbs_widen(FJ_FBS_INPUT(blockStart + k + top), prefix, n, f32);
                    for (ptrdiff_t j = 2; j < i; j++) fj_fbs_accumulate(FJ_FBS_INPUT(blockStart + j + k - 1 + top), prefix, n, f32);
                }
            }
            // Row i = 0: the columns are suffix(0), written above, or row B + suffix(1) in the fused row.
            // Rows i >= 1: the prefix pass adds row B + i + k - 1 (src); `ahead` is the row the next
            // output row's prefix adds (row B + i + k; after the block's last row, the next block's second
            // row B + 2k, its first rows being this block's prefix rows).
            if (i == 0 && b == 0 && k >= 2) {
                // (`ahead`: row B + k, which the next output row's prefix starts from.)
                const ptrdiff_t next = blockStart + k + top;
                const char *ahead = y + 1 < y1 && next < rowBase + rowCount ? (const char *)FJ_FBS_INPUT(next) : NULL;
                fj_fbs_fused_row(f32, out32, FJ_FBS_FIRST_ROW, NULL, NULL, FJ_FBS_INPUT(blockStart + top), suffix + stride, NULL, NULL,
                                 extended, n, centre, start, length, lastMap, extendedLength, cvalColumn, lowTarget, highTarget,
                                 row_fn, factor, o, ahead);
                continue;
            }
            if (i >= 1) {
                const int mode = i == 1 ? FJ_FBS_START_PREFIX : FJ_FBS_CONTINUE_PREFIX;
                const void *src = FJ_FBS_INPUT(blockStart + i + k - 1 + top);
                ptrdiff_t next = (i + 1 < k ? blockStart + i + k : blockStart + 2 * k) + top;
                const char *ahead = y + 1 < y1 && next < rowBase + rowCount ? (const char *)FJ_FBS_INPUT(next) : NULL;
                if (b == 0) {
                    fj_fbs_fused_row(f32, out32, mode, NULL, NULL, src, suffix + i * stride, prefix, NULL, extended, n, centre, start, length,
                                     lastMap, extendedLength, cvalColumn, lowTarget, highTarget, row_fn, factor, o, ahead);
                    continue;
                }
#ifdef FJ_FBS_PAIRED_PREFIX
                if (i + 1 < k && y + 1 < y1) {
                    // Rows y and y + 1 of the block in one vertical pass (the includer's fj_fbs_prefix_pair: the same
                    // additions, the prefix row loaded and stored once for both), each then through the row function.
                    const void *src2 = FJ_FBS_INPUT(blockStart + i + k + top);
                    const ptrdiff_t next2 = (i + 2 < k ? blockStart + i + 1 + k : blockStart + 2 * k) + top;
                    const char *ahead2 = y + 2 < y1 && next2 < rowBase + rowCount ? (const char *)FJ_FBS_INPUT(next2) : NULL;
                    double *columns2 = extended2 + centre;
                    fj_fbs_prefix_pair(i == 1, src, src2, suffix + i * stride, suffix + (i + 1) * stride, prefix, columns, columns2, n,
                                       f32, ahead2);
                    fj_fbs_extend(extended, columns, lastMap, leftEnd, rightStart, extendedLength, cvalColumn);
                    row_fn(extended + start, level, n, b, r, factor, o);
                    void *o2 = out32 ? (void *)((float *)out + (y + 1) * outRowStride) : (void *)((double *)out + (y + 1) * outRowStride);
                    fj_fbs_extend(extended2, columns2, lastMap, leftEnd, rightStart, extendedLength, cvalColumn);
                    row_fn(extended2 + start, level, n, b, r, factor, o2);
                    y++, i++;
                    continue;
                }
#endif
                fj_fbs_vertical_pass(mode, NULL, NULL, src, suffix + i * stride, prefix, NULL, columns, 0, n, f32, ahead);
            }
        }
        fj_fbs_extend(extended, columns, lastMap, leftEnd, rightStart, extendedLength, cvalColumn);
        row_fn(extended + start, level, n, b, r, factor, o);
    }
    if (fj_fbs_stream) fj_fbs_sfence();
#undef FJ_FBS_INPUT
}

#define FJ_FBS_RUN(NAME, F32, OUT32)                                                                                   \
    FJ_FBS_TARGET static void NAME(const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount, ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t n,  \
                                   ptrdiff_t k, ptrdiff_t top, const ptrdiff_t *lastMap, ptrdiff_t extendedLength,     \
                                   ptrdiff_t centre, ptrdiff_t start, int length, fj_fbs_row_fn row_fn, int b, int r,  \
                                   double cvalColumn, double factor, void *out, ptrdiff_t outRowStride, double *suffix, \
                                   ptrdiff_t stride, double *prefix, double *extended, double *level, double *extended2) { \
        fj_fbs_run(F32, OUT32, rows, rowBase, rowCount, y0, y1, n, k, top, lastMap, extendedLength, centre, start, length, row_fn, b, r, \
                   cvalColumn, factor, out, outRowStride, suffix, stride, prefix, extended, level, extended2);         \
    }
FJ_FBS_RUN(fj_fbs_run_f32, 1, 1)
FJ_FBS_RUN(fj_fbs_run_f64, 0, 0)
// float64 input rows (the 3-D passes' plane sums), float32 output.
FJ_FBS_RUN(fj_fbs_run_f64_f32, 0, 1)
#ifdef FJ_FBS_F32_TO_F64
// float32 input rows, float64 output rows (the sums for a compiled tail; the includer that takes them
// defines FJ_FBS_F32_TO_F64).
FJ_FBS_RUN(fj_fbs_run_f32_f64, 1, 0)
#endif

// The passes for a validated call (filterjit_fast_box_sum checks the arguments): the row function of
// the plan, the scratch, the run. `f32`: float32 input rows; `out32`: float32 output (float32 input
// takes float32 output). Returns 1 when it ran, 0 for a plan without a row function or without scratch.
static int fj_fbs_sums(int f32, int out32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount, ptrdiff_t y0, ptrdiff_t y1,
                       ptrdiff_t n, ptrdiff_t k, ptrdiff_t top, const ptrdiff_t *lastMap, ptrdiff_t extendedLength,
                       ptrdiff_t centre, ptrdiff_t start, ptrdiff_t length, ptrdiff_t a, ptrdiff_t b, ptrdiff_t r,
                       double cvalColumn, double factor, double divisor, void *out, ptrdiff_t outRowStride, int stream) {
    fj_fbs_row_fn row_fn;
    if (b < 0) {
        // The van Herk plan (fast_box_sums_van_herk.h): its row function takes the length as r.
        if (a != length || length < 2 || length > INT_MAX) return 0;
        row_fn = out32 ? fj_fbs_van_herk_f32 : fj_fbs_van_herk_f64;
        b = -1;
        r = length;
    } else if (b == 0) {
        if (a != length || length > 8) return 0;
        row_fn = out32 ? fj_fbs_direct_f32[length] : fj_fbs_direct_f64[length];
    } else {
        if (a < 2 || a > 8 || b < 1 || r < 0 || b + r > 8 || a * b + r != length) return 0;
        row_fn = out32 ? fj_fbs_factored_f32[a] : fj_fbs_factored_f64[a];
        // The plans of 9, 15 and 31 columns with every fold length a constant.
        if (a == 3 && b == 3 && r == 0) row_fn = out32 ? fj_fbs_factored330_f32 : fj_fbs_factored330_f64;
        if (a == 3 && b == 5 && r == 0) row_fn = out32 ? fj_fbs_factored350_f32 : fj_fbs_factored350_f64;
        if (a == 5 && b == 6 && r == 1) row_fn = out32 ? fj_fbs_factored561_f32 : fj_fbs_factored561_f64;
#ifdef FJ_FBS_SPECIALISED_PLANS
        // (The includer's other plans with constant fold lengths: fast_box_sums_avx2.c.)
        const fj_fbs_row_fn specialised = fj_fbs_specialised(a, b, r, out32);
        if (specialised) row_fn = specialised;
#endif
    }
    // One block of scratch: k suffix rows, the prefix row, the extended row and the level chunk, at
    // distinct offsets modulo 4 KiB (rows of 2^m doubles would all start at one offset, and the loads
    // of one row would wait on the stores to another as if they aliased).
    ptrdiff_t stride = (n + 7) / 8 * 8 + FJ_FBS_PAD;
    ptrdiff_t levelLength = b < 0 ? fj_fbs_van_herk_scratch(length) : b == 0 ? 0 : FJ_FBS_CHUNK + (b - 1) * a + 8;
    ptrdiff_t prefixAt = k * stride + 136, extendedAt = prefixAt + (n + 7) / 8 * 8 + 264;
    // (The van Herk plan's transposes read up to fj_fbs_van_herk_overread positions past the windows.)
    ptrdiff_t overread = b < 0 ? (fj_fbs_van_herk_overread(n, length) + 7) / 8 * 8 : 0;
    ptrdiff_t levelAt = extendedAt + (extendedLength + 7) / 8 * 8 + overread + 392;
    // (A second extended row for the rows the AVX2 file's vertical passes take in pairs.)
    ptrdiff_t extended2At = levelAt + (levelLength + 7) / 8 * 8 + 520;
    // (The row passes' vectors read up to 7 positions past the windows they sum: initialised, never used.)
    int owned = 1;
    double *scratch = fj_fbs_scratch((size_t)(extended2At + (extendedLength + 7) / 8 * 8 + overread + 8), &owned);
    if (!scratch) return 0;
    fj_fbs_stream = stream != 0;
    fj_fbs_divisor = divisor;
#ifdef FJ_FBS_F32_TO_F64
    if (f32 && !out32) fj_fbs_run_f32_f64(
        rows, rowBase, rowCount, y0, y1, n, k, top, lastMap, extendedLength, centre, start, (int)length, row_fn, (int)b, (int)r,
        cvalColumn, factor, out, outRowStride, scratch, stride, scratch + prefixAt, scratch + extendedAt, scratch + levelAt,
        scratch + extended2At);
    else
#endif
    (f32 ? fj_fbs_run_f32 : out32 ? fj_fbs_run_f64_f32 : fj_fbs_run_f64)(
        rows, rowBase, rowCount, y0, y1, n, k, top, lastMap, extendedLength, centre, start, (int)length, row_fn, (int)b, (int)r,
        cvalColumn, factor, out, outRowStride, scratch, stride, scratch + prefixAt, scratch + extendedAt, scratch + levelAt,
        scratch + extended2At);
    if (owned) free(scratch);
    return 1;
}

#endif
