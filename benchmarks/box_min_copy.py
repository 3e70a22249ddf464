"""uint8 box min against a plain copy (issue 12: "uint8 3x3 and 15x15 box min within 1.5x of a plain copy").

One thread, 2048x2048 uint8, mode nearest: FilterJIT's `min(values)` over a k x k box, `np.copyto` of the
same image into a preallocated array, and (when installed) OpenCV's `cv2.erode` with one thread, timed in
one process in turns of 10 consecutive runs each (best of --repeat), after checking FilterJIT's result against
`scipy.ndimage.minimum_filter`. Prints one line per k: the times and the ratios FilterJIT / copy and
OpenCV / FilterJIT.

    FILTERJIT_LIB=$PWD/.build/release/libFilterJITC.so PYTHONPATH=python python3 benchmarks/box_min_copy.py
"""
import argparse
import time

import numpy as np
import scipy.ndimage as ndi

import filterjit

try:
    import cv2
    cv2.setNumThreads(1)
except ImportError:
    cv2 = None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", default="3,15", help="box sizes (default 3,15)")
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--size", type=int, default=2048)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (args.size, args.size), dtype=np.uint8)
    y = np.empty_like(x)
    z = np.empty_like(x)
    for k in (int(k) for k in args.ks.split(",")):
        footprint = np.ones((k, k), bool)
        contenders = {
            "filterjit": lambda: filterjit.generic_filter(x, "min(values)", footprint=footprint, mode="nearest",
                                                          output=y, threads=1),
            "copy": lambda: np.copyto(z, x),
        }
        if cv2 is not None:
            kernel = np.ones((k, k), np.uint8)
            contenders["cv2.erode"] = lambda: cv2.erode(x, kernel, dst=z, borderType=cv2.BORDER_REPLICATE)
        contenders["filterjit"]()
        if not np.array_equal(y, ndi.minimum_filter(x, size=k, mode="nearest")):
            raise SystemExit(f"k={k}: FilterJIT differs from scipy.ndimage.minimum_filter")
        # Each contender in blocks of consecutive runs (its steady state: what one's own previous run left in
        # the caches, not another contender's), the blocks in turn.
        best = {name: float("inf") for name in contenders}
        for _ in range(max(1, args.repeat // 10)):
            for name, run in contenders.items():
                for _ in range(10):
                    start = time.perf_counter()
                    run()
                    best[name] = min(best[name], time.perf_counter() - start)
        line = (f"uint8 {k}x{k} min: FilterJIT {best['filterjit'] * 1e3:.3f} ms, np.copyto {best['copy'] * 1e3:.3f} ms, "
                f"FilterJIT / copy {best['filterjit'] / best['copy']:.2f}x")
        if "cv2.erode" in best:
            line += f", cv2.erode {best['cv2.erode'] * 1e3:.3f} ms, OpenCV / FilterJIT {best['cv2.erode'] / best['filterjit']:.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
