// Min/max of 8-bit 2-D boxes with more than 8 rows or columns (see include/box_minmax_long.h and
// docs/window-strategies.md, "min/max"). Rows first, one pass per output row:
//  - along the row: each input row is reduced once, 64 positions per vector, all of them valid: windows
//    doubled per level (1, 2, 4, ... and a last shift to the full length), each level combining a
//    vector with the lanes of the next one by `vpermt2b` (VBMI), one vector behind the level before
//    (the loads run one vector per level ahead). The vectors whose positions all lie inside the row
//    are read from the row itself; the others (the row's ends, through the mode) from `ext`, where
//    only those positions are written per row;
//  - down the columns: van Herk / Gil-Werman over blocks of k rows in a ring of k reduced rows: at a
//    block's start its suffix minima (in place, one pass down the block per 64 columns, the first
//    straight into the output), then per output row t of the block one prefix step over the next
//    block's rows (one prefix row, updated in place) and the window's minimum = op(suffix[t], prefix):
//    3 operations per element whatever k. The entering row of output t takes the ring row of suffix
//    t - 1, which output t - 1 has consumed, so k ring rows suffice; fewer rows keep more of them in L1
//    (Emerald Rapids, 15x15 uint8 2048x2048, C harness: k + 1 ring rows and two alternating prefix
//    rows 0.45-0.48 ms, k rows and one prefix row 0.41-0.42).
// The entering row's reduction, its store into the ring, the prefix step and the output share one
// pass over the row. Ring rows are 320 bytes past a multiple of 4096 apart (4K aliasing, as `RowRing`).
// Measured (2048x2048 uint8, one thread, C harness, Zen 4): 15x15 0.29 ms against memcpy 0.086 ms;
// the fused pass alone over L1-resident rows costs 2.5 ns per 64 outputs (memcpy: 1.3 ns per 64 bytes).
// Where the CPU is bound by the cache rather than by instructions (`filterjit_box_row_pairs()` false: not
// AMD), each pass also prefetches the next entering row (into L1) and the next output row (for writing)
// over the same columns: on Intel Emerald Rapids, whose single core reads L3 at about 30 GB/s, the kernel
// otherwise waits for them (15x15 uint8, 2048x2048, C harness at load 4: 0.52-0.53 -> 0.45 ms, memcpy
// 0.30; prefetching two or three rows ahead was slower). On Zen 4 the same prefetch measured 3-8% slower.
// With `stream` (outputs bigger than the last-level cache: the caller decides, `NonTemporalStores` in NDImage;
// a smaller output is read back faster from L3 than from memory, which cost more than the stream saved),
// the output vectors are moved onto whole 64-byte lines (internal columns shifted by the output rows'
// common misalignment, `head`, as in the wide-lane kernels) and those lines are written with non-temporal
// stores, which skip reading every output line before writing it; each row's first and last line, written
// in part by ordinary stores, is prefetched for writing one row ahead (without that the partial lines cost
// what the stream saved). C harness, 15x15 uint8 2048x2048, one thread, Emerald Rapids, output rows 16
// bytes past a line as NumPy's: 0.43-0.46 -> 0.41-0.42 ms (memcpy 0.29-0.30); rows on lines: 0.42-0.43 ->
// 0.36-0.39.
// The row's ends (the chunks it does not serve itself) are built per row by one load and one `vpermb`
// each where the columns they read lie in one 64-byte window of the row (`fj_long_edge`, planned once per
// call; wrap-like modes and rows under 64 keep the element-by-element fill): the fill had grown to 7% of
// the call with the shifted vectors. Same harness, stream on: 0.40-0.45 -> 0.36-0.37 ms.

#include "box_minmax_long.h"
#include "box_minmax_long_wide_avx2.h"
#include "box_minmax.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define FJ_LONG __attribute__((target("avx512f,avx512bw,avx512dq,avx512vbmi,prfchw")))
#define FJ_LONG_INLINE static inline __attribute__((always_inline))

static int fj_long_avx512(void);

int filterjit_box_long_available(void) { return fj_long_avx512() || filterjit_box_long_avx2(); }

