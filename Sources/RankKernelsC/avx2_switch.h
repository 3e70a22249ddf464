// The run-time switch of an AVX2 kernel family (the medians, the pairwise float sums, the small and long boxes,
// the uint8 box means): on where the CPU has AVX2 and FILTERJIT_NO_AVX2 is unset, empty or starts with '0'. Each family keeps
// its own cached value, so that a test switching one (`..._set_avx2`) does not change another's strategy.
#ifndef FILTERJIT_AVX2_SWITCH_H
#define FILTERJIT_AVX2_SWITCH_H

#include <stdlib.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))

static inline int fj_cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

/// The family's switch: `*cached` is -1 until first read (then the CPU and FILTERJIT_NO_AVX2 decide).
static inline int fj_avx2_switch(int *cached) {
    int value = __atomic_load_n(cached, __ATOMIC_RELAXED);
    if (value < 0) {
        const char *off = getenv("FILTERJIT_NO_AVX2");
        value = fj_cpu_has_avx2() && !(off && off[0] && off[0] != '0');
        __atomic_store_n(cached, value, __ATOMIC_RELAXED);
    }
    return value;
}

/// Turns the family on (1, where the CPU has AVX2) or off (0), or back to the environment (-1).
static inline void fj_avx2_switch_set(int *cached, int enabled) {
    __atomic_store_n(cached, enabled < 0 ? -1 : enabled && fj_cpu_has_avx2() ? 1 : 0, __ATOMIC_RELAXED);
}

#endif

#endif
