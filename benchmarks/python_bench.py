"""FilterJIT from Python versus SciPy and Numba (a figure, not a test).

Run after `swift build -c release --product FilterJITC`:
    PYTHONPATH=python python3 benchmarks/python_bench.py [--size 2048] [--repeats 3]

1. The seed case, a 2048x2048 float64 image, cross footprint, minimum: scipy.ndimage.generic_filter with
   FilterJIT's LowLevelCallable, with a Numba cfunc (when numba is installed), with a plain Python
   function (on a 256x256 crop, scaled), filterjit.generic_filter (1 thread and all), grey_erosion.
2. Compiling a new kernel in a running process: FilterJIT versus Numba's later cfunc compiles.
3. A fresh process: `import filterjit` + first callable versus `import numba` + first cfunc.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.ndimage as ndi

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
# Compiles are measured as compiles: this process does not use the on-disk kernel cache
# (section 3 measures a fresh process with and without it).
os.environ["FILTERJIT_DISK_CACHE"] = "0"
import filterjit  # noqa: E402

try:
    import numba  # noqa: F401
    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False

FMIN = """
def fmin(values):
    result = np.inf
    for v in values:
        if v < result:
            result = v
    return result
"""


def best_of(repeats, function):
    """The fastest of `repeats` runs, in seconds, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def numba_fmin(constant=np.inf):
    from numba import carray, cfunc
    from numba.types import CPointer, float64, intc, intp, voidptr

    @cfunc(intc(CPointer(float64), intp, CPointer(float64), voidptr))
    def fmin(values_ptr, length, result, data):
        values = carray(values_ptr, (length,), dtype=float64)
        best = constant
        for v in values:
            if v < best:
                best = v
        result[0] = best
        return 1
    return fmin


def fresh_process(code, **environment):
    """Runs `code` in a new interpreter (numpy and scipy already imported before the clock starts)."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "python"), **environment)
    program = "import time, numpy as np, scipy, scipy.ndimage as ndi\nstart = time.perf_counter()\n" + \
        textwrap.dedent(code) + "\nprint(time.perf_counter() - start)\n"
    out = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []

    image = np.random.default_rng(0).random((args.size, args.size))
    fp = ndi.generate_binary_structure(2, 1)
    expected = ndi.grey_erosion(image, footprint=fp)
    print(f"filterjit library {filterjit.library_path}; numpy {np.__version__}, scipy {scipy.__version__}, "
          f"{os.cpu_count()} CPUs; numba: {'installed' if HAVE_NUMBA else 'NOT installed (its rows are skipped)'}")
    print(f"1. {args.size}x{args.size} float64, cross footprint, min (best of {args.repeats})")

    callable_ = filterjit.jit_filter(FMIN)
    seconds, result = best_of(args.repeats, lambda: ndi.generic_filter(image, callable_, footprint=fp))
    assert np.array_equal(result, expected)
    rows.append(("scipy generic_filter + FilterJIT LowLevelCallable", seconds))
    if HAVE_NUMBA:
        from scipy import LowLevelCallable
        numba_callable = LowLevelCallable(numba_fmin().ctypes)
        seconds, result = best_of(args.repeats, lambda: ndi.generic_filter(image, numba_callable, footprint=fp))
        assert np.array_equal(result, expected)
        rows.append(("scipy generic_filter + Numba cfunc LowLevelCallable", seconds))
    crop = image[:256, :256]
    namespace = {"np": np}
    exec(FMIN, namespace)  # the same text as a plain Python function
    seconds, _ = best_of(1, lambda: ndi.generic_filter(crop, namespace["fmin"], footprint=fp))
    rows.append(("scipy generic_filter + Python function (256x256 crop, scaled)", seconds * image.size / crop.size))
    for threads in (1, None):
        for engine in ("callback", "fused"):
            seconds, result = best_of(args.repeats, lambda: filterjit.generic_filter(
                image, callable_, footprint=fp, threads=threads, engine=engine))
            assert np.array_equal(result, expected)
            label = f"filterjit.generic_filter engine={engine} threads={threads or os.cpu_count()}"
            rows.append((label + " (a new output each call)", seconds))
    seconds, _ = best_of(args.repeats, lambda: ndi.grey_erosion(image, footprint=fp))
    rows.append(("scipy grey_erosion (C)", seconds))
    for label, seconds in rows:
        print(f"   {label:<70} {seconds * 1000:10.1f} ms")

    print("2. compiling a new kernel in a running process (median of 5)")
    times = []
    for i in range(5):
        source = FMIN.replace("np.inf", f"1e{300 - i}")  # a new text each time: no cache hit
        start = time.perf_counter()
        filterjit.jit_filter(source)
        times.append(time.perf_counter() - start)
    print(f"   {'FilterJIT jit_filter (new source)':<70} {np.median(times) * 1000:10.2f} ms")
    if HAVE_NUMBA:
        numba_fmin()  # the first compile pays for Numba's own warm-up
        times = []
        for i in range(5):
            start = time.perf_counter()
            numba_fmin(float(f"1e{300 - i}"))
            times.append(time.perf_counter() - start)
        print(f"   {'Numba cfunc (later compiles)':<70} {np.median(times) * 1000:10.2f} ms")

    print("3. a fresh process: import + first callable (numpy and scipy already imported; median of 3)")
    first = f"import filterjit\nfilterjit.jit_filter({FMIN!r})"
    filterjit_cold = [fresh_process(first, FILTERJIT_DISK_CACHE="0") for _ in range(3)]
    print(f"   {'import filterjit + jit_filter (compiled)':<70} {np.median(filterjit_cold) * 1000:10.1f} ms")
    with tempfile.TemporaryDirectory() as cache:
        fresh_process(first, FILTERJIT_DISK_CACHE="1", FILTERJIT_CACHE_DIR=cache)  # fills the cache
        filterjit_cached = [fresh_process(first, FILTERJIT_DISK_CACHE="1", FILTERJIT_CACHE_DIR=cache)
                            for _ in range(3)]
    print(f"   {'import filterjit + jit_filter (loaded from the on-disk cache)':<70} "
          f"{np.median(filterjit_cached) * 1000:10.1f} ms")
    if HAVE_NUMBA:
        numba_code = (f"import numba\nfrom numba import carray, cfunc\nfrom numba.types import CPointer, float64, "
                      f"intc, intp, voidptr\n" + textwrap.dedent('''
            @cfunc(intc(CPointer(float64), intp, CPointer(float64), voidptr))
            def fmin(values_ptr, length, result, data):
                values = carray(values_ptr, (length,), dtype=float64)
                best = np.inf
                for v in values:
                    if v < best:
                        best = v
                result[0] = best
                return 1
            '''))
        numba_cold = [fresh_process(numba_code) for _ in range(3)]
        print(f"   {'import numba + first cfunc':<70} {np.median(numba_cold) * 1000:10.1f} ms")
    else:
        print("   numba is not installed: no Numba figures (pip install numba to compare)")


if __name__ == "__main__":
    main()