static int fj_long_avx512(void) {
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        __builtin_cpu_init();
        value = filterjit_box_kernels_avx512() && __builtin_cpu_supports("avx512vbmi");
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

// op: 0 unsigned min, 1 unsigned max, 2 signed min, 3 signed max.
FJ_LONG FJ_LONG_INLINE __m512i fj_long_op(int op, __m512i a, __m512i b) {
    switch (op) {
    case 0: return _mm512_min_epu8(a, b);
    case 1: return _mm512_max_epu8(a, b);
    case 2: return _mm512_min_epi8(a, b);
    default: return _mm512_max_epi8(a, b);
    }
}

FJ_LONG_INLINE __mmask64 fj_long_mask(ptrdiff_t left) { return left >= 64 ? ~(__mmask64)0 : left <= 0 ? 0 : (((__mmask64)1 << left) - 1); }

// A chunk of the extended row that the row does not serve itself (i < lo or i > hi), when every column it
// reads lies in one 64-byte window of the row (`vector`): the chunk is
// blend(cvalLanes: cval, else row[base ..< base + 64] permuted by idx), one load and one `vpermb` per row.
typedef struct {
    __m512i idx;
    ptrdiff_t base;
    __mmask64 cvalLanes;
    int vector;
} fj_long_edge;

typedef struct {
    // Internal columns x' = x + head (head: the output rows' misalignment, so that every output vector but
    // a row's first and last is a whole aligned line): n and start are shifted by it; width: the row's length.
    ptrdiff_t n, k, start, centre, extendedLength, stride, head, width;
    // Vectors per row (64 positions each) and the chunks read from the row itself (lo ... hi; the rest
    // from `ext`, which holds the extended row at those positions).
    ptrdiff_t chunks, lo, hi;
    const ptrdiff_t *columns;
    uint8_t cval;
    uint8_t *ext, *ring, *prefix;
    int extIsCval, stream;
    fj_long_edge *edges;   // per chunk (chunks + NL of them; only those outside lo ... hi are set)
    // The chunks holding a position some stored output reads (the rest, read only by the pipeline's
    // lookahead, may hold anything).
    ptrdiff_t neededChunks;
    __m512i idx[8];
} fj_long_state;

// Output vector x (internal columns) of a row `out` (the row's start - head): lanes before head and from n
// on are not written; whole lines are stored non-temporally with `stream`.
FJ_LONG FJ_LONG_INLINE void fj_long_store(const fj_long_state *s, uint8_t *out, ptrdiff_t x, __m512i v) {
    if (x + 64 <= s->n && (x > 0 || s->head == 0)) {
        if (s->stream) _mm512_stream_si512((void *)(out + x), v);
        else _mm512_storeu_si512(out + x, v);
    } else {
        _mm512_mask_storeu_epi8(out + x, fj_long_mask(s->n - x) & ~(x == 0 ? fj_long_mask(s->head) : 0), v);
    }
}

// Extended positions [a, b) of the input row (NULL: cval) into s->ext.
// (Positions from extendedLength on are left as they are: no valid lane reads them.)
static void fj_long_fill(fj_long_state *s, const uint8_t *row, ptrdiff_t a, ptrdiff_t b) {
    ptrdiff_t centre = s->centre, n = s->width, e = s->extendedLength;
    if (b > e) b = e;
    // (Positions before 0 feed only the lanes before `head`, which are never stored.)
    for (ptrdiff_t j = a; j < b && j < centre; j++) s->ext[j] = j >= 0 && s->columns[j] >= 0 ? row[s->columns[j]] : s->cval;
    ptrdiff_t m0 = a > centre ? a : centre, m1 = b < centre + n ? b : centre + n;
    if (m1 > m0) memcpy(s->ext + m0, row + (m0 - centre), (size_t)(m1 - m0));
    for (ptrdiff_t j = a > centre + n ? a : centre + n; j < b; j++)
        s->ext[j] = j < e && s->columns[j] >= 0 ? row[s->columns[j]] : s->cval;
}

// The gather plan of chunk i (see fj_long_edge): positions before 0 and from extendedLength on are read by
// no lane that is stored, so they take any column.
static void fj_long_plan_edge(fj_long_state *s, ptrdiff_t i) {
    fj_long_edge *edge = &s->edges[i];
    ptrdiff_t cols[64], lowest = -1, highest = -1;
    __mmask64 cvalLanes = 0;
    for (int l = 0; l < 64; l++) {
        const ptrdiff_t p = s->start + 64 * i + l;
        cols[l] = -1;
        if (p < 0 || p >= s->extendedLength) continue;
        const ptrdiff_t c = p >= s->centre && p < s->centre + s->width ? p - s->centre : s->columns[p];
        if (c < 0) { cvalLanes |= (__mmask64)1 << l; continue; }
        cols[l] = c;
        if (lowest < 0 || c < lowest) lowest = c;
        if (c > highest) highest = c;
    }
    edge->vector = 0;
    if (s->width < 64) return;
    ptrdiff_t base = lowest < 0 ? 0 : lowest;
    if (base > s->width - 64) base = s->width - 64;
    if (lowest >= 0 && (lowest < base || highest >= base + 64)) return;
    uint8_t idx[64];
    for (int l = 0; l < 64; l++) idx[l] = (uint8_t)(cols[l] >= 0 ? cols[l] - base : 0);
    memcpy(&edge->idx, idx, 64);
    edge->base = base;
    edge->cvalLanes = cvalLanes;
    edge->vector = 1;
}

// Chunk i of the extended row into s->ext: by its gather plan, or element by element.
FJ_LONG FJ_LONG_INLINE void fj_long_extend_chunk(fj_long_state *s, const uint8_t *row, ptrdiff_t i) {
    const fj_long_edge *edge = &s->edges[i];
    if (edge->vector) {
        const __m512i gathered = _mm512_permutexvar_epi8(edge->idx, _mm512_loadu_si512(row + edge->base));
        _mm512_store_si512(s->ext + s->start + 64 * i, _mm512_mask_blend_epi8(edge->cvalLanes, gathered, _mm512_set1_epi8((char)s->cval)));
    } else {
        fj_long_fill(s, row, s->start + 64 * i, s->start + 64 * i + 64);
    }
}

// Makes s->ext hold the positions of the chunks that `row` does not serve itself and some output reads.
FJ_LONG static void fj_long_extend(fj_long_state *s, const uint8_t *row) {
    const ptrdiff_t end = s->neededChunks;
    if (!row) {
        if (!s->extIsCval) memset(s->ext + s->start, s->cval, (size_t)(64 * end));
        s->extIsCval = 1;
        return;
    }
    s->extIsCval = 0;
    // (Only chunks below `end` have a gather plan.)
    const ptrdiff_t lo = s->lo > s->hi || s->lo > end ? end : s->lo, hi = s->lo > s->hi ? end : s->hi;
    for (ptrdiff_t i = 0; i < lo; i++) fj_long_extend_chunk(s, row, i);
    for (ptrdiff_t i = hi + 1; i < end; i++) fj_long_extend_chunk(s, row, i);
}

// One input row reduced along the row into the ring row `d` (64 positions per vector, all valid: each
// level combines a vector with the next one's lanes by `vpermt2b`, a level behind the one before; the
// loads run NL vectors ahead). With `output`: the prefix step (`previous` -> `current`, NULL: none; the
// same row: in place) and the output row op(suffix, prefix) in the same pass. `nextRow` / `nextOut`
// (NULL: none): the rows the next pass reads and writes, prefetched over the same columns.
FJ_LONG FJ_LONG_INLINE void fj_long_row(int op, int NL, fj_long_state *s, const uint8_t *row, const __m512i *idx,
                                        uint8_t *d, int output, const uint8_t *previous, uint8_t *current,
                                        const uint8_t *suffix, uint8_t *out, const uint8_t *nextRow,
                                        uint8_t *nextOut) {
    fj_long_extend(s, row);
    const ptrdiff_t chunks = s->chunks;
    ptrdiff_t lo = s->lo, hi = s->hi;
    if (!row) { lo = 1; hi = 0; }
    const uint8_t *e = s->ext + s->start;
    const uint8_t *r = row ? row + (s->start - s->centre) : NULL;
#define FJ_SRC(i) ((i) >= lo && (i) <= hi ? _mm512_loadu_si512(r + 64 * (i)) : _mm512_load_si512(e + 64 * (i)))
    __m512i prev[8], cur[9];
    for (int i = 0; i < NL; i++) {
        cur[0] = FJ_SRC(i);
        for (int l = 1; l <= i; l++) cur[l] = fj_long_op(op, prev[l - 1], _mm512_permutex2var_epi8(prev[l - 1], idx[l - 1], cur[l - 1]));
        for (int l = 0; l <= i; l++) prev[l] = cur[l];
    }
    for (ptrdiff_t i = NL; i < chunks + NL; i++) {
        cur[0] = FJ_SRC(i);
        for (int l = 1; l <= NL; l++) cur[l] = fj_long_op(op, prev[l - 1], _mm512_permutex2var_epi8(prev[l - 1], idx[l - 1], cur[l - 1]));
        for (int l = 0; l < NL; l++) prev[l] = cur[l];
        const __m512i h = cur[NL];
        const ptrdiff_t x = 64 * (i - NL);
        if (nextRow) _mm_prefetch((const char *)(nextRow + x), _MM_HINT_T0);
        if (nextOut) _m_prefetchw(nextOut + x);
        _mm512_store_si512(d + x, h);
        if (output) {
            __m512i pre = previous ? fj_long_op(op, _mm512_load_si512(previous + x), h) : h;
            if (current) _mm512_store_si512(current + x, pre);
            __m512i o = fj_long_op(op, _mm512_load_si512(suffix + x), pre);
            fj_long_store(s, out, x, o);
        }
    }
#undef FJ_SRC
}

FJ_LONG FJ_LONG_INLINE void fj_long_run(int op, int NL, fj_long_state *s, const uint8_t *const *rows,
                                        uint8_t *const *outs, ptrdiff_t count) {
    const ptrdiff_t n = s->n, k = s->k, stride = s->stride;
    __m512i idx[8];
    for (int l = 0; l < NL; l++) idx[l] = s->idx[l];
    uint8_t *ring = s->ring;
    // The block's ring rows (a local array: 8-bit stores may alias anything else).
    uint8_t *block[256];
#define FJ_SLOT(p) (ring + ((p) % k) * stride)
    // The rows a pass prefetches for the next one (input rows p ..< count + k - 1, output rows t ..< count;
    // rows outside the image in a constant mode are NULL).
    const int prefetch = !filterjit_box_row_pairs();
#define FJ_NEXT_ROW(p) (prefetch && (p) < count + k - 1 ? rows[p] : NULL)
#define FJ_NEXT_OUT(t) (prefetch && !s->stream && (t) < count ? outs[t] - s->head : NULL)
#define FJ_EDGES(t) do { if (s->stream && (t) < count) { _m_prefetchw(outs[t]); _m_prefetchw(outs[t] + s->width - 1); } } while (0)
    for (ptrdiff_t p = 0; p < k - 1; p++)
        fj_long_row(op, NL, s, rows[p], idx, FJ_SLOT(p), 0, NULL, NULL, NULL, NULL, NULL, NULL);
    for (ptrdiff_t j0 = 0; j0 < count; j0 += k) {
        FJ_EDGES(j0);
        fj_long_row(op, NL, s, rows[j0 + k - 1], idx, FJ_SLOT(j0 + k - 1), 0, NULL, NULL, NULL, NULL,
                    FJ_NEXT_ROW(j0 + k), FJ_NEXT_OUT(j0));
        // Suffix minima of the block, in place; the first is output row j0.
        {
            uint8_t *out = outs[j0] - s->head;
            for (ptrdiff_t i = 0; i < k; i++) block[i] = FJ_SLOT(j0 + i);
            for (ptrdiff_t x = 0; x < n; x += 64) {
                __m512i v = _mm512_load_si512(block[k - 1] + x);
                for (ptrdiff_t i = k - 2; i > 0; i--) {
                    v = fj_long_op(op, v, _mm512_load_si512(block[i] + x));
                    _mm512_store_si512(block[i] + x, v);
                }
                if (k > 1) v = fj_long_op(op, v, _mm512_load_si512(block[0] + x));
                fj_long_store(s, out, x, v);
            }
        }
        for (ptrdiff_t t = 1; t < k && j0 + t < count; t++) {
            const ptrdiff_t p = j0 + k + t - 1;
            FJ_EDGES(j0 + t + 1);
            fj_long_row(op, NL, s, rows[p], idx, FJ_SLOT(p), 1, t == 1 ? NULL : s->prefix,
                        t + 1 < k ? s->prefix : NULL, FJ_SLOT(j0 + t), outs[j0 + t] - s->head,
                        FJ_NEXT_ROW(p + 1), FJ_NEXT_OUT(j0 + t + 1));
        }
    }
#undef FJ_NEXT_OUT
#undef FJ_NEXT_ROW
#undef FJ_SLOT
}

#define FJ_LONG_VARIANTS(OP)                                                                                \
    FJ_LONG static void fj_long_run_##OP(int NL, fj_long_state *s, const uint8_t *const *rows, uint8_t *const *outs, \
                                         ptrdiff_t count) {                                                \
        switch (NL) {                                                                                      \
        case 0: fj_long_run(OP, 0, s, rows, outs, count); break;                                            \
        case 1: fj_long_run(OP, 1, s, rows, outs, count); break;                                            \
        case 2: fj_long_run(OP, 2, s, rows, outs, count); break;                                            \
        case 3: fj_long_run(OP, 3, s, rows, outs, count); break;                                            \
        case 4: fj_long_run(OP, 4, s, rows, outs, count); break;                                            \
        case 5: fj_long_run(OP, 5, s, rows, outs, count); break;                                            \
        default: fj_long_run(OP, 6, s, rows, outs, count); break;                                           \
        }                                                                                                  \
    }
