// NumPy's pairwise sum (numpy/_core/src/umath/loops_utils.h.src) as vector code across pixels: the one
// definition of the tree's shape that pairwise_sums.c (AVX-512) and pairwise_sums_avx2.c (AVX2)
// instantiate with their vector types, so that both give the bits of the scalar sum by construction.
// Internal to RankKernelsC (not in include/).
#ifndef FILTERJIT_PAIRWISE_TREE_H
#define FILTERJIT_PAIRWISE_TREE_H

// ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)): NumPy's combination of its eight accumulators.
#define FJ_TREE_COMBINE(ADD, r) ADD(ADD(ADD(r[0], r[1]), ADD(r[2], r[3])), ADD(ADD(r[4], r[5]), ADD(r[6], r[7])))

// NAME(t, n, x, ma, mb): pairwise(t[0 ..< n]) of the pixels x ..< x + 2 W, two vectors of W lanes (a at x,
// b at x + W), every tap one LOAD(mask, pointer) folded into its add: below 8 taps a sequential sum from
// ZERO; up to 128 eight accumulators (tap i into accumulator i mod 8), FJ_TREE_COMBINE, then the rest in
// order; beyond 128 two halves (the first a multiple of 8) recursively. PAIR is a struct { VEC a, b; }.
#define FJ_PAIRWISE_TREE(NAME, ATTR, PAIR, VEC, MASK, ADD, ZERO, LOAD, W)                                    \
    ATTR static PAIR NAME(const double *const *t, ptrdiff_t n, ptrdiff_t x, MASK ma, MASK mb) {              \
        PAIR s;                                                                                              \
        if (n < 8) {                                                                                         \
            VEC a = ZERO, b = ZERO;                                                                          \
            for (ptrdiff_t i = 0; i < n; i++) {                                                              \
                a = ADD(a, LOAD(ma, t[i] + x));                                                              \
                b = ADD(b, LOAD(mb, t[i] + x + (W)));                                                        \
            }                                                                                                \
            s.a = a;                                                                                         \
            s.b = b;                                                                                         \
            return s;                                                                                        \
        }                                                                                                    \
        if (n <= 128) {                                                                                      \
            VEC r[8], q[8];                                                                                  \
            _Pragma("clang loop unroll(full)") for (int j = 0; j < 8; j++) {                                 \
                r[j] = LOAD(ma, t[j] + x);                                                                   \
                q[j] = LOAD(mb, t[j] + x + (W));                                                             \
            }                                                                                                \
            ptrdiff_t end = n - n % 8, i = 8;                                                                \
            for (; i < end; i += 8) {                                                                        \
                const double *const *u = t + i;                                                              \
                _Pragma("clang loop unroll(full)") for (int j = 0; j < 8; j++) {                             \
                    r[j] = ADD(r[j], LOAD(ma, u[j] + x));                                                    \
                    q[j] = ADD(q[j], LOAD(mb, u[j] + x + (W)));                                              \
                }                                                                                            \
            }                                                                                                \
            VEC a = FJ_TREE_COMBINE(ADD, r), b = FJ_TREE_COMBINE(ADD, q);                                    \
            for (; i < n; i++) {                                                                             \
                a = ADD(a, LOAD(ma, t[i] + x));                                                              \
                b = ADD(b, LOAD(mb, t[i] + x + (W)));                                                        \
            }                                                                                                \
            s.a = a;                                                                                         \
            s.b = b;                                                                                         \
            return s;                                                                                        \
        }                                                                                                    \
        ptrdiff_t half = n / 2;                                                                              \
        half -= half % 8;                                                                                    \
        PAIR p = NAME(t, half, x, ma, mb), q = NAME(t + half, n - half, x, ma, mb);                          \
        s.a = ADD(p.a, q.a);                                                                                 \
        s.b = ADD(p.b, q.b);                                                                                 \
        return s;                                                                                            \
    }

// One tap (index i, vectors v0 and v1) of an unrolled box kernel, within the pairwise split's segment of
// taps [S, E) (E - S in 8 ... 128), where i and the segment are compile-time constants: the first 8 taps
// start the accumulators a[] / b[], the others up to the last multiple of 8 go into accumulator (i - S) mod 8
// (odd-numbered ones by ODD_ADD(acc, v), which must round as ADD(acc, v): the AVX-512 kernels use
// fma(v, 1.0, acc) there to spread the adds over the FMA pipes), then the accumulators are combined into
// ra / rb and the rest added in order.
#define FJ_TREE_SEGMENT_TAP(ADD, ODD_ADD, S, E, a, b, ra, rb)                                               \
    if (i >= (S) && i < (E)) {                                                                              \
        const int li = i - (S), end = ((E) - (S)) - ((E) - (S)) % 8;                                        \
        if (li < 8) {                                                                                       \
            a[li] = v0;                                                                                     \
            b[li] = v1;                                                                                     \
        } else if (li < end) {                                                                              \
            if (li & 1) {                                                                                   \
                a[li % 8] = ODD_ADD(a[li % 8], v0);                                                         \
                b[li % 8] = ODD_ADD(b[li % 8], v1);                                                         \
            } else {                                                                                        \
                a[li % 8] = ADD(a[li % 8], v0);                                                             \
                b[li % 8] = ADD(b[li % 8], v1);                                                             \
            }                                                                                               \
        } else {                                                                                            \
            if (li == end) {                                                                                \
                ra = FJ_TREE_COMBINE(ADD, a);                                                               \
                rb = FJ_TREE_COMBINE(ADD, b);                                                               \
            }                                                                                               \
            ra = ADD(ra, v0);                                                                               \
            rb = ADD(rb, v1);                                                                               \
        }                                                                                                   \
        if (i == (E) - 1 && end == (E) - (S)) {                                                             \
            ra = FJ_TREE_COMBINE(ADD, a);                                                                   \
            rb = FJ_TREE_COMBINE(ADD, b);                                                                   \
        }                                                                                                   \
    }

// The square-box kernels of one instruction set, k = 3 ... 15 at index k - 3: whole steps of pixels from
// pixel 0, divided by `divisor` unless it is 0 and stored as doubles (out) or floats (out32); they return
// the pixels done. The general kernel of the same set (masked tails) takes the rest.
typedef ptrdiff_t (*fj_tree_box_fn)(const double *const *rows, ptrdiff_t count, double *out, float *out32, double divisor);
typedef void (*fj_tree_sum_fn)(const double *const *taps, ptrdiff_t n, ptrdiff_t count, double *out);

// The k x k box sums of a row of `count` pixels (tap r * k + c of pixel x is rows[r][x + c]): the box
// kernel, then the last pixels (fewer than its step of at most 16) by `general` over the same taps.
static inline void fj_tree_box_run(const fj_tree_box_fn boxes[13], fj_tree_sum_fn general, const double *const *rows,
                                   ptrdiff_t k, ptrdiff_t count, double *out, float *out32, double divisor) {
    ptrdiff_t done = boxes[k - 3](rows, count, out, out32, divisor);
    if (done < count) {
        const double *taps[15 * 15];
        double sums[16];
        for (ptrdiff_t r = 0; r < k; r++)
            for (ptrdiff_t c = 0; c < k; c++) taps[r * k + c] = rows[r] + done + c;
        general(taps, k * k, count - done, sums);
        for (ptrdiff_t x = done; x < count; x++) {
            double v = divisor != 0 ? sums[x - done] / divisor : sums[x - done];
            if (out32) out32[x] = (float)v;
            else out[x] = v;
        }
    }
}

#endif
