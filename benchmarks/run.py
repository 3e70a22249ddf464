"""FilterJIT against scipy.ndimage, side by side in one run (issue 5's suite).

    bash benchmarks/run.sh          (builds the release library, then runs this)
    PYTHONPATH=python python3 benchmarks/run.py [--repeat N] [--quick]

For each case, the contenders' repetitions are interleaved (A B C A B C ...) on the same seeded data;
FilterJIT writes into a preallocated output, as the copy floor does. Prints a table and writes
benchmarks/results.md: best and median milliseconds, and the ratio SciPy / FilterJIT (best over best).
Each case's peak resident memory for FilterJIT is measured in a separate process (the growth of
ru_maxrss over input + output), against the limit input + output + 32 MiB. Numba and
scipy.ndimage.vectorized_filter are included where available, and the table says when they are not.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.ndimage as ndi

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
import filterjit  # noqa: E402

try:
    import numba  # noqa: F401
    from numba import cfunc, carray, types
    HAVE_NUMBA = True
except ImportError:
    HAVE_NUMBA = False

CROSS2 = ndi.generate_binary_structure(2, 1)
MIN_SOURCE = "min(values)"
MEAN_SOURCE = "np.mean(values)"
MEDIAN_SOURCE = "median(values)"
LINE_MEAN_SOURCE = """
@line_filter
def mean3(line, out):
    for i in range(len(out)):
        out[i] = (line[i] + line[i + 1] + line[i + 2]) / 3.0