FJ_LONG_VARIANTS(0)
FJ_LONG_VARIANTS(1)
FJ_LONG_VARIANTS(2)
FJ_LONG_VARIANTS(3)

// ---- Columns first (tenth session): down the columns on the input rows themselves, then along the row ----
// The same van Herk / Gil-Werman blocks down the columns, but over the raw input rows: at a block's start
// its suffix minima of the input rows (k - 2 scratch rows; the last is the input row itself), then per
// output row one prefix step (one prefix row) and op(suffix, prefix); the row of column minima that gives
// is reduced along the row in registers, by the same doubling levels, and stored. No ring of reduced rows:
// a store less per output vector, and the rows' ends are built once per output row from the column minima
// (the mode's extension commutes with the minimum down a column: every row extends through the same
// columns). The last level's two operands are taken at the window's offset (`s`, by `vpermt2b` over
// neighbouring chunks), so chunks stay on the row's columns. Taken when the extension of the row's ends
// reads only the row's first 64 columns and its last 128 (not `wrap`-like maps), rows of more than 64
// columns, windows starting left of the output column by at least the last level's shift (centred odd
// windows do), no `stream`; else the rows-first kernel. C harness, 15x15 uint8 2048x2048, Emerald Rapids,
// interleaved: 0.361-0.400 ms (median 0.391) against rows first's 0.394-0.435 (0.403), memcpy 0.29-0.30;
// 256x2048 (in L2) 0.039-0.040 against 0.046-0.047.
// The chunks lie on the first output row's 64-byte lines (`fj_cf_plan`, shift a; the pass compiled per shift or
// none, SH): Zen 4, C harness, 2048x2048 with rows 16 bytes past a line as NumPy's, 31x31 0.372 -> 0.289 ms,
// 15x15 0.252 -> 0.234-0.245 (memcpy 0.085).

typedef struct {
    ptrdiff_t k, J;            // box rows; 64-column chunks of the row (J >= 2)
    ptrdiff_t a;               // the chunks' shift: chunk j holds columns 64 j - a ..< 64 j - a + 64 (0 <= a < 64)
    uint8_t cval;
    __m512i idxA, idxB;        // the last level's operands: D_w at offsets -s and shl - s (both <= 0) over chunks (i-1, i)
    __m512i leftIdx, tailIdx, nextIdx;   // the row's ends: vpermb of chunk 0; vpermt2b of chunks (J-2, J-1)
    __m512i firstIdx;                    // a > 0: chunk 0's lanes before column 0, vpermb of chunk 0
    __mmask64 leftCval, tailReal, tailCval, nextCval, lastMask, firstEdge, firstCval, firstReal;
    uint8_t *suffixRows;       // suffix rows 1 ... k - 2 of a block (scratch, `stride` apart)
    ptrdiff_t stride;
    uint8_t *prefix;
    const uint8_t *cvalRow;    // n bytes (rounded up to whole vectors) of cval: rows outside the image
} fj_cf_state;

// Lanes i -> i + 2^l of concat(a, b): doubling level l's operand. A constant (every level but the last
// shifts by its window, 1, 2, 4, ...), so that the compiler can pick cheaper shuffles than `vpermt2b`
// (`valignd`, `valignq` + `vpalignr`): C harness, 15x15 with the input and output in cache, 0.046 ->
// 0.038 ms against a table of indices read at run time.
FJ_LONG FJ_LONG_INLINE __m512i fj_cf_level(int l, __m512i a, __m512i b) {
    const __m512i iota = _mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44,
                                         43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24,
                                         23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    return _mm512_permutex2var_epi8(a, _mm512_add_epi8(iota, _mm512_set1_epi8((char)(1 << l))), b);
}

