"""FilterJIT box min/max against cv2.erode/cv2.dilate and np.copyto, interleaved in one process (branch w12o).

usage: FILTERJIT_LIB=... PYTHONPATH=python python3 benchmarks/box_long_wide_e2e.py REPEAT DTYPE K,K,...
2048x2048, one thread, mode nearest into a preallocated output; equal bits checked first; best of REPEAT."""
import numpy as np, time, sys, filterjit, cv2
cv2.setNumThreads(1)
dt = sys.argv[2] if len(sys.argv) > 2 else "float32"
rng = np.random.default_rng(1)
x = rng.random((2048, 2048)).astype(dt) if dt.startswith("float") else rng.integers(0, 60000, (2048, 2048)).astype(dt)
y = np.empty_like(x)
for k in [int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "9,15,31").split(",")]:
    fp = np.ones((k, k), bool)
    el = np.ones((k, k), np.uint8)
    for op in ("min", "max"):
        f = lambda: filterjit.generic_filter(x, op + "(values)", footprint=fp, mode="nearest", output=y, threads=1)
        g = lambda: (cv2.erode if op == "min" else cv2.dilate)(x, el, borderType=cv2.BORDER_REPLICATE)
        c = lambda: np.copyto(y, x)
        f()
        assert np.array_equal(y, g())
        ts = {"fj": [], "cv": [], "copy": []}
        for r in range(int(sys.argv[1]) if len(sys.argv) > 1 else 20):
            for name, fn in (("fj", f), ("cv", g), ("copy", c)):
                t = time.perf_counter(); fn(); ts[name].append((time.perf_counter() - t) * 1e3)
        b = {n: min(v) for n, v in ts.items()}
        print(f"{dt} {op} k {k}: fj {b['fj']:.3f} cv {b['cv']:.3f} copy {b['copy']:.3f} cv/fj {b['cv']/b['fj']:.2f}", flush=True)
