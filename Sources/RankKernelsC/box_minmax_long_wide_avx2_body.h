// One element type of the AVX2 wide-lane long-box kernel (box_minmax_long_wide_avx2.c, which describes the
// scheme), included once per type. The includer defines:
//   FJA(name)                  the instance's names (fj_lw2_<type>_name)
//   FJA_T, FJA_LANES           the element type and its lanes per 256-bit vector
//   FJA_V                      the vector type
//   FJA_LOADU(p), FJA_STOREU(p, v)
//   FJA_OP(maximum, a, b)      the vector min (maximum 0) or max
//   FJA_HAZARDS                1 for float types (NaN and -0.0 make the kernel return 1), 0 for integers
//   FJA_SEEN, FJA_SEEN_NONE(), FJA_SEEN_ADD(seen *, v), FJA_SEEN_ANY(seen)
//                              a running record of the vectors loaded (integers: any type, never set)
//   FJA_HAZARD1(v)             whether one element is NaN or -0.0 (integers: 0)
// and, once, FJ_LW2 / FJ_LW2_INLINE (target and forcing inline), fj_lw2_plan, fj_lw2_levels, fj_lw2_round.

FJ_LW2_INLINE FJA_T FJA(op1)(int maximum, FJA_T a, FJA_T b) { return maximum ? (a > b ? a : b) : (a < b ? a : b); }

// Whether row[0 ..< n] holds NaN or -0.0.
FJ_LW2 static int FJA(row_hazard)(const FJA_T *row, ptrdiff_t n) {
    FJA_SEEN seen = FJA_SEEN_NONE();
    ptrdiff_t x = 0;
    for (; x + FJA_LANES <= n; x += FJA_LANES) FJA_SEEN_ADD(&seen, FJA_LOADU(row + x));
    int bad = FJA_SEEN_ANY(seen);
    for (; x < n; x++) bad |= FJA_HAZARD1(row[x]);
    return bad;
}

// dst[x] = op(a[x], b[x]) for x < n.
FJ_LW2 FJ_LW2_INLINE void FJA(combine)(int maximum, FJA_T *dst, const FJA_T *a, const FJA_T *b, ptrdiff_t n) {
    ptrdiff_t x = 0;
    for (; x + FJA_LANES <= n; x += FJA_LANES) FJA_STOREU(dst + x, FJA_OP(maximum, FJA_LOADU(a + x), FJA_LOADU(b + x)));
    for (; x < n; x++) dst[x] = FJA(op1)(maximum, a[x], b[x]);
}

// One output row's vertical step for t >= 1 of a block: with `previous` (t >= 2; it may be prefix itself: each
// element is read before it is written) prefix = op(previous, entering) and cm = op(suffix, prefix); without it
// (t == 1: the entering row is the prefix as it is) cm = op(suffix, entering). The entering row is added to
// `seen` (returns whether its scalar tail held NaN or -0.0); `ahead` (the next entering row, or NULL) is
// prefetched a line per 64 bytes.
FJ_LW2 FJ_LW2_INLINE int FJA(step)(int maximum, FJA_T *cm, FJA_T *prefix, const FJA_T *previous, const FJA_T *entering,
                                   const FJA_T *suffix, ptrdiff_t n, FJA_SEEN *seen, const FJA_T *ahead) {
    ptrdiff_t x = 0;
    for (; x + FJA_LANES <= n; x += FJA_LANES) {
        if (ahead && ((x * (ptrdiff_t)sizeof(FJA_T)) & 63) == 0) _mm_prefetch((const char *)(ahead + x), _MM_HINT_T0);
        const FJA_V e = FJA_LOADU(entering + x);
        if (FJA_HAZARDS) FJA_SEEN_ADD(seen, e);
        if (previous) {
            const FJA_V p = FJA_OP(maximum, FJA_LOADU(previous + x), e);
            FJA_STOREU(prefix + x, p);
            FJA_STOREU(cm + x, FJA_OP(maximum, FJA_LOADU(suffix + x), p));
        } else {
            FJA_STOREU(cm + x, FJA_OP(maximum, FJA_LOADU(suffix + x), e));
        }
    }
    int bad = 0;
    for (; x < n; x++) {
        bad |= FJA_HAZARD1(entering[x]);
        if (previous) {
            const FJA_T p = FJA(op1)(maximum, previous[x], entering[x]);
            prefix[x] = p;
            cm[x] = FJA(op1)(maximum, suffix[x], p);
        } else {
            cm[x] = FJA(op1)(maximum, suffix[x], entering[x]);
        }
    }
    return bad;
}

// The row of column minima (cm[0 ..< n]) extended through the mode: positions -leftCount ..< 0 and n ..<
// n + rightCount.
static inline void FJA(extend)(const fj_lw2_plan *p, FJA_T *cm, FJA_T cval) {
    for (ptrdiff_t q = -p->leftCount; q < 0; q++) {
        const ptrdiff_t col = p->columns[p->centre + q];
        cm[q] = col >= 0 ? cm[col] : cval;
    }
    for (ptrdiff_t q = p->n; q < p->n + p->rightCount; q++) {
        const ptrdiff_t col = p->columns[p->centre + q];
        cm[q] = col >= 0 ? cm[col] : cval;
    }
}

