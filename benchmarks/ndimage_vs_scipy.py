"""filterjit.ndimage against scipy.ndimage, function for function (a figure, not a test).

Each case is first checked bit for bit against SciPy's result, then timed in turns (best of --repeat);
one table with the ratio SciPy / FilterJIT (above 1: FilterJIT is faster). filterjit.ndimage runs on every
core (its default: its functions take SciPy's arguments only), SciPy on one. Sizes from 16x16, where the
fixed cost of a call decides, to 2048x2048 and a 128^3 volume.

    swift build -c release --product FilterJITC
    FILTERJIT_LIB=$PWD/.build/release/libFilterJITC.so PYTHONPATH=python python3 benchmarks/ndimage_vs_scipy.py
"""
import argparse
import time

import numpy as np
import scipy.ndimage as sp

import filterjit.ndimage as fj

CASES = [
    ("uniform_filter 9", lambda m, x: m.uniform_filter(x, 9)),
    ("uniform_filter1d 9, axis 0", lambda m, x: m.uniform_filter1d(x, 9, axis=0)),
    ("uniform_filter1d 9, last axis", lambda m, x: m.uniform_filter1d(x, 9, axis=-1)),
    ("minimum_filter 5", lambda m, x: m.minimum_filter(x, 5)),
    ("minimum_filter1d 9, axis 0", lambda m, x: m.minimum_filter1d(x, 9, axis=0)),
    ("median_filter 5", lambda m, x: m.median_filter(x, 5)),
    ("percentile_filter 25, 3", lambda m, x: m.percentile_filter(x, 25, 3)),
    ("grey_opening 5", lambda m, x: m.grey_opening(x, 5)),
]


def best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def shown(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="16x16,64x64,256x256,2048x2048,128x128x128")
    parser.add_argument("--dtypes", default="float64,float32,uint8,int16")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--functions", default="",
                        help="only the cases whose name starts with one of these (comma-separated), e.g. uniform")
    args = parser.parse_args()
    prefixes = [p for p in args.functions.split(",") if p]
    cases = [(name, run) for name, run in CASES if not prefixes or any(name.startswith(p) for p in prefixes)]
    rng = np.random.default_rng(1)
    print("| shape | dtype | function | FilterJIT | SciPy | SciPy / FilterJIT |")
    print("|---|---|---|---|---|---|")
    for shape_text in args.shapes.split(","):
        shape = tuple(int(n) for n in shape_text.split("x"))
        elements = int(np.prod(shape))
        # Small images repeat many times per timing, large ones a few (SciPy's slow filters take seconds).
        repeat = args.repeat if elements >= 1 << 20 else max(args.repeat, 200 if elements <= 1 << 12 else 20)
        for dtype in args.dtypes.split(","):
            data = (rng.random(shape) * 255).astype(dtype)
            for name, run in cases:
                expected = run(sp, data)
                actual = run(fj, data)
                if expected.dtype != actual.dtype or not np.array_equal(expected, actual, equal_nan=True):
                    raise SystemExit(f"{shape_text} {dtype} {name}: filterjit.ndimage differs from scipy.ndimage")
                ours = best(lambda: run(fj, data), repeat)
                theirs = best(lambda: run(sp, data), max(2, repeat // 4) if elements >= 1 << 20 else repeat)
                print(f"| {shape_text} | {dtype} | {name} | {shown(ours)} | {shown(theirs)} | {theirs / ours:.2f}x |",
                      flush=True)


if __name__ == "__main__":
    main()
