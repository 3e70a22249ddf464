"""Window sweep: FilterJIT's window strategies against SciPy's dedicated filters and OpenCV, side by side.

    bash benchmarks/window_sweep.sh                 (builds the release library, installs OpenCV, runs this)
    PYTHONPATH=python python3 benchmarks/window_sweep.py [--quick] [--repeat N] [--kernels min,median] ...
    ... --volume                                    (3-D: 128^3 and cubic windows k = 3, 5, 7)
    ... --kernels mean --dtypes float64,float32 --fast-math   (float box means as O(1) box sums)
    ... --opencv-only                               (only what OpenCV has, against OpenCV alone: quick)

For each (kernel, dtype, footprint), one thread everywhere, mode 'nearest', a seeded random image:
  1. correctness first: FilterJIT's result on a small crop equals scipy.ndimage.generic_filter with the
     same kernel written in Python (the exact oracle), and on the full image it equals SciPy's dedicated
     filter wherever that computes the same thing (min, max, odd-size median, morphological gradient);
  2. timing: contenders' repetitions interleaved (A B C A B C ...), best of N; a call slower than 3 s
     is timed once.
Prints one table with milliseconds, the ratios SciPy / FilterJIT and OpenCV / FilterJIT, and
FilterJIT's nanoseconds per pixel, and writes benchmarks/window_sweep.md.
With --fast-math FilterJIT runs with fast_math=True: rows it changes (float sums/means of boxes) are
marked "(fast-math)" and their crop is checked against generic_filter within the error bound that
docs/window-strategies.md states instead of bit for bit.
"""
import math
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
import filterjit  # noqa: E402
from run import image  # noqa: E402  (benchmarks/run.py: the suite's seeded images)

try:
    import cv2
    cv2.setNumThreads(1)
except ImportError:
    cv2 = None

KERNELS = {
    # name: (filter text, Python oracle for generic_filter, SciPy's dedicated filter or None)
    "min": ("min(values)", min, lambda x, fp: ndi.minimum_filter(x, footprint=fp, mode="nearest")),
    "max": ("max(values)", max, lambda x, fp: ndi.maximum_filter(x, footprint=fp, mode="nearest")),
    "mean": ("np.mean(values)", np.mean, lambda x, fp: ndi.uniform_filter(x, size=fp.shape[0], mode="nearest")),
    "median": ("np.median(values)", np.median, lambda x, fp: ndi.median_filter(x, footprint=fp, mode="nearest")),
    "percentile25": ("np.percentile(values, 25)", lambda v: np.percentile(v, 25),
                     lambda x, fp: ndi.percentile_filter(x, 25, footprint=fp, mode="nearest")),
    "max-min": ("max(values) - min(values)", lambda v: max(v) - min(v),
                lambda x, fp: ndi.morphological_gradient(x, footprint=fp, mode="nearest")),
}
# SciPy's dedicated filter computes the same numbers as the kernel for these (any window):
SCIPY_SAME = {"min", "max", "max-min"}


def opencv_contender(kernel, dtype, fp):
    """OpenCV's single-threaded equivalent, if it has one: (label, function, bit-equal expected)."""
    if cv2 is None:
        return None
    k = fp.shape[0]
    box = fp.all()
    element = fp.astype(np.uint8)
    if kernel in ("min", "max") and dtype in (np.uint8, np.uint16, np.float32, np.float64):
        op = cv2.erode if kernel == "min" else cv2.dilate
        return (("erode" if kernel == "min" else "dilate"),
                lambda x: op(x, element, borderType=cv2.BORDER_REPLICATE), True)
    if kernel == "mean" and box and dtype in (np.uint8, np.float32, np.float64):
        # cv2.blur rounds integer results and sums floats by running sums: not FilterJIT's bits.
        return ("blur", lambda x: cv2.blur(x, (k, k), borderType=cv2.BORDER_REPLICATE), False)
    if kernel == "median" and box and (dtype == np.uint8 or (dtype == np.float32 and k <= 5)):
        # medianBlur's border is replicate too.
        return ("medianBlur", lambda x: cv2.medianBlur(x, k), True)
    return None


def footprints(ks, disk):
    out = [(f"box {k}", np.ones((k, k), bool)) for k in ks]
    if disk:
        r = 7
        y, x = np.mgrid[-r:r + 1, -r:r + 1]
        out.append(("disk r7", x * x + y * y <= r * r))
    return out


