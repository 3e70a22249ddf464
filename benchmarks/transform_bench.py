#!/usr/bin/env python3
"""Issue 14's transform targets (2048x2048 float64): FilterJIT's fused transforms against SciPy and OpenCV.

Equality first (FilterJIT fused = callback engine = scipy.ndimage.geometric_transform with the same kernel,
bit for bit; = ndi.shift / ndi.affine_transform within rounding; cv2.warpAffine only compared loosely, it
interpolates with 5-bit fixed-point weights), then best-of-N times with the contenders interleaved, one
thread each (cv2.setNumThreads(1)), and the 2-thread fused runs. Not a test: the machine is shared.

OpenCV is used only here: `pip install opencv-python-headless` if `import cv2` fails (never a test
dependency). Usage (after `swift build -c release --product FilterJITC`):
    FILTERJIT_LIB=.build/release/libFilterJITC.so PYTHONPATH=python python3 benchmarks/transform_bench.py [repeats]
"""
import sys
import time
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi

import filterjit

try:
    import cv2
    cv2.setNumThreads(1)
except ImportError:  # the OpenCV rows are skipped
    cv2 = None

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def best(functions, repeats):
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: min(values) for name, values in times.items()}


def report(title, results, reference):
    """One line per contender; ratios are the fused 1-thread run's speed-up over it (for the 2-thread
    run: its speed-up over the 1-thread run)."""
    print(title)
    ours = results[reference]
    for name, ms in results.items():
        if name == reference:
            ratio = ""
        elif "2 threads" in name:
            ratio = f"   {ours / ms:5.2f}x the 1-thread speed"
        else:
            ratio = f"   fused 1 thread {ms / ours:5.2f}x faster"
        print(f"  {name:44s} {ms:8.1f} ms{ratio}")


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    n = 2048
    image = np.random.default_rng(14).random((n, n))
    out = np.empty_like(image)
    shift = filterjit.jit_transform((EXAMPLES / "shift.filter").read_text(), dy=0.5, dx=0.25)
    rotate = filterjit.jit_transform((EXAMPLES / "rotate.filter").read_text(), angle=30.0, cy=1023.5, cx=1023.5)
    t = np.deg2rad(30.0)
    c, s = np.cos(t), np.sin(t)
    matrix = np.array([[c, s], [-s, c]])
    centre = np.array([1023.5, 1023.5])
    offset = centre - matrix @ centre
    # cv2 works in (x, y) = (column, row): x_in = c x - s y + ..., y_in = s x + c y + ... (WARP_INVERSE_MAP).
    cv_matrix = np.array([[c, -s, centre[1] - c * centre[1] + s * centre[0]],
                          [s, c, centre[0] - s * centre[1] - c * centre[0]]])

    def fj(kernel, order, threads, engine="fused"):
        return filterjit.geometric_transform(image, kernel, output=out, order=order, threads=threads, engine=engine)

    # Equality first.
    for kernel, name, orders in ((shift, "shift", (3,)), (rotate, "rotate", (1, 3))):
        for order in orders:
            fused = filterjit.geometric_transform(image, kernel, order=order, threads=1)
            fused2 = filterjit.geometric_transform(image, kernel, order=order, threads=2)
            callback = filterjit.geometric_transform(image, kernel, order=order, threads=1, engine="callback")
            scipy_same_kernel = ndi.geometric_transform(image, kernel, order=order)
            assert np.array_equal(fused, callback) and np.array_equal(fused, fused2), (name, order)
            assert np.array_equal(fused, scipy_same_kernel), (name, order)
            if name == "shift":
                dedicated = ndi.shift(image, (0.5, 0.25), order=order)
            else:
                dedicated = ndi.affine_transform(image, matrix, offset, order=order)
            difference = np.abs(fused - dedicated).max()
            assert difference < 1e-9, (name, order, difference)
            print(f"{name} order {order}: fused = callback engine = 2 threads = ndi.geometric_transform (bit for bit); "
                  f"max |fused - ndi.{'shift' if name == 'shift' else 'affine_transform'}| = {difference:.1e}")
    if cv2 is not None:
        warped = cv2.warpAffine(image, cv_matrix, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        reference = ndi.affine_transform(image, matrix, offset, order=1)
        inner = (slice(300, -300), slice(300, -300))
        print(f"rotate order 1: max |cv2.warpAffine - ndi.affine_transform| inside = "
              f"{np.abs(warped[inner] - reference[inner]).max():.1e} (OpenCV's fixed-point weights)")
    else:
        print("cv2 not importable: the OpenCV rows are skipped")

    results = best({
        "filterjit fused, 1 thread": lambda: fj(shift, 3, 1),
        "filterjit fused, 2 threads": lambda: fj(shift, 3, 2),
        "filterjit callback engine, 1 thread": lambda: fj(shift, 3, 1, "callback"),
        "ndi.shift": lambda: ndi.shift(image, (0.5, 0.25), output=out, order=3),
        "ndi.geometric_transform + FilterJIT callable": lambda: ndi.geometric_transform(image, shift, output=out, order=3),
    }, repeats)
    report("shift (0.5, 0.25), order 3:", results, "filterjit fused, 1 thread")
    for order in (1, 3):
        contenders = {
            "filterjit fused, 1 thread": lambda: fj(rotate, order, 1),
            "filterjit fused, 2 threads": lambda: fj(rotate, order, 2),
            "filterjit callback engine, 1 thread": lambda: fj(rotate, order, 1, "callback"),
            "ndi.affine_transform": lambda: ndi.affine_transform(image, matrix, offset, output=out, order=order),
        }
        if order == 1 and cv2 is not None:
            contenders["cv2.warpAffine INTER_LINEAR, 1 thread"] = lambda: cv2.warpAffine(
                image, cv_matrix, (n, n), dst=out, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        report(f"rotate 30 degrees, order {order}:", best(contenders, repeats), "filterjit fused, 1 thread")


if __name__ == "__main__":
    main()
