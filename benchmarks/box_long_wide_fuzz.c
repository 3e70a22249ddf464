// C harness of the wide-lane long-box kernels (box_minmax_long.c, branch w12o). Build from Sources/RankKernelsC:
//   clang -O2 -Iinclude -c box_minmax.c -o /tmp/bm.o && clang -O2 -Iinclude -c box_minmax_long.c -o /tmp/bml.o
//   clang -O2 -Iinclude ../../benchmarks/box_long_wide_fuzz.c /tmp/bm.o /tmp/bml.o -lm -o /tmp/box_long_wide_fuzz
#include "box_minmax_long.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

static unsigned long long rs = 12345;
static int flagged = 0;
static unsigned rnd(void) { rs = rs * 6364136223846793005ULL + 1442695040888963407ULL; return (unsigned)(rs >> 33); }

// mode: 0 nearest, 1 reflect (d c b a | a b c d), 2 mirror (d c b | a b c d), 3 wrap, 4 constant
static ptrdiff_t mapc(ptrdiff_t i, ptrdiff_t n, int mode) {
    if (i >= 0 && i < n) return i;
    switch (mode) {
    case 0: return i < 0 ? 0 : n - 1;
    case 1: { ptrdiff_t p = 2 * n; i %= p; if (i < 0) i += p; return i < n ? i : p - 1 - i; }
    case 2: { if (n == 1) return 0; ptrdiff_t p = 2 * n - 2; i %= p; if (i < 0) i += p; return i < n ? i : p - i; }
    case 3: { i %= n; if (i < 0) i += n; return i; }
    default: return -1;
    }
}

#define FUZZ(NAME, T, FN, GEN, MINOP, MAXOP)                                                                   \
static int NAME(int iters, int hazards) {                                                                     \
    int fails = 0;                                                                                            \
    for (int it = 0; it < iters; it++) {                                                                       \
        ptrdiff_t w = 1 + rnd() % 200, h = 1 + rnd() % 100, k = 9 + rnd() % 32, L = 1 + rnd() % 40;           \
        if (rnd() % 4 == 0) L = 9 + rnd() % 32; if (rnd() % 3 == 0) w = (w + 15) / 16 * 16;                                                              \
        int mode = rnd() % 5, maximum = rnd() % 2;                                                            \
        ptrdiff_t ox = (ptrdiff_t)(rnd() % L) - (L - 1) + (ptrdiff_t)(rnd() % 3) - 1; /* first column offset */ \
        ptrdiff_t oy = (ptrdiff_t)(rnd() % k) - (k - 1) + (ptrdiff_t)(rnd() % 3) - 1;                         \
        ptrdiff_t centre = (ox < 0 ? -ox : 0) + rnd() % 5;                                                    \
        ptrdiff_t start = centre + ox;                                                                        \
        ptrdiff_t e = start + w + L - 1 + rnd() % 5;                                                          \
        if (e < centre + w) e = centre + w + rnd() % 3;                                                       \
        T *img = malloc(sizeof(T) * w * h + 64);                                                              \
        for (ptrdiff_t i = 0; i < w * h; i++) img[i] = GEN;                                                   \
        T cval = GEN;                                                                                          \
        ptrdiff_t *cols = malloc(sizeof(ptrdiff_t) * e);                                                      \
        for (ptrdiff_t j = 0; j < e; j++) cols[j] = mapc(j - centre, w, mode);                                \
        ptrdiff_t count = h, nr = count + k - 1;                                                              \
        const T **rows = malloc(sizeof(T *) * nr);                                                            \
        for (ptrdiff_t i = 0; i < nr; i++) { ptrdiff_t r = mapc(i + oy, h, mode); rows[i] = r < 0 ? NULL : img + r * w; } \
        T *outBase = aligned_alloc(64, (sizeof(T) * w * h + 128 + 63) / 64 * 64), *out = outBase + rnd() % (64 / sizeof(T)), **outs = malloc(sizeof(T *) * count);                             \
        for (ptrdiff_t t = 0; t < count; t++) outs[t] = out + t * w;                                          \
        int hz = 0;                                                                                           \
        if (hazards && rnd() % 2) {                                                                           \
            const T *r0 = NULL; for (ptrdiff_t i = 0; i < nr && !r0; i++) r0 = rows[i];                       \
            if (r0) { ((T *)r0)[rnd() % w] = rnd() % 2 ? (T)NAN : (T)-0.0; hz = 1; }                          \
        }                                                                                                     \
        int rc = FN((const T *const *)rows, k, outs, count, w, cols, e, centre, start, L, cval, maximum);     \
        if (hz && rc == 1) flagged++;                                                                        \
        else if (rc != 0) { fails++; printf(#NAME " rc %d w %td L %td\n", rc, w, L); }                        \
        else {                                                                                                \
            int bad = 0;                                                                                      \
            for (ptrdiff_t t = 0; t < count && !bad; t++)                                                     \
                for (ptrdiff_t x = 0; x < w && !bad; x++) {                                                   \
                    T m = 0; int first = 1;                                                                   \
                    for (ptrdiff_t i = 0; i < k; i++)                                                         \
                        for (ptrdiff_t j = 0; j < L; j++) {                                                   \
                            ptrdiff_t c = cols[x + start + j];                                                \
                            T v = rows[t + i] == NULL || c < 0 ? cval : rows[t + i][c];                       \
                            if (first) { m = v; first = 0; } else m = maximum ? MAXOP(m, v) : MINOP(m, v);    \
                        }                                                                                     \
                    if (memcmp(&m, &out[t * w + x], sizeof(T))) bad = 1;                                      \
                }                                                                                             \
            if (bad) { fails++; printf(#NAME " mismatch w %td h %td k %td L %td mode %d ox %td oy %td max %d\n", w, h, k, L, mode, ox, oy, maximum); } \
        }                                                                                                     \
        free(img); free(cols); free(rows); free(outBase); free(outs);                                             \
    }                                                                                                         \
    return fails;                                                                                             \
}
#define MN(a, b) ((b) < (a) ? (b) : (a))
#define MX(a, b) ((b) > (a) ? (b) : (a))
FUZZ(fuzz_f32, float, filterjit_box_long_f32, (float)((int)(rnd() % 2001) - 1000) * 0.25f + (rnd() % 50 == 0 ? INFINITY : 0), MN, MX)
FUZZ(fuzz_f64, double, filterjit_box_long_f64, (double)((int)(rnd() % 2001) - 1000) * 0.125 - (rnd() % 50 == 0 ? INFINITY : 0), MN, MX)
FUZZ(fuzz_u16, uint16_t, filterjit_box_long_u16, (uint16_t)rnd(), MN, MX)
FUZZ(fuzz_i16, int16_t, filterjit_box_long_i16, (int16_t)rnd(), MN, MX)

int main(int argc, char **argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 500;
    if (argc > 2) rs = strtoull(argv[2], 0, 10);
    printf("seed %llu\n", rs);
    int f = 0;
    f += fuzz_f32(iters, 1); f += fuzz_f64(iters / 2, 1); f += fuzz_u16(iters / 2, 0); f += fuzz_i16(iters / 2, 0);
    printf("flagged %d, fails %d, runs %llu\n", flagged, f, (unsigned long long)filterjit_box_long_wide_runs());
    return f != 0;
}