def timed(function, budget_s=3.0):
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1e3


def best_of(contenders, repeat):
    """Interleaved repetitions; a contender slower than 3 s runs once."""
    times = {label: [] for label in contenders}
    for r in range(repeat):
        for label, function in contenders.items():
            if r > 0 and times[label] and times[label][0] > 3000:
                continue
            times[label].append(timed(function))
    return {label: min(values) for label, values in times.items()}


def equal_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def within_fast_math_bound(fast, exact, crop, fp, mean):
    """docs/window-strategies.md, "Fast-math float sums": |fast - exact| <= (k + L + n/8 + log2 n + 12
    (+3 for a mean)) 2^-53 sum|x| (/ n for a mean), plus one float32 ulp for float32 results; 3-D boxes
    k0 x k x L: k0 + k + L in place of k + L."""
    n = int(fp.sum())
    absolute = ndi.generic_filter(crop.astype(np.float64), lambda v: np.sum(np.abs(v)), footprint=fp, mode="nearest")
    depth = sum(fp.shape) + n / 8 + math.log2(n) + 12 + (3 if mean else 0)
    allowed = depth * 2.0 ** -53 * absolute / (n if mean else 1) * 1.0001
    if fast.dtype == np.float32:
        allowed = allowed + np.maximum(np.abs(fast), np.abs(exact)).astype(np.float64) * 2.0 ** -23
    difference = np.abs(fast.astype(np.float64) - exact.astype(np.float64))
    return bool((difference <= allowed).all()), float(difference.max())