// The top level's windows at M offsets (0, W, ..., (M - 2) W and `last`) into the output row; the last vector's
// lanes from n on are not written. M is a constant where inlined.
FJ_LW2 FJ_LW2_INLINE void FJA(final)(int maximum, int M, const FJA_T *top, ptrdiff_t W, ptrdiff_t last, ptrdiff_t n,
                                     FJA_T *out) {
    ptrdiff_t x = 0;
    for (; x < n; x += FJA_LANES) {
        FJA_V v = FJA_LOADU(top + x + last);
        for (int j = 0; j < M - 1; j++) v = FJA_OP(maximum, v, FJA_LOADU(top + x + j * W));
        if (x + FJA_LANES <= n) FJA_STOREU(out + x, v);
        else {
            FJA_T part[FJA_LANES];
            FJA_STOREU(part, v);
            memcpy(out + x, part, sizeof(FJA_T) * (size_t)(n - x));
        }
    }
}

// One output row along the row, from the extended column minima `cm`: the levels into `levelA` / `levelB` in turn,
// then the output row.
FJ_LW2 FJ_LW2_INLINE void FJA(row)(int maximum, const fj_lw2_plan *p, const FJA_T *cm, FJA_T *levelA, FJA_T *levelB,
                                   FJA_T *out) {
    const FJA_T *level = cm + p->s;
    ptrdiff_t w = 1;
    for (int l = 1; l <= p->levels; l++) {
        FJA_T *dst = l % 2 ? levelA : levelB;
        const ptrdiff_t count = fj_lw2_round(p->need[l], FJA_LANES);
        for (ptrdiff_t i = 0; i < count; i += FJA_LANES)
            FJA_STOREU(dst + i, FJA_OP(maximum, FJA_LOADU(level + i), FJA_LOADU(level + i + w)));
        level = dst;
        w *= 2;
    }
    const ptrdiff_t last = p->length - w;
    switch (p->m) {
    case 1: FJA(final)(maximum, 1, level, w, last, p->n, out); break;
    case 2: FJA(final)(maximum, 2, level, w, last, p->n, out); break;
    case 3: FJA(final)(maximum, 3, level, w, last, p->n, out); break;
    case 4: FJA(final)(maximum, 4, level, w, last, p->n, out); break;
    case 5: FJA(final)(maximum, 5, level, w, last, p->n, out); break;
    case 6: FJA(final)(maximum, 6, level, w, last, p->n, out); break;
    case 7: FJA(final)(maximum, 7, level, w, last, p->n, out); break;
    default: FJA(final)(maximum, 8, level, w, last, p->n, out); break;
    }
}

// Returns 1 on NaN or -0.0 in a row read (the outputs written so far are meaningless), else 0.
FJ_LW2 FJ_LW2_INLINE int FJA(run)(int maximum, const fj_lw2_plan *p, const FJA_T *const *rows, FJA_T *const *outs,
                                  ptrdiff_t count, FJA_T cval, FJA_T *const *suffix, FJA_T *prefix, FJA_T *cm,
                                  FJA_T *levelA, FJA_T *levelB) {
    const ptrdiff_t n = p->n, k = p->k;
    ptrdiff_t checked = 0;   // rows[0 ..< checked] have been checked
    for (ptrdiff_t y0 = 0; y0 < count; y0 += k) {
        // The block's rows not yet checked (the first block's, then each block's last row).
        if (FJA_HAZARDS)
            for (; checked < y0 + k; checked++)
                if (FJA(row_hazard)(rows[checked], n)) return 1;
        // The block's suffix minima: S[t] = op(rows y0 + t ... y0 + k - 1); S[k - 1] is the row itself, S[0] the
        // first output row's column minima.
        const FJA_T *next = rows[y0 + k - 1];
        for (ptrdiff_t t = k - 2; t >= 0; t--) {
            FJA_T *dst = t == 0 ? cm : suffix[t];
            FJA(combine)(maximum, dst, rows[y0 + t], next, n);
            next = dst;
        }
        if (k == 1) memcpy(cm, rows[y0], sizeof(FJA_T) * (size_t)n);
        FJA(extend)(p, cm, cval);
        FJA(row)(maximum, p, cm, levelA, levelB, outs[y0]);
        // The block's other rows: the prefix over the next block's rows, combined with the suffix.
        FJA_SEEN seen = FJA_SEEN_NONE();
        int bad = 0;
        const FJA_T *previous = NULL;
        for (ptrdiff_t t = 1; t < k && y0 + t < count; t++) {
            const FJA_T *entering = rows[y0 + k + t - 1];
            const FJA_T *sfx = t == k - 1 ? rows[y0 + k - 1] : suffix[t];
            const FJA_T *ahead = y0 + t + 1 < count ? rows[y0 + k + t] : NULL;
            bad |= FJA(step)(maximum, cm, prefix, previous, entering, sfx, n, &seen, ahead);
            previous = t == 1 ? entering : prefix;
            checked = y0 + k + t;
            FJA(extend)(p, cm, cval);
            FJA(row)(maximum, p, cm, levelA, levelB, outs[y0 + t]);
        }
        if (FJA_HAZARDS && (bad || FJA_SEEN_ANY(seen))) return 1;
    }
    return 0;
}

