"""Non-temporal output stores against the next reader (docs/status.md, Known gaps, issue 12, ninth session).

2048x2048 float32 3x3 median rows, one thread: the `_rows` kernel against `_rows_stream` (non-temporal
stores), each alone and followed by a consumer that reads the output (`y.sum()`) or copies it (`np.copyto`),
best of 30. Calls the C kernels directly through ctypes.

    FILTERJIT_LIB=$PWD/.build/release/libFilterJITC.so python3 benchmarks/stream_consumer.py
"""
import ctypes as C
import os
import time

import numpy as np

lib = C.CDLL(os.environ.get("FILTERJIT_LIB", os.path.join(os.path.dirname(__file__), "..", ".build", "release", "libFilterJITC.so")))
H = W = 2048
x = np.random.default_rng(1).random((H, W), dtype=np.float32) + 1  # no NaN / -0.0
pad = np.pad(x, 1, mode="edge")
y = np.empty_like(x); z = np.empty_like(x)
rows = (C.c_void_p * (3 * H))(*[pad.ctypes.data + (y0 + r) * pad.strides[0] for y0 in range(H) for r in range(3)])
outs = (C.c_void_p * H)(*[y.ctypes.data + i * y.strides[0] for i in range(H)])
fns = {}
for name in ("filterjit_median3x3_f32_rows", "filterjit_median3x3_f32_rows_stream"):
    f = getattr(lib, name); f.argtypes = [C.c_void_p, C.c_void_p, C.c_ssize_t, C.c_ssize_t, C.c_ssize_t]; f.restype = C.c_int
    fns[name.split("_")[-1]] = f
for f in fns.values(): assert f(rows, outs, H, 0, W) == 1
best = {}
for _ in range(6):
    for name, f in fns.items():
        for consumer in ("none", "sum", "copy"):
            for _ in range(5):
                t0 = time.perf_counter(); f(rows, outs, H, 0, W); t1 = time.perf_counter()
                if consumer == "sum": y.sum()
                elif consumer == "copy": np.copyto(z, y)
                t2 = time.perf_counter()
                k = (name, consumer)
                a, b = best.get(k, (1e9, 1e9)); best[k] = (min(a, t1 - t0), min(b, t2 - t0))
for (name, consumer), (a, b) in sorted(best.items()):
    print(f"{name:7s} then {consumer:5s}: kernel {a*1e3:.2f} ms, kernel + consumer {b*1e3:.2f} ms")
