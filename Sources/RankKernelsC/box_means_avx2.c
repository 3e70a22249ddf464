// uint8 box means with AVX2, for CPUs without AVX-512: the kernels behind `filterjit_box_slide_u8_u16` and
// `filterjit_box_mean_u8_row` there (see include/box_means.h and box_means.c, whose arithmetic this follows
// lane for lane: the same exact integer sums, the same quotients). 16 uint16 or 8 uint32 lanes per vector; a
// row's last few elements (fewer than a vector) one by one with the same formulas in scalar code.

#include "box_means.h"
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include "avx2_switch.h"

#define FJ_BM2 __attribute__((target("avx2")))

static int fj_box_means_avx2_cached = -1;
int filterjit_box_means_avx2(void) { return fj_avx2_switch(&fj_box_means_avx2_cached); }
void filterjit_box_means_set_avx2(int enabled) { fj_avx2_switch_set(&fj_box_means_avx2_cached, enabled); }

FJ_BM2 void filterjit_box_slide_u8_u16_avx2(uint16_t *columns, const uint8_t *entering, const uint8_t *leaving,
                                            ptrdiff_t count) {
    ptrdiff_t x = 0;
    for (; x + 16 <= count; x += 16) {
        __m256i c = _mm256_loadu_si256((const __m256i *)(columns + x));
        c = _mm256_add_epi16(c, _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(entering + x))));
        c = _mm256_sub_epi16(c, _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(leaving + x))));
        _mm256_storeu_si256((__m256i *)(columns + x), c);
    }
    for (; x < count; x++) columns[x] = (uint16_t)(columns[x] + entering[x] - leaving[x]);
}

// The scalar quotients (a row's last elements): the same formulas as the vector lanes.
static inline uint8_t fj_bm2_quotient16_1(uint16_t s, uint16_t multiplier, int shift, int wide) {
    const uint16_t t = (uint16_t)(((uint32_t)s * multiplier) >> 16);
    return (uint8_t)(wide ? (uint16_t)(t + (uint16_t)((uint16_t)(s - t) >> 1)) >> shift : t >> shift);
}
static inline uint8_t fj_bm2_quotient32_1(int32_t s, float reciprocal, int32_t n) {
    int32_t q = (int32_t)((float)s * reciprocal);
    const int32_t r = s - q * n;
    if (r >= n) q += 1;
    if (r < 0) q -= 1;
    return (uint8_t)q;
}

// trunc(s / n) of 8 int32 lanes 0 <= s < 2^24 (box_means.c, `fj_box_quotient32`).
FJ_BM2 static inline __m256i fj_bm2_quotient32(__m256i s, __m256 reciprocal, __m256i n) {
    __m256i q = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(s), reciprocal));
    const __m256i r = _mm256_sub_epi32(s, _mm256_mullo_epi32(q, n));
    // r >= n: q + 1 (the mask is -1); r < 0: q - 1.
    q = _mm256_sub_epi32(q, _mm256_cmpgt_epi32(r, _mm256_sub_epi32(n, _mm256_set1_epi32(1))));
    return _mm256_add_epi32(q, _mm256_cmpgt_epi32(_mm256_setzero_si256(), r));
}

// The low byte of each of 8 int32 lanes (each below 256) into out[0 ..< 8].
FJ_BM2 static inline void fj_bm2_store8(uint8_t *out, __m256i q) {
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(q, pick), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
    _mm_storel_epi64((__m128i *)out, _mm256_castsi256_si128(bytes));
}

typedef struct {
    int high16, wide, shift;
    uint16_t multiplier16;
    __m256i multiplier;
    __m128i shiftVector;
    __m256 reciprocal;
    __m256i n;
    float reciprocal1;
    int32_t n1;
} fj_bm2_divide;

FJ_BM2 static inline fj_bm2_divide fj_bm2_divider(uint32_t divisor, uint32_t multiplier, uint16_t shift) {
    fj_bm2_divide d;
    d.high16 = multiplier != 0;
    d.wide = multiplier >= 65536;
    d.shift = d.wide ? shift - 17 : shift - 16;
    d.multiplier16 = (uint16_t)multiplier;
    d.multiplier = _mm256_set1_epi16((short)(uint16_t)multiplier);
    d.shiftVector = _mm_cvtsi32_si128(d.shift);
    d.reciprocal1 = 1.0f / (float)divisor;
    d.reciprocal = _mm256_set1_ps(d.reciprocal1);
    d.n1 = (int32_t)divisor;
    d.n = _mm256_set1_epi32((int)divisor);
    return d;
}

