// The line driver's groups of eight neighbouring float lines moved by 4x4 transposes (include/line_groups.h). Each
// step takes four positions j of the eight lines: four rows of eight elements in, eight line buffers' four doubles
// out (or the reverse), in two 4x4 blocks of doubles (lines 0-3 and 4-7). Positions past a multiple of four go
// one by one. Values are moved, widened (float32 -> float64, exact) or narrowed (round to nearest, NaN quieted as
// the scalar conversion does), never computed on.

#include "line_groups.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <string.h>
#include "avx2_switch.h"

#define FJ_LG2 __attribute__((target("avx2")))

static int fj_line_groups_avx2_cached = -1;
int filterjit_line_groups_avx2(void) { return fj_avx2_switch(&fj_line_groups_avx2_cached); }
void filterjit_line_groups_set_avx2(int enabled) { fj_avx2_switch_set(&fj_line_groups_avx2_cached, enabled); }

// Rows r0..r3 (lanes = four lines) to lines: o[k] = (r0[k], r1[k], r2[k], r3[k]). Its own inverse.
FJ_LG2 static inline void fj_lg_transpose(__m256d r0, __m256d r1, __m256d r2, __m256d r3, __m256d o[4]) {
    const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
    const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
    o[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    o[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    o[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    o[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

// Four rows' lines 0-3 (`low`) and 4-7 (`high`) into the eight line buffers at position j.
FJ_LG2 static inline void fj_lg_store_lines(const __m256d low[4], const __m256d high[4], double *destination,
                                            ptrdiff_t pitch, ptrdiff_t j) {
    __m256d o[4];
    fj_lg_transpose(low[0], low[1], low[2], low[3], o);
    for (int b = 0; b < 4; b++) _mm256_storeu_pd(destination + b * pitch + j, o[b]);
    fj_lg_transpose(high[0], high[1], high[2], high[3], o);
    for (int b = 0; b < 4; b++) _mm256_storeu_pd(destination + (b + 4) * pitch + j, o[b]);
}

// The eight line buffers' positions j..j+3 as four rows: lines 0-3 in `low`, 4-7 in `high`.
FJ_LG2 static inline void fj_lg_load_lines(const double *values, ptrdiff_t pitch, ptrdiff_t j, __m256d low[4],
                                           __m256d high[4]) {
    fj_lg_transpose(_mm256_loadu_pd(values + j), _mm256_loadu_pd(values + pitch + j),
                    _mm256_loadu_pd(values + 2 * pitch + j), _mm256_loadu_pd(values + 3 * pitch + j), low);
    fj_lg_transpose(_mm256_loadu_pd(values + 4 * pitch + j), _mm256_loadu_pd(values + 5 * pitch + j),
                    _mm256_loadu_pd(values + 6 * pitch + j), _mm256_loadu_pd(values + 7 * pitch + j), high);
}

FJ_LG2 static void fj_lg_gather_f64(const char *source, ptrdiff_t line_stride, ptrdiff_t count, double *destination,
                                    ptrdiff_t pitch) {
    ptrdiff_t j = 0;
    for (; j + 4 <= count; j += 4) {
        __m256d low[4], high[4];
        for (int r = 0; r < 4; r++) {
            const double *row = (const double *)(source + (j + r) * line_stride);
            low[r] = _mm256_loadu_pd(row);
            high[r] = _mm256_loadu_pd(row + 4);
        }
        fj_lg_store_lines(low, high, destination, pitch, j);
    }
    for (; j < count; j++) {
        const char *row = source + j * line_stride;
        for (int b = 0; b < 8; b++) memcpy(destination + b * pitch + j, row + b * 8, 8);
    }
}

FJ_LG2 static void fj_lg_gather_f32(const char *source, ptrdiff_t line_stride, ptrdiff_t count, double *destination,
                                    ptrdiff_t pitch) {
    ptrdiff_t j = 0;
    for (; j + 4 <= count; j += 4) {
        __m256d low[4], high[4];
        for (int r = 0; r < 4; r++) {
            const __m256 row = _mm256_loadu_ps((const float *)(source + (j + r) * line_stride));
            low[r] = _mm256_cvtps_pd(_mm256_castps256_ps128(row));
            high[r] = _mm256_cvtps_pd(_mm256_extractf128_ps(row, 1));
        }
        fj_lg_store_lines(low, high, destination, pitch, j);
    }
    for (; j < count; j++) {
        const char *row = source + j * line_stride;
        for (int b = 0; b < 8; b++) {
            float value;
            memcpy(&value, row + b * 4, 4);
            destination[b * pitch + j] = (double)value;
        }
    }
}

FJ_LG2 static void fj_lg_scatter_f64(const double *values, ptrdiff_t pitch, ptrdiff_t count, char *destination,
                                     ptrdiff_t line_stride) {
    ptrdiff_t j = 0;
    for (; j + 4 <= count; j += 4) {
        __m256d low[4], high[4];
        fj_lg_load_lines(values, pitch, j, low, high);
        for (int r = 0; r < 4; r++) {
            double *row = (double *)(destination + (j + r) * line_stride);
            _mm256_storeu_pd(row, low[r]);
            _mm256_storeu_pd(row + 4, high[r]);
        }
    }
    for (; j < count; j++) {
        char *row = destination + j * line_stride;
        for (int b = 0; b < 8; b++) memcpy(row + b * 8, values + b * pitch + j, 8);
    }
}

FJ_LG2 static void fj_lg_scatter_f32(const double *values, ptrdiff_t pitch, ptrdiff_t count, char *destination,
                                     ptrdiff_t line_stride) {
    ptrdiff_t j = 0;
    for (; j + 4 <= count; j += 4) {
        __m256d low[4], high[4];
        fj_lg_load_lines(values, pitch, j, low, high);
        for (int r = 0; r < 4; r++) {
            const __m256 row = _mm256_set_m128(_mm256_cvtpd_ps(high[r]), _mm256_cvtpd_ps(low[r]));
            _mm256_storeu_ps((float *)(destination + (j + r) * line_stride), row);
        }
    }
    for (; j < count; j++) {
        char *row = destination + j * line_stride;
        for (int b = 0; b < 8; b++) {
            const float value = (float)values[b * pitch + j];
            memcpy(row + b * 4, &value, 4);
        }
    }
}

#else

int filterjit_line_groups_avx2(void) { return 0; }
void filterjit_line_groups_set_avx2(int enabled) { (void)enabled; }

#endif

// The entries: 0 where the kernels do not run (then the #if above left them out).
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define FJ_LG_RUN(call) call
#else
#define FJ_LG_RUN(call) ((void)0)
#endif

int filterjit_line_gather8_f64(const void *source, ptrdiff_t line_stride, ptrdiff_t count, double *destination,
                               ptrdiff_t pitch) {
    if (!filterjit_line_groups_avx2()) return 0;
    FJ_LG_RUN(fj_lg_gather_f64((const char *)source, line_stride, count, destination, pitch));
    return 1;
}

int filterjit_line_gather8_f32(const void *source, ptrdiff_t line_stride, ptrdiff_t count, double *destination,
                               ptrdiff_t pitch) {
    if (!filterjit_line_groups_avx2()) return 0;
    FJ_LG_RUN(fj_lg_gather_f32((const char *)source, line_stride, count, destination, pitch));
    return 1;
}

int filterjit_line_scatter8_f64(const double *values, ptrdiff_t pitch, ptrdiff_t count, void *destination,
                                ptrdiff_t line_stride) {
    if (!filterjit_line_groups_avx2()) return 0;
    FJ_LG_RUN(fj_lg_scatter_f64(values, pitch, count, (char *)destination, line_stride));
    return 1;
}

int filterjit_line_scatter8_f32(const double *values, ptrdiff_t pitch, ptrdiff_t count, void *destination,
                                ptrdiff_t line_stride) {
    if (!filterjit_line_groups_avx2()) return 0;
    FJ_LG_RUN(fj_lg_scatter_f32(values, pitch, count, (char *)destination, line_stride));
    return 1;
}