def measure(kernel_name, kernel, dtype_name, fp_name, fp, shape, repeat, crop_shape, fast_math=False, scipy=True):
    """One case: the correctness checks, then the interleaved timing; returns the table row. Without
    `scipy`, SciPy's dedicated filter is neither timed nor compared on the whole image (the crop is
    still checked against generic_filter, and OpenCV's result against FilterJIT's where they agree)."""
    text, oracle, scipy_filter = KERNELS[kernel_name]
    dtype = np.dtype(dtype_name).type
    x = image(shape, dtype)
    y = np.empty_like(x)
    pixels = int(np.prod(shape))
    checks = []
    row_label = kernel_name
    # 1. Correctness: a crop against generic_filter with the Python oracle (exact; under --fast-math the
    # rows it changes within the stated bound).
    crop = x[tuple(slice(0, c) for c in crop_shape)].copy()
    fj_crop = filterjit.generic_filter(crop, kernel, footprint=fp, mode="nearest", threads=1, fast_math=fast_math)
    ref_crop = ndi.generic_filter(crop, oracle, footprint=fp, mode="nearest")
    if equal_bits(fj_crop, ref_crop):
        checks.append("= generic_filter (crop)")
    elif fast_math and kernel_name == "mean" and fj_crop.dtype == ref_crop.dtype:
        ok, worst = within_fast_math_bound(fj_crop, ref_crop, crop, fp, mean=True)
        if not ok:
            raise SystemExit(f"{kernel_name} {dtype_name} {fp_name}: beyond the fast-math bound on the crop ({worst})")
        checks.append(f"within the fast-math bound of generic_filter (crop, max |diff| {worst:.1e})")
    else:
        raise SystemExit(f"{kernel_name} {dtype_name} {fp_name}: differs from generic_filter on the crop")
    if fast_math and kernel_name == "mean" and dtype_name.startswith("float") and fp.all():
        row_label = f"{kernel_name} (fast-math)"
    filterjit.generic_filter(x, kernel, footprint=fp, mode="nearest", output=y, threads=1, fast_math=fast_math)
    scipy_result = scipy_filter(x, fp) if scipy and (kernel_name != "mean" or fp.all()) else None
    if scipy and (kernel_name in SCIPY_SAME or (kernel_name == "median" and fp.sum() % 2 == 1)):
        if not equal_bits(y, scipy_result):
            raise SystemExit(f"{kernel_name} {dtype_name} {fp_name}: differs from SciPy's dedicated filter")
        checks.append("= SciPy")
    contenders = {
        "filterjit": lambda: filterjit.generic_filter(x, kernel, footprint=fp, mode="nearest", output=y, threads=1,
                                                      fast_math=fast_math),
    }
    if scipy_result is not None:
        contenders["scipy"] = lambda: scipy_filter(x, fp)
    opencv = opencv_contender(kernel_name, dtype, fp) if len(shape) == 2 else None
    if opencv is not None:
        label, function, exact = opencv
        if exact:
            if not equal_bits(function(x), y):
                raise SystemExit(f"{kernel_name} {dtype_name} {fp_name}: differs from OpenCV {label}")
            checks.append(f"= {label}")
        contenders["opencv"] = lambda: function(x)
    best = best_of(contenders, repeat)
    fj = best["filterjit"]
    sp = best.get("scipy")
    cv = best.get("opencv")
    return (f"| {row_label} | {dtype_name} | {fp_name} | {fj:.2f} | {fj * 1e6 / pixels:.2f} | "
            + (f"{sp:.1f} | {sp / fj:.1f}x | " if sp else "– | – | ")
            + (f"{opencv[0]} | {cv:.2f} | {cv / fj:.2f}x | " if cv else "– | – | – | ")
            + ", ".join(checks) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="512x512 and k in 3, 9, 15")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--kernels", default=",".join(KERNELS))
    parser.add_argument("--dtypes", default="float64,float32,uint8,uint16")
    parser.add_argument("--ks", default=None, help="box sizes (default 3,5,9,15,31; with --volume 3,5,7)")
    parser.add_argument("--volume", action="store_true",
                        help="3-D: a 128^3 image (64^3 with --quick) and cubic windows instead of the 2-D sweep")
    parser.add_argument("--no-disk", action="store_true")
    parser.add_argument("--fast-math", action="store_true",
                        help="run FilterJIT with fast_math=True (float box sums/means may differ in the last bits; "
                             "those rows are marked and checked within the stated bound)")
    parser.add_argument("--opencv-only", action="store_true",
                        help="only the cases OpenCV has, timed against OpenCV alone (no SciPy: its big medians "
                             "take minutes at 2048x2048)")
    parser.add_argument("--output", default=None,
                        help="default benchmarks/window_sweep.md (benchmarks/window_sweep_3d.md with --volume)")
    args = parser.parse_args()
    if args.volume:
        n = 64 if args.quick else 128
        shape, crop_shape = (n, n, n), (20, 18, 16)
        ks = [int(k) for k in (args.ks or "3,5,7").split(",")]
        cases = [(f"cube {k}", np.ones((k, k, k), bool)) for k in ks]
        output = args.output or str(ROOT / "benchmarks" / "window_sweep_3d.md")
        title = f"{n}x{n}x{n}"
    else:
        n = 512 if args.quick else 2048
        shape, crop_shape = (n, n), (96, 80)
        ks = [int(k) for k in (args.ks or ("3,9,15" if args.quick else "3,5,9,15,31")).split(",")]
        cases = footprints(ks, not args.no_disk)
        output = args.output or str(ROOT / "benchmarks" / "window_sweep.md")
        title = f"{n}x{n}"
    header = ("| kernel | dtype | footprint | FilterJIT ms | ns/pixel | SciPy ms | SciPy/FJ | OpenCV | OpenCV ms | OpenCV/FJ | checks |")
    print(header)
    print("|" + "---|" * 11)
    lines = [header, "|" + "---|" * 11]
    for kernel_name in args.kernels.split(","):
        kernel = filterjit.jit_filter(KERNELS[kernel_name][0])
        for dtype_name in args.dtypes.split(","):
            for fp_name, fp in cases:
                if args.opencv_only and (len(shape) != 2 or opencv_contender(kernel_name, np.dtype(dtype_name).type, fp) is None):
                    continue
                row = measure(kernel_name, kernel, dtype_name, fp_name, fp, shape, args.repeat, crop_shape,
                              fast_math=args.fast_math, scipy=not args.opencv_only)
                print(row, flush=True)
                lines.append(row)
    report = [f"# Window sweep ({title}, one thread, mode nearest, best of {args.repeat}"
              + (", --fast-math" if args.fast_math else "") + ")", "",
              "Produced by `benchmarks/window_sweep.py`; ratios are contender time / FilterJIT time "
              "(above 1: FilterJIT is faster).", ""] + lines
    Path(output).write_text("\n".join(report) + "\n")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