// One output row: the column minima of chunk j (`v`) come from the pass's vertical step; FJ_CF_FEED feeds
// them (and the ends built from them) through the levels and stores the outputs as they complete: d_ is
// D_w of chunk i = q - (NL - 1) for the q-th chunk fed (q from -1), and output chunk i takes D_w at offsets
// -s and shl - s, both in -63 ... 0 (chunks i - 1 and i; B0: shl == s, chunk i itself). LAST: the row's last output
// chunk (stores masked by lastMask); FIRST: the feed may store output chunk 0 (masked by firstReal where a > 0).
#define FJ_CF_FEED(V, Q)                                                                                      \
    do {                                                                                                       \
        __m512i cur_[8];                                                                                       \
        cur_[0] = (V);                                                                                         \
        for (int l = 1; l < NL; l++) cur_[l] = fj_long_op(op, prev[l - 1], fj_cf_level(l - 1, prev[l - 1], cur_[l - 1])); \
        for (int l = 0; l < NL - 1; l++) prev[l] = cur_[l];                                                    \
        const __m512i d_ = cur_[NL - 1];                                                                       \
        const ptrdiff_t i_ = (Q) - NL + 1;                                                                     \
        if (i_ >= 0) {                                                                                         \
            const __m512i a_ = _mm512_permutex2var_epi8(h1, idxA, d_);                                         \
            const __m512i o_ = fj_long_op(op, a_, B0 ? d_ : _mm512_permutex2var_epi8(h1, idxB, d_));           \
            if (LAST) _mm512_mask_storeu_epi8(out + 64 * i_, lastMask, o_);                                    \
            else if (FIRST && i_ == 0 && a) _mm512_mask_storeu_epi8(out, firstReal, o_);                       \
            else _mm512_storeu_si512(out + 64 * i_, o_);                                                       \
        }                                                                                                      \
        h1 = d_;                                                                                               \
    } while (0)

// The vertical step of chunk j (rows and output at grid position 0, column -a: see fj_cf_run; loads masked
// by M): kind 0, the block's suffix pass (rows block[0 ..< k], suffix rows stored; the output row's column
// minima = op of all k); kind 1, a prefix step (the entering row; the prefix row loaded with loadP, stored
// with storeP; column minima = op(sfx, prefix)).
#define FJ_CF_VERTICAL(LOAD)                                                                                   \
    do {                                                                                                       \
        if (kind == 0) {                                                                                       \
            v = LOAD(block[k - 1] + x);                                                                        \
            for (ptrdiff_t i = k - 2; i > 0; i--) {                                                            \
                v = fj_long_op(op, v, LOAD(block[i] + x));                                                     \
                _mm512_store_si512(suffix[i] + x, v);                                                          \
            }                                                                                                  \
            if (k > 1) v = fj_long_op(op, v, LOAD(block[0] + x));                                              \
        } else {                                                                                               \
            const __m512i e_ = LOAD(entering + x);                                                             \
            const __m512i p_ = loadP ? fj_long_op(op, _mm512_load_si512(P + x), e_) : e_;                      \
            if (storeP) _mm512_store_si512(P + x, p_);                                                         \
            v = fj_long_op(op, LOAD(sfx + x), p_);                                                             \
        }                                                                                                      \
        if (nextRow) _mm_prefetch((const char *)(nextRow + x), _MM_HINT_T0);                                  \
        if (nextOut) _m_prefetchw(nextOut + x);                                                                \
    } while (0)
#define FJ_CF_LOAD(p) _mm512_loadu_si512(p)
#define FJ_CF_LOAD_FIRST(p) _mm512_maskz_loadu_epi8(firstReal, p)
#define FJ_CF_LOAD_LAST(p) _mm512_maskz_loadu_epi8(lastMask, p)

FJ_LONG FJ_LONG_INLINE void fj_cf_pass(int op, int NL, int B0, int SH, const fj_cf_state *c, int kind,
                                       const uint8_t *const *block, uint8_t *const *suffix, const uint8_t *entering,
                                       int loadP, int storeP, const uint8_t *sfx, uint8_t *out, const uint8_t *nextRow,
                                       uint8_t *nextOut) {
    // SH (a constant): the variant for a > 0; without it a is 0 and the code as before the shift.
    const ptrdiff_t J = c->J, k = c->k, a = SH ? c->a : 0;
    uint8_t *const P = c->prefix;
    const __m512i idxA = c->idxA, idxB = c->idxB, cv = _mm512_set1_epi8((char)c->cval);
    const __mmask64 lastMask = c->lastMask, firstReal = c->firstReal;
    // h1: D_w of the chunk before the last one fed (d_).
    __m512i prev[8], h1 = _mm512_setzero_si512(), v;
    for (int l = 0; l < 8; l++) prev[l] = h1;
    {
        const ptrdiff_t x = 0;
        if (SH && a) {
            // Columns -a ..< 0 (chunk 0's first lanes, not loaded) through the mode, from chunk 0's loaded lanes.
            FJ_CF_VERTICAL(FJ_CF_LOAD_FIRST);
            v = _mm512_mask_blend_epi8(c->firstEdge, v,
                                       _mm512_mask_blend_epi8(c->firstCval, _mm512_permutexvar_epi8(c->firstIdx, v), cv));
        } else {
            FJ_CF_VERTICAL(FJ_CF_LOAD);
        }
        enum { LAST = 0 };
        const int FIRST = SH;
        FJ_CF_FEED(_mm512_mask_blend_epi8(c->leftCval, _mm512_permutexvar_epi8(c->leftIdx, v), cv), -1);
        FJ_CF_FEED(v, 0);
    }
    __m512i vPrev = v;
    // With SH, chunks 1 ... NL - 1 (output chunk 0 is stored as chunk NL - 1 is fed), then the rest in a loop
    // without that test.
    ptrdiff_t j = 1;
    if (SH) {
        for (; j < J - 1 && j < NL; j++) {
            const ptrdiff_t x = 64 * j;
            FJ_CF_VERTICAL(FJ_CF_LOAD);
            enum { LAST = 0, FIRST = 1 };
            FJ_CF_FEED(v, j);
            vPrev = v;
        }
    }
    for (; j < J - 1; j++) {
        const ptrdiff_t x = 64 * j;
        FJ_CF_VERTICAL(FJ_CF_LOAD);
        enum { LAST = 0, FIRST = 0 };
        FJ_CF_FEED(v, j);
        vPrev = v;
    }
    {
        // The last chunk (its lanes from n on through the mode) and the chunk after it, from the row's last
        // 128 columns; the NL - 2 chunks fed after that only fill the pipeline (no stored lane reads them).
        const ptrdiff_t x = 64 * (J - 1);
        FJ_CF_VERTICAL(FJ_CF_LOAD_LAST);
        const __m512i tail = _mm512_permutex2var_epi8(vPrev, c->tailIdx, v);
        const __m512i next = _mm512_mask_blend_epi8(c->nextCval, _mm512_permutex2var_epi8(vPrev, c->nextIdx, v), cv);
        v = _mm512_mask_blend_epi8(c->tailReal, _mm512_mask_blend_epi8(c->tailCval, tail, cv), v);
        int LAST = NL == 1;
        const int FIRST = SH;
        FJ_CF_FEED(v, J - 1);
        for (int q = 0; q + 1 < NL; q++) {
            LAST = q + 2 == NL;
            FJ_CF_FEED(next, J + q);
        }
    }
}
#undef FJ_CF_LOAD_LAST
#undef FJ_CF_LOAD_FIRST
#undef FJ_CF_LOAD
#undef FJ_CF_VERTICAL
#undef FJ_CF_FEED