FJ_LW2 static int FJA(run_min)(const fj_lw2_plan *p, const FJA_T *const *rows, FJA_T *const *outs, ptrdiff_t count,
                               FJA_T cval, FJA_T *const *suffix, FJA_T *prefix, FJA_T *cm, FJA_T *levelA, FJA_T *levelB) {
    return FJA(run)(0, p, rows, outs, count, cval, suffix, prefix, cm, levelA, levelB);
}
FJ_LW2 static int FJA(run_max)(const fj_lw2_plan *p, const FJA_T *const *rows, FJA_T *const *outs, ptrdiff_t count,
                               FJA_T cval, FJA_T *const *suffix, FJA_T *prefix, FJA_T *cm, FJA_T *levelA, FJA_T *levelB) {
    return FJA(run)(1, p, rows, outs, count, cval, suffix, prefix, cm, levelA, levelB);
}

// The entry (box_minmax_long_wide_avx2.h).
static int FJA(entry)(int maximum, const FJA_T *const *rows, ptrdiff_t k, FJA_T *const *outs, ptrdiff_t count, ptrdiff_t n,
                      const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start, ptrdiff_t length,
                      FJA_T cval) {
    if (!filterjit_box_long_wide_avx2()) return -1;
    if (count <= 0) return 0;
    fj_lw2_plan p;
    if (!fj_lw2_make_plan(&p, FJA_LANES, k, n, columns, extendedLength, centre, start, length)) return -1;
    // A cval that is NaN or -0.0, read anywhere: the exact path (rows outside the image, or columns outside it).
    if (FJA_HAZARD1(cval) && fj_lw2_reads_cval((const void *const *)rows, count + k - 1, &p)) return 1;
    // Scratch (elements): the cval row, the prefix row, k - 2 suffix rows, two level rows, and the row of column
    // minima with room for positions min(s, 0) - LANES ..< max(n + rightCount, s + need[0]) + LANES, all zeroed.
    const ptrdiff_t L = FJA_LANES;
    const ptrdiff_t row = fj_lw2_round(n, L) + 2 * L;
    const ptrdiff_t cmLeft = fj_lw2_round(L + p.leftCount, L);
    ptrdiff_t cmRight = p.n + p.rightCount;
    if (p.s + p.need[0] > cmRight) cmRight = p.s + p.need[0];
    cmRight = fj_lw2_round(cmRight + L, L);
    const ptrdiff_t levelRow = fj_lw2_round(p.need[p.levels < 1 ? 0 : 1], L) + 2 * L;
    const ptrdiff_t suffixRows = k > 2 ? k - 2 : 0;
    const size_t bytes = ((size_t)(row * (2 + suffixRows) + 2 * levelRow + cmLeft + cmRight) * sizeof(FJA_T) + 63) / 64 * 64;
    FJA_T *scratch = aligned_alloc(64, bytes);
    const FJA_T **table = malloc(sizeof(FJA_T *) * (size_t)(count + k - 1));
    FJA_T **suffix = malloc(sizeof(FJA_T *) * (size_t)(k > 2 ? k : 2));
    if (!scratch || !table || !suffix) {
        free(scratch); free(table); free(suffix);
        return -1;
    }
    memset(scratch, 0, bytes);
    FJA_T *cvalRow = scratch, *prefix = scratch + row, *suffixBase = scratch + 2 * row;
    FJA_T *levelA = suffixBase + suffixRows * row, *levelB = levelA + levelRow;
    FJA_T *cm = levelB + levelRow + cmLeft;
    for (ptrdiff_t x = 0; x < n; x++) cvalRow[x] = cval;
    for (ptrdiff_t t = 0; t < (k > 2 ? k : 2); t++) suffix[t] = t >= 1 && t <= suffixRows ? suffixBase + (t - 1) * row : NULL;
    for (ptrdiff_t i = 0; i < count + k - 1; i++) table[i] = rows[i] ? rows[i] : cvalRow;
    const int result = maximum ? FJA(run_max)(&p, table, outs, count, cval, suffix, prefix, cm, levelA, levelB)
                               : FJA(run_min)(&p, table, outs, count, cval, suffix, prefix, cm, levelA, levelB);
    free(suffix);
    free(table);
    free(scratch);
    if (result == 0) __atomic_fetch_add(&fj_lw2_runs, 1, __ATOMIC_RELAXED);
    return result;
}
