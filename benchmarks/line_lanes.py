"""Line filters in SIMD lanes against the same kernels line by line (a figure, not a test).

Each kernel runs through `filterjit.generic_filter1d` on one thread, in two kinds of child process: one as the
library runs it (lanes where the kernel's lines can run in lanes, see docs/status.md, twenty-sixth session) and
one with FILTERJIT_LINE_LANES=0 (every line one at a time), --rounds times in turns. Every output must be the same
bytes (the script stops otherwise; SciPy's `uniform_filter1d` too for the running mean). Prints one table: each
case's best, and the ratio.

    swift build -c release --product FilterJITC
    FILTERJIT_LIB=$PWD/.build/release/libFilterJITC.so PYTHONPATH=python python3 benchmarks/line_lanes.py
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

from filterjit.ndimage import UNIFORM_LINE

KERNELS = {
    # SciPy's uniform_filter1d running sum, as filterjit.ndimage runs it.
    "running mean": (UNIFORM_LINE, 9),
    "exponential moving average": ("""
@line_filter
def ema(line, out, a=0.2):
    state = line[0]
    for i in range(len(out)):
        state = state + a * (line[i] - state)
        out[i] = state
""", 1),
    "moving RMS": ("""
@line_filter
def rms(line, out):
    size = len(line) - len(out) + 1
    total = 0.0
    for i in range(size):
        total += line[i] * line[i]
    out[0] = math.sqrt(total / size)
    for i in range(1, len(out)):
        total += line[i + size - 1] * line[i + size - 1] - line[i - 1] * line[i - 1]
        out[i] = math.sqrt(abs(total) / size)
""", 9),
    "clipped recursive filter": ("""
@line_filter
def clipped(line, out, lo=-1.0, hi=1.0):
    state = 0.0
    for i in range(len(out)):
        state = 0.7 * state + 0.3 * line[i]
        state = hi if state > hi else (lo if state < lo else state)
        out[i] = state
""", 1),
    "3-tap FIR (no loop-carried data: line by line in both)": ("""
@line_filter
def fir(line, out):
    for i in range(len(out)):
        out[i] = 0.25 * line[i] + 0.5 * line[i + 1] + 0.25 * line[i + 2]
""", 3),
}


def child(shapes, repeat):
    """Times every kernel, shape and axis in this process; prints JSON {key: [seconds, sha256 of the output]}."""
    import numpy as np
    import filterjit
    results = {}
    for shape in shapes:
        data = np.random.default_rng(1).standard_normal(shape)
        for name, (text, size) in KERNELS.items():
            kernel = filterjit.Kernel(text)
            for axis in (-1, 0):
                out = np.empty_like(data)
                run = lambda: filterjit.generic_filter1d(data, kernel, size, axis=axis, output=out, threads=1)
                run()
                reps = max(3, int(2e7 // data.size))
                best = float("inf")
                for _ in range(repeat):
                    start = time.perf_counter()
                    for _ in range(reps):
                        run()
                    best = min(best, (time.perf_counter() - start) / reps)
                results[f"{'x'.join(map(str, shape))}|{name}|{axis}"] = [best, hashlib.sha256(out.tobytes()).hexdigest()]
    print(json.dumps(results))


def shown(seconds):
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="256x256,2048x2048")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="turns of the two child processes (default 3)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    shapes = [tuple(int(n) for n in text.split("x")) for text in args.shapes.split(",")]
    if args.child:
        child(shapes, args.repeat)
        return
    # Children in turns (lanes, line by line, lanes, ...), each key's best over its turns: a VM's slow moments
    # then touch one turn, not a whole column.
    runs = {"lanes": {}, "line by line": {}}
    for _ in range(args.rounds):
        for label, lanes in (("lanes", "1"), ("line by line", "0")):
            environment = dict(os.environ, FILTERJIT_LINE_LANES=lanes)
            output = subprocess.run([sys.executable, __file__, "--child", "--shapes", args.shapes, "--repeat", str(args.repeat)],
                                    env=environment, check=True, capture_output=True, text=True).stdout
            for key, (seconds, digest) in json.loads(output.strip().splitlines()[-1]).items():
                if key in runs[label] and runs[label][key][1] != digest:
                    raise SystemExit(f"{key}: two {label} runs differ")
                runs[label][key] = [min(seconds, runs[label].get(key, [seconds])[0]), digest]
    import numpy as np
    import scipy.ndimage as ndi
    print("| shape | kernel | axis | lanes | line by line | line by line / lanes |")
    print("|---|---|---|---|---|---|")
    for key, (lanes_time, lanes_hash) in runs["lanes"].items():
        line_time, line_hash = runs["line by line"][key]
        if lanes_hash != line_hash:
            raise SystemExit(f"{key}: lanes and line by line differ")
        shape_text, name, axis = key.split("|")
        if name == "running mean":
            data = np.random.default_rng(1).standard_normal(tuple(int(n) for n in shape_text.split("x")))
            expected = ndi.uniform_filter1d(data, 9, axis=int(axis))
            if hashlib.sha256(expected.tobytes()).hexdigest() != lanes_hash:
                raise SystemExit(f"{key}: differs from scipy.ndimage.uniform_filter1d")
        print(f"| {shape_text} | {name} | {axis} | {shown(lanes_time)} | {shown(line_time)} | {line_time / lanes_time:.2f}x |",
              flush=True)


if __name__ == "__main__":
    main()