FJ_LONG FJ_LONG_INLINE void fj_cf_run(int op, int NL, int B0, int SH, const fj_cf_state *plan, const uint8_t *const *rows,
                                      uint8_t *const *outs, ptrdiff_t count) {
    // Local copies: the passes' 8-bit stores may alias anything but locals whose address does not escape,
    // so these stay in registers (or are not reloaded after every store).
    const fj_cf_state local = *plan;
    const fj_cf_state *c = &local;
    const ptrdiff_t k = c->k;
    const int prefetch = !filterjit_box_row_pairs();
    const uint8_t *block[256];
    uint8_t *suffix[256];
    for (ptrdiff_t i = 1; i + 1 < k; i++) suffix[i] = c->suffixRows + (i - 1) * c->stride;
    // Input and output rows from grid position 0 (column -a, never read or written below column 0); the scratch
    // rows hold grid positions from their start.
    const ptrdiff_t a = SH ? c->a : 0;
#define FJ_CF_ROW(p) ((rows[p] ? rows[p] : c->cvalRow) - a)
#define FJ_CF_NEXT_ROW(p) (prefetch && (p) < count + k - 1 && rows[p] ? rows[p] - a : NULL)
#define FJ_CF_NEXT_OUT(t) (prefetch && (t) < count ? outs[t] - a : NULL)
    for (ptrdiff_t j0 = 0; j0 < count; j0 += k) {
        for (ptrdiff_t i = 0; i < k; i++) block[i] = FJ_CF_ROW(j0 + i);
        fj_cf_pass(op, NL, B0, SH, c, 0, block, suffix, NULL, 0, 0, NULL, outs[j0] - a, FJ_CF_NEXT_ROW(j0 + k),
                   FJ_CF_NEXT_OUT(j0 + 1));
        for (ptrdiff_t t = 1; t < k && j0 + t < count; t++)
            fj_cf_pass(op, NL, B0, SH, c, 1, NULL, suffix, FJ_CF_ROW(j0 + k + t - 1), t > 1, t + 1 < k,
                       t == k - 1 ? block[k - 1] : suffix[t], outs[j0 + t] - a, FJ_CF_NEXT_ROW(j0 + k + t),
                       FJ_CF_NEXT_OUT(j0 + t + 1));
    }
#undef FJ_CF_NEXT_OUT
#undef FJ_CF_NEXT_ROW
#undef FJ_CF_ROW
}

#define FJ_CF_VARIANTS(OP, SH)                                                                             \
    FJ_LONG static void fj_cf_run_##OP##_##SH(int NL, int B0, const fj_cf_state *c, const uint8_t *const *rows, \
                                              uint8_t *const *outs, ptrdiff_t count) {                     \
        switch (NL * 2 + (B0 != 0)) {                                                                      \
        case 2: fj_cf_run(OP, 1, 0, SH, c, rows, outs, count); break;                                       \
        case 3: fj_cf_run(OP, 1, 1, SH, c, rows, outs, count); break;                                       \
        case 4: fj_cf_run(OP, 2, 0, SH, c, rows, outs, count); break;                                       \
        case 5: fj_cf_run(OP, 2, 1, SH, c, rows, outs, count); break;                                       \
        case 6: fj_cf_run(OP, 3, 0, SH, c, rows, outs, count); break;                                       \
        case 7: fj_cf_run(OP, 3, 1, SH, c, rows, outs, count); break;                                       \
        case 8: fj_cf_run(OP, 4, 0, SH, c, rows, outs, count); break;                                       \
        case 9: fj_cf_run(OP, 4, 1, SH, c, rows, outs, count); break;                                       \
        case 10: fj_cf_run(OP, 5, 0, SH, c, rows, outs, count); break;                                      \
        case 11: fj_cf_run(OP, 5, 1, SH, c, rows, outs, count); break;                                      \
        case 12: fj_cf_run(OP, 6, 0, SH, c, rows, outs, count); break;                                      \
        default: fj_cf_run(OP, 6, 1, SH, c, rows, outs, count); break;                                      \
        }                                                                                                  \
    }
FJ_CF_VARIANTS(0, 0)
FJ_CF_VARIANTS(1, 0)
FJ_CF_VARIANTS(2, 0)
FJ_CF_VARIANTS(3, 0)
FJ_CF_VARIANTS(0, 1)
FJ_CF_VARIANTS(1, 1)
FJ_CF_VARIANTS(2, 1)
FJ_CF_VARIANTS(3, 1)

// -1: the default, where the call allows it (FILTERJIT_BOX_COLUMNS_FIRST=0 in the environment: never).
static int fj_cf_enabled = -1;
void filterjit_box_long_set_columns_first(int enabled) { __atomic_store_n(&fj_cf_enabled, enabled, __ATOMIC_RELAXED); }
static int fj_cf_allowed(void) {
    static int fromEnvironment = -1;
    const int set = __atomic_load_n(&fj_cf_enabled, __ATOMIC_RELAXED);
    if (set >= 0) return set;
    int value = __atomic_load_n(&fromEnvironment, __ATOMIC_RELAXED);
    if (value < 0) {
        const char *env = getenv("FILTERJIT_BOX_COLUMNS_FIRST");
        value = !(env && env[0] == '0');
        __atomic_store_n(&fromEnvironment, value, __ATOMIC_RELAXED);
    }
    return value;
}
static uint64_t fj_cf_runs = 0, fj_cf_shifted_runs = 0;
uint64_t filterjit_box_long_columns_first_runs(void) { return __atomic_load_n(&fj_cf_runs, __ATOMIC_RELAXED); }
uint64_t filterjit_box_long_shifted_runs(void) { return __atomic_load_n(&fj_cf_shifted_runs, __ATOMIC_RELAXED); }

// The chunks' grid for shift a (chunk j: columns 64 j - a ..< 64 j - a + 64) and the row's ends through the mode:
// 0, or -1 where an end reads a column outside the chunks it is built from (chunk 0's loaded lanes for the left
// end; chunks J - 2 and J - 1 for the right one).
FJ_LONG static int fj_cf_plan(fj_cf_state *c, ptrdiff_t a, ptrdiff_t n, ptrdiff_t s, ptrdiff_t length,
                              const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre) {
    const ptrdiff_t J = (n + a + 63) / 64;
    if (J < 2) return -1;
    c->a = a;
    c->J = J;
    // The row's ends: column cc (< 0 or >= n) of the row of column minima is extended position centre + cc. Only
    // columns that some stored output reads are planned: -s ... n - 1 - s + length - 1.
    const ptrdiff_t lastRead = n - 1 - s + length - 1, window = 64 * (J - 2) - a;
    uint8_t left[64], first[64], tail[64], next[64];
    __mmask64 leftCval = 0, tailReal = 0, tailCval = 0, nextCval = 0, firstEdge = 0, firstCval = 0;
    for (int l = 0; l < 64; l++) {
        left[l] = first[l] = tail[l] = next[l] = 0;
        // Chunk -1, and chunk 0's lanes before column 0: lane col + a of chunk 0 (its loaded lanes are a ..< 64).
        for (int which = 0; which < 2; which++) {
            const ptrdiff_t cl = which == 0 ? l - 64 - a : l - a;
            if (cl >= 0 || cl < -s) continue;
            const ptrdiff_t p = centre + cl;
            if (p < 0 || p >= extendedLength) return -1;
            const ptrdiff_t col = columns[p];
            if (which == 1) firstEdge |= (__mmask64)1 << l;
            if (col < 0) *(which == 0 ? &leftCval : &firstCval) |= (__mmask64)1 << l;
            else if (col + a < 64 && col < n) (which == 0 ? left : first)[l] = (uint8_t)(col + a);
            else return -1;
        }
        for (int which = 0; which < 2; which++) {
            const ptrdiff_t cc = 64 * (J - 1 + which) - a + l;
            if (which == 0 && cc < n) { tailReal |= (__mmask64)1 << l; continue; }
            if (cc > lastRead) continue;
            const ptrdiff_t p = centre + cc;
            if (p < 0 || p >= extendedLength) return -1;
            const ptrdiff_t col = columns[p];
            __mmask64 *cvalMask = which == 0 ? &tailCval : &nextCval;
            uint8_t *idx = which == 0 ? tail : next;
            if (col < 0) *cvalMask |= (__mmask64)1 << l;
            else if (col >= window && col < n) idx[l] = (uint8_t)(col - window);
            else return -1;
        }
    }
    c->leftIdx = _mm512_loadu_si512(left); c->tailIdx = _mm512_loadu_si512(tail); c->nextIdx = _mm512_loadu_si512(next);
    c->firstIdx = _mm512_loadu_si512(first);
    c->leftCval = leftCval; c->tailReal = tailReal; c->tailCval = tailCval; c->nextCval = nextCval;
    c->firstEdge = firstEdge; c->firstCval = firstCval;
    c->firstReal = ~fj_long_mask(a);
    c->lastMask = fj_long_mask(n + a - 64 * (J - 1));
    return 0;
}

