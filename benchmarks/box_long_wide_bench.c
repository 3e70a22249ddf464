// C harness of the wide-lane long-box kernels (box_minmax_long.c, branch w12o). Build from Sources/RankKernelsC:
//   clang -O2 -Iinclude -c box_minmax.c -o /tmp/bm.o && clang -O2 -Iinclude -c box_minmax_long.c -o /tmp/bml.o
//   clang -O2 -Iinclude ../../benchmarks/box_long_wide_bench.c /tmp/bm.o /tmp/bml.o -lm -o /tmp/box_long_wide_bench
// OUTOFF=<bytes>: the output rows' offset past a 64-byte line (default 16, as NumPy's). Prints the best of N (argv[1], default 30).
#include "box_minmax_long.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec * 1e-6; }
int main(int argc, char **argv) {
    ptrdiff_t W = 2048, H = 2048;
    int ks[] = {5, 9, 15, 31};

    int reps = argc > 1 ? atoi(argv[1]) : 30;
    char *a = aligned_alloc(64, W * H * 4 + 128), *b = aligned_alloc(64, W * H * 4 + 128);
    float *img = (float *)(a + 16), *out = (float *)(b + (getenv("OUTOFF") ? atoi(getenv("OUTOFF")) : 16));
    for (ptrdiff_t i = 0; i < W * H; i++) img[i] = (float)(rand() % 10000) * 0.5f;
    memset(out, 0, W * H * 4);
    for (int ki = 0; ki < 4; ki++) {
        int k = ks[ki], L = k;
        ptrdiff_t centre = L / 2, start = 0, e = W + L - 1;
        ptrdiff_t *cols = malloc(sizeof(ptrdiff_t) * e);
        for (ptrdiff_t j = 0; j < e; j++) { ptrdiff_t c = j - centre; cols[j] = c < 0 ? 0 : c >= W ? W - 1 : c; }
        const float **rows = malloc(sizeof(float *) * (H + k));
        for (ptrdiff_t i = 0; i < H + k - 1; i++) { ptrdiff_t r = i - k / 2; r = r < 0 ? 0 : r >= H ? H - 1 : r; rows[i] = img + r * W; }
        float **outs = malloc(sizeof(float *) * H);
        for (ptrdiff_t t = 0; t < H; t++) outs[t] = out + t * W;
        double bk = 1e9, bc = 1e9;
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            int rc = filterjit_box_long_f32((const float *const *)rows, k, outs, H, W, cols, e, centre, start, L, 0.f, 0);
            double t1 = now();
            memcpy(out, img, W * H * 4);
            double t2 = now();
            if (rc) printf("rc %d\n", rc);
            if (t1 - t0 < bk) bk = t1 - t0;
            if (t2 - t1 < bc) bc = t2 - t1;
        }
        printf("k %2d: kernel %.3f ms, memcpy %.3f ms\n", k, bk, bc);
        free(cols); free(rows); free(outs);
    }
    return 0;
}
