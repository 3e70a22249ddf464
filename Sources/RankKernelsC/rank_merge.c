// Order statistics of large windows by ranks: see include/rank_merge.h and docs/window-strategies.md.
#include "include/rank_merge.h"

#include <stdlib.h>
#include <string.h>

void filterjit_rank_keys_f64(const double *values, ptrdiff_t n, uint64_t *keys) {
    for (ptrdiff_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &values[i], 8);
        // Negative values: all bits flipped (larger magnitude, smaller key); others: the sign bit set.
        uint64_t mask = (uint64_t)((int64_t)bits >> 63) | ((uint64_t)1 << 63);
        keys[i] = bits ^ mask;
    }
}

void filterjit_rank_keys_f32(const float *values, ptrdiff_t n, uint64_t *keys) {
    for (ptrdiff_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], 4);
        uint32_t mask = (uint32_t)((int32_t)bits >> 31) | ((uint32_t)1 << 31);
        keys[i] = bits ^ mask;
    }
}

double filterjit_rank_value_f64(uint64_t key) {
    uint64_t bits = (key >> 63) ? key ^ ((uint64_t)1 << 63) : ~key;
    double value;
    memcpy(&value, &bits, 8);
    return value;
}

float filterjit_rank_value_f32(uint64_t key) {
    uint32_t k = (uint32_t)key;
    uint32_t bits = (k >> 31) ? k ^ ((uint32_t)1 << 31) : ~k;
    float value;
    memcpy(&value, &bits, 4);
    return value;
}

void filterjit_rank_sort(uint64_t *keys, uint32_t *tags, ptrdiff_t n, uint64_t *scratchKeys, uint32_t *scratchTags) {
    if (n < 2) return;
    // All eight byte histograms in one pass; a byte that every key shares needs no pass.
    enum { digits = 8 };
    ptrdiff_t counts[digits][256];   /* 16 KiB of stack */
    memset(counts, 0, sizeof counts);
    for (ptrdiff_t i = 0; i < n; i++) {
        uint64_t key = keys[i];
        for (int d = 0; d < digits; d++) counts[d][(key >> (8 * d)) & 0xFF]++;
    }
    uint64_t *fromKeys = keys, *toKeys = scratchKeys;
    uint32_t *fromTags = tags, *toTags = scratchTags;
    for (int d = 0; d < digits; d++) {
        ptrdiff_t *count = counts[d];
        if (count[(fromKeys[0] >> (8 * d)) & 0xFF] == n) continue;
        ptrdiff_t offset = 0;
        for (int b = 0; b < 256; b++) { ptrdiff_t c = count[b]; count[b] = offset; offset += c; }
        for (ptrdiff_t i = 0; i < n; i++) {
            uint64_t key = fromKeys[i];
            ptrdiff_t at = count[(key >> (8 * d)) & 0xFF]++;
            toKeys[at] = key;
            toTags[at] = fromTags[i];
        }
        uint64_t *k = fromKeys; fromKeys = toKeys; toKeys = k;
        uint32_t *t = fromTags; fromTags = toTags; toTags = t;
    }
    if (fromKeys != keys) {
        memcpy(keys, fromKeys, (size_t)n * sizeof *keys);
        memcpy(tags, fromTags, (size_t)n * sizeof *tags);
    }
}

ptrdiff_t filterjit_rank_merge(uint64_t *aKeys, uint32_t *aTags, ptrdiff_t na, const uint8_t *dropSlot,
                               const uint64_t *bKeys, const uint32_t *bTags, ptrdiff_t nb,
                               uint64_t *outKeys, uint32_t *outTags) {
    // The dropped pairs leave first, compacted in place (a write never passes its read), so that the
    // merge itself has no branch on data: where the new row's elements fall is random, and a branch
    // per step mispredicted about half the time (the merge was 22% of a disk r7 median).
    ptrdiff_t kept = 0;
    for (ptrdiff_t i = 0; i < na; i++) {
        uint32_t tag = aTags[i];
        aKeys[kept] = aKeys[i];
        aTags[kept] = tag;
        kept += !dropSlot[tag >> 24];
    }
    ptrdiff_t i = 0, j = 0, o = 0;
    while (i < kept && j < nb) {
        uint64_t a = aKeys[i], b = bKeys[j];
        int takeB = b < a;
        outKeys[o] = takeB ? b : a;
        outTags[o] = takeB ? bTags[j] : aTags[i];
        j += takeB;
        i += !takeB;
        o++;
    }
    for (; i < kept; i++, o++) { outKeys[o] = aKeys[i]; outTags[o] = aTags[i]; }
    for (; j < nb; j++, o++) { outKeys[o] = bKeys[j]; outTags[o] = bTags[j]; }
    return o;
}

void filterjit_rank_assign(const uint32_t *tags, ptrdiff_t n, ptrdiff_t rowLength, uint32_t *ranks) {
    for (ptrdiff_t p = 0; p < n; p++) {
        uint32_t tag = tags[p];
        ranks[(ptrdiff_t)(tag >> 24) * rowLength + (tag & 0xFFFFFF)] = (uint32_t)p;
    }
}

