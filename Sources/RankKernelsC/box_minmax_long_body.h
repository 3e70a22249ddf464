// One element type of the wide-lane long-box kernels (box_minmax_long.c): float32, float64, uint16, int16.
// The including file defines, then includes this file (once per type):
//   FJW(name)        the type's prefix on every name (fj_w_f32_##name)
//   FJW_T            the element type;  FJW_LANES  elements per 512-bit vector
//   FJW_V            the vector type;   FJW_M      the mask type; FJW_MASK(left)  the first `left` lanes
//   FJW_LOAD/LOADU(p), FJW_STORE(p, v), FJW_MSTORE(p, m, v)
//   FJW_OP(op, a, b) op 0 min, 1 max; FJW_PERM(a, idx, b) lanes of the pair (a, b) by idx (vpermt2*)
//   FJW_HAZARD(v)    a mask of the lanes holding NaN or -0.0 (integers: 0)
//   FJW_IDX(shift)   the permutation indices i + shift (shift 1 ... FJW_LANES)
// Same scheme as the 8-bit kernel: each input row reduced along the row once (windows doubled per level,
// each level one `vpermt2*` of a vector with the next one, a vector behind the level before; shifts up to
// a whole vector, so windows grow by at most FJW_LANES per level from there on), stored into a ring of
// k + 1 rows; down the columns van Herk / Gil-Werman, the prefix step and the output in the pass of the
// entering row. Every vector loaded is checked for NaN and -0.0 (`FJW_HAZARD`): on one, the run stops
// and returns 1 (outputs partly written, meaningless).

typedef struct {
    // width: the row's length (n - head).
    // Internal columns x' = x + head (head: the output rows' misalignment in elements, so that every
    // output vector but the row's first and last is a whole aligned line): n and start are shifted too.
    ptrdiff_t n, k, start, centre, extendedLength, stride, head, width;
    ptrdiff_t chunks, lo, hi;
    const ptrdiff_t *columns;
    FJW_T cval;
    FJW_T *ext, *ring, *prefix[2];
    int extIsCval;
    __m512i idx[FJ_W_MAX_LEVELS];
} FJW(state);

static void FJW(fill)(FJW(state) *s, const FJW_T *row, ptrdiff_t a, ptrdiff_t b) {
    ptrdiff_t centre = s->centre, n = s->width, e = s->extendedLength;
    if (b > e) b = e;
    for (ptrdiff_t j = a; j < b && j < centre; j++) s->ext[j] = j >= 0 && s->columns[j] >= 0 ? row[s->columns[j]] : s->cval;
    ptrdiff_t m0 = a > centre ? a : centre, m1 = b < centre + n ? b : centre + n;
    if (m1 > m0) memcpy(s->ext + m0, row + (m0 - centre), (size_t)(m1 - m0) * sizeof(FJW_T));
    for (ptrdiff_t j = a > centre + n ? a : centre + n; j < b; j++)
        s->ext[j] = s->columns[j] >= 0 ? row[s->columns[j]] : s->cval;
}

static void FJW(extend)(FJW(state) *s, const FJW_T *row, int NL) {
    ptrdiff_t first = s->start, last = s->start + FJW_LANES * (s->chunks + NL);
    if (!row) {
        if (!s->extIsCval) {
            ptrdiff_t b = last < s->extendedLength ? last : s->extendedLength;
            for (ptrdiff_t j = first; j < b; j++) s->ext[j] = s->cval;
        }
        s->extIsCval = 1;
        return;
    }
    s->extIsCval = 0;
    if (s->lo > s->hi) {
        FJW(fill)(s, row, first, last);
        return;
    }
    FJW(fill)(s, row, first, s->start + FJW_LANES * s->lo);
    FJW(fill)(s, row, s->start + FJW_LANES * (s->hi + 1), last);
}

// Output vector x (internal columns) of a row: the first lanes (< head) and those from n on are not written.
FJ_WIDE FJ_LONG_INLINE void FJW(store)(FJW_T *out, ptrdiff_t x, ptrdiff_t n, ptrdiff_t head, FJW_V v) {
    if (x + FJW_LANES <= n && (x > 0 || head == 0)) FJW_STOREU(out + x, v);
    else FJW_MSTORE(out + x, (FJW_M)(FJW_MASK(n - x) & ~(x == 0 ? FJW_MASK(head) : 0)), v);
}