// Plans the columns-first run (see above) and runs it: 0 done, -1 when it does not take this call (nothing
// written) or its scratch cannot be allocated.
FJ_LONG static int fj_cf(int op, const uint8_t *const *rows, ptrdiff_t k, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                         const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                         ptrdiff_t length, uint8_t cval, int NL, const ptrdiff_t *shifts) {
    if (!fj_cf_allowed()) return -1;
    const ptrdiff_t s = centre - start;
    // (Both operands of the last level at offsets -s and shl - s in -63 ... 0: windows starting at or left of
    // the output column by at least the last shift, as centred odd windows do.)
    if (NL < 1 || NL > 6 || (n + 63) / 64 < 2 || s > 63 || shifts[NL - 1] > s) return -1;
    fj_cf_state c;
    c.k = k; c.cval = cval;
    // (The levels before the last shift by 1, 2, 4, ...: fj_cf_level.)
    for (int l = 0; l + 1 < NL; l++)
        if (shifts[l] != (ptrdiff_t)1 << l) return -1;
    // The last level: op(D_w[x - s], D_w[x - s + shl]) for output column x, lanes of concat(chunk i - 1, chunk i).
    {
        uint8_t a[64], b[64];
        for (int i = 0; i < 64; i++) {
            a[i] = (uint8_t)(64 - s + i);
            b[i] = (uint8_t)(64 + shifts[NL - 1] - s + i);
        }
        c.idxA = _mm512_loadu_si512(a);
        c.idxB = _mm512_loadu_si512(b);
    }
    const int B0 = shifts[NL - 1] == s;
    // The chunks on the output rows' 64-byte lines (a: their offset past one, where they all share it), so that the
    // stores, and the loads of rows at the same offset (a NumPy array's), are aligned; a = 0 (the row's own grid)
    // where the rows' offsets differ (the shifted grid's extra chunk would buy no aligned stores) or an end of the row
    // reads columns outside the chunks it is built from on the shifted grid.
    ptrdiff_t aligned = (ptrdiff_t)((uintptr_t)outs[0] % 64);
    for (ptrdiff_t t = 1; t < count && aligned; t++)
        if ((ptrdiff_t)((uintptr_t)outs[t] % 64) != aligned) aligned = 0;
    if (fj_cf_plan(&c, aligned, n, s, length, columns, extendedLength, centre) != 0 &&
        (aligned == 0 || fj_cf_plan(&c, 0, n, s, length, columns, extendedLength, centre) != 0))
        return -1;
    const ptrdiff_t J = c.J;
    // Scratch: k - 2 suffix rows and the prefix row (whole vectors, 320 bytes past a multiple of 4096 apart,
    // as the ring's), and a row of cval.
    ptrdiff_t bytes = J * 64;
    bytes += ((320 - bytes % 4096) + 4096) % 4096;
    const ptrdiff_t suffixRows = k > 2 ? k - 2 : 0;
    uint8_t *scratch = aligned_alloc(64, (size_t)(suffixRows + 2) * (size_t)bytes);
    if (!scratch) return -1;
    c.suffixRows = scratch;
    c.stride = bytes;
    c.prefix = scratch + suffixRows * bytes;
    uint8_t *cvalRow = scratch + (suffixRows + 1) * bytes;
    memset(cvalRow, cval, (size_t)(J * 64));
    c.cvalRow = cvalRow;
    switch (op * 2 + (c.a > 0)) {
    case 0: fj_cf_run_0_0(NL, B0, &c, rows, outs, count); break;
    case 1: fj_cf_run_0_1(NL, B0, &c, rows, outs, count); break;
    case 2: fj_cf_run_1_0(NL, B0, &c, rows, outs, count); break;
    case 3: fj_cf_run_1_1(NL, B0, &c, rows, outs, count); break;
    case 4: fj_cf_run_2_0(NL, B0, &c, rows, outs, count); break;
    case 5: fj_cf_run_2_1(NL, B0, &c, rows, outs, count); break;
    case 6: fj_cf_run_3_0(NL, B0, &c, rows, outs, count); break;
    default: fj_cf_run_3_1(NL, B0, &c, rows, outs, count); break;
    }
    free(scratch);
    __atomic_fetch_add(&fj_cf_runs, 1, __ATOMIC_RELAXED);
    if (c.a > 0) __atomic_fetch_add(&fj_cf_shifted_runs, 1, __ATOMIC_RELAXED);
    return 0;
}

static uint64_t fj_long_runs = 0;
uint64_t filterjit_box_long_runs(void) { return __atomic_load_n(&fj_long_runs, __ATOMIC_RELAXED); }

FJ_LONG static int fj_long(int op, const uint8_t *const *rows, ptrdiff_t k, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                           const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                           ptrdiff_t length, uint8_t cval, int stream) {
    if (!fj_long_avx512()) return -1;
    if (count <= 0) return 0;
    if (k < 1 || k > 255 || length < 1 || length > 64 || n < 1 || start < 0 || centre < 0 ||
        start + n + length - 1 > extendedLength)
        return -1;
    fj_long_state s;
    // With `stream`, the output rows' misalignment (when they share it) moves the vectors onto whole lines.
    ptrdiff_t head = 0;
    if (stream) {
        const uintptr_t a0 = (uintptr_t)outs[0] % 64;
        for (ptrdiff_t t = 1; t < count && stream; t++) stream = (uintptr_t)outs[t] % 64 == a0;
        if (stream) head = (ptrdiff_t)a0;
    }
    s.width = n;
    s.head = head;
    s.stream = stream;
    n += head;
    start -= head;
    s.n = n; s.k = k; s.start = start; s.centre = centre; s.extendedLength = extendedLength;
    s.columns = columns; s.cval = cval; s.extIsCval = 0;
    // Windows doubled from 1 (the last shift grows them to the full length): at most 6 levels for 64 columns.
    int NL = 0;
    ptrdiff_t w = 1, shifts[8];
    while (w < length) {
        ptrdiff_t shift = 2 * w < length ? w : length - w;
        shifts[NL++] = shift;
        w += shift;
    }
    // (Without `stream`, head is 0: start + head is the caller's start.)
    if (!stream && fj_cf(op, rows, k, outs, count, s.width, columns, extendedLength, centre, start + head, length, cval, NL,
                         shifts) == 0) {
        __atomic_fetch_add(&fj_long_runs, 1, __ATOMIC_RELAXED);
        return 0;
    }
    for (int l = 0; l < NL; l++) {
        uint8_t t[64];
        for (int i = 0; i < 64; i++) t[i] = (uint8_t)(i + shifts[l]);
        s.idx[l] = _mm512_loadu_si512(t);
    }
    s.chunks = (n + 63) / 64;
    // Chunk i reads extended positions start + 64 i ..< start + 64 i + 64: from the row itself when they
    // are all inside it.
    s.lo = centre > start ? (centre - start + 63) / 64 : 0;
    s.hi = centre + s.width - start - 64 >= 0 ? (centre + s.width - start - 64) / 64 : -1;
    if (s.hi > s.chunks + NL - 1) s.hi = s.chunks + NL - 1;
    // Ring and prefix rows of whole vectors (n rounded up), 320 bytes past a multiple of 4096 apart.
    ptrdiff_t bytes = s.chunks * 64;
    bytes += ((320 - bytes % 4096) + 4096) % 4096;
    s.stride = bytes;
    // `ext`: positions start ..< start + 64 (chunks + NL), start on a 64-byte boundary.
    ptrdiff_t extBytes = 64 * (s.chunks + NL) + 64;
    const size_t edgeBytes = (size_t)(s.chunks + NL) * sizeof(fj_long_edge);
    size_t total = (size_t)(k + 1) * (size_t)bytes + (size_t)extBytes + edgeBytes + 64;
    uint8_t *scratch = aligned_alloc(64, (total + 63) / 64 * 64);
    if (!scratch) return -1;
    // Ring and prefix rows are written before they are read; `ext`'s lookahead chunks are read but never
    // written (their lanes reach no stored output): zeroed, so that every byte read is defined.
    memset(scratch + (k + 1) * bytes, 0, (size_t)extBytes);
    s.ring = scratch;
    s.prefix = scratch + k * bytes;
    // ext + start on a 64-byte boundary (ext itself is only read and written from start on).
    s.ext = scratch + (k + 1) * bytes - start;
    s.edges = (fj_long_edge *)(scratch + (k + 1) * bytes + extBytes);
    // Output x' < n reads positions start + x' ..< start + x' + length.
    s.neededChunks = (n + length - 1 + 63) / 64;
    if (s.neededChunks > s.chunks + NL) s.neededChunks = s.chunks + NL;
    for (ptrdiff_t i = 0; i < s.neededChunks; i++)
        if (s.lo > s.hi || i < s.lo || i > s.hi) fj_long_plan_edge(&s, i);
    switch (op) {
    case 0: fj_long_run_0(NL, &s, rows, outs, count); break;
    case 1: fj_long_run_1(NL, &s, rows, outs, count); break;
    case 2: fj_long_run_2(NL, &s, rows, outs, count); break;
    default: fj_long_run_3(NL, &s, rows, outs, count); break;
    }
    if (s.stream) _mm_sfence();
    free(scratch);
    __atomic_fetch_add(&fj_long_runs, 1, __ATOMIC_RELAXED);
    return 0;
}

