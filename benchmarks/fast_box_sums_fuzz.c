// Same-bits fuzz and timing of the fused fast-math box sums (Sources/RankKernelsC/fast_box_sums.c with
// AVX-512, fast_box_sums_avx2.c with AVX2) against the reference: the same files before the seventeenth
// session's changes (commit ef60494: the van Herk passes for every k, one type for rows and output).
// Built and run by benchmarks/fast_box_sums_fuzz.sh, which names the reference's entry points base_sums
// (AVX2) and base512_sums (AVX-512) and the current ones fj_fbs_avx2_sums and new512_sums.
//   - Random calls (k 1-12, half of them 3; direct and factored plans; modes through random column maps
//     with cval columns; origins; row ranges that start anywhere in a block; NaN, +-inf, -0.0, huge and
//     tiny data and cvals; stream and divisor flags; one call in four writing an output 1, 2 or 17 bytes
//     past an aligned address): the outputs must be equal bit for bit, except that
//     any NaN equals any NaN (which NaN an addition of two returns follows the compiler's operand order).
//   - For float64 rows, the same call with float32 output must give the float rounding of each float64
//     output ("mixed").
//   - Then the 2048x2048 timings of reference and current at TK rows (env, default 3) x TK and x 9 columns.
// Arguments: rounds (3000), "512" or "avx2" (avx2), a seed offset (0).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stddef.h>
#include <math.h>
#include <time.h>
int fj_fbs_avx2_sums(int f32, int out32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount, ptrdiff_t y0, ptrdiff_t y1,
                     ptrdiff_t n, ptrdiff_t k, ptrdiff_t top, const ptrdiff_t *lastMap, ptrdiff_t extendedLength,
                     ptrdiff_t centre, ptrdiff_t start, ptrdiff_t length, ptrdiff_t a, ptrdiff_t b, ptrdiff_t r,
                     double cvalColumn, double factor, double divisor, void *out, ptrdiff_t outRowStride, int stream);
int base_sums(int f32, const void *const *rows, ptrdiff_t rowBase, ptrdiff_t rowCount, ptrdiff_t y0, ptrdiff_t y1,
                     ptrdiff_t n, ptrdiff_t k, ptrdiff_t top, const ptrdiff_t *lastMap, ptrdiff_t extendedLength,
                     ptrdiff_t centre, ptrdiff_t start, ptrdiff_t length, ptrdiff_t a, ptrdiff_t b, ptrdiff_t r,
                     double cvalColumn, double factor, double divisor, void *out, ptrdiff_t outRowStride, int stream);