// trunc(s / divisor) of 16 uint16 sums into out[0 ..< 16].
FJ_BM2 static inline void fj_bm2_store16(uint8_t *out, __m256i s, const fj_bm2_divide *d) {
    if (d->high16) {
        __m256i t = _mm256_mulhi_epu16(s, d->multiplier);
        if (d->wide) t = _mm256_add_epi16(t, _mm256_srli_epi16(_mm256_sub_epi16(s, t), 1));
        const __m256i q = _mm256_srl_epi16(t, d->shiftVector);
        // Each lane below 256: pack the two halves' bytes in order.
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi16(q, q), 0x08);
        _mm_storeu_si128((__m128i *)out, _mm256_castsi256_si128(packed));
    } else {
        fj_bm2_store8(out, fj_bm2_quotient32(_mm256_cvtepu16_epi32(_mm256_castsi256_si128(s)), d->reciprocal, d->n));
        fj_bm2_store8(out + 8, fj_bm2_quotient32(_mm256_cvtepu16_epi32(_mm256_extracti128_si256(s, 1)), d->reciprocal, d->n));
    }
}

static inline uint8_t fj_bm2_quotient_sum16(uint16_t s, const fj_bm2_divide *d) {
    return d->high16 ? fj_bm2_quotient16_1(s, d->multiplier16, d->shift, d->wide) : fj_bm2_quotient32_1(s, d->reciprocal1, d->n1);
}

// Windows of up to 8 columns, 16-bit sums.
FJ_BM2 static void fj_bm2_mean_direct16(const uint16_t *ext, ptrdiff_t length, ptrdiff_t count, fj_bm2_divide d, uint8_t *out) {
    ptrdiff_t x = 0;
    for (; x + 16 <= count; x += 16) {
        __m256i s = _mm256_loadu_si256((const __m256i *)(ext + x));
        for (ptrdiff_t c = 1; c < length; c++) s = _mm256_add_epi16(s, _mm256_loadu_si256((const __m256i *)(ext + x + c)));
        fj_bm2_store16(out + x, s, &d);
    }
    for (; x < count; x++) {
        uint16_t s = ext[x];
        for (ptrdiff_t c = 1; c < length; c++) s = (uint16_t)(s + ext[x + c]);
        out[x] = fj_bm2_quotient_sum16(s, &d);
    }
}

// Inclusive scan of 16 uint16 lanes (wrapping): within each half, then the lower half's total onto the upper.
FJ_BM2 static inline __m256i fj_bm2_scan16(__m256i v) {
    v = _mm256_add_epi16(v, _mm256_slli_si256(v, 2));
    v = _mm256_add_epi16(v, _mm256_slli_si256(v, 4));
    v = _mm256_add_epi16(v, _mm256_slli_si256(v, 8));
    const __m256i lowTotal = _mm256_shuffle_epi8(_mm256_permute2x128_si256(v, v, 0x08),
                                                 _mm256_set1_epi16(0x0F0E));
    return _mm256_add_epi16(v, lowTotal);
}

// Inclusive scan of 8 uint32 lanes (wrapping).
FJ_BM2 static inline __m256i fj_bm2_scan32(__m256i v) {
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
    return _mm256_add_epi32(v, _mm256_shuffle_epi32(_mm256_permute2x128_si256(v, v, 0x08), 0xFF));
}

