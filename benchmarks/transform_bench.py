#!/usr/bin/env python3
"""Issue 14's transform cases (2048x2048 float64): FilterJIT's transform driver against SciPy.

Checks equality to SciPy first, then times best-of-N with the contenders interleaved. OpenCV is not
installed here, so cv2.warpAffine is not measured. Usage (after `swift build -c release --product FilterJITC`):
    FILTERJIT_LIB=.build/release/libFilterJITC.so PYTHONPATH=python python3 benchmarks/transform_bench.py [repeats]
"""
import sys
import time
from pathlib import Path

import numpy as np
import scipy.ndimage as ndi

import filterjit

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def best(functions, repeats):
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: min(values) for name, values in times.items()}


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    n = 2048
    image = np.random.default_rng(14).random((n, n))
    out = np.empty_like(image)
    shift = filterjit.jit_transform((EXAMPLES / "shift.filter").read_text(), dy=0.5, dx=0.25)
    rotate = filterjit.jit_transform((EXAMPLES / "rotate.filter").read_text(), angle=30.0, cy=1023.5, cx=1023.5)
    t = np.deg2rad(30.0)
    matrix = np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
    centre = np.array([1023.5, 1023.5])
    offset = centre - matrix @ centre

    # Equality first.
    assert np.array_equal(filterjit.geometric_transform(image, shift, order=3, threads=1),
                          ndi.geometric_transform(image, shift, order=3))
    np.testing.assert_allclose(filterjit.geometric_transform(image, shift, order=3, threads=1),
                               ndi.shift(image, (0.5, 0.25), order=3), atol=1e-12)
    for order in (1, 3):
        np.testing.assert_allclose(filterjit.geometric_transform(image, rotate, order=order, threads=1),
                                   ndi.affine_transform(image, matrix, offset, order=order), atol=1e-9)
    print("equal to SciPy (shift: bit for bit with geometric_transform; shift/affine_transform within 1e-9)")

    results = best({
        "filterjit 1 thread": lambda: filterjit.geometric_transform(image, shift, output=out, order=3, threads=1),
        "filterjit 2 threads": lambda: filterjit.geometric_transform(image, shift, output=out, order=3, threads=2),
        "ndi.shift": lambda: ndi.shift(image, (0.5, 0.25), output=out, order=3),
        "ndi.geometric_transform + FilterJIT callable": lambda: ndi.geometric_transform(image, shift, output=out, order=3),
    }, repeats)
    print("shift (0.5, 0.25), order 3:")
    for name, ms in results.items():
        print(f"  {name:46s} {ms:8.1f} ms")
    for order in (1, 3):
        results = best({
            "filterjit 1 thread": lambda: filterjit.geometric_transform(image, rotate, output=out, order=order, threads=1),
            "ndi.affine_transform": lambda: ndi.affine_transform(image, matrix, offset, output=out, order=order),
        }, repeats)
        print(f"rotate 30 degrees, order {order}:")
        for name, ms in results.items():
            print(f"  {name:46s} {ms:8.1f} ms")


if __name__ == "__main__":
    main()
