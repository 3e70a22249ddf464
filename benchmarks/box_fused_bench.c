// C harness of the single-pass small-box kernel (box_minmax_fused.c): a W x H (default 2048x2048) uint8 k x k box
// min, mode nearest, by filterjit_fused_box_u8 against memcpy of the image, best of N runs (argv[1], default 50; k:
// argv[2], default 3), then the result checked against a scalar loop ("bad": differing pixels). Build from
// Sources/RankKernelsC:
//   for f in box_minmax box_minmax_fused box_minmax_fused_avx2; do clang -O2 -Iinclude -c $f.c -o /tmp/$f.o; done
//   clang -O2 -Iinclude ../../benchmarks/box_fused_bench.c /tmp/box_minmax*.o -o /tmp/box_fused_bench
// OFF / OOFF: the input / output rows' offset past a 64-byte line (default 16, as NumPy's arrays of this size;
// OOFF defaults to OFF). FILTERJIT_ROW_PAIRS=0/1 forces output rows one at a time / in pairs; FILTERJIT_NO_AVX512=1
// runs the AVX2 kernel.
#include "box_minmax_fused.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec * 1e-6; }
int main(int argc, char **argv) {
    ptrdiff_t W = getenv("W") ? atoi(getenv("W")) : 2048, H = getenv("H") ? atoi(getenv("H")) : 2048;
    int reps = argc > 1 ? atoi(argv[1]) : 50;
    int k = argc > 2 ? atoi(argv[2]) : 3;
    const size_t bytes = (size_t)(W * H + 128 + 63) / 64 * 64;   /* (aligned_alloc: a multiple of the alignment) */
    char *a = aligned_alloc(64, bytes), *b = aligned_alloc(64, bytes);
    const ptrdiff_t OFF = getenv("OFF") ? atoi(getenv("OFF")) : 16, OOFF = getenv("OOFF") ? atoi(getenv("OOFF")) : OFF;
    uint8_t *img = (uint8_t *)(a + OFF), *out = (uint8_t *)(b + OOFF);
    for (ptrdiff_t i = 0; i < W * H; i++) img[i] = rand() & 255;
    memset(out, 0, W * H);
    int L = k;
    ptrdiff_t centre = L / 2, start = 0, e = W + L - 1;
    ptrdiff_t *cols = malloc(sizeof(ptrdiff_t) * e);
    for (ptrdiff_t j = 0; j < e; j++) { ptrdiff_t c = j - centre; cols[j] = c < 0 ? 0 : c >= W ? W - 1 : c; }
    const uint8_t **rows = malloc(sizeof(uint8_t *) * (H + k));
    for (ptrdiff_t i = 0; i < H + k - 1; i++) { ptrdiff_t r = i - k / 2; r = r < 0 ? 0 : r >= H ? H - 1 : r; rows[i] = img + r * W; }
    uint8_t **outs = malloc(sizeof(uint8_t *) * H);
    for (ptrdiff_t t = 0; t < H; t++) outs[t] = out + t * W;
    double bk = 1e9, bc = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        int rc = filterjit_fused_box_u8(rows, outs, H, k, start, L, cols, centre, e, 0, W, 0);
        double t1 = now();
        memcpy(out, img, W * H);
        double t2 = now();
        if (rc) printf("rc %d\n", rc);
        if (t1 - t0 < bk) bk = t1 - t0;
        if (t2 - t1 < bc) bc = t2 - t1;
    }
    // check
    filterjit_fused_box_u8(rows, outs, H, k, start, L, cols, centre, e, 0, W, 0);
    long bad = 0;
    for (ptrdiff_t y = 0; y < H; y++) for (ptrdiff_t x = 0; x < W; x++) {
        int m = 255;
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) { int v = rows[y + i][cols[x + j]]; if (v < m) m = v; }
        if (out[y * W + x] != m) bad++;
    }
    printf("k %d: kernel %.4f ms, memcpy %.4f ms, ratio %.2f, bad %ld\n", k, bk, bc, bk / bc, bad);
}
