// float32 NaN and -0.0 seen among AVX2 vectors (private to the AVX2 kernels: median3x3_avx2.c and
// box_minmax_fused_avx2.c; include after <immintrin.h>). NaN has magnitude bits above infinity's
// 0x7F800000 and -0.0 is the bit pattern 0x80000000, the least int32, so a running maximum of the
// magnitudes and a running minimum of the patterns tell whether any was added: integer operations, off
// the two pipes that take the float min/max (a cmpps + pcmpeqd + two ors per vector took 17% of the
// float32 3x3 median kernel on Zen 3). The same test as `hasOrderHazard` in the Swift passes.
#ifndef FILTERJIT_F32_HAZARDS_AVX2_H
#define FILTERJIT_F32_HAZARDS_AVX2_H

#include <stdint.h>

#define FJ_F32_SEEN_INLINE static inline __attribute__((target("avx2"), always_inline))

typedef struct { __m256i magnitudes, patterns; } fj_f32_seen;

/// Nothing seen yet.
FJ_F32_SEEN_INLINE fj_f32_seen fj_f32_seen_none(void) {
    return (fj_f32_seen){_mm256_setzero_si256(), _mm256_set1_epi32(INT32_MAX)};
}

/// Adds the 8 float32 lanes of v (as their bits).
FJ_F32_SEEN_INLINE void fj_f32_seen_add(fj_f32_seen *seen, __m256i v) {
    seen->magnitudes = _mm256_max_epi32(seen->magnitudes, _mm256_and_si256(v, _mm256_set1_epi32(INT32_MAX)));
    seen->patterns = _mm256_min_epi32(seen->patterns, v);
}

/// Whether any lane added was NaN or -0.0.
FJ_F32_SEEN_INLINE int fj_f32_seen_any(fj_f32_seen seen) {
    return _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpgt_epi32(seen.magnitudes, _mm256_set1_epi32(0x7F800000)),
                                                _mm256_cmpeq_epi32(seen.patterns, _mm256_set1_epi32(INT32_MIN)))) != 0;
}

#endif
