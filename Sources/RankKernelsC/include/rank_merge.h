// Order statistics of large windows of float data by ranks (docs/window-strategies.md, "Ranked rows").
//
// For one output row, the extended input rows that its footprint reads are merged into one sorted
// sequence of (key, tag) pairs: the key orders the values (an order-preserving integer of the value's
// bits), the tag names the element (slot << 24 | column). An element's rank is its position in that
// sequence; ranks are distinct, and rank order is value order, so the k-th smallest rank of a window
// is an element whose value is the window's k-th smallest value. A window's ranks slide along the row
// as bits of a bit set, and each requested order statistic is found by walking from its previous
// position: a step costs O(spans) bit flips plus the distance the statistic moved, not O(window).
// From one output row to the next only the rows that leave and enter change the sequence (a filter
// and a merge, O(rows x width) per output row).
#ifndef FILTERJIT_RANK_MERGE_H
#define FILTERJIT_RANK_MERGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Order-preserving keys of `n` doubles (no NaN): key(a) < key(b) exactly when a < b, except that
/// -0.0 sorts below +0.0 (callers exclude -0.0 data, as the order statistics' exact paths do).
void filterjit_rank_keys_f64(const double *values, ptrdiff_t n, uint64_t *keys);
/// The same for floats; the keys fit in 32 bits.
void filterjit_rank_keys_f32(const float *values, ptrdiff_t n, uint64_t *keys);
/// The double whose key is `key` (the inverse of filterjit_rank_keys_f64).
double filterjit_rank_value_f64(uint64_t key);
/// The float whose key is `key` (the inverse of filterjit_rank_keys_f32).
float filterjit_rank_value_f32(uint64_t key);

/// Sorts `n` pairs (keys[i], tags[i]) by key (LSD radix sort; `scratchKeys`/`scratchTags` hold n
/// each). Equal keys keep their input order.
void filterjit_rank_sort(uint64_t *keys, uint32_t *tags, ptrdiff_t n, uint64_t *scratchKeys, uint32_t *scratchTags);

/// Merges the pairs of `a` whose tag's slot (tag >> 24) is not marked in `dropSlot` (256 entries)
/// with the pairs of `b` (both sorted by key) into `out` (room for na + nb); returns the count.
/// `a` is compacted in place first (its kept pairs move to its front).
ptrdiff_t filterjit_rank_merge(uint64_t *aKeys, uint32_t *aTags, ptrdiff_t na, const uint8_t *dropSlot,
                               const uint64_t *bKeys, const uint32_t *bTags, ptrdiff_t nb,
                               uint64_t *outKeys, uint32_t *outTags);

/// ranks[(tag >> 24) * rowLength + (tag & 0xFFFFFF)] = position, for every position of the sequence.
void filterjit_rank_assign(const uint32_t *tags, ptrdiff_t n, ptrdiff_t rowLength, uint32_t *ranks);

/// The order statistics of every window of one output row. The window of pixel x holds, for each
/// span s, the ranks spans[s][x ..< x + lengths[s]] (so spans[s][0 ..< n + lengths[s] - 1] are read).
/// A window's ranks must be distinct (spans never share an element: the bit set holds each rank once).
/// For each requested k (0-based, ks[i] < the window's count), writes the rank that is the window's
/// k-th smallest to out[i * n + x]. `bits` has room for `words` 64-bit words, words * 64 > every rank;
/// its contents on entry do not matter.
void filterjit_rank_slide(const uint32_t *const *spans, const ptrdiff_t *lengths, ptrdiff_t spanCount, ptrdiff_t n,
                          const ptrdiff_t *ks, ptrdiff_t kCount, uint64_t *bits, ptrdiff_t words, uint32_t *out);

/// filterjit_rank_slide without BMI2 (what a CPU without it runs; for tests).
void filterjit_rank_slide_portable(const uint32_t *const *spans, const ptrdiff_t *lengths, ptrdiff_t spanCount,
                                   ptrdiff_t n, const ptrdiff_t *ks, ptrdiff_t kCount, uint64_t *bits, ptrdiff_t words,
                                   uint32_t *out);

#ifdef __cplusplus
}
#endif

#endif
