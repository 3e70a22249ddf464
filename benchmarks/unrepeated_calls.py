"""The fixed cost of filterjit.ndimage calls whose arguments never repeat (a figure, not a test).

A repeated call is replayed (`filterjit.ndimage`'s "Replayed calls"); a call on a shape or with a cval never seen
before is not: it chooses its passes in Python, runs each from a call template (`filterjit._ndimage`) when an
earlier call had its other arguments, and the library plans each run anew. Two patterns per function, on small
images (the fixed cost decides there): every call a new shape (sides 12 to 60, "new shape"), and a new cval each
call on a 36x36 image ("new cval", mode constant, float images only). Each result is first checked bit for bit
against SciPy's, then --calls calls are timed as a whole, per call (best of --repeat passes, each over arguments
of its own).

    swift build -c release --product FilterJITC
    FILTERJIT_LIB=$PWD/.build/release/libFilterJITC.so PYTHONPATH=python python3 benchmarks/unrepeated_calls.py
"""
import argparse
import time

import numpy as np
import scipy.ndimage as sp

import filterjit.ndimage as fj

FUNCTIONS = [
    ("minimum_filter 5", lambda m, x, cval: m.minimum_filter(x, 5, mode="constant", cval=cval)),
    ("uniform_filter 5", lambda m, x, cval: m.uniform_filter(x, 5, mode="constant", cval=cval)),
    ("median_filter 3", lambda m, x, cval: m.median_filter(x, 3, mode="constant", cval=cval)),
    ("minimum_filter1d 9", lambda m, x, cval: m.minimum_filter1d(x, 9, mode="constant", cval=cval)),
]


def per_call(module, run, calls) -> float:
    """Time per call of `calls` (a list of (array, cval)) run in order."""
    start = time.perf_counter()
    for data, cval in calls:
        run(module, data, cval)
    return (time.perf_counter() - start) / len(calls)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="12-60", help="the range of the new shapes' sides (rows and columns)")
    parser.add_argument("--dtypes", default="float64,uint8")
    parser.add_argument("--calls", type=int, default=300, help="calls per pass")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    low, high = (int(n) for n in args.sides.split("-"))
    rng = np.random.default_rng(1)
    shapes = [(rows, columns) for rows in range(low, high + 1) for columns in range(low, high + 1)]
    rng.shuffle(shapes)
    if len(shapes) < (args.repeat + 1) * args.calls:
        raise SystemExit(f"--sides {args.sides} gives {len(shapes)} shapes, fewer than (repeat + 1) * calls")
    print("| function | dtype | pattern | FilterJIT | SciPy | SciPy / FilterJIT |")
    print("|---|---|---|---|---|---|")
    for dtype in args.dtypes.split(","):
        def image(shape) -> np.ndarray:
            return (rng.random(shape) * 255).astype(dtype)
        square = image((low + high) // 2)
        for name, run in FUNCTIONS:
            # Pass p's arguments are its own: no call repeats one of an earlier pass (the last pass is the check's).
            patterns = {
                "new shape": lambda p: [(image(shape), 0.0) for shape in shapes[p * args.calls:(p + 1) * args.calls]],
                "new cval": lambda p: [(square, float(p * args.calls + n) + 0.5) for n in range(args.calls)],
            }
            if not np.issubdtype(dtype, np.floating):
                del patterns["new cval"]   # an integer image has too few exact cvals to never repeat one
            for pattern, make in patterns.items():
                for data, cval in make(args.repeat)[:3]:
                    expected, actual = run(sp, data, cval), run(fj, data, cval)
                    if expected.dtype != actual.dtype or not np.array_equal(expected, actual, equal_nan=True):
                        raise SystemExit(f"{name} {dtype} {pattern}: filterjit.ndimage differs from scipy.ndimage")
                ours = min(per_call(fj, run, make(p)) for p in range(args.repeat))
                theirs = min(per_call(sp, run, make(p)) for p in range(args.repeat))
                print(f"| {name} | {dtype} | {pattern} | {ours * 1e6:.1f} us | {theirs * 1e6:.1f} us | "
                      f"{theirs / ours:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