// Longer windows, 16-bit sums: P in uint16 (modulo 2^16; every S < 2^16).
FJ_BM2 static void fj_bm2_mean_prefix16(const uint16_t *ext, ptrdiff_t length, ptrdiff_t count, fj_bm2_divide d,
                                        uint8_t *out, uint16_t *p) {
    const ptrdiff_t m = count + length - 1;
    p[0] = 0;
    __m256i carry = _mm256_setzero_si256();
    ptrdiff_t j = 0;
    for (; j + 16 <= m; j += 16) {
        const __m256i v = _mm256_add_epi16(fj_bm2_scan16(_mm256_loadu_si256((const __m256i *)(ext + j))), carry);
        _mm256_storeu_si256((__m256i *)(p + j + 1), v);
        carry = _mm256_set1_epi16((short)_mm256_extract_epi16(v, 15));
    }
    for (; j < m; j++) p[j + 1] = (uint16_t)(p[j] + ext[j]);
    ptrdiff_t x = 0;
    for (; x + 16 <= count; x += 16) {
        const __m256i s = _mm256_sub_epi16(_mm256_loadu_si256((const __m256i *)(p + x + length)),
                                           _mm256_loadu_si256((const __m256i *)(p + x)));
        fj_bm2_store16(out + x, s, &d);
    }
    for (; x < count; x++) out[x] = fj_bm2_quotient_sum16((uint16_t)(p[x + length] - p[x]), &d);
}

// 32-bit sums below 2^24: P in uint32, the quotient estimated in float and corrected.
FJ_BM2 static void fj_bm2_mean_prefix32(const uint16_t *ext, ptrdiff_t length, ptrdiff_t count, uint32_t divisor,
                                        uint8_t *out, uint32_t *p) {
    const ptrdiff_t m = count + length - 1;
    p[0] = 0;
    __m256i carry = _mm256_setzero_si256();
    const __m256i last = _mm256_set1_epi32(7);
    ptrdiff_t j = 0;
    for (; j + 8 <= m; j += 8) {
        const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(ext + j)));
        const __m256i a = _mm256_add_epi32(fj_bm2_scan32(v), carry);
        _mm256_storeu_si256((__m256i *)(p + j + 1), a);
        carry = _mm256_permutevar8x32_epi32(a, last);
    }
    for (; j < m; j++) p[j + 1] = p[j] + ext[j];
    const float reciprocal1 = 1.0f / (float)divisor;
    const __m256 reciprocal = _mm256_set1_ps(reciprocal1);
    const __m256i n = _mm256_set1_epi32((int)divisor);
    ptrdiff_t x = 0;
    for (; x + 8 <= count; x += 8) {
        const __m256i s = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(p + x + length)),
                                           _mm256_loadu_si256((const __m256i *)(p + x)));
        fj_bm2_store8(out + x, fj_bm2_quotient32(s, reciprocal, n));
    }
    for (; x < count; x++) out[x] = fj_bm2_quotient32_1((int32_t)(p[x + length] - p[x]), reciprocal1, (int32_t)divisor);
}

FJ_BM2 int filterjit_box_mean_u8_row_avx2(const uint16_t *ext, ptrdiff_t length, ptrdiff_t count, uint32_t divisor, int sums16,
                                   uint32_t multiplier, uint16_t shift, uint8_t *out, uint32_t *scratch) {
    if (sums16) {
        const fj_bm2_divide d = fj_bm2_divider(divisor, multiplier, shift);
        if (length <= 8) fj_bm2_mean_direct16(ext, length, count, d, out);
        else fj_bm2_mean_prefix16(ext, length, count, d, out, (uint16_t *)scratch);
    } else {
        fj_bm2_mean_prefix32(ext, length, count, divisor, out, scratch);
    }
    return 1;
}

#else

int filterjit_box_means_avx2(void) { return 0; }
void filterjit_box_means_set_avx2(int enabled) { (void)enabled; }
void filterjit_box_slide_u8_u16_avx2(uint16_t *columns, const uint8_t *entering, const uint8_t *leaving, ptrdiff_t count) {
    (void)columns; (void)entering; (void)leaving; (void)count;
}
int filterjit_box_mean_u8_row_avx2(const uint16_t *ext, ptrdiff_t length, ptrdiff_t count, uint32_t divisor, int sums16,
                                   uint32_t multiplier, uint16_t shift, uint8_t *out, uint32_t *scratch) {
    (void)ext; (void)length; (void)count; (void)divisor; (void)sums16; (void)multiplier; (void)shift; (void)out; (void)scratch;
    return 0;
}

#endif
