// The vertical pass of one output row of the fast-math box sums, by mode (fast_box_sums_scalar.h), shared by
// the AVX-512 file and the AVX2 one: each includes it after defining its primitives (fj_fbs_suffixes,
// fj_fbs_start_prefix, fj_fbs_continue_prefix, fj_fbs_three_rows) and before its fused row, which calls it
// for a row's ends; the driver calls it for whole rows.
#ifndef FILTERJIT_FAST_BOX_SUMS_VERTICAL_H
#define FILTERJIT_FAST_BOX_SUMS_VERTICAL_H

// Columns q ..< q + count of a row's vertical pass into `columns`, as the separate passes do: w0, w1, w2
// the three-row modes' rows (w2 the row entering for the van Herk modes), `ahead` the next output row's
// new input row (fetched a row early; may be NULL). The pointers are the row's (offset by q here); those
// a mode does not use may be NULL.
FJ_FBS_TARGET static FJ_FBS_INLINE void fj_fbs_vertical_pass(int mode, const void *w0, const void *w1, const void *w2,
                                                             const double *suffix, double *prefix, double *pair, double *columns,
                                                             ptrdiff_t q, ptrdiff_t count, int f32, const char *ahead) {
    const ptrdiff_t size = f32 ? 4 : 8;
    const char *at = ahead ? ahead + q * size : NULL, *r2 = (const char *)w2 + q * size;
    if (mode == FJ_FBS_FIRST_ROW) {
        const void *first[1] = {r2};
        double *const d[1] = {columns + q};
        fj_fbs_suffixes(first, d, 1, suffix + q, count, f32);
    } else if (mode == FJ_FBS_START_PREFIX) {
        fj_fbs_start_prefix(r2, suffix + q, prefix + q, columns + q, count, f32, at);
    } else if (mode == FJ_FBS_CONTINUE_PREFIX) {
        fj_fbs_continue_prefix(r2, suffix + q, prefix + q, columns + q, count, f32, at);
    } else {
        fj_fbs_three_rows(mode, (const char *)w0 + q * size, (const char *)w1 + q * size, r2, pair + q, columns + q, count, f32, at);
    }
}

#endif
