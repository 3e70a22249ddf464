# CPU-time ratios of np.mean(values) against SciPy's uniform_filter (docs/status.md, "Exact float sums at
# k=5..15"): python3 benchmarks/float_mean_cpu_time.py KS DTYPES [REPEAT], e.g. 5,7,9,11,15 float64,float32 5,
# with FILTERJIT_LIB=$PWD/.build/release/libFilterJITC.so PYTHONPATH=python. time.process_time counts only
# this process's CPU, so the ratios hold on a machine shared with other jobs.
import sys, time, numpy as np, scipy.ndimage as ndi, filterjit
ks = [int(k) for k in sys.argv[1].split(",")]
dtypes = sys.argv[2].split(",")
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 7
rng = np.random.default_rng(1)
for d in dtypes:
    x = rng.random((2048, 2048)).astype(d)
    y = np.empty_like(x)
    for k in ks:
        fp = np.ones((k, k), bool)
        def fj(): filterjit.generic_filter(x, "np.mean(values)", footprint=fp, mode="nearest", output=y, threads=1)
        def sp(): ndi.uniform_filter(x, size=k, mode="nearest")
        fj(); sp()
        best = {"fj": 1e9, "sp": 1e9}
        for r in range(reps):
            for name, f in (("fj", fj), ("sp", sp)):
                t = time.process_time(); f(); best[name] = min(best[name], time.process_time() - t)
        print(f"{d} k={k}: FJ {best['fj']*1e3:.1f} ms cpu, SciPy uniform_filter {best['sp']*1e3:.1f} ms cpu, SciPy/FJ {best['sp']/best['fj']:.2f}x", flush=True)
