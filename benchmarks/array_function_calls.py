#!/usr/bin/env python3
"""What a call of an array function costs from Python (issue 15, branch w15f: the C call): interleaved best-of-N
in one process, each case against NumPy. A measurement, not a test.

    FILTERJIT_LIB=.build/release/libFilterJITC.so PYTHONPATH=python python3 benchmarks/array_function_calls.py \
        [--repeat 300] [--rounds 5] [--skeleton]

Cases: the published `addarr` on 10^6 uint8 and float64 elements against `x + y`; `addarr` on 64 uint8 elements
against `x + y` (nearly all call); a no-op function of two arrays returning None (a batch of 1000 calls, per call);
with --skeleton, skan's `build_graph` on the 2048x2048 skeleton of benchmarks/array_functions.py (scikit-image).
FILTERJIT_NO_FASTCALL=1 times the ctypes path (the calls before the C call). Each round calls every contender in
turn `repeat` times and keeps each one's best; the line per case gives the median of the rounds' bests and the
ratio to NumPy (per round, then the median).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("FILTERJIT_DISK_CACHE", "0")
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
import filterjit  # noqa: E402
from filterjit import _array_function  # noqa: E402

ADDARR = """
def addarr(x, y):
    result = np.zeros_like(x)
    for i in range(x.size):
        result[i] = x[i] + y[i]
    return result
"""
NOTHING = """
def nothing(x, y):
    return None
"""


def batch(call, count):
    def run():
        for _ in range(count):
            call()
    return run


def rounds(contenders, repeat, count):
    """`count` rounds of: each contender called in turn `repeat` times; each round's best (us) per contender."""
    bests = {name: [] for name in contenders}
    for _ in range(count):
        times = {name: [] for name in contenders}
        for _ in range(repeat):
            for name, (call, divisor) in contenders.items():
                start = time.perf_counter()
                call()
                times[name].append((time.perf_counter() - start) / divisor)
        for name in contenders:
            bests[name].append(min(times[name]) * 1e6)
    return bests


def report(label, bests, ours, theirs):
    ratios = [a / b for a, b in zip(bests[ours], bests[theirs])]
    print(f"{label}: filterjit {statistics.median(bests[ours]):.2f} us, {theirs} {statistics.median(bests[theirs]):.2f} us,"
          f" ratio {statistics.median(ratios):.3f} (rounds {min(ratios):.3f}-{max(ratios):.3f})", flush=True)


def skeleton_case():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from array_functions import skeleton_graph  # the same 2048x2048 skeleton as benchmarks/array_functions.py
    _, labels, steps, row, col, _, dispatcher = skeleton_graph()
    dispatcher(labels, steps, row, col)
    return lambda: dispatcher(labels, steps, row, col)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skeleton", action="store_true")
    arguments = parser.parse_args()
    print(f"C call: {_array_function.FAST_CALL}; load {os.getloadavg()[0]:.2f}", flush=True)
    addarr = filterjit.Dispatcher(ADDARR, "addarr")
    nothing = filterjit.Dispatcher(NOTHING, "nothing")
    rng = np.random.default_rng(0)
    for dtype in ("uint8", "float64"):
        x = (rng.random(10**6) * 100).astype(dtype)
        y = (rng.random(10**6) * 100).astype(dtype)
        assert np.array_equal(addarr(x, y), x + y)
        bests = rounds({"filterjit": (lambda: addarr(x, y), 1), "numpy": (lambda: x + y, 1)}, arguments.repeat,
                       arguments.rounds)
        report(f"addarr {dtype} 10^6", bests, "filterjit", "numpy")
    small_x, small_y = np.arange(64, dtype=np.uint8), np.arange(64, dtype=np.uint8)
    addarr(small_x, small_y)
    bests = rounds({"filterjit": (batch(lambda: addarr(small_x, small_y), 100), 100),
                    "numpy": (batch(lambda: small_x + small_y, 100), 100)}, max(arguments.repeat // 10, 10), arguments.rounds)
    report("addarr uint8 64 elements (per call, batches of 100)", bests, "filterjit", "numpy")
    a, b = np.zeros(10), np.zeros(10)
    nothing(a, b)
    bests = rounds({"filterjit": (batch(lambda: nothing(a, b), 1000), 1000),
                    "numpy": (batch(lambda: np.add(a, b, out=b), 1000), 1000)}, max(arguments.repeat // 30, 5),
                   arguments.rounds)
    report("no-op nothing(a, b) (per call, batches of 1000; NumPy: np.add(a, b, out=b) of 10 elements)", bests,
           "filterjit", "numpy")
    if arguments.skeleton:
        call = skeleton_case()
        bests = rounds({"filterjit": (call, 1), "none": (lambda: None, 1)}, 20, arguments.rounds)
        print(f"build_graph 2048x2048: filterjit {statistics.median(bests['filterjit']) / 1e3:.3f} ms "
              f"(rounds {min(bests['filterjit']) / 1e3:.3f}-{max(bests['filterjit']) / 1e3:.3f})", flush=True)


if __name__ == "__main__":
    main()
