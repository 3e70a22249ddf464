"""Non-temporal output stores in a user's pipeline: a filter and the next reader of its output.

One thread, 2048x2048, through `filterjit.generic_filter`: a float32 3x3 median, a fast-math float32 5x5 mean
and a uint8 15x15 min, each alone and followed by a reader of its output (`y.sum()`, `np.copyto`), best of
--repeat. Which outputs take non-temporal stores is `NonTemporalStores`' policy (by default only outputs
bigger than the last-level cache); run it twice to compare the two ways of writing:

    FILTERJIT_LIB=$PWD/.build/release/libFilterJITC.so PYTHONPATH=python python3 benchmarks/stream_pipeline.py
    FILTERJIT_STREAM_MIN_BYTES=0 FILTERJIT_LIB=... PYTHONPATH=python python3 benchmarks/stream_pipeline.py
"""
import argparse
import os
import time

import numpy as np

import filterjit


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    f32 = rng.random((2048, 2048), dtype=np.float32) + 1
    u8 = rng.integers(0, 256, (2048, 2048), dtype=np.uint8)
    cases = [
        ("median float32 3x3", f32, dict(function="np.median(values)", size=3)),
        ("mean float32 5x5 fast-math", f32, dict(function="np.mean(values)", size=5, fast_math=True)),
        ("min uint8 15x15", u8, dict(function="min(values)", size=15)),
    ]
    setting = os.environ.get("FILTERJIT_STREAM_MIN_BYTES", "default (last-level cache)")
    print(f"FILTERJIT_STREAM_MIN_BYTES={setting}")
    for name, x, options in cases:
        y = np.empty_like(x)
        z = np.empty_like(x)
        options = dict(options)
        function = options.pop("function")

        def run():
            filterjit.generic_filter(x, function, mode="nearest", output=y, threads=1, **options)

        readers = {"alone": None, "+ y.sum()": lambda: y.sum(), "+ np.copyto": lambda: np.copyto(z, y)}
        run()
        best = {reader: float("inf") for reader in readers}
        for _ in range(max(1, args.repeat // 5)):
            for reader, after in readers.items():
                for _ in range(5):
                    start = time.perf_counter()
                    run()
                    if after is not None:
                        after()
                    best[reader] = min(best[reader], time.perf_counter() - start)
        print(f"{name}: " + ", ".join(f"{reader} {seconds * 1e3:.2f} ms" for reader, seconds in best.items()))


if __name__ == "__main__":
    main()