// One input row into ring row `d`; with `output`, the prefix step and the output row in the same pass.
// Returns the hazard lanes seen (0: none).
FJ_WIDE FJ_LONG_INLINE uint64_t FJW(row)(int op, int NL, FJW(state) *s, const FJW_T *row, const __m512i *idx, FJW_T *d,
                                         int output, const FJW_T *previous, FJW_T *current, const FJW_T *suffix,
                                         FJW_T *out) {
    FJW(extend)(s, row, NL);
    const ptrdiff_t n = s->n, chunks = s->chunks;
    ptrdiff_t lo = s->lo, hi = s->hi;
    if (!row) { lo = 1; hi = 0; }
    const FJW_T *e = s->ext + s->start;
    const FJW_T *r = row ? row + (s->start - s->centre) : NULL;
#define FJW_SRC(i) ((i) >= lo && (i) <= hi ? FJW_LOADU(r + FJW_LANES * (i)) : FJW_LOAD(e + FJW_LANES * (i)))
    FJW_V prev[FJ_W_MAX_LEVELS], cur[FJ_W_MAX_LEVELS + 1];
    FJW_M bad = 0;
    for (int i = 0; i < NL; i++) {
        cur[0] = FJW_SRC(i);
        bad |= FJW_HAZARD(cur[0]);
        for (int l = 1; l <= i; l++) cur[l] = FJW_OP(op, prev[l - 1], FJW_PERM(prev[l - 1], idx[l - 1], cur[l - 1]));
        for (int l = 0; l <= i; l++) prev[l] = cur[l];
    }
    for (ptrdiff_t i = NL; i < chunks + NL; i++) {
        cur[0] = FJW_SRC(i);
        bad |= FJW_HAZARD(cur[0]);
        for (int l = 1; l <= NL; l++) cur[l] = FJW_OP(op, prev[l - 1], FJW_PERM(prev[l - 1], idx[l - 1], cur[l - 1]));
        for (int l = 0; l < NL; l++) prev[l] = cur[l];
        const FJW_V h = cur[NL];
        const ptrdiff_t x = FJW_LANES * (i - NL);
        FJW_STORE(d + x, h);
        if (output) {
            FJW_V pre = previous ? FJW_OP(op, FJW_LOAD(previous + x), h) : h;
            if (current) FJW_STORE(current + x, pre);
            FJW_V o = FJW_OP(op, FJW_LOAD(suffix + x), pre);
            FJW(store)(out, x, n, s->head, o);
        }
    }
#undef FJW_SRC
    return (uint64_t)bad;
}

FJ_WIDE FJ_LONG_INLINE int FJW(run)(int op, int NL, FJW(state) *s, const FJW_T *const *rows, FJW_T *const *outs,
                                    ptrdiff_t count) {
    const ptrdiff_t n = s->n, k = s->k, stride = s->stride;
    __m512i idx[FJ_W_MAX_LEVELS];
    for (int l = 0; l < NL; l++) idx[l] = s->idx[l];
    FJW_T *ring = s->ring;
    FJW_T *block[256];
#define FJW_SLOT(p) (ring + ((p) % (k + 1)) * stride)
    for (ptrdiff_t p = 0; p < k - 1; p++)
        if (FJW(row)(op, NL, s, rows[p], idx, FJW_SLOT(p), 0, NULL, NULL, NULL, NULL)) return 1;
    for (ptrdiff_t j0 = 0; j0 < count; j0 += k) {
        if (FJW(row)(op, NL, s, rows[j0 + k - 1], idx, FJW_SLOT(j0 + k - 1), 0, NULL, NULL, NULL, NULL)) return 1;
        {
            FJW_T *out = outs[j0] - s->head;
            for (ptrdiff_t i = 0; i < k; i++) block[i] = FJW_SLOT(j0 + i);
            for (ptrdiff_t x = 0; x < n; x += FJW_LANES) {
                FJW_V v = FJW_LOAD(block[k - 1] + x);
                for (ptrdiff_t i = k - 2; i > 0; i--) {
                    v = FJW_OP(op, v, FJW_LOAD(block[i] + x));
                    FJW_STORE(block[i] + x, v);
                }
                if (k > 1) v = FJW_OP(op, v, FJW_LOAD(block[0] + x));
                FJW(store)(out, x, n, s->head, v);
            }
        }
        for (ptrdiff_t t = 1; t < k && j0 + t < count; t++) {
            const ptrdiff_t p = j0 + k + t - 1;
            if (FJW(row)(op, NL, s, rows[p], idx, FJW_SLOT(p), 1, t == 1 ? NULL : s->prefix[t & 1],
                         t + 1 < k ? s->prefix[(t & 1) ^ 1] : NULL, FJW_SLOT(j0 + t), outs[j0 + t] - s->head))
                return 1;
        }
    }
#undef FJW_SLOT
    return 0;
}

