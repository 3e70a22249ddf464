#!/usr/bin/env python3
"""SciPy side of the fused-engine benchmark (issue 5): best-of-N wall times in ms, one JSON line.

Images match `filterjit bench` (2048x2048 unless noted); the values do not matter for these filters'
speed. Usage: python3 scripts/bench_fused_scipy.py [repeats]
"""
import json, sys, time
import numpy as np
import scipy.ndimage as ndi

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
rng = np.random.default_rng(0)
f64 = rng.random((2048, 2048))
u8 = rng.integers(0, 256, (2048, 2048), dtype=np.uint8)
cube = rng.random((128, 128, 128))
cross = ndi.generate_binary_structure(2, 1)


def best(fn, n=repeats):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return min(times)


out = {
    "copy_32MiB_ms": best(lambda: np.copy(f64)),
    "grey_erosion_cross_f64_ms": best(lambda: ndi.grey_erosion(f64, footprint=cross)),
    "grey_erosion_cross_u8_ms": best(lambda: ndi.grey_erosion(u8, footprint=cross)),
    "uniform_filter_3x3_f64_ms": best(lambda: ndi.uniform_filter(f64, size=3)),
    "median_filter_5x5_f64_ms": best(lambda: ndi.median_filter(f64, size=5), n=2),
    "grey_erosion_3x3x3_f64_ms": best(lambda: ndi.grey_erosion(cube, size=(3, 3, 3))),
    "uniform_filter1d_3_f64_ms": best(lambda: ndi.uniform_filter1d(f64, size=3)),
}
print(json.dumps(out, sort_keys=True))