// The index of the j-th (0-based) set bit of `word` (j < popcount(word)).
static inline int select_bit_portable(uint64_t word, int j) {
    for (; j > 0; j--) word &= word - 1;
    return __builtin_ctzll(word);
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define FJ_BMI2 __attribute__((target("bmi2,popcnt")))
FJ_BMI2 static inline int select_bit_bmi2(uint64_t word, int j) {
    return __builtin_ctzll(_pdep_u64((uint64_t)1 << j, word));
}
#endif

// One body, compiled twice: with pdep for the select on CPUs that have BMI2, portable otherwise.
#define FJ_RANK_SLIDE_BODY(SELECT)                                                                        \
    ptrdiff_t local[2 * 16];                                                                              \
    ptrdiff_t *state = kCount <= 16 ? local : malloc(2 * (size_t)kCount * sizeof(ptrdiff_t));             \
    if (!state) abort();                                                                                  \
    ptrdiff_t *wordAt = state, *below = state + kCount;                                                   \
    memset(bits, 0, (size_t)words * sizeof *bits);                                                        \
    for (ptrdiff_t s = 0; s < spanCount; s++)                                                             \
        for (ptrdiff_t c = 0; c < lengths[s]; c++) {                                                      \
            uint32_t q = spans[s][c];                                                                     \
            bits[q >> 6] |= (uint64_t)1 << (q & 63);                                                      \
        }                                                                                                 \
    for (ptrdiff_t i = 0; i < kCount; i++) { wordAt[i] = 0; below[i] = 0; }                             \
    for (ptrdiff_t x = 0; x < n; x++) {                                                                   \
        if (x > 0) {                                                                                      \
            for (ptrdiff_t s = 0; s < spanCount; s++) {                                                   \
                uint32_t leaving = spans[s][x - 1], entering = spans[s][x - 1 + lengths[s]];              \
                bits[leaving >> 6] &= ~((uint64_t)1 << (leaving & 63));                                   \
                bits[entering >> 6] |= (uint64_t)1 << (entering & 63);                                    \
                for (ptrdiff_t i = 0; i < kCount; i++)                                                    \
                    below[i] += ((ptrdiff_t)(entering >> 6) < wordAt[i]) - ((ptrdiff_t)(leaving >> 6) < wordAt[i]); \
            }                                                                                             \
        }                                                                                                 \
        for (ptrdiff_t i = 0; i < kCount; i++) {                                                          \
            ptrdiff_t w = wordAt[i], b = below[i], k = ks[i];                                             \
            while (b > k) { w--; b -= __builtin_popcountll(bits[w]); }                                    \
            for (;;) {                                                                                    \
                ptrdiff_t c = __builtin_popcountll(bits[w]);                                              \
                if (b + c > k) break;                                                                     \
                b += c; w++;                                                                              \
            }                                                                                             \
            wordAt[i] = w; below[i] = b;                                                                  \
            out[i * n + x] = (uint32_t)(w * 64 + SELECT(bits[w], (int)(k - b)));                          \
        }                                                                                                 \
    }                                                                                                     \
    if (state != local) free(state);

void filterjit_rank_slide_portable(const uint32_t *const *spans, const ptrdiff_t *lengths, ptrdiff_t spanCount,
                                ptrdiff_t n, const ptrdiff_t *ks, ptrdiff_t kCount, uint64_t *bits, ptrdiff_t words,
                                uint32_t *out) {
    FJ_RANK_SLIDE_BODY(select_bit_portable)
}

#ifdef FJ_BMI2
FJ_BMI2 static void rank_slide_bmi2(const uint32_t *const *spans, const ptrdiff_t *lengths, ptrdiff_t spanCount,
                                    ptrdiff_t n, const ptrdiff_t *ks, ptrdiff_t kCount, uint64_t *bits, ptrdiff_t words,
                                    uint32_t *out) {
    FJ_RANK_SLIDE_BODY(select_bit_bmi2)
}
#endif

void filterjit_rank_slide(const uint32_t *const *spans, const ptrdiff_t *lengths, ptrdiff_t spanCount, ptrdiff_t n,
                          const ptrdiff_t *ks, ptrdiff_t kCount, uint64_t *bits, ptrdiff_t words, uint32_t *out) {
#ifdef FJ_BMI2
    static int cached = -1;   /* atomics: threads may ask at the same time (TSan runs in CI) */
    int bmi2 = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (bmi2 < 0) {
        __builtin_cpu_init();
        bmi2 = __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
        __atomic_store_n(&cached, bmi2, __ATOMIC_RELAXED);
    }
    if (bmi2) { rank_slide_bmi2(spans, lengths, spanCount, n, ks, kCount, bits, words, out); return; }
#endif
    filterjit_rank_slide_portable(spans, lengths, spanCount, n, ks, kCount, bits, words, out);
}