// Without AVX-512, the AVX2 kernel (box_minmax_long_avx2.c; no non-temporal stores), chosen here, outside the
// AVX-512 functions (whose code may use AVX-512 instructions anywhere, the prologue included).
static int fj_long_avx2(int op, const uint8_t *const *rows, ptrdiff_t k, uint8_t *const *outs, ptrdiff_t count,
                        ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                        ptrdiff_t start, ptrdiff_t length, uint8_t cval) {
    const int ran = filterjit_box_long_avx2_run(op, rows, k, outs, count, n, columns, extendedLength, centre, start,
                                                length, cval);
    if (ran == 0) __atomic_fetch_add(&fj_long_runs, 1, __ATOMIC_RELAXED);
    return ran;
}

int filterjit_box_long_u8(const uint8_t *const *rows, ptrdiff_t k, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                          const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                          ptrdiff_t length, uint8_t cval, int maximum, int stream) {
    if (!fj_long_avx512()) return fj_long_avx2(maximum ? 1 : 0, rows, k, outs, count, n, columns, extendedLength, centre,
                                               start, length, cval);
    return fj_long(maximum ? 1 : 0, rows, k, outs, count, n, columns, extendedLength, centre, start, length, cval, stream);
}

int filterjit_box_long_i8(const int8_t *const *rows, ptrdiff_t k, int8_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                          const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                          ptrdiff_t length, int8_t cval, int maximum, int stream) {
    if (!fj_long_avx512()) return fj_long_avx2(maximum ? 3 : 2, (const uint8_t *const *)rows, k, (uint8_t *const *)outs,
                                               count, n, columns, extendedLength, centre, start, length, (uint8_t)cval);
    return fj_long(maximum ? 3 : 2, (const uint8_t *const *)rows, k, (uint8_t *const *)outs, count, n, columns,
                   extendedLength, centre, start, length, (uint8_t)cval, stream);
}

// ---- Wide lanes: float32 (16 lanes), float64 (8), uint16 and int16 (32), box_minmax_long_body.h ----

#define FJ_WIDE __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#define FJ_W_MAX_LEVELS 8

