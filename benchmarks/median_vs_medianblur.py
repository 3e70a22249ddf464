# Interleaved best-of-N: filterjit.generic_filter("np.median(values)", size=k, mode="nearest", threads=1)
# against cv2.medianBlur (BORDER_REPLICATE, cv2.setNumThreads(1)) in one process, 2048x2048
# (docs/status.md, "3x3 medians (branch w12g)"). Every result is first checked bit-equal to medianBlur's.
#   FILTERJIT_LIB=$PWD/.build/release/libFilterJITC.so PYTHONPATH=python python3 benchmarks/median_vs_medianblur.py
# Environment: CASES (default u8:3,f32:3,u8:5,f32:5), REPS (default 30), COLD=1 to sweep 64 MB through
# the caches before every timed call (as in the window sweep, where SciPy's runs leave them cold).
# Ratios are medianBlur time / FilterJIT time (above 1: FilterJIT is faster).
import os, time, numpy as np, cv2, filterjit

cv2.setNumThreads(1)
reps = int(os.environ.get("REPS", "30"))
cold = os.environ.get("COLD", "0") == "1"
kernel = filterjit.jit_filter("np.median(values)")
rng = np.random.default_rng(1)
flush = np.zeros(64 << 20, np.uint8)
for case in os.environ.get("CASES", "u8:3,f32:3,u8:5,f32:5").split(","):
    dtype, k = case.split(":")
    k = int(k)
    if dtype == "u8":
        x = rng.integers(0, 256, (2048, 2048)).astype(np.uint8)
    else:
        x = rng.random((2048, 2048)).astype(np.float32)
    y = np.empty_like(x)
    def fj(): filterjit.generic_filter(x, kernel, size=k, mode="nearest", output=y, threads=1)
    def cv(): return cv2.medianBlur(x, k)
    fj()
    if not np.array_equal(y, cv()):
        raise SystemExit(f"{case}: differs from medianBlur")
    times = {"fj": [], "cv": []}
    for i in range(reps):
        order = (("fj", fj), ("cv", cv)) if i % 2 == 0 else (("cv", cv), ("fj", fj))
        for name, f in order:
            if cold:
                flush += 1
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    a, b = min(times["fj"]), min(times["cv"])
    print(f"{case:7s} FilterJIT {a * 1e3:7.3f} ms  medianBlur {b * 1e3:7.3f} ms  medianBlur/FJ {b / a:5.2f}x"
          f"  ({'cold' if cold else 'hot'} caches, load {os.getloadavg()[0]:.1f})", flush=True)