int new512_sums(int, int, const void *const *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const ptrdiff_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, double, double, double, void *, ptrdiff_t, int);
int base512_sums(int, const void *const *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const ptrdiff_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, double, double, double, void *, ptrdiff_t, int);
typedef int (*sums_fn)(int, const void *const *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const ptrdiff_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, double, double, double, void *, ptrdiff_t, int);
typedef int (*io_fn)(int, int, const void *const *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const ptrdiff_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, double, double, double, void *, ptrdiff_t, int);
static sums_fn OLD = base_sums;
static io_fn NEWIO = fj_fbs_avx2_sums;
#define NEW(f32, ...) NEWIO(f32, f32, __VA_ARGS__)
static uint64_t st = 88172645463325252ull;
static uint64_t rnd(void) { st ^= st << 13; st ^= st >> 7; st ^= st << 17; return st; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static double val(void) {
    uint64_t c = rnd() % 100;
    if (c == 0) return NAN; if (c == 1) return INFINITY; if (c == 2) return -INFINITY; if (c == 3) return -0.0; if (c == 4) return 0.0;
    if (c < 20) return (double)(int)(rnd() % 20) - 10;
    if (c < 25) return ldexp((double)(rnd() % 1000000) - 500000, (int)(rnd() % 200) - 100);
    return ((double)(rnd() >> 11) / 9007199254740992.0 - 0.5) * 100;
}
int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 3000;
    if (argc > 2 && !strcmp(argv[2], "512")) { OLD = base512_sums; NEWIO = new512_sums; }
    if (argc > 3) st += (uint64_t)atoll(argv[3]);
    long diffs = 0, ran = 0, mixed = 0;
    for (int round = 0; round < rounds; round++) {
        int f32 = rnd() & 1, size = f32 ? 4 : 8;
        ptrdiff_t n = 1 + rnd() % 300, k = rnd() % 2 ? 3 : 1 + rnd() % 12, H = 1 + rnd() % 40;
        ptrdiff_t rowCount = H + k - 1 + rnd() % 4, rowBase = -(ptrdiff_t)(rnd() % 3);
        char *data = malloc(rowCount * n * size + 64);
        for (ptrdiff_t j = 0; j < rowCount * n; j++) { double v = val(); if (f32) ((float *)data)[j] = (float)v; else ((double *)data)[j] = v; }
        const void **rows = malloc(rowCount * sizeof(void *));
        for (ptrdiff_t p = 0; p < rowCount; p++) rows[p] = data + (rnd() % rowCount) * n * size;
        ptrdiff_t length, a, b = 0, rr = 0;
        if (rnd() % 3) { length = 1 + rnd() % 8; a = length; }
        else { a = 2 + rnd() % 7; b = 1 + rnd() % (8 - 1); if (b + 0 > 8) b = 8; rr = rnd() % (9 - b); if (b + rr > 8) rr = 8 - b; length = a * b + rr; }
        ptrdiff_t centre = rnd() % (length + 2), extendedLength = centre + n + length + rnd() % 3, start = rnd() % (extendedLength - n - length + 2);
        ptrdiff_t *lastMap = malloc(extendedLength * sizeof(ptrdiff_t));
        for (ptrdiff_t j = 0; j < extendedLength; j++) lastMap[j] = (j >= centre && j < centre + n) ? j - centre : (rnd() % 4 == 0 ? -1 : (ptrdiff_t)(rnd() % n));
        // rows read: y0 + top ... y1 + k - 2 + top within rowBase ..< rowBase + rowCount
        ptrdiff_t top = rowBase + rnd() % 2;
        ptrdiff_t maxY1 = rowBase + rowCount - k + 1 - top;
        if (maxY1 < 1) { free(data); free(rows); free(lastMap); continue; }
        ptrdiff_t y0 = rnd() % maxY1, y1 = y0 + 1 + rnd() % (maxY1 - y0);
        if (y0 + top < rowBase) { free(data); free(rows); free(lastMap); continue; }
        double cval = val(), factor = 1.0 / (double)(k * length), divisor = rnd() % 4 == 0 ? (double)(k * length) : 0;
        int stream = rnd() % 4 == 0;
        ptrdiff_t stride = n + rnd() % 9;
        if (stream) stride = (n + 15) / 16 * 16;
        size_t bytes = (size_t)(y1 + 1) * stride * size + 64;
        // One call in four writes an output that is not aligned to its element size (offsets 1, 2, 17 bytes:
        // the passes must then store element by element, not fault on an aligned vector store).
        const size_t skew = stream || rnd() % 4 ? 0 : (size_t[]){1, 2, 17}[rnd() % 3];
        char *base1 = aligned_alloc(64, (bytes + 127) / 64 * 64), *base2 = aligned_alloc(64, (bytes + 127) / 64 * 64);
        char *o1 = base1 + skew, *o2 = base2 + skew;
        memset(o1, 0x5a, bytes); memset(o2, 0x5a, bytes);
        int a1 = OLD(f32, rows, rowBase, rowCount, y0, y1, n, k, top, lastMap, extendedLength, centre, start, length, a, b, rr, cval, factor, divisor, o1, stride, stream);
        int a2 = NEW(f32, rows, rowBase, rowCount, y0, y1, n, k, top, lastMap, extendedLength, centre, start, length, a, b, rr, cval, factor, divisor, o2, stride, stream);
        if (a1 != a2) { printf("ran differs %d %d\n", a1, a2); diffs++; }
        if (!f32 && a2) {
            // float64 rows, float32 output: each element the float rounding of the float64 output.
            float *o3 = aligned_alloc(64, ((size_t)(y1 + 1) * stride * 4 + 127) / 64 * 64);
            memset(o3, 0x5a, (size_t)(y1 + 1) * stride * 4);
            int a3 = NEWIO(0, 1, rows, rowBase, rowCount, y0, y1, n, k, top, lastMap, extendedLength, centre, start, length, a, b, rr, cval, factor, divisor, o3, stride, stream);
            if (a3 != a2) { printf("mixed ran differs\n"); diffs++; }
            mixed++;
            for (ptrdiff_t yy = y0; yy < y1 && a3; yy++) for (ptrdiff_t x = 0; x < n; x++) {
                float want = (float)((double *)o2)[yy * stride + x], got = o3[yy * stride + x];
                if (memcmp(&want, &got, 4) && !(isnan(want) && isnan(got))) { if (diffs < 5) printf("mixed diff round %d y %td x %td: %g vs %g\n", round, yy, x, want, got); diffs++; yy = y1; break; }
            }
            free(o3);
        }
        if (a1) ran++;
        int same = 1;
        for (size_t q = 0; q + size <= bytes && same; q += size) {
            if (!memcmp(o1 + q, o2 + q, size)) continue;
            double v1 = f32 ? ((float*)o1)[q / size] : ((double*)o1)[q / size], v2 = f32 ? ((float*)o2)[q / size] : ((double*)o2)[q / size];
            if (!(isnan(v1) && isnan(v2))) same = 0;
        }
        if (!same) {
            if (diffs < 5) { for (size_t q = 0; q < bytes; q += size) if (memcmp(o1 + q, o2 + q, size)) { ptrdiff_t e = q / size; double v1 = f32 ? ((float*)o1)[e] : ((double*)o1)[e], v2 = f32 ? ((float*)o2)[e] : ((double*)o2)[e]; uint64_t b1 = 0, b2 = 0; memcpy(&b1, o1 + q, size); memcpy(&b2, o2 + q, size); printf("  first at row %td col %td: %g (%llx) vs %g (%llx) stride %td\n", e / stride, e % stride, v1, (unsigned long long)b1, v2, (unsigned long long)b2, stride); break; } }
            if (diffs < 5) printf("diff round %d f32 %d n %td y %td..%td length %td a %td b %td r %td\n", round, f32, n, y0, y1, length, a, b, rr);
            diffs++;
        }
        free(base1); free(base2); free(data); free(rows); free(lastMap);
    }
    printf("%ld differences, %ld ran, %ld mixed, %d rounds\n", diffs, ran, mixed, rounds);
    // Timing: 2048 x 2048, nearest, 3x3
    ptrdiff_t N = 2048;
    for (int f32 = 1; f32 >= 0; f32--) {
        int size = f32 ? 4 : 8;
        char *img = aligned_alloc(64, N * N * size), *out = aligned_alloc(64, N * N * size);
        for (ptrdiff_t j = 0; j < N * N; j++) { double v = (double)(rnd() >> 11) / 9007199254740992.0; if (f32) ((float *)img)[j] = (float)v; else ((double *)img)[j] = v; }
        memset(out, 0, N * N * size);
        const void **rows = malloc((N + 16) * sizeof(void *));
        for (ptrdiff_t p = -7; p <= N + 7; p++) if (p + 7 < N + 16) rows[p + 7] = img + (p < 0 ? 0 : p >= N ? N - 1 : p) * N * size;
        ptrdiff_t lastMap[2050];
        lastMap[0] = 0; for (ptrdiff_t j = 0; j < N; j++) lastMap[j + 1] = j; lastMap[N + 1] = N - 1;
        for (int kk = 0; kk < 2; kk++) {
            ptrdiff_t TK = getenv("TK") ? atoi(getenv("TK")) : 3;
            ptrdiff_t len = kk ? 9 : TK, ext = N + len - 1, c = len / 2;
            ptrdiff_t lm[2100]; for (ptrdiff_t j = 0; j < ext; j++) { ptrdiff_t t = j - c; lm[j] = t < 0 ? 0 : t >= N ? N - 1 : t; }
            ptrdiff_t A = kk ? 3 : TK, B = kk ? 3 : 0;
            double best1 = 1e9, best2 = 1e9;
            for (int rep = 0; rep < 40; rep++) {
                double t0 = now();
                OLD(f32, rows + 7 - TK / 2, -TK / 2, N + TK - 1, 0, N, N, TK, -TK / 2, lm, ext, c, 0, len, A, B, 0, 0, 1.0 / (TK * len), 0, out, N, 0);
                double t1 = now();
                NEW(f32, rows + 7 - TK / 2, -TK / 2, N + TK - 1, 0, N, N, TK, -TK / 2, lm, ext, c, 0, len, A, B, 0, 0, 1.0 / (TK * len), 0, out, N, 0);
                double t2 = now();
                if (t1 - t0 < best1) best1 = t1 - t0;
                if (t2 - t1 < best2) best2 = t2 - t1;
            }
            printf("%s %tdx%td: reference %.3f ms, current %.3f ms (%.2fx)\n", f32 ? "float32" : "float64", TK, len, best1 * 1e3, best2 * 1e3, best1 / best2);
        }
        (void)lastMap;
        free(img); free(out); free(rows);
    }
    return diffs != 0;
}