"""


def image(shape, dtype, seed=2026):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.random(shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def numba_min_cfunc():
    @cfunc(types.intc(types.CPointer(types.double), types.intp, types.CPointer(types.double), types.voidptr))
    def nmin(values_ptr, len_values, result, data):
        values = carray(values_ptr, (len_values,), dtype=types.double)
        best = np.inf
        for v in values:
            if v < best:
                best = v
        result[0] = best
        return 1
    return scipy.LowLevelCallable(nmin.ctypes)


def cases(quick):
    """Each case: name, target text, data maker, contenders (label -> callable), the FilterJIT label,
    the reference label and the target ratio (reference / FilterJIT)."""
    n = 512 if quick else 2048
    m = 64 if quick else 128
    out = {}

    def case1():
        x = image((n, n), np.float64)
        y = np.empty_like(x)
        k = filterjit.jit_filter(MIN_SOURCE)
        return x, y, {
            "grey_erosion": lambda: ndi.grey_erosion(x, footprint=CROSS2),
            "copy floor": lambda: np.copyto(y, x),
            "FilterJIT": lambda: filterjit.generic_filter(x, k, footprint=CROSS2, output=y, threads=1),
        }
    out["1 float64 cross min"] = (case1, "FilterJIT", [("grey_erosion", 6.0, ">="), ("copy floor", 0.5, ">=")])

    def case2():
        x = image((n, n), np.uint8)
        y = np.empty_like(x)
        k = filterjit.jit_filter(MIN_SOURCE)
        return x, y, {
            "grey_erosion": lambda: ndi.grey_erosion(x, footprint=CROSS2),
            "FilterJIT": lambda: filterjit.generic_filter(x, k, footprint=CROSS2, output=y, threads=1),
        }
    out["2 uint8 cross min"] = (case2, "FilterJIT", [("grey_erosion", 10.0, ">=")])

    def case3():
        x = image((n, n), np.float64)
        y = np.empty_like(x)
        k = filterjit.jit_filter(MEAN_SOURCE)
        return x, y, {
            "uniform_filter": lambda: ndi.uniform_filter(x, size=3),
            "FilterJIT": lambda: filterjit.generic_filter(x, k, size=3, output=y, threads=1),
        }
    out["3 float64 3x3 mean"] = (case3, "FilterJIT", [("uniform_filter", 4.0, ">=")])

    def case4():
        x = image((n, n), np.float64)
        y = np.empty_like(x)
        k = filterjit.jit_filter(MEDIAN_SOURCE)
        contenders = {
            "median_filter": lambda: ndi.median_filter(x, size=5),
            "FilterJIT": lambda: filterjit.generic_filter(x, k, size=5, output=y, threads=1),
        }
        if hasattr(ndi, "vectorized_filter"):
            contenders["vectorized_filter(np.median)"] = lambda: ndi.vectorized_filter(x, np.median, size=5)
        return x, y, contenders
    out["4 float64 5x5 median"] = (case4, "FilterJIT", [("median_filter", 10.0, ">="), ("vectorized_filter(np.median)", 10.0, ">=")])

    def case5():
        x = image((m, m, m), np.float64)
        y = np.empty_like(x)
        k = filterjit.jit_filter(MIN_SOURCE)
        return x, y, {
            "grey_erosion": lambda: ndi.grey_erosion(x, size=3),
            "FilterJIT": lambda: filterjit.generic_filter(x, k, size=3, output=y, threads=1),
        }
    out["5 float64 3x3x3 min (3-D)"] = (case5, "FilterJIT", [("grey_erosion", 5.0, ">=")])

    def case6():
        x = image((n, n), np.float64)
        y = np.empty_like(x)
        k = filterjit.jit_filter1d(LINE_MEAN_SOURCE)
        return x, y, {
            "uniform_filter1d": lambda: ndi.uniform_filter1d(x, size=3),
            "FilterJIT": lambda: filterjit.generic_filter1d(x, k, 3, output=y, threads=1),
        }
    out["6 float64 line 3-tap mean"] = (case6, "FilterJIT", [("uniform_filter1d", 3.0, ">=")])

    def case7():
        x = image((n, n), np.float64)
        y = np.empty_like(x)
        k = filterjit.jit_filter(MIN_SOURCE)
        contenders = {
            "FilterJIT callback": lambda: filterjit.generic_filter(x, k, footprint=CROSS2, output=y, threads=1, engine="callback"),
            "generic_filter + FilterJIT LowLevelCallable": lambda: ndi.generic_filter(x, k, footprint=CROSS2, output=y),
        }
        if HAVE_NUMBA:
            nb = numba_min_cfunc()
            contenders["generic_filter + Numba cfunc"] = lambda: ndi.generic_filter(x, nb, footprint=CROSS2, output=y)
        return x, y, contenders
    out["7 case 1 through the callback path"] = (case7, "FilterJIT callback", [("generic_filter + Numba cfunc", 1.2, ">=")])

    def case8():
        x = image((n, n), np.float64)
        y = np.empty_like(x)
        k = filterjit.jit_filter(MEDIAN_SOURCE)
        cores = os.cpu_count() or 1
        return x, y, {
            "FilterJIT 1 thread": lambda: filterjit.generic_filter(x, k, size=5, output=y, threads=1),
            f"FilterJIT {cores} threads": lambda: filterjit.generic_filter(x, k, size=5, output=y, threads=cores),
        }
    cores = os.cpu_count() or 1
    out["8 case 4, 1 thread vs all cores"] = (case8, f"FilterJIT {cores} threads", [("FilterJIT 1 thread", 1.8, ">=")])
    return out


def time_interleaved(contenders, repeat):
    # One untimed warm-up each (compiles, caches, page faults), then interleaved timed runs.
    for run in contenders.values():
        run()
    times = {label: [] for label in contenders}
    for _ in range(repeat):
        for label, run in contenders.items():
            start = time.perf_counter()
            run()
            times[label].append((time.perf_counter() - start) * 1e3)
    return times


def status_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_memory_child(case_name, quick):
    """Run only FilterJIT's contender of a case; print the growth of peak RSS (MiB) over what was
    resident before it ran (Python, the libraries, the input and the output), and the data size."""
    make, label, _ = cases(quick)[case_name]
    x, y, contenders = make()
    y[...] = 0  # touch the output so it is resident before the measurement
    # Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS, so temporaries made while
    # building the data do not hide the run's own peak.
    Path("/proc/self/clear_refs").write_text("5")
    base = status_kib("VmRSS")
    contenders[label]()
    contenders[label]()
    peak = status_kib("VmHWM")
    print(f"{(peak - base) / 1024:.1f} {(x.nbytes + y.nbytes) / 2**20:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="small images (a smoke run, not the figures)")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results.md"))
    args = parser.parse_args()
    if args.memory_child:
        peak_memory_child(args.memory_child, args.quick)
        return

    lines = []
    def emit(text=""):
        print(text)
        lines.append(text)

    emit("# FilterJIT vs scipy.ndimage")
    emit()
    emit(f"numpy {np.__version__}, scipy {scipy.__version__}, {os.cpu_count()} cores, FilterJIT library {filterjit.library_path}; "
         f"best and median of {args.repeat} interleaved runs after one warm-up; times in ms; "
         f"FilterJIT single-threaded unless stated; {'QUICK (small images)' if args.quick else 'full size'}.")
    emit("Numba: " + ("installed" if HAVE_NUMBA else "not installed (its rows are missing)") +
         "; scipy.ndimage.vectorized_filter: " + ("present" if hasattr(ndi, "vectorized_filter") else "missing") + ".")
    emit()
    emit("| case | contender | best ms | median ms | ratio (contender / FilterJIT) | target | met |")
    emit("|---|---|---|---|---|---|---|")
    memory_rows = []
    for name, (make, label, targets) in cases(args.quick).items():
        x, y, contenders = make()
        times = time_interleaved(contenders, args.repeat)
        best = {k: min(v) for k, v in times.items()}
        for contender, values in times.items():
            ratio = best[contender] / best[label]
            target = next(((t, op) for (c, t, op) in targets if c == contender), None)
            target_text = f"{'>=' if target[1] == '>=' else '<='} {target[0]}x" if target else ""
            met = "" if not target else ("yes" if ratio >= target[0] else "**no**")
            if contender == "copy floor" and target:
                target_text = "FilterJIT <= 2x copy"
                met = "yes" if best[label] <= 2 * best[contender] else "**no**"
            emit(f"| {name} | {contender} | {best[contender]:.2f} | {statistics.median(values):.2f} | "
                 f"{'' if contender == label else f'{ratio:.2f}'} | {target_text} | {met} |")
        for contender, _, _ in targets:
            if contender not in times:
                emit(f"| {name} | {contender} | n/a | n/a | | | not measured (not available here) |")
        child = subprocess.run([sys.executable, __file__, "--memory-child", name] + (["--quick"] if args.quick else []),
                               capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "python")})
        if child.returncode == 0 and child.stdout.strip():
            growth, data = (float(v) for v in child.stdout.split())
            memory_rows.append(f"| {name} | {data:.1f} | {growth:.1f} | {'yes' if growth <= 32 else '**no**'} |")
        else:
            memory_rows.append(f"| {name} | | | memory child failed: {child.stderr.strip()[-200:]} |")
    emit()
    emit("Peak resident memory of FilterJIT's run, beyond its input and output (limit 32 MiB):")
    emit()
    emit("| case | input + output MiB | growth of peak RSS MiB | within limit |")
    emit("|---|---|---|---|")
    for row in memory_rows:
        emit(row)
    Path(args.output).write_text("\n".join(lines) + "\n")
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