#define FJW_VARIANT(OP)                                                                                     \
    FJ_WIDE static int FJW(run_##OP)(int NL, FJW(state) *s, const FJW_T *const *rows, FJW_T *const *outs,   \
                                     ptrdiff_t count) {                                                     \
        switch (NL) {                                                                                       \
        case 0: return FJW(run)(OP, 0, s, rows, outs, count);                                               \
        case 1: return FJW(run)(OP, 1, s, rows, outs, count);                                               \
        case 2: return FJW(run)(OP, 2, s, rows, outs, count);                                               \
        case 3: return FJW(run)(OP, 3, s, rows, outs, count);                                               \
        case 4: return FJW(run)(OP, 4, s, rows, outs, count);                                               \
        case 5: return FJW(run)(OP, 5, s, rows, outs, count);                                               \
        case 6: return FJW(run)(OP, 6, s, rows, outs, count);                                               \
        case 7: return FJW(run)(OP, 7, s, rows, outs, count);                                               \
        default: return FJW(run)(OP, 8, s, rows, outs, count);                                              \
        }                                                                                                   \
    }
FJW_VARIANT(0)
FJW_VARIANT(1)
#undef FJW_VARIANT

// Returns -1 (nothing written) for a shape it does not take, 1 on NaN or -0.0, 0 done.
FJ_WIDE static int FJW(long)(int op, const FJW_T *const *rows, ptrdiff_t k, FJW_T *const *outs, ptrdiff_t count,
                             ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                             ptrdiff_t start, ptrdiff_t length, FJW_T cval) {
    if (!filterjit_box_long_wide_available()) return -1;
    if (count <= 0) return 0;
    if (k < 1 || k > 255 || length < 1 || n < 1 || start < 0 || centre < 0 || start + n + length - 1 > extendedLength)
        return -1;
    FJW(state) s;
    // The output rows' misalignment (when they share it) moves the vectors onto whole lines.
    ptrdiff_t head = 0;
    {
        uintptr_t a0 = (uintptr_t)outs[0] % 64;
        int same = a0 % sizeof(FJW_T) == 0;
        for (ptrdiff_t t = 1; t < count && same; t++) same = (uintptr_t)outs[t] % 64 == a0;
        if (same) head = (ptrdiff_t)(a0 / sizeof(FJW_T));
    }
    const ptrdiff_t width = n;
    n += head;
    start -= head;
    s.n = n; s.k = k; s.start = start; s.centre = centre; s.extendedLength = extendedLength; s.head = head; s.width = width;
    s.columns = columns; s.cval = cval; s.extIsCval = 0;
    int NL = 0;
    ptrdiff_t w = 1, shifts[FJ_W_MAX_LEVELS];
    while (w < length) {
        if (NL == FJ_W_MAX_LEVELS) return -1;
        ptrdiff_t shift = 2 * w < length ? w : length - w;
        if (shift > FJW_LANES) shift = FJW_LANES;
        shifts[NL++] = shift;
        w += shift;
    }
    for (int l = 0; l < NL; l++) s.idx[l] = FJW_IDX(shifts[l]);
    s.chunks = (n + FJW_LANES - 1) / FJW_LANES;
    s.lo = centre > start ? (centre - start + FJW_LANES - 1) / FJW_LANES : 0;
    s.hi = centre + width - start - FJW_LANES >= 0 ? (centre + width - start - FJW_LANES) / FJW_LANES : -1;
    if (s.hi > s.chunks + NL - 1) s.hi = s.chunks + NL - 1;
    // Ring and prefix rows of whole vectors, 320 bytes past a multiple of 4096 apart.
    ptrdiff_t bytes = s.chunks * 64;
    bytes += ((320 - bytes % 4096) + 4096) % 4096;
    s.stride = bytes / (ptrdiff_t)sizeof(FJW_T);
    ptrdiff_t extBytes = 64 * (s.chunks + NL) + 64;
    size_t total = (size_t)(k + 3) * (size_t)bytes + (size_t)extBytes + 64;
    uint8_t *scratch = aligned_alloc(64, (total + 63) / 64 * 64);
    if (!scratch) return -1;
    memset(scratch, 0, total);
    s.ring = (FJW_T *)scratch;
    s.prefix[0] = (FJW_T *)(scratch + (k + 1) * bytes);
    s.prefix[1] = (FJW_T *)(scratch + (k + 2) * bytes);
    // ext + start on a 64-byte boundary (ext itself is only read and written from start on).
    s.ext = (FJW_T *)(scratch + (k + 3) * bytes) - start;
    int result = op ? FJW(run_1)(NL, &s, rows, outs, count) : FJW(run_0)(NL, &s, rows, outs, count);
    free(scratch);
    __atomic_fetch_add(&fj_long_wide_runs, 1, __ATOMIC_RELAXED);
    return result;
}