int filterjit_box_long_wide_available(void) {
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        __builtin_cpu_init();
        value = filterjit_box_kernels_avx512() && __builtin_cpu_supports("avx512vl");   // FJ_WIDE's target
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

static uint64_t fj_long_wide_runs = 0;
uint64_t filterjit_box_long_wide_runs(void) { return __atomic_load_n(&fj_long_wide_runs, __ATOMIC_RELAXED); }

FJ_WIDE FJ_LONG_INLINE __m512i fj_w_idx32(ptrdiff_t shift) {
    int32_t t[16];
    for (int i = 0; i < 16; i++) t[i] = (int32_t)(i + shift);
    return _mm512_loadu_si512(t);
}
FJ_WIDE FJ_LONG_INLINE __m512i fj_w_idx64(ptrdiff_t shift) {
    int64_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (int64_t)(i + shift);
    return _mm512_loadu_si512(t);
}
FJ_WIDE FJ_LONG_INLINE __m512i fj_w_idx16(ptrdiff_t shift) {
    int16_t t[32];
    for (int i = 0; i < 32; i++) t[i] = (int16_t)(i + shift);
    return _mm512_loadu_si512(t);
}
FJ_LONG_INLINE __mmask16 fj_w_mask16(ptrdiff_t left) { return left >= 16 ? (__mmask16)0xFFFF : left <= 0 ? 0 : (__mmask16)((1u << left) - 1); }
FJ_LONG_INLINE __mmask8 fj_w_mask8(ptrdiff_t left) { return left >= 8 ? (__mmask8)0xFF : left <= 0 ? 0 : (__mmask8)((1u << left) - 1); }
FJ_LONG_INLINE __mmask32 fj_w_mask32(ptrdiff_t left) { return left >= 32 ? ~(__mmask32)0 : left <= 0 ? 0 : (__mmask32)((((uint64_t)1) << left) - 1); }

// float32
#define FJW(name) fj_w_f32_##name
#define FJW_T float
#define FJW_LANES 16
#define FJW_V __m512
#define FJW_M __mmask16
#define FJW_MASK fj_w_mask16
#define FJW_LOAD(p) _mm512_load_ps(p)
#define FJW_LOADU(p) _mm512_loadu_ps(p)
#define FJW_STORE(p, v) _mm512_store_ps((p), (v))
#define FJW_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define FJW_MSTORE(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define FJW_OP(op, a, b) ((op) ? _mm512_max_ps((a), (b)) : _mm512_min_ps((a), (b)))
#define FJW_PERM(a, i, b) _mm512_permutex2var_ps((a), (i), (b))
#define FJW_HAZARD(v) _mm512_fpclass_ps_mask((v), 0x85)
#define FJW_IDX(shift) fj_w_idx32(shift)
#include "box_minmax_long_body.h"
#undef FJW
#undef FJW_T
#undef FJW_LANES
#undef FJW_V
#undef FJW_M
#undef FJW_MASK
#undef FJW_LOAD
#undef FJW_LOADU
#undef FJW_STORE
#undef FJW_STOREU
#undef FJW_MSTORE
#undef FJW_OP
#undef FJW_PERM
#undef FJW_HAZARD
#undef FJW_IDX

// float64
#define FJW(name) fj_w_f64_##name
#define FJW_T double
#define FJW_LANES 8
#define FJW_V __m512d
#define FJW_M __mmask8
#define FJW_MASK fj_w_mask8
#define FJW_LOAD(p) _mm512_load_pd(p)
#define FJW_LOADU(p) _mm512_loadu_pd(p)
#define FJW_STORE(p, v) _mm512_store_pd((p), (v))
#define FJW_STOREU(p, v) _mm512_storeu_pd((p), (v))
#define FJW_MSTORE(p, m, v) _mm512_mask_storeu_pd((p), (m), (v))
#define FJW_OP(op, a, b) ((op) ? _mm512_max_pd((a), (b)) : _mm512_min_pd((a), (b)))
#define FJW_PERM(a, i, b) _mm512_permutex2var_pd((a), (i), (b))
#define FJW_HAZARD(v) _mm512_fpclass_pd_mask((v), 0x85)
#define FJW_IDX(shift) fj_w_idx64(shift)
#include "box_minmax_long_body.h"
#undef FJW
#undef FJW_T
#undef FJW_LANES
#undef FJW_V
#undef FJW_M
#undef FJW_MASK
#undef FJW_LOAD
#undef FJW_LOADU
#undef FJW_STORE
#undef FJW_STOREU
#undef FJW_MSTORE
#undef FJW_OP
#undef FJW_PERM
#undef FJW_HAZARD
#undef FJW_IDX

// uint16 and int16
#define FJW_T uint16_t
#define FJW_LANES 32
#define FJW_V __m512i
#define FJW_M __mmask32
#define FJW_MASK fj_w_mask32
#define FJW_LOAD(p) _mm512_load_si512(p)
#define FJW_LOADU(p) _mm512_loadu_si512(p)
#define FJW_STORE(p, v) _mm512_store_si512((p), (v))
#define FJW_STOREU(p, v) _mm512_storeu_si512((p), (v))
#define FJW_MSTORE(p, m, v) _mm512_mask_storeu_epi16((p), (m), (v))
#define FJW_PERM(a, i, b) _mm512_permutex2var_epi16((a), (i), (b))
#define FJW_HAZARD(v) ((__mmask32)0)
#define FJW_IDX(shift) fj_w_idx16(shift)
#define FJW(name) fj_w_u16_##name
#define FJW_OP(op, a, b) ((op) ? _mm512_max_epu16((a), (b)) : _mm512_min_epu16((a), (b)))
#include "box_minmax_long_body.h"
#undef FJW
#undef FJW_OP
#define FJW(name) fj_w_i16_##name
#define FJW_OP(op, a, b) ((op) ? _mm512_max_epi16((a), (b)) : _mm512_min_epi16((a), (b)))
#include "box_minmax_long_body.h"
#undef FJW
#undef FJW_OP
#undef FJW_T
#undef FJW_LANES
#undef FJW_V
#undef FJW_M
#undef FJW_MASK
#undef FJW_LOAD
#undef FJW_LOADU
#undef FJW_STORE
#undef FJW_STOREU
#undef FJW_MSTORE
#undef FJW_PERM
#undef FJW_HAZARD
#undef FJW_IDX

int filterjit_box_long_f32(const float *const *rows, ptrdiff_t k, float *const *outs, ptrdiff_t count, ptrdiff_t n,
                           const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                           ptrdiff_t length, float cval, int maximum) {
    if (!filterjit_box_long_wide_available())
        return fj_box_long_f32_avx2_run(maximum ? 1 : 0, rows, k, outs, count, n, columns, extendedLength, centre, start,
                                        length, cval);
    return fj_w_f32_long(maximum ? 1 : 0, rows, k, outs, count, n, columns, extendedLength, centre, start, length, cval);
}
int filterjit_box_long_f64(const double *const *rows, ptrdiff_t k, double *const *outs, ptrdiff_t count, ptrdiff_t n,
                           const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                           ptrdiff_t length, double cval, int maximum) {
    if (!filterjit_box_long_wide_available())
        return fj_box_long_f64_avx2_run(maximum ? 1 : 0, rows, k, outs, count, n, columns, extendedLength, centre, start,
                                        length, cval);
    return fj_w_f64_long(maximum ? 1 : 0, rows, k, outs, count, n, columns, extendedLength, centre, start, length, cval);
}
int filterjit_box_long_u16(const uint16_t *const *rows, ptrdiff_t k, uint16_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                           const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                           ptrdiff_t length, uint16_t cval, int maximum) {
    if (!filterjit_box_long_wide_available())
        return fj_box_long_u16_avx2_run(maximum ? 1 : 0, rows, k, outs, count, n, columns, extendedLength, centre, start,
                                        length, cval);
    return fj_w_u16_long(maximum ? 1 : 0, rows, k, outs, count, n, columns, extendedLength, centre, start, length, cval);
}
int filterjit_box_long_i16(const int16_t *const *rows, ptrdiff_t k, int16_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                           const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                           ptrdiff_t length, int16_t cval, int maximum) {
    if (!filterjit_box_long_wide_available())
        return fj_box_long_i16_avx2_run(maximum ? 1 : 0, rows, k, outs, count, n, columns, extendedLength, centre, start,
                                        length, cval);
    return fj_w_i16_long(maximum ? 1 : 0, (const uint16_t *const *)rows, k, (uint16_t *const *)outs, count, n, columns,
                         extendedLength, centre, start, length, (uint16_t)cval);
}

#else

int filterjit_box_long_available(void) { return 0; }
int filterjit_box_long_wide_available(void) { return 0; }
uint64_t filterjit_box_long_wide_runs(void) { return 0; }
#define FJ_W_NONE(NAME, T)                                                                                  \
    int filterjit_box_long_##NAME(const T *const *rows, ptrdiff_t k, T *const *outs, ptrdiff_t count, ptrdiff_t n, \
                                  const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,          \
                                  ptrdiff_t start, ptrdiff_t length, T cval, int maximum) {                      \
        (void)rows; (void)k; (void)outs; (void)count; (void)n; (void)columns; (void)extendedLength;               \
        (void)centre; (void)start; (void)length; (void)cval; (void)maximum;                                       \
        return -1;                                                                                               \
    }
FJ_W_NONE(f32, float)
FJ_W_NONE(f64, double)
FJ_W_NONE(u16, uint16_t)
FJ_W_NONE(i16, int16_t)

uint64_t filterjit_box_long_runs(void) { return 0; }
void filterjit_box_long_set_columns_first(int enabled) { (void)enabled; }
uint64_t filterjit_box_long_columns_first_runs(void) { return 0; }
uint64_t filterjit_box_long_shifted_runs(void) { return 0; }
int filterjit_box_long_u8(const uint8_t *const *rows, ptrdiff_t k, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                          const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                          ptrdiff_t length, uint8_t cval, int maximum, int stream) {
    (void)stream;
    (void)rows; (void)k; (void)outs; (void)count; (void)n; (void)columns; (void)extendedLength; (void)centre;
    (void)start; (void)length; (void)cval; (void)maximum;
    return -1;
}
int filterjit_box_long_i8(const int8_t *const *rows, ptrdiff_t k, int8_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                          const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                          ptrdiff_t length, int8_t cval, int maximum, int stream) {
    (void)stream;
    (void)rows; (void)k; (void)outs; (void)count; (void)n; (void)columns; (void)extendedLength; (void)centre;
    (void)start; (void)length; (void)cval; (void)maximum;
    return -1;
}

#endif
